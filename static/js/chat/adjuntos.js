/*
 * Adjuntos: botón «Adjuntar» y arrastrar y soltar sobre la conversación; la subida (cuerpo
 * crudo, XMLHttpRequest para la barra de progreso) crea el mensaje que lo lleva, y las
 * burbujas de mensajes con adjunto muestran la vista previa de la imagen o el enlace de
 * descarga (solo miembros: el servidor lo comprueba en cada petición).
 */
import { api, avisar, chat, crear } from './comun.js';

/** mensaje_id → adjunto, de la conversación abierta. */
const porMensaje = new Map();
let conversacionCargada = null;
let recarga = null;

/** El botón 📎, la subida con progreso y los adjuntos de cada mensaje mostrado. */
export function iniciarAdjuntos() {
  const formulario = document.getElementById('form-enviar-mensaje');
  const mensajes = document.getElementById('mensajes-contenedor');
  const area = document.getElementById('area-conversacion');

  const archivo = crear('input');
  archivo.type = 'file';
  archivo.id = 'input-adjunto';
  archivo.className = 'hidden';
  const boton = crear('button', 'boton boton-adjuntar', '📎');
  boton.type = 'button';
  boton.id = 'btn-adjuntar';
  boton.title = 'Adjuntar archivo o imagen';
  boton.setAttribute('aria-label', 'Adjuntar archivo o imagen');
  const progreso = crear('progress', 'progreso-subida hidden');
  progreso.id = 'progreso-subida';
  progreso.max = 100;
  formulario.prepend(boton, archivo);
  formulario.after(progreso);

  boton.addEventListener('click', () => archivo.click());
  archivo.addEventListener('change', () => {
    if (archivo.files[0]) subir(archivo.files[0], progreso);
    archivo.value = '';
  });
  area.addEventListener('dragover', (e) => {
    e.preventDefault();
    area.classList.add('soltando');
  });
  area.addEventListener('dragleave', () => area.classList.remove('soltando'));
  area.addEventListener('drop', (e) => {
    e.preventDefault();
    area.classList.remove('soltando');
    const f = e.dataTransfer && e.dataTransfer.files[0];
    if (f) subir(f, progreso);
  });

  new MutationObserver(() => decorar(mensajes)).observe(mensajes, { childList: true });
}

function subir(f, progreso) {
  const id = chat().actual();
  if (id === null) return;
  const xhr = new XMLHttpRequest();
  xhr.open('POST', '/api/chat/conversaciones/' + encodeURIComponent(id) + '/adjuntos?nombre=' + encodeURIComponent(f.name));
  xhr.setRequestHeader('Content-Type', 'application/octet-stream');
  progreso.value = 0;
  progreso.classList.remove('hidden');
  xhr.upload.addEventListener('progress', (e) => {
    if (e.lengthComputable) progreso.value = Math.round((100 * e.loaded) / e.total);
  });
  xhr.addEventListener('loadend', () => {
    progreso.classList.add('hidden');
    let datos = {};
    try {
      datos = JSON.parse(xhr.responseText);
    } catch (_) { /* respuesta vacía o cortada */ }
    if (xhr.status !== 201) {
      avisar(datos.error || 'No se pudo subir el archivo');
      return;
    }
    porMensaje.set(String(datos.adjunto.mensaje_id), datos.adjunto);
    decorar(document.getElementById('mensajes-contenedor'));
  });
  xhr.send(f);
}

/** Añade vista previa o enlace a las burbujas con adjunto; recarga la lista si falta alguno. */
function decorar(mensajes) {
  const actual = chat() && chat().actual();
  if (actual === null || actual === undefined) return;
  if (conversacionCargada !== String(actual)) {
    conversacionCargada = String(actual);
    porMensaje.clear();
    cargar(actual, mensajes);
    return;
  }
  let faltan = false;
  for (const fila of mensajes.querySelectorAll('.mensaje[data-id]:not([data-adjunto-revisado])')) {
    const adjunto = porMensaje.get(fila.dataset.id);
    if (!adjunto) {
      faltan = true;
      continue;
    }
    fila.dataset.adjuntoRevisado = '1';
    const burbuja = fila.querySelector('.burbuja');
    const texto = burbuja.querySelector('.burbuja-texto');
    const caja = crear('div', 'adjunto');
    if (adjunto.es_imagen) {
      const img = crear('img', 'adjunto-imagen');
      img.src = adjunto.miniatura_url || adjunto.url;
      img.alt = adjunto.nombre;
      img.loading = 'lazy';
      caja.appendChild(img);
    }
    const enlace = crear('a', 'adjunto-enlace', '⬇ ' + adjunto.nombre + ' (' + tamano(adjunto.tamano) + ')');
    enlace.href = adjunto.url;
    enlace.setAttribute('download', adjunto.nombre);
    caja.appendChild(enlace);
    burbuja.insertBefore(caja, texto ? texto.nextSibling : null);
  }
  if (faltan) cargar(actual, mensajes);
}

/** Pide la lista de adjuntos de la conversación (una petición a la vez). */
function cargar(id, mensajes) {
  if (recarga) return;
  recarga = api('GET', '/api/chat/conversaciones/' + encodeURIComponent(id) + '/adjuntos')
    .then((datos) => {
      if (String(id) !== conversacionCargada) return;
      for (const a of datos.adjuntos) porMensaje.set(String(a.mensaje_id), a);
      for (const fila of mensajes.querySelectorAll('.mensaje[data-id]:not([data-adjunto-revisado])')) {
        if (!porMensaje.has(fila.dataset.id)) fila.dataset.adjuntoRevisado = '0';
      }
    })
    .catch(() => {})
    .finally(() => {
      recarga = null;
      marcarPendientes(mensajes);
    });
}

/** Tras cargar, decora lo que tenga adjunto (los demás ya quedaron revisados). */
function marcarPendientes(mensajes) {
  for (const fila of mensajes.querySelectorAll('.mensaje[data-adjunto-revisado="0"]')) {
    if (porMensaje.has(fila.dataset.id)) delete fila.dataset.adjuntoRevisado;
  }
  const actual = chat().actual();
  if (actual !== null && String(actual) === conversacionCargada) {
    const pendientes = mensajes.querySelectorAll('.mensaje[data-id]:not([data-adjunto-revisado])');
    if (pendientes.length && [...pendientes].every((f) => porMensaje.has(f.dataset.id))) decorar(mensajes);
  }
}

function tamano(bytes) {
  if (bytes < 1024) return bytes + ' B';
  if (bytes < 1024 * 1024) return Math.round(bytes / 1024) + ' KB';
  return (bytes / (1024 * 1024)).toFixed(1) + ' MB';
}
