/*
 * Grupos: crear uno (nombre y al menos dos personas de la lista de usuarios), el panel de
 * miembros (nombres, insignia de administrador; los administradores agregan, quitan, dan o
 * quitan el rol y renombran; cualquiera sale), y los eventos grupo_actualizado y
 * removido_de_conversacion: quien ya no es miembro ve el aviso, no puede escribir y pierde
 * la conversación de la lista.
 */

import { api, avisar, crear, existe, mismoId, normalizar } from './comun.js';
import { dom, estado, idActual, manejarError, YO } from './estado.js';
import {
  abrirConversacion,
  buscarConversacionPorId,
  cargarConversaciones,
  cerrarConversacion,
  mostrarCabecera,
  nombreUsuario,
  renderConversaciones
} from './lista.js';
import { incorporarMiembros, pintarRecibos } from './ticks.js';

const $ = (id) => document.getElementById(id);

const MIN_OTROS = 2;

/** Los botones y formularios de grupos (ocultos en el HTML para cualquier otro chat.js). */
export function iniciarGrupos() {
  const nuevo = $('btn-nuevo-grupo');
  nuevo.classList.remove('hidden');
  nuevo.addEventListener('click', abrirNuevoGrupo);
  for (const modal of [$('modal-nuevo-grupo'), $('modal-grupo')]) {
    modal.querySelectorAll('[data-cerrar]').forEach((b) => b.addEventListener('click', () => cerrar(modal)));
    modal.addEventListener('keydown', (evento) => {
      if (evento.key === 'Escape') cerrar(modal);
    });
  }
  $('grupo-nombre').addEventListener('input', habilitarCrear);
  $('grupo-candidatos').addEventListener('change', habilitarCrear);
  $('form-nuevo-grupo').addEventListener('submit', crearGrupo);
  dom.btnGrupo.addEventListener('click', abrirPanel);
  $('form-renombrar').addEventListener('submit', renombrar);
  $('form-agregar-miembro').addEventListener('submit', agregar);
  $('grupo-miembros').addEventListener('click', alAccionMiembro);
  $('btn-salir-grupo').addEventListener('click', salir);
}

function cerrar(modal) {
  modal.classList.add('hidden');
  (modal.id === 'modal-grupo' ? dom.btnGrupo : $('btn-nuevo-grupo')).focus();
}

async function usuarios() {
  if (estado.usuarios.length === 0) {
    const datos = await api('GET', '/api/chat/usuarios');
    estado.usuarios = datos.usuarios || [];
  }
  return estado.usuarios.filter((u) => !mismoId(u.id, YO));
}

async function abrirNuevoGrupo() {
  const modal = $('modal-nuevo-grupo');
  const lista = $('grupo-candidatos');
  $('grupo-nombre').value = '';
  lista.textContent = '';
  habilitarCrear();
  modal.classList.remove('hidden');
  $('grupo-nombre').focus();
  try {
    for (const u of await usuarios()) {
      const casilla = crear('input');
      casilla.type = 'checkbox';
      casilla.value = String(u.id);
      const etiqueta = crear('label', 'candidato');
      etiqueta.append(casilla, crear('span', 'usuario-nombre', nombreUsuario(u)));
      const item = crear('li');
      item.appendChild(etiqueta);
      lista.appendChild(item);
    }
  } catch (error) {
    manejarError(error);
  }
}

function elegidos() {
  return Array.from($('grupo-candidatos').querySelectorAll('input:checked')).map((c) => c.value);
}

function habilitarCrear() {
  $('btn-crear-grupo').disabled = !$('grupo-nombre').value.trim() || elegidos().length < MIN_OTROS;
}

async function crearGrupo(evento) {
  evento.preventDefault();
  const boton = $('btn-crear-grupo');
  if (boton.disabled) return;
  boton.disabled = true;
  try {
    const datos = await api('POST', '/api/chat/grupos', { nombre: $('grupo-nombre').value.trim(), miembros: elegidos() });
    $('modal-nuevo-grupo').classList.add('hidden');
    await cargarConversaciones().catch((error) => manejarError(error, true));
    const c = buscarConversacionPorId(datos.grupo.id);
    if (c) abrirConversacion(c);
  } catch (error) {
    manejarError(error);
  } finally {
    habilitarCrear();
  }
}

/** Participantes de la lista (los demás miembros) a partir de un grupo G. */
function participantesDe(g) {
  return g.miembros.filter((x) => !mismoId(x.usuario_id, YO))
    .map((x) => ({ id: x.usuario_id, nombre: x.nombre, nombre_completo: x.nombre, es_admin: x.es_admin }));
}

