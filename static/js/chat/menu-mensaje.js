/*
 * El menú de un mensaje (botón «⋯» junto a la burbuja): reaccionar, responder, editar (los
 * propios), fijar o desfijar, eliminar (los propios, o cualquiera en un grupo donde soy
 * administrador; pide confirmación en el mismo menú). Todo son botones: se maneja con el
 * teclado (flechas, Inicio, Fin, Escape devuelve el foco al botón «⋯»).
 */

import { crear, mismoId } from './comun.js';
import { estado } from './estado.js';
import { editar, eliminar } from './edicion.js';
import { alternarFijado, estaFijado } from './fijados.js';
import { esPropio } from './lista.js';
import { mensajePorId } from './mensajes.js';
import { alternarReaccion, EMOJIS } from './reacciones.js';
import { responder } from './respuesta.js';

let abierto = null; // { menu, boton }

/** El botón «⋯» que abre el menú de un mensaje. */
export function botonMenu(m) {
  const boton = crear('button', 'boton-menu', '⋯');
  boton.type = 'button';
  boton.setAttribute('aria-label', 'Acciones del mensaje');
  boton.setAttribute('aria-haspopup', 'menu');
  boton.setAttribute('aria-expanded', 'false');
  boton.addEventListener('click', (evento) => {
    evento.stopPropagation();
    if (abierto && abierto.boton === boton) cerrarMenu();
    else abrirMenu(m.id, boton);
  });
  return boton;
}

/** Cierra el menú abierto, si hay uno; con `enfocar`, devuelve el foco a su botón. */
export function cerrarMenu(enfocar) {
  if (!abierto) return;
  const { menu, boton } = abierto;
  abierto = null;
  menu.remove();
  boton.setAttribute('aria-expanded', 'false');
  if (enfocar && boton.isConnected) boton.focus();
}

function puedoEliminar(m) {
  return esPropio(m) || Boolean(estado.grupo && estado.grupo.es_grupal && estado.grupo.soy_admin);
}

function abrirMenu(id, boton) {
  cerrarMenu();
  const m = mensajePorId(id);
  if (!m || estado.removida !== null) return;
  const menu = crear('div', 'menu-mensaje');
  menu.setAttribute('role', 'menu');
  menu.setAttribute('aria-label', 'Acciones del mensaje');

  const fila = crear('div', 'menu-reacciones');
  for (const emoji of EMOJIS) {
    fila.appendChild(opcion(emoji, 'reaccion', () => alternarReaccion(m.id, emoji), 'Reaccionar con ' + emoji, emoji));
  }
  menu.appendChild(fila);
  menu.appendChild(opcion('Responder', 'responder', () => responder(m)));
  if (esPropio(m)) menu.appendChild(opcion('Editar', 'editar', () => editar(m)));
  menu.appendChild(estaFijado(m.id)
    ? opcion('Desfijar', 'desfijar', () => alternarFijado(m))
    : opcion('Fijar', 'fijar', () => alternarFijado(m)));
  if (puedoEliminar(m)) menu.appendChild(opcionEliminar(m));

  menu.addEventListener('keydown', alPulsarTecla);
  menu.addEventListener('click', (evento) => evento.stopPropagation());
  boton.after(menu);
  boton.setAttribute('aria-expanded', 'true');
  abierto = { menu, boton };
  menu.querySelector('button').focus();
}

/** Un elemento del menú: ejecuta la acción y cierra el menú. */
function opcion(texto, accion, hacer, etiqueta, emoji) {
  const boton = crear('button', 'opcion-menu opcion-' + accion, texto);
  boton.type = 'button';
  boton.setAttribute('role', 'menuitem');
  boton.dataset.accion = accion;
  if (emoji) boton.dataset.emoji = emoji;
  if (etiqueta) boton.setAttribute('aria-label', etiqueta);
  boton.addEventListener('click', () => {
    cerrarMenu(accion !== 'responder' && accion !== 'editar');
    hacer();
  });
  return boton;
}

/** «Eliminar» pide confirmarlo en el mismo botón antes de borrar. */
function opcionEliminar(m) {
  const boton = crear('button', 'opcion-menu opcion-eliminar', 'Eliminar');
  boton.type = 'button';
  boton.setAttribute('role', 'menuitem');
  boton.dataset.accion = 'eliminar';
  boton.addEventListener('click', () => {
    if (boton.dataset.accion === 'eliminar') {
      boton.dataset.accion = 'confirmar-eliminar';
      boton.textContent = '¿Eliminar? Confirmar';
      return;
    }
    cerrarMenu(true);
    eliminar(m);
  });
  return boton;
}

function alPulsarTecla(evento) {
  if (!abierto) return;
  const opciones = Array.from(abierto.menu.querySelectorAll('button'));
  const actual = opciones.indexOf(document.activeElement);
  const ir = (posicion) => opciones[(posicion + opciones.length) % opciones.length].focus();
  if (evento.key === 'Escape') cerrarMenu(true);
  else if (evento.key === 'ArrowDown' || evento.key === 'ArrowRight') ir(actual + 1);
  else if (evento.key === 'ArrowUp' || evento.key === 'ArrowLeft') ir(actual - 1);
  else if (evento.key === 'Home') ir(0);
  else if (evento.key === 'End') ir(opciones.length - 1);
  else if (evento.key === 'Tab') cerrarMenu(true);
  else return;
  evento.preventDefault();
  evento.stopPropagation();
}

/** Un clic fuera del menú lo cierra. */
export function iniciarMenu() {
  document.addEventListener('click', () => cerrarMenu());
}

/** Si el menú abierto es de ese mensaje (al redibujarlo o quitarlo, el menú se cierra). */
export function menuDe(id) {
  return Boolean(abierto && mismoId(abierto.boton.closest('.mensaje')?.dataset.id, id));
}
