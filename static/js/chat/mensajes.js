/*
 * Los mensajes de la conversación abierta: el historial (con citas, reacciones, fijados,
 * entregas y el grupo) o, sin sql/grupos.sql en el servidor, la API v1; orden, páginas
 * anteriores, y los cambios en vivo (editar, eliminar, reacciones) sobre lo mostrado.
 */

import { api, ErrorApi, existe, mismoId } from './comun.js';
import { elementoMensaje } from './burbuja.js';
import { ocultarEscribiendo } from './envio.js';
import { dom, estado, idActual, manejarError, MARGEN_FINAL_PX, MAX_PAGINAS_ANTERIORES } from './estado.js';
import { parsearFecha } from './fechas.js';
import { pintarFijados, ponerFijados } from './fijados.js';
import { ponerGrupo, mostrarRemovida, reiniciarGrupo } from './grupos.js';
import {
  buscarConversacionPorId,
  cargarConversaciones,
  contarNoLeidos,
  renderConversaciones
} from './lista.js';
import { cerrarMenu, menuDe } from './menu-mensaje.js';
import { cancelarRespuesta } from './respuesta.js';
import { aplicarMarcas, unirEntregas } from './ticks.js';

/** Vacía los mensajes mostrados y lo que depende de la conversación abierta (al abrir o cerrar una). */
export function reiniciarMensajes() {
  estado.mensajes = [];
  estado.idsMostrados.clear();
  estado.ultimoMarcado = null;
  estado.ultimoAvisoEscritura = 0;
  dom.mensajes.textContent = '';
  ocultarEscribiendo();
  cerrarMenu();
  cancelarRespuesta();
  ponerFijados([]);
  reiniciarGrupo();
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

/**
 * Una página del historial de la conversación (`antes`, `limite` opcionales):
 * `{mensajes, fijados, grupo}`. Si el historial responde 503 y la API v1 sí responde, el
 * servidor no tiene sql/grupos.sql: desde entonces se usa solo la v1 (`{mensajes}`).
 */
export async function pedirPagina(id, antes, limite) {
  const consulta = new URLSearchParams();
  if (existe(antes)) consulta.set('antes', String(antes));
  if (existe(limite)) consulta.set('limite', String(limite));
  const sufijo = consulta.toString() ? '?' + consulta : '';
  const v1 = () => api('GET', '/api/chat/mensajes/' + encodeURIComponent(id) + sufijo);
  if (estado.sinGrupos) return v1();
  try {
    return await api('GET', '/api/chat/conversaciones/' + encodeURIComponent(id) + '/historial' + sufijo);
  } catch (error) {
    if (!(error instanceof ErrorApi) || error.status !== 503) throw error;
  }
  const datos = await v1(); // si también falla, el servidor está caído: no es falta de grupos
  estado.sinGrupos = true;
  return datos;
}

/** Carga el historial de la conversación abierta, lo concilia con lo mostrado y marca leído. */
export async function cargarMensajes() {
  const id = idActual();
  if (id === null || id === estado.removida) return;
  let datos;
  try {
    datos = await pedirPagina(id);
  } catch (error) {
    if (!(error instanceof ErrorApi) || error.status !== 403) throw error;
    if (id === idActual()) mostrarRemovida(id); // sin socket, la expulsión se nota aquí
    return;
  }
  if (id !== idActual()) return; // se abrió otra conversación mientras tanto
  if (datos.grupo) ponerGrupo(datos.grupo);
  if (Array.isArray(datos.fijados)) ponerFijados(datos.fijados);
  const lista = datos.mensajes || [];
  conciliar(lista);
  agregarMensajes(lista);
  marcarLeido();
}

/**
 * Lo que cambió sin eventos (sondeo, reconexión): en el tramo que cubre la página recibida,
 * quita lo que ya no está (eliminado) y actualiza lo que cambió (edición, reacciones, entrega).
 */
function conciliar(lista) {
  if (lista.length === 0) return;
  const recibidos = new Map(lista.map((m) => [String(m.id), m]));
  const ordenados = lista.slice().sort(compararMensajes);
  const primero = ordenados[0];
  const ultimo = ordenados[ordenados.length - 1];
  for (const m of estado.mensajes.slice()) {
    if (compararMensajes(m, primero) < 0 || compararMensajes(m, ultimo) > 0) continue;
    const nuevo = recibidos.get(String(m.id));
    if (!nuevo) quitarMensaje(m.id);
    else actualizarMensaje(nuevo);
  }
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
  if (nuevos > 0) {
    aplicarMarcas();
    pintarFijados(); // un fijado puede mostrarse ahora con su texto al día
  }
  if (nuevos > 0 && estabaAbajo) desplazarAlFinal();
  return nuevos;
}

/** Agrega un mensaje; false si ya estaba o es de otra conversación. */
export function agregarMensaje(m) {
  return agregarMensajes([m]) === 1;
}

/** El mensaje mostrado con ese id, o null. */
export function mensajePorId(id) {
  return estado.mensajes.find((m) => mismoId(m.id, id)) || null;
}

/** Vuelve a dibujar un mensaje mostrado (tras editarlo, reaccionar o perder su cita). */
export function redibujar(m) {
  const posicion = estado.mensajes.indexOf(m);
  const fila = posicion >= 0 ? dom.mensajes.children[posicion] : null;
  if (!fila) return;
  if (menuDe(m.id)) cerrarMenu();
  const resaltado = fila.classList.contains('resaltado');
  const nueva = elementoMensaje(m);
  if (resaltado) nueva.classList.add('resaltado');
  fila.replaceWith(nueva);
}

/**
 * Aplica a un mensaje mostrado los campos que trae `cambio` (un mensaje del servidor o parte
 * de él: contenido, editado, reacciones, cita, entrega) y lo redibuja si algo cambió.
 * Las entregas se unen: solo avanzan.
 */
export function actualizarMensaje(cambio) {
  const m = cambio && mensajePorId(cambio.id);
  if (!m) return;
  const antes = JSON.stringify(m);
  for (const clave of ['contenido', 'editado', 'eliminado', 'reacciones', 'cita', 'reply_to', 'tipo']) {
    if (clave in cambio) m[clave] = cambio[clave];
  }
  if (cambio.entrega) m.entrega = unirEntregas(m.entrega, cambio.entrega);
  if (JSON.stringify(m) === antes) return;
  redibujar(m);
  pintarFijados();
  const c = buscarConversacionPorId(m.conversacion_id || idActual());
  if (c && c.ultimo_mensaje && mismoId(c.ultimo_mensaje.id, m.id) && c.ultimo_mensaje.contenido !== m.contenido) {
    c.ultimo_mensaje.contenido = m.contenido;
    renderConversaciones();
  }
}

/**
 * Quita un mensaje eliminado: su fila, su fijado, y la cita de quienes le respondían (queda
 * «mensaje eliminado», como en el historial). Si era el último de la lista, la recarga.
 */
export function quitarMensaje(id) {
  const m = mensajePorId(id);
  if (m) {
    if (menuDe(m.id)) cerrarMenu();
    const posicion = estado.mensajes.indexOf(m);
    dom.mensajes.children[posicion].remove();
    estado.mensajes.splice(posicion, 1);
    estado.idsMostrados.delete(String(m.id));
  }
  for (const otro of estado.mensajes) {
    if (mismoId(otro.reply_to, id) && otro.cita) {
      otro.cita = null;
      redibujar(otro);
    }
  }
  if (estado.fijados.some((f) => mismoId(f.id, id))) ponerFijados(estado.fijados.filter((f) => !mismoId(f.id, id)));
  const c = buscarConversacionPorId(idActual());
  if (c && c.ultimo_mensaje && mismoId(c.ultimo_mensaje.id, id)) {
    cargarConversaciones().catch((error) => manejarError(error, true));
  }
}

/**
 * La fila de un mensaje de la conversación abierta; si no está entre los mostrados, carga
 * páginas anteriores (`antes=`) hasta encontrarlo o llegar al principio. Para abrir un
 * resultado de búsqueda viejo o una cita.
 */
export async function filaCargandoAnteriores(mensajeId) {
  const id = idActual();
  const selector = '[data-id="' + CSS.escape(String(mensajeId)) + '"]';
  for (let pagina = 0; pagina < MAX_PAGINAS_ANTERIORES; pagina++) {
    const fila = dom.mensajes.querySelector(selector);
    if (fila || estado.mensajes.length === 0 || id !== idActual()) return fila;
    const datos = await pedirPagina(id, estado.mensajes[0].id, 100);
    if (id !== idActual()) return null;
    const lista = datos.mensajes || [];
    if (lista.length === 0) return null;
    lista.forEach(insertarMensaje);
    aplicarMarcas();
  }
  return dom.mensajes.querySelector(selector);
}

/** Muestra y resalta un mensaje mostrado (o de páginas anteriores). */
export async function irAMensaje(mensajeId) {
  const fila = await filaCargandoAnteriores(mensajeId);
  if (!fila) return null;
  dom.mensajes.querySelectorAll('.mensaje.resaltado').forEach((f) => f.classList.remove('resaltado'));
  fila.classList.add('resaltado');
  fila.scrollIntoView({ block: 'center' });
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

/** Avisa hasta el último mensaje mostrado, una sola vez y solo si la pestaña está visible. */
export async function marcarLeido() {
  const id = idActual();
  const ultimo = estado.mensajes[estado.mensajes.length - 1];
  if (id === null || id === estado.removida || !ultimo || document.hidden ||
    mismoId(ultimo.id, estado.ultimoMarcado)) return;

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
