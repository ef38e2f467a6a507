/*
 * El estado de la página: intervalos y límites, los elementos del DOM, el usuario de la sesión,
 * lo que se muestra, y el estado de la conexión (en vivo, sondeo o sin servidor).
 */

import { avisar, ErrorApi } from './comun.js';

export const INTERVALO_SONDEO_MS = 5000;

export const INTERVALO_LATIDO_MS = 15000;

export const INTERVALO_ESCRIBIENDO_MS = 2000;  // como mucho un aviso «escribiendo» cada 2 s

export const DURACION_ESCRIBIENDO_MS = 3000;   // el indicador se oculta sin avisos nuevos

export const ESPERA_ACUSE_MS = 5000;           // acuse de mensaje_enviar antes de reintentar por REST

export const ESPERA_UNION_MS = 3000;           // confirmación de unirse_conversacion antes de recargar igual

export const MARGEN_FINAL_PX = 80;

export const ALTURA_MAXIMA_ENTRADA_PX = 160;

export const MAX_PAGINAS_ANTERIORES = 50;      // como mucho 5.000 mensajes atrás al abrir un resultado

const ESTADOS_CONEXION = {
  vivo: { texto: 'En vivo', detalle: 'Los mensajes llegan al instante' },
  sondeo: { texto: 'Sin conexión en tiempo real', detalle: 'Los mensajes se actualizan cada 5 segundos' },
  caido: { texto: 'Sin conexión con el servidor', detalle: 'Reintentando cada 5 segundos' }
};

const $ = (id) => document.getElementById(id);

/**
 * La página trae #input-mensaje como campo de una línea, donde Intro envía el formulario con
 * cualquier chat.js (el original solo escucha «submit»). Este lo cambia por un área de texto
 * con los mismos atributos: Intro envía (alPulsarTecla), Mayús+Intro salta de línea.
 */
function entradaMultilinea(campo) {
  if (campo.tagName === 'TEXTAREA') return campo;
  const area = document.createElement('textarea');
  for (const atributo of Array.from(campo.attributes)) {
    if (atributo.name !== 'type') area.setAttribute(atributo.name, atributo.value);
  }
  area.rows = 1;
  area.placeholder = 'Escribe un mensaje… (Mayús+Intro para salto de línea)';
  area.value = campo.value;
  campo.replaceWith(area);
  return area;
}

/** Los elementos de la página, buscados una vez (#input-mensaje ya cambiado por un área de texto). */
export const dom = {
  lista: $('lista-conversaciones'),
  area: $('area-conversacion'),
  sinConversacion: $('sin-conversacion'),
  mensajes: $('mensajes-contenedor'),
  chatNombre: $('chat-nombre'),
  chatInfo: $('chat-info'),
  chatAvatar: $('chat-avatar'),
  entrada: entradaMultilinea($('input-mensaje')),
  formulario: $('form-enviar-mensaje'),
  btnNuevoChat: $('btn-nuevo-chat'),
  btnVolver: $('btn-volver'),
  modal: $('modal-nuevo-chat'),
  cerrarModal: $('cerrar-modal'),
  fondoModal: $('modal-backdrop'),
  listaUsuarios: $('lista-usuarios'),
  buscarUsuario: $('buscar-usuario'),
  buscarConversacion: $('buscar-conversacion'),
  estadoConexion: $('estado-conexion'),
  escribiendo: $('escribiendo'),
  aviso: $('aviso'),
  btnGrupo: $('btn-grupo'),
  barraFijados: $('barra-fijados'),
  avisoRemovido: $('aviso-removido'),
  respuestaPrevia: $('respuesta-previa')
};

dom.btnEnviar = dom.formulario.querySelector('button[type="submit"]');

/** El id (rut) del usuario de la sesión, que la página trae en body[data-usuario-id]. */
export const YO = document.body.dataset.usuarioId || '';

/** El título de la pestaña sin la cuenta de no leídos. */
export const TITULO_BASE = document.title;

/** Pantallas angostas: se ve un panel a la vez (lista o conversación). */
export const PANTALLA_ANGOSTA = window.matchMedia('(max-width: 767px)');

/** Todo lo que la página recuerda entre eventos. */
export const estado = {
  conversaciones: [],
  actual: null,             // conversación abierta (objeto C del contrato)
  mensajes: [],             // mensajes mostrados, en el mismo orden que el DOM
  idsMostrados: new Set(),  // String(id) de cada mensaje mostrado
  ultimoMarcado: null,      // id del último mensaje enviado a marcar-leido
  usuarios: [],
  pendiente: null,          // último envío sin confirmar, para reutilizar su client_id
  enviando: false,
  creando: false,
  refrescando: false,
  repetirRefresco: false,   // algo cambió durante la recarga en curso: recargar otra vez
  socket: null,             // Socket.IO, o null si la página no cargó window.io
  salas: new Set(),         // salas pedidas en la conexión actual (String(id))
  salasPendientes: new Set(), // pedidas y aún sin unido_conversacion
  esperasUnion: [],         // quienes esperan que no queden salas pendientes
  conectados: new Set(),    // ruts de los usuarios en línea
  grupo: null,              // G de la conversación abierta (historial, grupo_actualizado), o null
  fijados: [],              // mensajes fijados de la conversación abierta, en orden
  respuesta: null,          // mensaje al que se responde (el envío lleva reply_to)
  removida: null,           // id de la conversación abierta de la que me quitaron
  marcas: new Map(),        // conversación → Map('entregado:rut' | 'leido:rut' → id del último mensaje)
  entregaAvisada: new Map(), // conversación → último id avisado con marcar_entregado
  sinGrupos: false,         // el servidor no tiene sql/grupos.sql: historial por la API v1
  ultimoAvisoEscritura: 0,
  temporizadorSondeo: 0,
  temporizadorEscribiendo: 0
};

/** Conversaciones silenciadas (las mantiene static/js/chat/avisos.js): sin aviso ni cuenta. */
export const silenciadas = new Set();

/** El id de la conversación abierta como cadena, o null. */
export function idActual() {
  return estado.actual ? String(estado.actual.id) : null;
}

/** Si el socket está conectado (si no, la página sondea por REST). */
export function enVivo() {
  return Boolean(estado.socket && estado.socket.connected);
}

/** Muestra el estado de la conexión: «vivo», «sondeo» o «caido». */
export function mostrarEstadoConexion(clave) {
  dom.estadoConexion.textContent = ESTADOS_CONEXION[clave].texto;
  dom.estadoConexion.title = ESTADOS_CONEXION[clave].detalle;
  dom.estadoConexion.dataset.estado = clave;
}

/** Errores de red o HTTP: aviso visible salvo en tareas de fondo; los fallos de código se propagan. */
export function manejarError(error, silencioso) {
  if (!(error instanceof ErrorApi)) throw error;
  if (error.status === 401) return; // ya se está redirigiendo al login
  if (error.status === 0 && !enVivo()) mostrarEstadoConexion('caido');
  if (!silencioso) avisar(error.message);
}
