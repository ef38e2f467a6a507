/*
 * El panel de miembros de un grupo (botón 👥 de la cabecera): nombres e insignia de
 * administrador; los administradores agregan, quitan, dan o quitan el rol (nunca al creador)
 * y renombran; cualquiera sale del grupo. Cada cambio responde con el grupo G actualizado.
 */

import { api, avisar, crear, mismoId, normalizar } from './comun.js';
import { dom, estado, idActual, manejarError, YO } from './estado.js';
import { ponerGrupo, quitarDeLista } from './grupos.js';
import { cerrarConversacion, nombreUsuario } from './lista.js';
import { otrosUsuarios } from './nuevo-grupo.js';

const $ = (id) => document.getElementById(id);

/** El botón 👥 y los formularios del panel. */
export function iniciarPanelGrupo() {
  const modal = $('modal-grupo');
  const cerrar = () => {
    modal.classList.add('hidden');
    dom.btnGrupo.focus();
  };
  modal.querySelectorAll('[data-cerrar]').forEach((b) => b.addEventListener('click', cerrar));
  modal.addEventListener('keydown', (evento) => {
    if (evento.key === 'Escape') cerrar();
  });
  dom.btnGrupo.addEventListener('click', abrirPanel);
  $('form-renombrar').addEventListener('submit', renombrar);
  $('form-agregar-miembro').addEventListener('submit', agregar);
  $('grupo-miembros').addEventListener('click', alAccionMiembro);
  $('btn-salir-grupo').addEventListener('click', salir);
}

/** Oculta el panel (al cambiar de conversación o al dejar de ser miembro). */
export function cerrarPanel() {
  $('modal-grupo').classList.add('hidden');
}

async function abrirPanel() {
  const id = idActual();
  if (id === null) return;
  $('modal-grupo').classList.remove('hidden');
  pintarPanel();
  try {
    const [datos] = await Promise.all([api('GET', '/api/chat/grupos/' + encodeURIComponent(id)), otrosUsuarios()]);
    if (id === idActual()) ponerGrupo(datos.grupo);
  } catch (error) {
    manejarError(error);
  }
  const primero = Array.from($('modal-grupo').querySelectorAll('input, select, button:not([data-cerrar])'))
    .find((e) => e.offsetParent !== null); // el primer control visible (los de admin pueden estar ocultos)
  if (primero) primero.focus();
}

/** Dibuja el panel de miembros si está abierto. */
export function pintarPanel() {
  const modal = $('modal-grupo');
  const g = estado.grupo;
  if (modal.classList.contains('hidden') || !g) return;
  $('titulo-grupo').textContent = 'Miembros (' + g.miembros.length + ')';
  $('form-renombrar').classList.toggle('hidden', !g.soy_admin);
  const campoNombre = $('grupo-nuevo-nombre');
  if (document.activeElement !== campoNombre) campoNombre.value = g.nombre || '';

  const lista = $('grupo-miembros');
  lista.textContent = '';
  for (const x of g.miembros) lista.appendChild(elementoMiembro(g, x));

  const agregar = $('form-agregar-miembro');
  agregar.classList.toggle('hidden', !g.soy_admin);
  const select = $('grupo-agregar-usuario');
  const elegido = select.value;
  select.textContent = '';
  const fuera = estado.usuarios
    .filter((u) => !mismoId(u.id, YO) && !g.miembros.some((x) => mismoId(x.usuario_id, u.id)))
    .sort((a, b) => normalizar(nombreUsuario(a)).localeCompare(normalizar(nombreUsuario(b))));
  for (const u of fuera) {
    const opcion = crear('option', '', nombreUsuario(u));
    opcion.value = String(u.id);
    select.appendChild(opcion);
  }
  if (fuera.some((u) => String(u.id) === elegido)) select.value = elegido;
  agregar.querySelector('button').disabled = fuera.length === 0;
}

function elementoMiembro(g, x) {
  const item = crear('li', 'miembro');
  item.dataset.id = String(x.usuario_id);
  const soyYo = mismoId(x.usuario_id, YO);
  item.appendChild(crear('span', 'miembro-nombre', (x.nombre || 'Usuario') + (soyYo ? ' (tú)' : '')));
  if (x.es_admin) item.appendChild(crear('span', 'insignia-admin', 'admin'));
  // Al creador nadie más lo quita ni le quita el rol (el servidor responde es_creador).
  if (g.soy_admin && !soyYo && !mismoId(x.usuario_id, g.creado_por)) {
    const acciones = crear('span', 'miembro-acciones');
    const rol = crear('button', 'boton boton-chico', x.es_admin ? 'Quitar admin' : 'Hacer admin');
    rol.type = 'button';
    rol.dataset.accion = x.es_admin ? 'quitar-admin' : 'hacer-admin';
    rol.setAttribute('aria-label', rol.textContent + ': ' + (x.nombre || 'Usuario'));
    const quitar = crear('button', 'boton boton-chico boton-peligro', 'Quitar');
    quitar.type = 'button';
    quitar.dataset.accion = 'quitar';
    quitar.setAttribute('aria-label', 'Quitar del grupo a ' + (x.nombre || 'Usuario'));
    acciones.append(rol, quitar);
    item.appendChild(acciones);
  }
  return item;
}

/** Una petición del panel que responde con el grupo G actualizado. */
async function cambiarGrupo(metodo, ruta, cuerpo) {
  const id = idActual();
  try {
    const datos = await api(metodo, '/api/chat/grupos/' + encodeURIComponent(id) + ruta, cuerpo);
    if (datos.grupo) ponerGrupo(datos.grupo);
    return true;
  } catch (error) {
    manejarError(error);
    return false;
  }
}

async function renombrar(evento) {
  evento.preventDefault();
  const nombre = $('grupo-nuevo-nombre').value.trim();
  if (!nombre || !estado.grupo || nombre === estado.grupo.nombre) return;
  if (await cambiarGrupo('PATCH', '', { nombre })) $('grupo-nuevo-nombre').blur();
}

async function agregar(evento) {
  evento.preventDefault();
  const rut = $('grupo-agregar-usuario').value;
  if (rut) await cambiarGrupo('POST', '/miembros', { usuario_id: rut });
}

function alAccionMiembro(evento) {
  const boton = evento.target.closest('button[data-accion]');
  const rut = boton && boton.closest('.miembro').dataset.id;
  if (!rut) return;
  boton.disabled = true;
  const accion = boton.dataset.accion;
  if (accion === 'quitar') cambiarGrupo('DELETE', '/miembros/' + encodeURIComponent(rut));
  else cambiarGrupo('PUT', '/admins/' + encodeURIComponent(rut), { es_admin: accion === 'hacer-admin' });
}

async function salir() {
  const id = idActual();
  if (id === null) return;
  try {
    await api('POST', '/api/chat/grupos/' + encodeURIComponent(id) + '/salir');
  } catch (error) {
    manejarError(error);
    return;
  }
  quitarDeLista(id);
  if (mismoId(id, idActual())) cerrarConversacion();
  avisar('Saliste del grupo');
}

