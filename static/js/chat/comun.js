/*
 * Lo que comparten los módulos de la página: llamadas a la API (JSON, misma sesión, token
 * CSRF), errores, avisos y creación de elementos. Todo texto del servidor entra al DOM con
 * textContent, nunca con innerHTML. Los ids se comparan como cadenas: pueden ser números o uuid.
 */
const META_CSRF = document.querySelector('meta[name="csrf-token"]');
const CSRF = META_CSRF ? META_CSRF.content : '';
const DURACION_AVISO_MS = 4000;

/** Un error de red (status 0) o una respuesta HTTP no 2xx, con el texto para el usuario. */
export class ErrorApi extends Error {
  constructor(mensaje, status) {
    super(mensaje);
    this.status = status;
  }
}

/** Ni null ni undefined. */
export function existe(valor) {
  return valor !== null && valor !== undefined;
}

/** Dos ids iguales como cadenas (pueden ser números o uuid). */
export function mismoId(a, b) {
  return existe(a) && existe(b) && String(a) === String(b);
}

/** Crea un elemento con clase y texto opcionales. */
export function crear(etiqueta, clase, texto) {
  const elemento = document.createElement(etiqueta);
  if (clase) elemento.className = clase;
  if (existe(texto)) elemento.textContent = texto;
  return elemento;
}

/** Minúsculas y sin tildes, para buscar «jose» y encontrar «José». */
export function normalizar(texto) {
  return String(texto || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().trim();
}

/** Las iniciales de un nombre, para los avatares. */
export function iniciales(nombre) {
  const palabras = String(nombre || '').trim().split(/\s+/).filter(Boolean);
  const letras = palabras.length > 1
    ? Array.from(palabras[0])[0] + Array.from(palabras[1])[0]
    : Array.from(palabras[0] || 'U').slice(0, 2).join('');
  return letras.toUpperCase();
}

/** El texto con la primera letra en mayúscula. */
export function capitalizar(texto) {
  const limpio = String(texto || '');
  return limpio.charAt(0).toUpperCase() + limpio.slice(1);
}

/** Un client_id nuevo, para que el servidor no duplique un envío reintentado. */
export function nuevoIdCliente() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID(); // solo en contextos seguros
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Llama a la API con JSON y la sesión de la página; lanza ErrorApi si no hay red o la respuesta
 * no es 2xx (401 lleva al login).
 */
export async function api(metodo, url, cuerpo) {
  const opciones = { method: metodo, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (CSRF) opciones.headers['X-CSRFToken'] = CSRF;
  if (existe(cuerpo)) {
    opciones.headers['Content-Type'] = 'application/json';
    opciones.body = JSON.stringify(cuerpo);
  }
  let respuesta;
  try {
    respuesta = await fetch(url, opciones);
  } catch (error) {
    throw new ErrorApi('Sin conexión con el servidor', 0);
  }
  if (respuesta.status === 401) {
    window.location.href = '/';
    throw new ErrorApi('No autenticado', 401);
  }
  const datos = await respuesta.json().catch(() => ({}));
  if (!respuesta.ok) throw new ErrorApi(textoError(respuesta.status, datos), respuesta.status);
  return datos;
}

/** El texto de error de una respuesta: el `error` del servidor, o uno según el status. */
export function textoError(status, datos) {
  if (datos && typeof datos.error === 'string' && datos.error) return datos.error;
  return status >= 500 ? 'Error del servidor, inténtalo de nuevo' : 'Solicitud rechazada (' + status + ')';
}

let temporizadorAviso = 0;

/** Muestra un aviso breve en la barra de avisos de la página. */
export function avisar(texto) {
  const aviso = document.getElementById('aviso');
  if (!aviso) return;
  aviso.textContent = texto;
  aviso.classList.remove('hidden');
  clearTimeout(temporizadorAviso);
  temporizadorAviso = setTimeout(() => aviso.classList.add('hidden'), DURACION_AVISO_MS);
}

/** La API de la página (window.weigenceChat), que existe tras su arranque (pagina.js). */
export const chat = () => window.weigenceChat;
