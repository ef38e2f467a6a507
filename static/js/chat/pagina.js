/*
 * Arranque de la página de chat: los eventos del DOM, el socket, el sondeo inicial, el latido,
 * y la API que usan los demás módulos y las pruebas (window.weigenceChat).
 */

import { existe, mismoId } from './comun.js';
import { alEscribir, alPulsarTecla, enviarMensaje } from './envio.js';
import { dom, estado, idActual, INTERVALO_LATIDO_MS, silenciadas, YO } from './estado.js';
import {
  abrirConversacion,
  alElegirConversacion,
  buscarConversacionPorId,
  cargarConversaciones,
  cerrarConversacion,
  nombreConversacion,
  renderConversaciones
} from './lista.js';
import { irAMensaje } from './mensajes.js';
import { iniciarMenu } from './menu-mensaje.js';
import { iniciarNuevoGrupo } from './nuevo-grupo.js';
import { iniciarPanelGrupo } from './panel-grupo.js';
import { abrirModal, alElegirUsuario, cerrarModal, modalAbierto, renderUsuarios } from './nuevo-chat.js';
import { iniciarRespuesta } from './respuesta.js';
import { alCambiarVisibilidad, iniciarSondeo, latir } from './sondeo.js';
import { iniciarSocket } from './tiempo-real.js';

function alPulsarTeclaGlobal(evento) {
  if (evento.key === 'Escape' && modalAbierto()) cerrarModal();
}

/** Arranca la página: eventos del DOM, socket, sondeo hasta que conecte, y latido. */
export function iniciar() {
  dom.lista.addEventListener('click', alElegirConversacion);
  dom.buscarConversacion.addEventListener('input', renderConversaciones);
  dom.btnVolver.addEventListener('click', (evento) => {
    evento.preventDefault(); // es un enlace a /chat para cualquier otro script
    cerrarConversacion();
  });
  dom.formulario.addEventListener('submit', (evento) => {
    evento.preventDefault();
    enviarMensaje();
  });
  dom.entrada.addEventListener('keydown', alPulsarTecla);
  dom.entrada.addEventListener('input', alEscribir);
  dom.btnNuevoChat.addEventListener('click', abrirModal);
  dom.cerrarModal.addEventListener('click', cerrarModal);
  dom.fondoModal.addEventListener('click', cerrarModal);
  dom.buscarUsuario.addEventListener('input', renderUsuarios);
  dom.listaUsuarios.addEventListener('click', alElegirUsuario);
  document.addEventListener('keydown', alPulsarTeclaGlobal);
  document.addEventListener('visibilitychange', alCambiarVisibilidad);
  iniciarNuevoGrupo();
  iniciarPanelGrupo();
  iniciarMenu();
  iniciarRespuesta();

  dom.estadoConexion.classList.remove('hidden'); // oculto para cualquier otro chat.js, que no lo actualiza
  iniciarSocket();
  // Punto de depuración (y de la prueba tests/clients/navegador.mjs, que corta la conexión
  // con socket.io.engine.close()): el socket Socket.IO, o null si la página no lo tiene.
  // Los módulos de static/js/chat/ (búsqueda, adjuntos, avisos) usan el resto.
  window.weigenceChat = {
    socket: estado.socket,
    yo: YO,
    silenciadas,
    actual: idActual,
    nombreDe: (id) => {
      const c = buscarConversacionPorId(id);
      return c ? nombreConversacion(c) : 'Chat';
    },
    refrescarTitulo: () => renderConversaciones(),
    /** Abre una conversación de la lista y, si se da, resalta y muestra ese mensaje. */
    abrir: async (conversacionId, mensajeId) => {
      let c = buscarConversacionPorId(conversacionId);
      if (!c) {
        await cargarConversaciones();
        c = buscarConversacionPorId(conversacionId);
      }
      if (!c) return false;
      if (!mismoId(c.id, idActual())) await abrirConversacion(c);
      if (!existe(mensajeId)) return true;
      return Boolean(await irAMensaje(mensajeId));
    }
  };
  iniciarSondeo(); // hasta que el socket conecte; sin Socket.IO, siempre
  latir();
  setInterval(latir, INTERVALO_LATIDO_MS);
}
