/*
 * Reacciones: varias por mensaje, una de cada emoji por usuario, que se alternan. Bajo la
 * burbuja, un botón por emoji con su cuenta (la mía resaltada); pulsarlo alterna la mía.
 */

import { api, crear, mismoId } from './comun.js';
import { estado, idActual, manejarError, YO } from './estado.js';
import { actualizarMensaje } from './mensajes.js';

/** Los emoji del menú de un mensaje. */
export const EMOJIS = ['👍', '❤️', '😂', '😮', '😢', '🙏'];

/** De [{usuario_id, emoji}] (más antiguas primero) a [{emoji, cantidad, usuarios, mia}] por primer uso. */
export function agrupar(lista) {
  const porEmoji = new Map();
  for (const r of lista || []) {
    if (!porEmoji.has(r.emoji)) porEmoji.set(r.emoji, { emoji: r.emoji, cantidad: 0, usuarios: [], mia: false });
    const grupo = porEmoji.get(r.emoji);
    grupo.cantidad += 1;
    grupo.usuarios.push(String(r.usuario_id));
    if (mismoId(r.usuario_id, YO)) grupo.mia = true;
  }
  return Array.from(porEmoji.values());
}

/** Los botones de reacción de un mensaje (pulsar uno alterna la mía con ese emoji). */
export function elementoReacciones(m) {
  const caja = crear('div', 'reacciones');
  caja.setAttribute('role', 'group');
  caja.setAttribute('aria-label', 'Reacciones');
  for (const r of m.reacciones) {
    const boton = crear('button', 'reaccion' + (r.mia ? ' mia' : ''), r.emoji + ' ' + r.cantidad);
    boton.type = 'button';
    boton.dataset.emoji = r.emoji;
    boton.setAttribute('aria-pressed', String(Boolean(r.mia)));
    boton.title = r.mia ? 'Quitar mi reacción' : 'Reaccionar con ' + r.emoji;
    boton.addEventListener('click', () => alternarReaccion(m.id, r.emoji));
    caja.appendChild(boton);
  }
  return caja;
}

/** Pone o quita mi reacción con ese emoji. */
export async function alternarReaccion(mensajeId, emoji) {
  try {
    const datos = await api('POST', '/api/chat/mensajes/' + encodeURIComponent(mensajeId) + '/reacciones', { emoji });
    actualizarMensaje({ id: mensajeId, reacciones: datos.reacciones || [] });
  } catch (error) {
    manejarError(error);
  }
}

/** reacciones_actualizadas: las reacciones de un mensaje de la conversación abierta. */
export function alCambiarReacciones(datos) {
  if (!datos || !mismoId(datos.conversacion_id, idActual()) || estado.removida === idActual()) return;
  actualizarMensaje({ id: datos.mensaje_id, reacciones: agrupar(datos.reacciones) });
}
