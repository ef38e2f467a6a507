/*
 * Chat interno de Weigence: carga la página, que son módulos ES sin compilación
 * (static/js/chat/, desde principal.js). La página lo incluye como script clásico con defer en
 * la ruta del chat.js original, así que sirve con cualquiera de los dos (STATIC_DIR).
 */
(function () {
  'use strict';
  // Hasta que los módulos toman el formulario, Intro no lo envía de forma nativa (recargaría).
  const formulario = document.getElementById('form-enviar-mensaje');
  const esperar = (evento) => evento.preventDefault();
  formulario.addEventListener('submit', esperar);
  import('./chat/principal.js').finally(() => formulario.removeEventListener('submit', esperar));
}());
