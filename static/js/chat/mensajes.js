/*
 * Los mensajes de la conversación abierta: carga, orden, páginas anteriores, burbujas, y las
 * confirmaciones de lectura (✓ / ✓✓) en ambos sentidos.
 */

import { api, crear, existe, mismoId } from './comun.js';
import { ocultarEscribiendo } from './envio.js';
import { dom, estado, idActual, manejarError, MARGEN_FINAL_PX, MAX_PAGINAS_ANTERIORES } from './estado.js';
import { elementoHora, horaMensaje, parsearFecha } from './fechas.js';
import {
  buscarConversacionPorId,
  contarNoLeidos,
  esPropio,
  nombreUsuario,
  renderConversaciones
} from './lista.js';

/** Vacía los mensajes mostrados (al abrir o cerrar una conversación). */
export function reiniciarMensajes() {
  estado.mensajes = [];
  estado.idsMostrados.clear();
  estado.ultimoMarcado = null;
  estado.ultimoAvisoEscritura = 0;
  dom.mensajes.textContent = '';
  ocultarEscribiendo();
}

/** Ordena por fecha_envio y, a igual fecha, por id (numérico si ambos lo son). */
export function compararMensajes(a, b) {
  const fechaA = parsearFecha(a.fecha_envio);
  const fechaB = parsearFecha(b.fecha_envio);
  return (fechaA && fechaB ? fechaA - fechaB : 0) || compararIds(a.id, b.id);
}

