/*
 * La lista de conversaciones: nombres, vista previa, no leídos, presencia, orden por actividad,
 * y abrir o cerrar una conversación.
 */

import { api, capitalizar, crear, iniciales, mismoId, normalizar } from './comun.js';
import {
  dom,
  estado,
  idActual,
  manejarError,
  PANTALLA_ANGOSTA,
  silenciadas,
  TITULO_BASE,
  YO
} from './estado.js';
import { elementoHora, parsearFecha, tiempoRelativo } from './fechas.js';
import { cargarMensajes, compararMensajes, reiniciarMensajes } from './mensajes.js';
import { refrescar } from './sondeo.js';
import { sincronizarSalas } from './tiempo-real.js';
import { avisarEntregadosDeLista } from './ticks.js';

function actualizarTitulo() {
  const total = estado.conversaciones
    .filter((c) => !silenciadas.has(String(c.id)))
    .reduce((suma, c) => suma + contarNoLeidos(c), 0);
  document.title = (total > 0 ? '(' + total + ') ' : '') + TITULO_BASE;
}

/** El nombre para mostrar de un usuario del contrato. */
export function nombreUsuario(usuario) {
  return (usuario && (usuario.nombre_completo || usuario.nombre)) || 'Usuario';
}

/** Rol y correo de un usuario, para la cabecera y el diálogo de chat nuevo. */
export function detalleUsuario(usuario) {
  return [capitalizar(usuario.rol), usuario.email].filter(Boolean).join(' · ');
}

function otroParticipante(c) {
  return (c.participantes || [])[0] || null;
}

/** El nombre del grupo o del otro participante. */
export function nombreConversacion(c) {
  if (c.es_grupal) return c.nombre || 'Grupo sin nombre';
  const otro = otroParticipante(c);
  return otro ? nombreUsuario(otro) : (c.nombre || 'Usuario');
}

/** Los miembros de un grupo: los demás participantes y yo. */
function cuentaMiembros(c) {
  return (c.participantes || []).length + 1;
}

function infoConversacion(c) {
  if (c.es_grupal) return cuentaMiembros(c) + ' participantes';
  const otro = otroParticipante(c);
  if (!otro) return '';
  return [estaEnLinea(c) ? 'En línea' : '', detalleUsuario(otro)].filter(Boolean).join(' · ');
}

/** En línea: el otro participante de un chat 1:1 tiene un socket abierto o un latido reciente. */
function estaEnLinea(c) {
  const otro = !c.es_grupal && otroParticipante(c);
  return Boolean(otro) && estado.conectados.has(String(otro.id));
}

/** Avatar con sus iniciales y, si corresponde, el punto verde de presencia. */
function elementoAvatar(nombre, enLinea) {
  const avatar = crear('span', 'avatar' + (enLinea ? ' en-linea' : ''), iniciales(nombre));
  if (enLinea) avatar.title = 'En línea';
  return avatar;
}

/** Si el mensaje es del usuario de la sesión (es_propio, es_mio o su usuario_id). */
export function esPropio(m) {
  if (typeof m.es_propio === 'boolean') return m.es_propio;
  if (typeof m.es_mio === 'boolean') return m.es_mio;
  return mismoId(m.usuario_id, YO);
}

/** El nombre del autor del último mensaje: de los participantes, o el que trajo el mensaje en vivo. */
function autorDe(c, ultimo) {
  const participante = (c.participantes || []).find((p) => mismoId(p.id, ultimo.usuario_id));
  if (participante) return nombreUsuario(participante);
  return ultimo.usuario ? nombreUsuario(ultimo.usuario) : 'Alguien';
}

function vistaPrevia(c) {
  const ultimo = c.ultimo_mensaje;
  if (!ultimo) return 'Sin mensajes';
  const texto = String(ultimo.contenido || '');
  if (ultimo.tipo === 'sistema') return texto;
  if (esPropio(ultimo)) return 'Tú: ' + texto;
  return c.es_grupal ? autorDe(c, ultimo) + ': ' + texto : texto;
}

function fechaActividad(c) {
  return (c.ultimo_mensaje && c.ultimo_mensaje.fecha_envio) ||
    c.ultimo_mensaje_timestamp || c.ultima_actualizacion || c.fecha_creacion;
}

function marcaActividad(c) {
  const fecha = parsearFecha(fechaActividad(c));
  return fecha ? fecha.getTime() : 0;
}

/** La conversación abierta en una pestaña visible: lo que llega ahí se da por leído. */
function estaALaVista(c) {
  return mismoId(c.id, idActual()) && !document.hidden;
}

/** Los no leídos de una conversación (no_leidos o mensajes_no_leidos). */
export function contarNoLeidos(c) {
  return Number(c.no_leidos || c.mensajes_no_leidos || 0);
}

/** La conversación de la lista con ese id, o null. */
export function buscarConversacionPorId(id) {
  return estado.conversaciones.find((c) => mismoId(c.id, id)) || null;
}

/** Recarga la lista por REST, la cabecera de la abierta y las salas del socket. */
export async function cargarConversaciones() {
  const datos = await api('GET', '/api/chat/conversaciones');
  estado.conversaciones = datos.conversaciones || [];
  const abierta = estado.actual && buscarConversacionPorId(estado.actual.id);
  if (abierta) {
    estado.actual = abierta;
    mostrarCabecera(abierta);
  }
  renderConversaciones();
  sincronizarSalas();
  avisarEntregadosDeLista();
}

