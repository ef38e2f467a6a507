/*
 * Lo que comparten los módulos de la página: llamadas a la API (JSON, misma sesión, token
 * CSRF) y creación de elementos. Todo texto del servidor entra al DOM con textContent.
 */
const META_CSRF = document.querySelector('meta[name="csrf-token"]');

/** La API de chat.js (window.weigenceChat), que existe tras su arranque. */
export const chat = () => window.weigenceChat;

/** Crea un elemento con clase y texto opcionales. */
export function crear(etiqueta, clase, texto) {
  const el = document.createElement(etiqueta);
  if (clase) el.className = clase;
  if (texto !== undefined) el.textContent = texto;
  return el;
}

/** Llama a la API con JSON; lanza Error con el texto del servidor si no es 2xx. */
export async function api(metodo, ruta, cuerpo) {
  const opciones = { method: metodo, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (META_CSRF) opciones.headers['X-CSRFToken'] = META_CSRF.content;
  if (cuerpo !== undefined) {
    opciones.headers['Content-Type'] = 'application/json';
    opciones.body = JSON.stringify(cuerpo);
  }
  const r = await fetch(ruta, opciones);
  const datos = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(datos.error || 'Error ' + r.status);
  return datos;
}

/** Muestra un aviso breve en la barra de avisos de la página. */
export function avisar(texto) {
  const aviso = document.getElementById('aviso');
  if (!aviso) return;
  aviso.textContent = texto;
  aviso.classList.remove('hidden');
  setTimeout(() => aviso.classList.add('hidden'), 4000);
}
