/*
 * La fila de un mensaje: los de sistema («Ana agregó a Luis») centrados y sin menú; los demás
 * en su burbuja con autor (en grupos), cita de la respuesta, texto, reacciones, hora, «editado»,
 * confirmaciones de entrega (los propios) y el botón de su menú. Todo texto con textContent.
 */

import { crear } from './comun.js';
import { estado } from './estado.js';
import { elementoHora, horaMensaje } from './fechas.js';
import { esPropio, nombreUsuario } from './lista.js';
import { botonMenu } from './menu-mensaje.js';
import { elementoReacciones } from './reacciones.js';
import { elementoCita } from './respuesta.js';
import { elementosRecibo } from './ticks.js';

/** La fila (div.mensaje con data-id) de un mensaje. */
export function elementoMensaje(m) {
  if (m.tipo === 'sistema') { // creación, altas, bajas y cambios del grupo
    const fila = crear('div', 'mensaje mensaje-sistema');
    fila.dataset.id = String(m.id);
    fila.appendChild(crear('p', 'texto-sistema', String(m.contenido || '')));
    return fila;
  }
  const propio = esPropio(m);
  const fila = crear('div', 'mensaje ' + (propio ? 'mensaje-propio' : 'mensaje-ajeno'));
  fila.dataset.id = String(m.id);

  const burbuja = crear('div', 'burbuja');
  if (!propio && estado.actual && estado.actual.es_grupal) {
    burbuja.appendChild(crear('span', 'burbuja-autor', nombreUsuario(m.usuario)));
  }
  if (m.reply_to !== null && m.reply_to !== undefined && !m.eliminado) burbuja.appendChild(elementoCita(m));
  burbuja.appendChild(m.eliminado
    ? crear('p', 'burbuja-texto eliminado', 'Mensaje eliminado')
    : crear('p', 'burbuja-texto', String(m.contenido || '')));
  if (Array.isArray(m.reacciones) && m.reacciones.length > 0) burbuja.appendChild(elementoReacciones(m));

  const pie = crear('span', 'burbuja-pie');
  pie.appendChild(elementoHora(m.fecha_envio, horaMensaje));
  if (m.editado && !m.eliminado) pie.appendChild(crear('span', 'editado', 'editado'));
  if (propio) pie.append(...elementosRecibo(m));
  burbuja.appendChild(pie);

  fila.appendChild(burbuja);
  if (!m.eliminado) fila.appendChild(botonMenu(m));
  return fila;
}
