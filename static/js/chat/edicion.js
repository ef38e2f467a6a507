/*
 * Editar y eliminar mensajes. Editar (los propios, dentro del plazo del servidor) cambia el
 * texto de la burbuja por un área de texto en su lugar: Intro guarda, Mayús+Intro salta de
 * línea, Escape cancela. Eliminar quita el mensaje de todas partes. Y los mismos cambios
 * hechos por otros (mensaje_editado, mensaje_eliminado).
 */

import { api, crear, mismoId } from './comun.js';
import { dom, estado, idActual, manejarError } from './estado.js';
import { buscarConversacionPorId, cargarConversaciones, renderConversaciones } from './lista.js';
import { actualizarMensaje, quitarMensaje, redibujar } from './mensajes.js';

/** Cambia el texto del mensaje propio por un área de texto con «Guardar» y «Cancelar». */
export function editar(m) {
  const posicion = estado.mensajes.indexOf(m);
  const fila = posicion >= 0 ? dom.mensajes.children[posicion] : null;
  const texto = fila && fila.querySelector('.burbuja-texto');
  if (!texto) return;
  const caja = crear('div', 'edicion');
  const campo = crear('textarea', 'campo edicion-campo');
  campo.value = String(m.contenido || '');
  campo.rows = Math.min(6, campo.value.split('\n').length);
  campo.maxLength = dom.entrada.maxLength > 0 ? dom.entrada.maxLength : 2000;
  campo.setAttribute('aria-label', 'Editar mensaje');
  const guardar = crear('button', 'boton boton-primario edicion-guardar', 'Guardar');
  guardar.type = 'button';
  const cancelar = crear('button', 'boton edicion-cancelar', 'Cancelar');
  cancelar.type = 'button';
  const botones = crear('div', 'edicion-botones');
  botones.append(cancelar, guardar);
  caja.append(campo, botones);
  texto.replaceWith(caja);

  const salir = () => {
    redibujar(m);
    const boton = dom.mensajes.querySelector('.mensaje[data-id="' + CSS.escape(String(m.id)) + '"] .boton-menu');
    if (boton) boton.focus();
  };
  const enviar = async () => {
    const contenido = campo.value.trim();
    if (!contenido || contenido === m.contenido) {
      salir();
      return;
    }
    guardar.disabled = true;
    try {
      const datos = await api('PATCH', '/api/chat/mensajes/' + encodeURIComponent(m.id), { contenido });
      // Una edición cambia el texto y la marca; reacciones y entregas siguen sus propios eventos.
      actualizarMensaje({ id: m.id, contenido: datos.mensaje.contenido, editado: true });
      salir();
    } catch (error) {
      guardar.disabled = false;
      manejarError(error);
    }
  };
  guardar.addEventListener('click', enviar);
  cancelar.addEventListener('click', salir);
  campo.addEventListener('keydown', (evento) => {
    if (evento.key === 'Escape') {
      evento.preventDefault();
      salir();
    } else if (evento.key === 'Enter' && !evento.shiftKey && !evento.isComposing) {
      evento.preventDefault();
      enviar();
    }
  });
  campo.focus();
  campo.setSelectionRange(campo.value.length, campo.value.length);
}

/** Elimina un mensaje (propio, o de un grupo donde soy administrador). */
export async function eliminar(m) {
  try {
    await api('DELETE', '/api/chat/mensajes/' + encodeURIComponent(m.id));
    quitarMensaje(m.id);
  } catch (error) {
    manejarError(error);
  }
}

/** El último mensaje que la lista muestra de esa conversación si es `mensajeId`, o null. */
function ultimoEnLista(conversacionId, mensajeId) {
  const c = buscarConversacionPorId(conversacionId);
  return c && c.ultimo_mensaje && mismoId(c.ultimo_mensaje.id, mensajeId) ? c.ultimo_mensaje : null;
}

/** mensaje_editado: el texto nuevo en la conversación abierta, o en la vista previa de la lista. */
export function alEditarse(datos) {
  if (!datos || !datos.mensaje) return;
  if (mismoId(datos.conversacion_id, idActual())) {
    actualizarMensaje({ id: datos.mensaje.id, contenido: datos.mensaje.contenido, editado: true });
    return;
  }
  const ultimo = ultimoEnLista(datos.conversacion_id, datos.mensaje.id);
  if (ultimo) {
    ultimo.contenido = datos.mensaje.contenido;
    renderConversaciones();
  }
}

/** mensaje_eliminado: lo quita de la conversación abierta; si era el último de la lista, la recarga. */
export function alEliminarse(datos) {
  if (!datos) return;
  if (mismoId(datos.conversacion_id, idActual())) quitarMensaje(datos.mensaje_id);
  else if (ultimoEnLista(datos.conversacion_id, datos.mensaje_id)) {
    cargarConversaciones().catch((error) => manejarError(error, true));
  }
}
