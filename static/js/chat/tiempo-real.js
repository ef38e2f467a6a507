/*
 * Tiempo real por Socket.IO (cliente oficial, window.io): salas de cada conversación, mensajes,
 * entregas y lecturas, ediciones, eliminaciones, reacciones, fijados, grupos, conversaciones
 * nuevas y presencia. Sin socket conectado, la página sondea (sondeo.js).
 */

import { avisar, existe, mismoId } from './comun.js';
import { alEscribirOtro, ocultarEscribiendo } from './envio.js';
import { alEditarse, alEliminarse } from './edicion.js';
import { enVivo, ESPERA_UNION_MS, estado, idActual, mostrarEstadoConexion, YO } from './estado.js';
import { alCambiarFijados } from './fijados.js';
import { alActualizarGrupo, alReincorporarse, alSerRemovido } from './grupos.js';
import {
  anotarEnLista,
  buscarConversacionPorId,
  contarNoLeidos,
  esPropio,
  listaCambiada,
  mostrarCabecera,
  renderConversaciones
} from './lista.js';
import { agregarMensaje, marcarLeido } from './mensajes.js';
import { alCambiarReacciones } from './reacciones.js';
import { cargarConectados, detenerSondeo, iniciarSondeo, refrescar } from './sondeo.js';
import { alMarcar, avisarEntregado } from './ticks.js';

/**
 * Abre el socket si la página cargó el cliente Socket.IO (mismo origen; la cookie de
 * sesión viaja sola). Se reconecta solo; mientras tanto la página sondea por REST.
 */
export function iniciarSocket() {
  if (typeof window.io !== 'function') return;
  const socket = window.io({ transports: ['websocket', 'polling'], tryAllTransports: true });
  estado.socket = socket;
  socket.on('connect', alConectarSocket);
  socket.on('disconnect', alDesconectarSocket);
  socket.on('unido_conversacion', alUnirseConversacion);
  socket.on('mensaje_recibido', alRecibirMensaje);
  socket.on('usuario_escribiendo', alEscribirOtro);
  socket.on('nueva_conversacion', alCrearseConversacion);
  socket.on('mensaje_visto', alVerseMensaje);
  socket.on('mensaje_entregado', (datos) => alMarcar('entregado', datos));
  socket.on('mensaje_editado', alEditarse);
  socket.on('mensaje_eliminado', alEliminarse);
  socket.on('reacciones_actualizadas', alCambiarReacciones);
  socket.on('fijados_actualizados', alCambiarFijados);
  socket.on('grupo_actualizado', alActualizarGrupo);
  socket.on('removido_de_conversacion', alSerRemovido);
  socket.on('usuario_conectado', (datos) => cambiarPresencia(datos, true));
  socket.on('usuario_desconectado', (datos) => cambiarPresencia(datos, false));
  socket.on('error', (datos) => avisar((datos && datos.mensaje) || 'Error en el chat en tiempo real'));
}

/** Al (re)conectar: sin sondeo, de vuelta en todas las salas y una recarga REST tras unirse. */
function alConectarSocket() {
  detenerSondeo();
  mostrarEstadoConexion('vivo');
  estado.salas.clear();
  estado.salasPendientes.clear();
  if (!sincronizarSalas()) ponerseAlDia();
}

/** Recarga por REST lo que pudo cambiar sin eventos: mensajes, lista y presencia. */
function ponerseAlDia() {
  refrescar();
  cargarConectados();
}

function alDesconectarSocket() {
  ocultarEscribiendo();
  iniciarSondeo();
}

/**
 * Se une a la sala de cada conversación de la lista que aún no tiene, para recibir sus
 * mensajes, «escribiendo» y lecturas. Cuando el servidor confirma, recarga por REST lo
 * enviado antes de estar en la sala, y la presencia (los avisos de conexión solo llegan
 * a quien ya compartía una conversación). Devuelve si pidió alguna sala.
 */
export function sincronizarSalas() {
  if (!enVivo()) return false;
  const nuevas = estado.conversaciones.map((c) => String(c.id)).filter((id) => !estado.salas.has(id));
  nuevas.forEach((id) => {
    estado.salas.add(id);
    estado.salasPendientes.add(id);
    estado.socket.emit('unirse_conversacion', { conversacion_id: id });
  });
  if (nuevas.length > 0) salasConfirmadas().then(ponerseAlDia);
  return nuevas.length > 0;
}

/** Se cumple cuando no quedan salas por confirmar, o tras ESPERA_UNION_MS (p. ej. si una se rechazó). */
function salasConfirmadas() {
  return new Promise((resolve) => {
    estado.esperasUnion.push(resolve);
    setTimeout(resolve, ESPERA_UNION_MS);
  });
}

function alUnirseConversacion(datos) {
  estado.salasPendientes.delete(String(datos && datos.conversacion_id));
  if (estado.salasPendientes.size === 0) estado.esperasUnion.splice(0).forEach((resolve) => resolve());
}

function alRecibirMensaje(m) {
  if (!m || !existe(m.id)) return;
  // Para los módulos de static/js/chat/ (avisos del navegador, adjuntos).
  document.dispatchEvent(new CustomEvent('weigence:mensaje', { detail: m }));
  if (!esPropio(m)) avisarEntregado(m.conversacion_id, m.id);
  if (mismoId(m.conversacion_id, idActual()) && agregarMensaje(m) && !esPropio(m)) {
    ocultarEscribiendo();
    marcarLeido();
  }
  anotarEnLista(m);
}

function alCrearseConversacion(datos) {
  const c = datos && datos.conversacion;
  if (!c || !existe(c.id) || buscarConversacionPorId(c.id)) return;
  estado.conversaciones.push(c);
  listaCambiada();
  sincronizarSalas();
  alReincorporarse(c.id);
}

/** mensaje_visto: de otro, mueve las confirmaciones; mío (otra pestaña), limpia los no leídos. */
function alVerseMensaje(datos) {
  if (!datos || !existe(datos.ultimo_id)) return;
  if (mismoId(datos.usuario_id, YO)) leidaEnOtraPestana(String(datos.conversacion_id), datos.ultimo_id);
  else alMarcar('leido', datos);
}

function leidaEnOtraPestana(id, ultimoId) {
  const c = buscarConversacionPorId(id);
  if (!c || !c.ultimo_mensaje || !mismoId(c.ultimo_mensaje.id, ultimoId) || contarNoLeidos(c) === 0) return;
  c.no_leidos = 0;
  c.mensajes_no_leidos = 0;
  renderConversaciones();
}

function cambiarPresencia(datos, enLinea) {
  if (!datos || !existe(datos.usuario_id)) return;
  if (enLinea) estado.conectados.add(String(datos.usuario_id));
  else estado.conectados.delete(String(datos.usuario_id));
  mostrarPresencia();
}

/** Redibuja la lista y la cabecera tras un cambio de presencia. */
export function mostrarPresencia() {
  renderConversaciones();
  if (estado.actual) mostrarCabecera(estado.actual);
}