/** Refleja un mensaje en la lista (vista previa, orden y no leídos) sin esperar al sondeo. */
export function anotarEnLista(m) {
  const c = buscarConversacionPorId(m.conversacion_id);
  if (!c) {
    refrescar(); // conversación que la lista aún no tiene
    return;
  }
  if (c.ultimo_mensaje && compararMensajes(m, c.ultimo_mensaje) <= 0) return; // ya anotado
  c.ultimo_mensaje = {
    id: m.id,
    contenido: m.contenido,
    fecha_envio: m.fecha_envio,
    usuario_id: m.usuario_id,
    editado: m.editado,
    tipo: m.tipo,
    usuario: m.usuario
  };
  c.ultimo_mensaje_timestamp = m.fecha_envio;
  if (!esPropio(m) && !estaALaVista(c)) {
    c.no_leidos = contarNoLeidos(c) + 1;
    c.mensajes_no_leidos = c.no_leidos;
  }
  listaCambiada();
}

/** Reordena y redibuja la lista tras un cambio en vivo; una recarga en curso ya trae datos viejos. */
export function listaCambiada() {
  if (estado.refrescando) estado.repetirRefresco = true;
  estado.conversaciones.sort((a, b) => marcaActividad(b) - marcaActividad(a));
  renderConversaciones();
}

/** Dibuja la lista filtrada por el buscador, sin perder el foco del teclado. */
export function renderConversaciones() {
  const filtro = normalizar(dom.buscarConversacion.value);
  const visibles = estado.conversaciones.filter((c) => normalizar(nombreConversacion(c)).includes(filtro));
  const enfocada = dom.lista.contains(document.activeElement) ? document.activeElement.dataset.id : null;

  const fragmento = document.createDocumentFragment();
  visibles.forEach((c) => fragmento.appendChild(elementoConversacion(c)));
  if (visibles.length === 0) {
    fragmento.appendChild(crear('li', 'lista-vacia', filtro ? 'Sin resultados' : 'Aún no tienes conversaciones'));
  }
  dom.lista.textContent = '';
  dom.lista.appendChild(fragmento);

  // Volver a enfocar la misma conversación tras redibujar la lista.
  const boton = enfocada && Array.from(dom.lista.querySelectorAll('button[data-id]')).find((b) => b.dataset.id === enfocada);
  if (boton) boton.focus();
  actualizarTitulo();
}

function elementoConversacion(c) {
  const activa = mismoId(c.id, idActual());
  // La conversación abierta y visible se marca como leída en cada sondeo.
  const noLeidos = (activa && !document.hidden) || silenciadas.has(String(c.id)) ? 0 : contarNoLeidos(c);

  const boton = crear('button', 'conversacion' + (activa ? ' activa' : '') + (noLeidos > 0 ? ' con-no-leidos' : ''));
  boton.type = 'button';
  boton.dataset.id = String(c.id);
  if (activa) boton.setAttribute('aria-current', 'true');

  const nombre = nombreConversacion(c);
  const cuerpo = crear('span', 'conversacion-cuerpo');
  const filaSuperior = crear('span', 'conversacion-fila');
  filaSuperior.appendChild(crear('span', 'conversacion-nombre', nombre));
  if (c.es_grupal) filaSuperior.appendChild(crear('span', 'conversacion-miembros', cuentaMiembros(c) + ' miembros'));
  filaSuperior.appendChild(elementoHora(fechaActividad(c), tiempoRelativo, 'conversacion-hora'));
  const filaInferior = crear('span', 'conversacion-fila');
  filaInferior.appendChild(crear('span', 'conversacion-preview', vistaPrevia(c)));
  if (noLeidos > 0) {
    const insignia = crear('span', 'insignia', noLeidos > 99 ? '99+' : String(noLeidos));
    insignia.setAttribute('aria-label', noLeidos + ' sin leer');
    filaInferior.appendChild(insignia);
  }
  cuerpo.append(filaSuperior, filaInferior);
  boton.append(elementoAvatar(nombre, estaEnLinea(c)), cuerpo);

  const item = crear('li');
  item.appendChild(boton);
  return item;
}

/** Clic en la lista: abre esa conversación. */
export function alElegirConversacion(evento) {
  const boton = evento.target.closest('button[data-id]');
  const c = boton && buscarConversacionPorId(boton.dataset.id);
  if (c && !mismoId(c.id, idActual())) abrirConversacion(c);
}

/** Nombre, detalle, avatar y presencia de la conversación abierta. */
export function mostrarCabecera(c) {
  const nombre = nombreConversacion(c);
  dom.chatNombre.textContent = nombre;
  dom.chatInfo.textContent = infoConversacion(c);
  dom.chatAvatar.textContent = iniciales(nombre);
  dom.chatAvatar.classList.toggle('en-linea', estaEnLinea(c));
}

/** Abre una conversación: cabecera, panel visible y sus mensajes por REST. */
export async function abrirConversacion(c) {
  estado.actual = c;
  reiniciarMensajes();
  mostrarCabecera(c);
  dom.sinConversacion.classList.add('hidden');
  dom.area.classList.remove('hidden');
  document.body.classList.add('con-conversacion');
  renderConversaciones();
  if (!PANTALLA_ANGOSTA.matches) dom.entrada.focus(); // en móvil no abrir el teclado sin pedirlo

  dom.mensajes.classList.add('cargando');
  try {
    await cargarMensajes();
  } catch (error) {
    manejarError(error);
  } finally {
    if (mismoId(c.id, idActual())) dom.mensajes.classList.remove('cargando');
  }
}

/** Vuelve a la lista (en pantallas angostas solo se ve un panel a la vez). */
export function cerrarConversacion() {
  estado.actual = null;
  reiniciarMensajes();
  dom.area.classList.add('hidden');
  dom.sinConversacion.classList.remove('hidden');
  document.body.classList.remove('con-conversacion');
  renderConversaciones();
}
