/*
 * Responder: el mensaje elegido se cita sobre el campo de texto (con su botón para cancelar) y
 * el envío lleva su id (`reply_to`); en la burbuja de la respuesta, la cita del original, que
 * lleva a él. Un original eliminado queda como «Mensaje eliminado».
 */

import { crear, mismoId } from './comun.js';
import { dom, estado, idActual, PANTALLA_ANGOSTA } from './estado.js';
import { nombreUsuario } from './lista.js';
import { irAMensaje } from './mensajes.js';

/** Cita un mensaje sobre el campo de texto: lo que se envíe será su respuesta. */
export function responder(m) {
  estado.respuesta = m;
  dom.respuestaPrevia.querySelector('.respuesta-autor').textContent = 'Respondiendo a ' + nombreUsuario(m.usuario);
  dom.respuestaPrevia.querySelector('.respuesta-texto').textContent = String(m.contenido || '');
  dom.respuestaPrevia.classList.remove('hidden');
  if (!PANTALLA_ANGOSTA.matches) dom.entrada.focus();
}

/** Quita la cita (tras enviar, al cancelar o al cambiar de conversación). */
export function cancelarRespuesta() {
  estado.respuesta = null;
  dom.respuestaPrevia.classList.add('hidden');
}

/** El id del mensaje al que responde lo que se envía ahora en la conversación `id`, o null. */
export function respuestaPara(id) {
  const m = estado.respuesta;
  return m && mismoId(m.conversacion_id || idActual(), id) ? m.id : null;
}

/** La cita de una respuesta: autor y texto del original, o «Mensaje eliminado». */
export function elementoCita(m) {
  const cita = m.cita;
  const boton = crear('button', 'cita' + (cita ? '' : ' cita-eliminada'));
  boton.type = 'button';
  if (cita) {
    boton.append(
      crear('span', 'cita-autor', cita.usuario_nombre || 'Usuario'),
      crear('span', 'cita-texto', String(cita.contenido || ''))
    );
    boton.title = 'Ir al mensaje citado';
    boton.addEventListener('click', () => irAMensaje(m.reply_to));
  } else {
    boton.appendChild(crear('span', 'cita-texto', 'Mensaje eliminado'));
    boton.disabled = true;
  }
  return boton;
}

/** El botón × y Escape en el campo cancelan la respuesta. */
export function iniciarRespuesta() {
  document.getElementById('cancelar-respuesta').addEventListener('click', () => {
    cancelarRespuesta();
    dom.entrada.focus();
  });
  dom.entrada.addEventListener('keydown', (evento) => {
    if (evento.key === 'Escape' && estado.respuesta) cancelarRespuesta();
  });
}
