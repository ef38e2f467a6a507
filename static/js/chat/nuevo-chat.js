/*
 * El diálogo «chat nuevo»: buscar un usuario y abrir (o crear) el chat 1:1 con él.
 */

import { api, crear, existe, iniciales, mismoId, normalizar } from './comun.js';
import { dom, estado, manejarError, YO } from './estado.js';
import {
  abrirConversacion,
  buscarConversacionPorId,
  cargarConversaciones,
  detalleUsuario,
  nombreUsuario
} from './lista.js';

/** Si el diálogo «chat nuevo» está abierto. */
export function modalAbierto() {
  return !dom.modal.classList.contains('hidden');
}

/** Abre el diálogo «chat nuevo» y carga los usuarios. */
export function abrirModal() {
  dom.modal.classList.remove('hidden');
  dom.buscarUsuario.value = '';
  dom.buscarUsuario.focus();
  cargarUsuarios();
}

/** Cierra el diálogo y devuelve el foco a su botón. */
export function cerrarModal() {
  dom.modal.classList.add('hidden');
  dom.btnNuevoChat.focus();
}

async function cargarUsuarios() {
  mostrarMensajeUsuarios('Cargando usuarios…');
  try {
    const datos = await api('GET', '/api/chat/usuarios');
    estado.usuarios = datos.usuarios || [];
    renderUsuarios();
  } catch (error) {
    mostrarMensajeUsuarios('No se pudieron cargar los usuarios');
    manejarError(error);
  }
}

function mostrarMensajeUsuarios(texto) {
  dom.listaUsuarios.textContent = '';
  dom.listaUsuarios.appendChild(crear('li', 'lista-vacia', texto));
}

/** Dibuja los usuarios que coinciden con el buscador del diálogo. */
export function renderUsuarios() {
  const filtro = normalizar(dom.buscarUsuario.value);
  const visibles = estado.usuarios.filter((u) =>
    normalizar([nombreUsuario(u), u.email, u.rol].join(' ')).includes(filtro));
  if (visibles.length === 0) {
    mostrarMensajeUsuarios(filtro ? 'Sin resultados' : 'No hay otros usuarios');
    return;
  }
  const fragmento = document.createDocumentFragment();
  visibles.forEach((u) => fragmento.appendChild(elementoUsuario(u)));
  dom.listaUsuarios.textContent = '';
  dom.listaUsuarios.appendChild(fragmento);
}

function elementoUsuario(u) {
  const nombre = nombreUsuario(u);
  const boton = crear('button', 'usuario');
  boton.type = 'button';
  boton.dataset.id = String(u.id);
  const textos = crear('span', 'usuario-textos');
  textos.append(crear('span', 'usuario-nombre', nombre), crear('span', 'usuario-detalle', detalleUsuario(u)));
  boton.append(crear('span', 'avatar', iniciales(nombre)), textos);

  const item = crear('li');
  item.appendChild(boton);
  return item;
}

/** Clic en un usuario del diálogo: abre (o crea) el chat con él. */
export function alElegirUsuario(evento) {
  const boton = evento.target.closest('button[data-id]');
  const usuario = boton && estado.usuarios.find((u) => mismoId(u.id, boton.dataset.id));
  if (usuario) crearConversacion(usuario);
}

/** Busca o crea el chat 1:1 con el usuario elegido y lo abre. */
async function crearConversacion(usuario) {
  if (estado.creando) return;
  estado.creando = true;
  try {
    const datos = await api('POST', '/api/chat/conversacion/crear', { participantes: [YO, usuario.id] });
    const conversacion = datos.conversacion || {};
    const id = String(existe(datos.conversacion_id) ? datos.conversacion_id : conversacion.id);
    cerrarModal();
    await cargarConversaciones().catch((error) => manejarError(error, true));
    // Si la lista aún no la trae, se abre con lo que devolvió la creación.
    abrirConversacion(buscarConversacionPorId(id) ||
      Object.assign({ es_grupal: false, nombre: null, participantes: [usuario] }, conversacion, { id }));
  } catch (error) {
    manejarError(error);
  } finally {
    estado.creando = false;
  }
}
