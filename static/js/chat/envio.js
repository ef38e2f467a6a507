/*
 * Escribir y enviar: el área de texto, el envío (respuesta a un mensaje con reply_to) por el
 * socket con acuse o por REST con el mismo client_id, y el aviso «escribiendo…» en ambos sentidos.
 */

import { api, ErrorApi, existe, mismoId, nuevoIdCliente, textoError } from './comun.js';
import {
  ALTURA_MAXIMA_ENTRADA_PX,
  dom,
  DURACION_ESCRIBIENDO_MS,
  enVivo,
  ESPERA_ACUSE_MS,
  estado,
  idActual,
  INTERVALO_ESCRIBIENDO_MS,
  manejarError,
  YO
} from './estado.js';
import { anotarEnLista } from './lista.js';
import { agregarMensaje, desplazarAlFinal } from './mensajes.js';
import { cancelarRespuesta, respuestaPara } from './respuesta.js';

/** Reutiliza el client_id si se reintenta el mismo envío, para que el servidor no lo duplique. */
function idClienteParaEnvio(conversacionId, contenido, respuesta) {
  const previo = estado.pendiente;
  if (!previo || previo.conversacionId !== conversacionId || previo.contenido !== contenido ||
    String(previo.respuesta) !== String(respuesta)) {
    estado.pendiente = { conversacionId, contenido, respuesta, clientId: nuevoIdCliente() };
  }
  return estado.pendiente.clientId;
}

/** Envía lo escrito a la conversación abierta, una vez a la vez, y lo muestra al confirmarse. */
export async function enviarMensaje() {
  const id = idActual();
  const contenido = dom.entrada.value.trim();
  if (id === null || !contenido || estado.enviando) return;

  estado.enviando = true;
  dom.btnEnviar.disabled = true;
  const respuesta = respuestaPara(id);
  const cuerpo = { conversacion_id: id, contenido, client_id: idClienteParaEnvio(id, contenido, respuesta) };
  if (respuesta !== null) cuerpo.reply_to = respuesta;
  try {
    const mensaje = await entregarMensaje(cuerpo);
    estado.pendiente = null;
    estado.ultimoAvisoEscritura = 0;
    if (id === idActual()) {
      if (respuesta !== null) cancelarRespuesta();
      dom.entrada.value = '';
      ajustarAltura();
      agregarMensaje(mensaje);
      desplazarAlFinal();
    }
    anotarEnLista(mensaje);
  } catch (error) {
    manejarError(error);
  } finally {
    estado.enviando = false;
    dom.btnEnviar.disabled = dom.entrada.disabled; // sigue deshabilitado si me quitaron del grupo
  }
}

/** Por el socket si está en vivo; sin acuse a tiempo, o sin socket, por REST con el mismo client_id. */
async function entregarMensaje(cuerpo) {
  const porSocket = enVivo() ? await enviarPorSocket(cuerpo) : null;
  if (porSocket) return porSocket;
  const datos = await api('POST', '/api/chat/mensaje/enviar', cuerpo);
  return datos.mensaje;
}

/** Resuelve el mensaje guardado, o null si el acuse no llega a tiempo; rechaza si el servidor lo rechaza. */
function enviarPorSocket(cuerpo) {
  return new Promise((resolve, reject) => {
    estado.socket.timeout(ESPERA_ACUSE_MS).emit('mensaje_enviar', cuerpo, (sinAcuse, respuesta) => {
      if (sinAcuse) resolve(null);
      else if (respuesta && existe(respuesta.id)) resolve(respuesta);
      else reject(new ErrorApi(textoError(400, respuesta), 400));
    });
  });
}

/** Intro envía; Mayús+Intro inserta un salto de línea. */
export function alPulsarTecla(evento) {
  if (evento.key === 'Enter' && !evento.shiftKey && !evento.isComposing) {
    evento.preventDefault();
    enviarMensaje();
  }
}

/** El área de texto crece con el contenido hasta un máximo. */
function ajustarAltura() {
  dom.entrada.style.height = 'auto';
  dom.entrada.style.height = Math.min(dom.entrada.scrollHeight, ALTURA_MAXIMA_ENTRADA_PX) + 'px';
}

/** Al escribir: ajusta la altura del área y avisa «escribiendo» (como mucho cada 2 s). */
export function alEscribir() {
  ajustarAltura();
  avisarQueEscribo();
}

function avisarQueEscribo() {
  const id = idActual();
  const ahora = Date.now();
  if (!enVivo() || id === null || !dom.entrada.value.trim()) return;
  if (ahora - estado.ultimoAvisoEscritura < INTERVALO_ESCRIBIENDO_MS) return;
  estado.ultimoAvisoEscritura = ahora;
  estado.socket.emit('escribiendo', { conversacion_id: id });
}

/** escribiendo de otro en la conversación abierta: muestra el indicador unos segundos. */
export function alEscribirOtro(datos) {
  if (!datos || mismoId(datos.usuario_id, YO) || !mismoId(datos.conversacion_id, idActual())) return;
  dom.escribiendo.textContent = (datos.nombre || 'Alguien') + ' está escribiendo…';
  dom.escribiendo.classList.remove('hidden');
  clearTimeout(estado.temporizadorEscribiendo);
  estado.temporizadorEscribiendo = setTimeout(ocultarEscribiendo, DURACION_ESCRIBIENDO_MS);
}

/** Oculta el indicador «… está escribiendo». */
export function ocultarEscribiendo() {
  clearTimeout(estado.temporizadorEscribiendo);
  dom.escribiendo.classList.add('hidden');
  dom.escribiendo.textContent = '';
}
