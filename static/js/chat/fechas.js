/*
 * Fechas del servidor (ISO 8601 o el formato de Postgres) y cómo se muestran: hora, «ayer»,
 * tiempo relativo en la lista.
 */

import { crear } from './comun.js';

/** Acepta ISO 8601 y el formato de Postgres («2024-05-01 10:00:00.123456+00»). */
export function parsearFecha(valor) {
  if (!valor) return null;
  const texto = String(valor).trim()
    .replace(' ', 'T')
    .replace(/(\.\d{3})\d+/, '$1')
    .replace(/(:\d{2}(?:\.\d+)?)([+-]\d{2})$/, '$1$2:00');
  const fecha = new Date(texto);
  return isNaN(fecha.getTime()) ? null : fecha;
}

function mismoDia(a, b) {
  return a.toDateString() === b.toDateString();
}

function formatoHora(fecha) {
  return fecha.toLocaleTimeString('es-CL', { hour: '2-digit', minute: '2-digit' });
}

/** «ahora», «hace 5 min», la hora, «ayer», el día o la fecha: para la lista. */
export function tiempoRelativo(fecha) {
  const segundos = (Date.now() - fecha.getTime()) / 1000;
  if (segundos < 60) return 'ahora';
  if (segundos < 3600) return 'hace ' + Math.floor(segundos / 60) + ' min';
  const hoy = new Date();
  if (mismoDia(fecha, hoy)) return formatoHora(fecha);
  const ayer = new Date(hoy.getFullYear(), hoy.getMonth(), hoy.getDate() - 1);
  if (mismoDia(fecha, ayer)) return 'ayer';
  if (segundos < 6 * 86400) return fecha.toLocaleDateString('es-CL', { weekday: 'short' });
  return fecha.toLocaleDateString('es-CL', { day: '2-digit', month: '2-digit', year: '2-digit' });
}

/** La hora de un mensaje de hoy, o la fecha y la hora. */
export function horaMensaje(fecha) {
  if (mismoDia(fecha, new Date())) return formatoHora(fecha);
  return fecha.toLocaleDateString('es-CL', { day: '2-digit', month: '2-digit' }) + ' ' + formatoHora(fecha);
}

/** Un <time> con el texto formateado y la fecha completa como tooltip. */
export function elementoHora(valor, formatear, clase) {
  const fecha = parsearFecha(valor);
  const elemento = crear('time', clase, fecha ? formatear(fecha) : '');
  if (fecha) {
    elemento.dateTime = fecha.toISOString();
    elemento.title = fecha.toLocaleString('es-CL');
  }
  return elemento;
}
