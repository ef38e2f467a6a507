/*
 * «Nuevo grupo»: un nombre y al menos dos personas de la lista de usuarios; al crearlo se
 * abre. Los demás lo ven aparecer por nueva_conversacion.
 */

import { api, crear, mismoId } from './comun.js';
import { estado, manejarError, YO } from './estado.js';
import { abrirConversacion, buscarConversacionPorId, cargarConversaciones, nombreUsuario } from './lista.js';

const $ = (id) => document.getElementById(id);

const MIN_OTROS = 2;

/** El botón «Nuevo grupo» (oculto en el HTML para cualquier otro chat.js) y su diálogo. */
export function iniciarNuevoGrupo() {
  const boton = $('btn-nuevo-grupo');
  const modal = $('modal-nuevo-grupo');
  boton.classList.remove('hidden');
  boton.addEventListener('click', abrirNuevoGrupo);
  const cerrar = () => {
    modal.classList.add('hidden');
    boton.focus();
  };
  modal.querySelectorAll('[data-cerrar]').forEach((b) => b.addEventListener('click', cerrar));
  modal.addEventListener('keydown', (evento) => {
    if (evento.key === 'Escape') cerrar();
  });
  $('grupo-nombre').addEventListener('input', habilitarCrear);
  $('grupo-candidatos').addEventListener('change', habilitarCrear);
  $('form-nuevo-grupo').addEventListener('submit', crearGrupo);
}

/** Los usuarios menos yo (la lista se pide una vez y se comparte con el diálogo de chat nuevo). */
export async function otrosUsuarios() {
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
    for (const u of await otrosUsuarios()) {
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