/** Un grupo G nuevo para su conversación: lista, cabecera, panel y, si está abierta, entregas. */
export function ponerGrupo(g) {
  if (!g || !existe(g.id)) return;
  const miembros = Array.isArray(g.miembros) ? g.miembros : [];
  const yo = miembros.find((x) => mismoId(x.usuario_id, YO));
  const grupo = Object.assign({}, g, { miembros, soy_admin: Boolean(yo && yo.es_admin) });
  const c = buscarConversacionPorId(grupo.id);
  if (c && grupo.es_grupal) {
    c.nombre = grupo.nombre;
    c.participantes = participantesDe(grupo);
    renderConversaciones();
  }
  if (!mismoId(grupo.id, idActual())) return;
  const previo = estado.grupo && mismoId(estado.grupo.id, grupo.id) ? estado.grupo.miembros : null;
  if (previo) {
    incorporarMiembros(miembros.map((x) => String(x.usuario_id))
      .filter((rut) => !previo.some((x) => mismoId(x.usuario_id, rut))));
  }
  estado.grupo = grupo;
  if (grupo.es_grupal && estado.actual && estado.removida === null) {
    if (!c) Object.assign(estado.actual, { nombre: grupo.nombre, participantes: participantesDe(grupo) });
    mostrarCabecera(estado.actual);
    dom.btnGrupo.classList.remove('hidden');
  }
  pintarPanel();
  pintarRecibos();
}

/** grupo_actualizado: nombre y miembros nuevos (el G del evento no trae soy_admin). */
export function alActualizarGrupo(datos) {
  if (datos && datos.grupo) ponerGrupo(Object.assign({ id: datos.conversacion_id }, datos.grupo));
}

/** Al abrir o cerrar una conversación: sin grupo, sin aviso de expulsión, campo habilitado. */
export function reiniciarGrupo() {
  estado.grupo = null;
  estado.removida = null;
  dom.area.classList.remove('removida');
  dom.avisoRemovido.classList.add('hidden');
  dom.entrada.disabled = false;
  dom.btnEnviar.disabled = false;
  const adjuntar = $('btn-adjuntar');
  if (adjuntar) adjuntar.disabled = false;
  dom.btnGrupo.classList.toggle('hidden', !(estado.actual && estado.actual.es_grupal));
  $('modal-grupo').classList.add('hidden');
}

/** La conversación abierta ya no es mía: aviso, sin escribir ni menú, y fuera de la lista. */
export function mostrarRemovida(id) {
  quitarDeLista(id);
  if (!mismoId(id, idActual())) return;
  estado.removida = String(id);
  estado.grupo = null;
  dom.area.classList.add('removida');
  dom.avisoRemovido.classList.remove('hidden');
  dom.entrada.disabled = true;
  dom.btnEnviar.disabled = true;
  const adjuntar = $('btn-adjuntar');
  if (adjuntar) adjuntar.disabled = true;
  dom.btnGrupo.classList.add('hidden');
  $('modal-grupo').classList.add('hidden');
  dom.respuestaPrevia.classList.add('hidden');
  estado.respuesta = null;
}

function quitarDeLista(id) {
  estado.salas.delete(String(id));
  const antes = estado.conversaciones.length;
  estado.conversaciones = estado.conversaciones.filter((c) => !mismoId(c.id, id));
  if (estado.conversaciones.length !== antes) renderConversaciones();
}

/** removido_de_conversacion: me quitaron (o salí) de un grupo. */
export function alSerRemovido(datos) {
  if (datos && existe(datos.conversacion_id)) mostrarRemovida(String(datos.conversacion_id));
}

/** nueva_conversacion de la que está abierta tras quitarme: me volvieron a agregar. */
export function alReincorporarse(id) {
  if (!mismoId(id, estado.removida)) return;
  const c = buscarConversacionPorId(id);
  if (c) abrirConversacion(c);
}

async function abrirPanel() {
  const id = idActual();
  if (id === null) return;
  $('modal-grupo').classList.remove('hidden');
  pintarPanel();
  try {
    const [datos] = await Promise.all([api('GET', '/api/chat/grupos/' + encodeURIComponent(id)), usuarios()]);
    if (id === idActual()) ponerGrupo(datos.grupo);
  } catch (error) {
    manejarError(error);
  }
  const primero = $('modal-grupo').querySelector('input, select, button:not([data-cerrar])');
  if (primero) primero.focus();
}

/** Dibuja el panel de miembros si está abierto. */
function pintarPanel() {
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

