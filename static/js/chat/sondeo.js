/*
 * Lo que llega por REST: la recarga de lista y mensajes, el sondeo cada 5 s mientras no hay
 * socket, la presencia y el latido.
 */

import { api } from './comun.js';
import { enVivo, estado, INTERVALO_SONDEO_MS, manejarError, mostrarEstadoConexion } from './estado.js';
import { cargarConversaciones, renderConversaciones } from './lista.js';
import { cargarMensajes, marcarLeido } from './mensajes.js';
import { mostrarPresencia } from './tiempo-real.js';

/** Los usuarios en línea, por REST. */
export async function cargarConectados() {
  try {
    const datos = await api('GET', '/api/usuarios/conectados');
    estado.conectados = new Set((datos.conectados || []).map(String));
    mostrarPresencia();
  } catch (error) {
    manejarError(error, true);
  }
}

/** Latido cada 15 s; sin socket, la presencia no llega por eventos y se pide de nuevo. */
export function latir() {
  api('POST', '/api/usuarios/heartbeat', {}).catch((error) => manejarError(error, true));
  if (!enVivo()) cargarConectados();
}

/** Recarga la lista y los mensajes abiertos; si ya hay una recarga en curso, esta se repite al terminar. */
export async function refrescar() {
  if (estado.refrescando) {
    estado.repetirRefresco = true;
    return;
  }
  estado.refrescando = true;
  try {
    do {
      estado.repetirRefresco = false;
      await cargarConversaciones();
      await cargarMensajes();
    } while (estado.repetirRefresco);
    mostrarEstadoConexion(enVivo() ? 'vivo' : 'sondeo');
  } catch (error) {
    manejarError(error, true);
  } finally {
    estado.refrescando = false;
  }
}

/** Sondeo REST cada 5 s mientras no haya socket conectado. */
export function iniciarSondeo() {
  if (estado.temporizadorSondeo) return;
  estado.temporizadorSondeo = setInterval(refrescar, INTERVALO_SONDEO_MS);
  refrescar();
}

/** Detiene el sondeo (el socket conectó). */
export function detenerSondeo() {
  clearInterval(estado.temporizadorSondeo);
  estado.temporizadorSondeo = 0;
}

/** Al volver a la pestaña: recarga sin socket; con socket, marca leído y redibuja. */
export function alCambiarVisibilidad() {
  if (document.hidden) return;
  if (!enVivo()) {
    refrescar();
    return;
  }
  marcarLeido();
  renderConversaciones();
}
