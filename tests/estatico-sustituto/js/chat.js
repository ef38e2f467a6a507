/*
 * Stand-in for an untouched v1 chat.js, served only by tests/navegador.rs (STATIC_DIR points at
 * this folder, which has nothing else: no css/chat.css, no Socket.IO client). It keeps the one
 * trait of the original that the page must serve: it sends only from the `submit` event of
 * #form-enviar-mensaje, posting JSON to /api/chat/mensaje/enviar with the X-CSRFToken header
 * taken from <meta name="csrf-token">. It has no key handlers of its own.
 *
 * The conversation to show comes from the URL: /chat#conversacion=<id>.
 */
(function () {
  'use strict';

  const formulario = document.getElementById('form-enviar-mensaje');
  const campo = document.getElementById('input-mensaje');
  const enviados = document.getElementById('mensajes-contenedor');
  const token = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
  const conversacion = new URLSearchParams(window.location.hash.slice(1)).get('conversacion');

  if (conversacion) {
    document.getElementById('sin-conversacion').classList.add('hidden');
    document.getElementById('area-conversacion').classList.remove('hidden');
  }

  formulario.addEventListener('submit', async (evento) => {
    evento.preventDefault();
    const texto = campo.value.trim();
    if (!texto || !conversacion) return;
    const respuesta = await fetch('/api/chat/mensaje/enviar', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': token },
      body: JSON.stringify({ conversacion_id: conversacion, contenido: texto })
    });
    if (respuesta.status !== 201) return;
    const { mensaje } = await respuesta.json();
    const linea = document.createElement('p');
    linea.className = 'enviado';
    linea.dataset.id = String(mensaje.id);
    linea.textContent = mensaje.contenido;
    enviados.appendChild(linea);
    campo.value = '';
  });
}());