function compararIds(a, b) {
  const x = String(a);
  const y = String(b);
  if (/^\d+$/.test(x) && /^\d+$/.test(y) && x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : (x > y ? 1 : 0);
}

/** Carga por REST los mensajes de la conversación abierta y marca leído el último. */
export async function cargarMensajes() {
  const id = idActual();
  if (id === null) return;
  const datos = await api('GET', '/api/chat/mensajes/' + encodeURIComponent(id));
  if (id !== idActual()) return; // se abrió otra conversación mientras tanto
  agregarMensajes(datos.mensajes || []);
  marcarLeido();
}

/** Inserta un mensaje de la conversación abierta en su lugar; false si ya estaba o es de otra. */
function insertarMensaje(m) {
  const actual = idActual();
  if (!m || !existe(m.id) || actual === null) return false;
  if (existe(m.conversacion_id) && !mismoId(m.conversacion_id, actual)) return false;
  if (estado.idsMostrados.has(String(m.id))) return false;

  let posicion = estado.mensajes.length;
  while (posicion > 0 && compararMensajes(estado.mensajes[posicion - 1], m) > 0) posicion -= 1;
  estado.mensajes.splice(posicion, 0, m);
  estado.idsMostrados.add(String(m.id));
  dom.mensajes.insertBefore(elementoMensaje(m), dom.mensajes.children[posicion] || null);
  return true;
}

/** Agrega varios mensajes; baja al final solo si el usuario ya estaba abajo. */
function agregarMensajes(lista) {
  const estabaAbajo = estaCercaDelFinal();
  const nuevos = lista.filter(insertarMensaje).length;
  if (nuevos > 0) actualizarRecibos();
  if (nuevos > 0 && estabaAbajo) desplazarAlFinal();
  return nuevos;
}

/** Agrega un mensaje; false si ya estaba o es de otra conversación. */
export function agregarMensaje(m) {
  return agregarMensajes([m]) === 1;
}

/**
 * La fila de un mensaje de la conversación abierta; si no está entre los mostrados, carga
 * páginas anteriores (`antes=`) hasta encontrarlo o llegar al principio. Para abrir un
 * resultado de búsqueda viejo.
 */
export async function filaCargandoAnteriores(mensajeId) {
  const id = idActual();
  const selector = '[data-id="' + CSS.escape(String(mensajeId)) + '"]';
  for (let pagina = 0; pagina < MAX_PAGINAS_ANTERIORES; pagina++) {
    const fila = dom.mensajes.querySelector(selector);
    if (fila || estado.mensajes.length === 0 || id !== idActual()) return fila;
    const antes = estado.mensajes[0].id;
    const datos = await api('GET', '/api/chat/mensajes/' + encodeURIComponent(id) +
      '?antes=' + encodeURIComponent(antes) + '&limite=100');
    if (id !== idActual()) return null;
    const lista = datos.mensajes || [];
    if (lista.length === 0) return null;
    lista.forEach(insertarMensaje);
    actualizarRecibos();
  }
  return dom.mensajes.querySelector(selector);
}

function elementoMensaje(m) {
  const propio = esPropio(m);
  const fila = crear('div', 'mensaje ' + (propio ? 'mensaje-propio' : 'mensaje-ajeno'));
  fila.dataset.id = String(m.id);

  const burbuja = crear('div', 'burbuja');
  if (!propio && estado.actual && estado.actual.es_grupal) {
    burbuja.appendChild(crear('span', 'burbuja-autor', nombreUsuario(m.usuario)));
  }
  burbuja.appendChild(m.eliminado
    ? crear('p', 'burbuja-texto eliminado', 'Mensaje eliminado')
    : crear('p', 'burbuja-texto', String(m.contenido || '')));

  const pie = crear('span', 'burbuja-pie');
  pie.appendChild(elementoHora(m.fecha_envio, horaMensaje));
  if (m.editado && !m.eliminado) pie.appendChild(crear('span', 'editado', 'editado'));
  if (propio) pie.appendChild(marcarRecibo(crear('span', 'recibo'), false));
  burbuja.appendChild(pie);

  fila.appendChild(burbuja);
  return fila;
}

function estaCercaDelFinal() {
  const caja = dom.mensajes;
  return caja.scrollHeight - caja.scrollTop - caja.clientHeight < MARGEN_FINAL_PX;
}

/** Baja hasta el último mensaje. */
export function desplazarAlFinal() {
  dom.mensajes.scrollTop = dom.mensajes.scrollHeight;
}

function marcarRecibo(recibo, leido) {
  recibo.textContent = leido ? '✓✓' : '✓';
  recibo.title = leido ? 'Leído' : 'Enviado';
  recibo.setAttribute('aria-label', recibo.title);
  recibo.classList.toggle('leido', leido);
  return recibo;
}

/**
 * ✓✓ en los mensajes propios hasta la posición del último que el otro leyó. Si ese
 * mensaje aún no se muestra no se cambia nada: la marca solo avanza, y al llegar el
 * mensaje se vuelve a calcular.
 */
export function actualizarRecibos() {
  const marca = estado.vistos.get(idActual());
  const hasta = existe(marca) ? estado.mensajes.findIndex((m) => mismoId(m.id, marca)) : -1;
  if (hasta < 0) return;
  estado.mensajes.forEach((m, posicion) => {
    const recibo = dom.mensajes.children[posicion].querySelector('.recibo');
    if (recibo) marcarRecibo(recibo, posicion <= hasta);
  });
}

/** Avisa hasta el último mensaje mostrado, una sola vez y solo si la pestaña está visible. */
export async function marcarLeido() {
  const id = idActual();
  const ultimo = estado.mensajes[estado.mensajes.length - 1];
  if (id === null || !ultimo || document.hidden || mismoId(ultimo.id, estado.ultimoMarcado)) return;

  estado.ultimoMarcado = ultimo.id;
  try {
    await api('POST', '/api/chat/mensaje/marcar-leido', { conversacion_id: id, mensaje_id: ultimo.id });
  } catch (error) {
    if (id === idActual()) estado.ultimoMarcado = null; // reintentar en el próximo sondeo
    manejarError(error, true);
    return;
  }
  const c = buscarConversacionPorId(id);
  if (c && contarNoLeidos(c) > 0) {
    c.no_leidos = 0;
    c.mensajes_no_leidos = 0;
    renderConversaciones();
  }
}
