// Test-only client of the v2 API (CONTRACT-v2.md §1-§2, §4), written for tests/navegador_v2.rs.
// It uses the API the way Weigence's floating widget does — Socket.IO over long-polling only,
// chats opened by the other user's rut, sends over the socket, REST for reactions, pins and
// deletes — but it is our own small client, not the widget: every text goes through
// textContent, and `window.arnesV2` exposes its socket, state and the errors it saw.
(() => {
  'use strict';

  const EMOJIS = ['👍', '❤️', '😂', '😮', '😔'];
  const $ = (id) => document.getElementById(id);

  const estado = {
    yo: null,
    nombres: new Map(),      // rut → nombre
    abierto: null,           // { rut, conversacion: "<id>" }
    mensajes: new Map(),     // "<id>" → message as received (M)
    respondiendo: null,      // message being replied to
    errores: []              // `error {msg}` events and failed requests
  };

  const socket = io({
    transports: ['polling'],
    upgrade: false,
    reconnection: true,
    reconnectionDelay: 1000,
    reconnectionDelayMax: 5000
  });
  window.arnesV2 = { socket, estado };

  function avisar(texto) {
    estado.errores.push(texto);
    $('aviso').textContent = texto;
  }

  async function api(metodo, ruta, cuerpo) {
    const opciones = { method: metodo, credentials: 'same-origin', headers: {} };
    if (cuerpo !== undefined) {
      opciones.headers['Content-Type'] = 'application/json';
      opciones.body = JSON.stringify(cuerpo);
    }
    const respuesta = await fetch(ruta, opciones);
    const datos = await respuesta.json().catch(() => ({}));
    if (!respuesta.ok || datos.success === false) {
      throw new Error(datos.msg || datos.error || `HTTP ${respuesta.status}`);
    }
    return datos;
  }

  const mismaConversacion = (id) => estado.abierto !== null && String(id) === estado.abierto.conversacion;
  const elementoDe = (id) => $('mensajes').querySelector(`.mensaje[data-id="${CSS.escape(String(id))}"]`);

  // ---- users and unread badges ----

  function botonUsuario(rut) {
    return $('usuarios').querySelector(`button.usuario[data-rut="${CSS.escape(rut)}"]`);
  }

  function ponerNoLeidos(rut, cantidad) {
    const boton = botonUsuario(rut);
    if (!boton) return;
    const insignia = boton.querySelector('.insignia');
    insignia.textContent = String(cantidad);
    insignia.hidden = cantidad === 0;
  }

  async function cargarUsuarios() {
    const [usuarios, conversaciones] = await Promise.all([
      api('GET', '/api/chat/users'),
      api('GET', '/api/chat/conversaciones')
    ]);
    const lista = $('usuarios');
    lista.replaceChildren();
    for (const u of usuarios.usuarios) {
      estado.nombres.set(u.id, u.nombre);
      const boton = document.createElement('button');
      boton.type = 'button';
      boton.className = 'usuario';
      boton.dataset.rut = u.id;
      const punto = document.createElement('span');
      punto.className = `punto${u.is_online ? ' en-linea' : ''}`;
      const nombre = document.createElement('span');
      nombre.className = 'nombre';
      nombre.textContent = u.nombre;
      const insignia = document.createElement('span');
      insignia.className = 'insignia';
      insignia.hidden = true;
      boton.append(punto, nombre, insignia);
      boton.addEventListener('click', () => abrirChat(u.id).catch((e) => avisar(e.message)));
      const item = document.createElement('li');
      item.append(boton);
      lista.append(item);
    }
    for (const c of conversaciones.lista) {
      if (!(estado.abierto && estado.abierto.rut === c.usuario.rut_usuario)) {
        ponerNoLeidos(c.usuario.rut_usuario, c.unread);
      }
    }
    lista.dataset.cargada = 'si';
  }

  // ---- one chat ----

  async function abrirChat(rut) {
    const h = await api('GET', `/api/chat/history/${encodeURIComponent(rut)}`);
    if (estado.abierto && estado.abierto.conversacion !== String(h.conversacion_id)) {
      socket.emit('leave', { conversacion_id: estado.abierto.conversacion });
    }
    estado.abierto = { rut, conversacion: String(h.conversacion_id) };
    estado.mensajes.clear();
    cancelarRespuesta();
    for (const b of $('usuarios').querySelectorAll('button.usuario')) {
      b.classList.toggle('activo', b.dataset.rut === rut);
    }
    ponerNoLeidos(rut, 0);
    $('con').textContent = estado.nombres.get(rut) || rut;
    $('mensajes').replaceChildren();
    for (const m of h.mensajes) agregarMensaje(m);
    mostrarFijado(h.mensaje_fijado && {
      mensaje_id: h.mensaje_fijado.id,
      usuario_nombre: h.mensaje_fijado.usuario_nombre,
      contenido: h.mensaje_fijado.contenido
    });
    if (h.last_seen_other !== null) marcarVistos(h.last_seen_other);
    const chat = $('chat');
    chat.hidden = false;
    chat.dataset.unido = 'no';
    chat.dataset.conversacion = estado.abierto.conversacion;
    socket.emit('join', { conversacion_id: h.conversacion_id });
    avisarVisto();
    $('texto').focus();
  }

  /** Tells the other member how far this user has read (the newest message from them). */
  function avisarVisto() {
    const ajenos = $('mensajes').querySelectorAll('.mensaje.ajeno');
    if (ajenos.length === 0 || !socket.connected) return;
    const ultimo = estado.mensajes.get(ajenos[ajenos.length - 1].dataset.id);
    socket.emit('seen', { conversacion_id: estado.abierto.conversacion, ultimo_id: ultimo.id });
  }

  /**
   * Marks this user's messages up to `ultimoId` as seen by the other: by value for integer ids
   * (the marker may name a message deleted since), else by screen order.
   */
  function marcarVistos(ultimoId) {
    const todos = Array.from($('mensajes').querySelectorAll('.mensaje'));
    const hasta = typeof ultimoId === 'number'
      ? todos.filter((e) => Number(e.dataset.id) <= ultimoId).length
      : todos.findIndex((e) => e.dataset.id === String(ultimoId)) + 1;
    for (const e of todos.slice(0, hasta)) {
      const visto = e.querySelector('.visto');
      if (visto) visto.textContent = '✓✓';
    }
  }

  function agregarMensaje(m) {
    const clave = String(m.id);
    if (estado.mensajes.has(clave)) return;
    estado.mensajes.set(clave, m);
    const mio = m.usuario_id === estado.yo;
    const item = document.createElement('li');
    item.className = `mensaje ${mio ? 'mio' : 'ajeno'}`;
    item.dataset.id = clave;
    if (m.reply_to !== null && m.reply_to !== undefined) {
      const cita = document.createElement('div');
      cita.className = 'cita';
      cita.dataset.replyTo = String(m.reply_to);
      cita.textContent = m.reply_to_content === undefined
        ? 'Mensaje no disponible'
        : `${m.reply_to_user_name}: ${m.reply_to_content}`;
      item.append(cita);
    }
    const autor = document.createElement('div');
    autor.className = 'autor';
    autor.textContent = m.usuario_nombre;
    const texto = document.createElement('p');
    texto.className = 'texto';
    texto.textContent = m.contenido;
    const reacciones = document.createElement('div');
    reacciones.className = 'reacciones';
    item.append(autor, texto, reacciones, acciones(m, mio));
    if (mio) {
      const visto = document.createElement('span');
      visto.className = 'visto';
      visto.textContent = '✓';
      autor.append(visto);
    }
    $('mensajes').append(item);
    pintarReacciones(clave, m.reacciones || {}, m.mis_reacciones || []);
  }

  function acciones(m, mio) {
    const barra = document.createElement('div');
    barra.className = 'acciones';
    const boton = (clase, texto, alHacer) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = clase;
      b.textContent = texto;
      b.addEventListener('click', () => alHacer(b).catch((e) => avisar(e.message)));
      barra.append(b);
      return b;
    };
    boton('responder', 'Responder', async () => empezarRespuesta(m));
    for (const emoji of EMOJIS) {
      boton('reaccionar', emoji, async () => reaccionar(m, emoji)).dataset.emoji = emoji;
    }
    boton('fijar', 'Fijar', async () => api('POST', `/api/chat/mensajes/${encodeURIComponent(m.id)}/fijar`));
    if (mio) {
      boton('eliminar', 'Eliminar', async () => api('DELETE', `/api/chat/mensajes/${encodeURIComponent(m.id)}`));
    }
    return barra;
  }

  /** Draws a message's reaction counts; `mias` are this user's own emoji. */
  function pintarReacciones(clave, resumen, mias) {
    const item = elementoDe(clave);
    if (!item) return;
    item.dataset.mias = JSON.stringify(mias);
    const caja = item.querySelector('.reacciones');
    caja.replaceChildren();
    for (const [emoji, cuenta] of Object.entries(resumen)) {
      const r = document.createElement('span');
      r.className = `reaccion${mias.includes(emoji) ? ' propia' : ''}`;
      r.dataset.emoji = emoji;
      r.textContent = `${emoji} ${cuenta}`;
      caja.append(r);
    }
  }

  /** A second click on one's own emoji removes it; any other emoji replaces it. */
  async function reaccionar(m, emoji) {
    const item = elementoDe(m.id);
    const mias = item ? JSON.parse(item.dataset.mias || '[]') : [];
    const ruta = `/api/chat/mensajes/${encodeURIComponent(m.id)}/reaccion`;
    const r = mias.includes(emoji) ? await api('DELETE', ruta) : await api('POST', ruta, { emoji });
    pintarReacciones(String(m.id), r.reacciones, r.emoji ? [r.emoji] : []);
  }

  function empezarRespuesta(m) {
    estado.respondiendo = m;
    const aviso = $('respondiendo');
    aviso.querySelector('.cita-texto').textContent = `${m.usuario_nombre}: ${m.contenido}`;
    aviso.hidden = false;
    $('texto').focus();
  }

  function cancelarRespuesta() {
    estado.respondiendo = null;
    $('respondiendo').hidden = true;
  }

  function mostrarFijado(fijado) {
    const banda = $('fijado');
    if (!fijado) {
      banda.hidden = true;
      delete banda.dataset.id;
      return;
    }
    banda.dataset.id = String(fijado.mensaje_id);
    banda.querySelector('.fijado-autor').textContent = `${fijado.usuario_nombre}:`;
    banda.querySelector('.fijado-texto').textContent = fijado.contenido;
    banda.hidden = false;
  }

  async function enviar() {
    const entrada = $('texto');
    const contenido = entrada.value.trim();
    if (!contenido || !estado.abierto) return;
    const datos = { conversacion_id: estado.abierto.conversacion, contenido };
    if (estado.respondiendo) datos.reply_to = estado.respondiendo.id;
    entrada.value = '';
    cancelarRespuesta();
    if (socket.connected) {
      socket.emit('send', datos); // the echo is `mensaje_nuevo`
    } else {
      const r = await api('POST', '/api/chat/send', { ...datos, destinatario_id: estado.abierto.rut });
      agregarMensaje(r.mensaje);
    }
  }

  // ---- socket ----

  socket.on('connect', () => {
    $('estado').dataset.estado = 'conectado';
    $('estado').textContent = 'Conectado';
    if (estado.abierto) socket.emit('join', { conversacion_id: estado.abierto.conversacion });
  });
  socket.on('disconnect', () => {
    $('estado').dataset.estado = 'desconectado';
    $('estado').textContent = 'Desconectado';
    $('chat').dataset.unido = 'no';
  });
  socket.on('connect_error', (e) => {
    $('estado').dataset.estado = 'desconectado';
    $('estado').textContent = `Sin conexión (${e.message})`;
  });
  socket.on('ws_connected', ({ usuario_id }) => {
    estado.yo = usuario_id;
    $('yo').textContent = usuario_id;
    cargarUsuarios().catch((e) => avisar(e.message));
  });
  socket.on('joined', ({ conversacion_id }) => {
    if (mismaConversacion(conversacion_id)) $('chat').dataset.unido = 'si';
  });
  socket.on('mensaje_nuevo', (m) => {
    if (mismaConversacion(m.conversacion_id)) {
      agregarMensaje(m);
      if (m.usuario_id !== estado.yo) avisarVisto();
    } else if (m.usuario_id !== estado.yo) {
      const insignia = botonUsuario(m.usuario_id)?.querySelector('.insignia');
      ponerNoLeidos(m.usuario_id, (insignia && !insignia.hidden ? Number(insignia.textContent) : 0) + 1);
    }
  });
  socket.on('mensaje_visto', (v) => {
    if (mismaConversacion(v.conversacion_id) && v.usuario_id !== estado.yo) marcarVistos(v.ultimo_id);
  });
  const alReaccionar = (r) => {
    if (!mismaConversacion(r.conversacion_id)) return;
    const item = elementoDe(r.mensaje_id);
    if (!item) return;
    const mias = r.usuario_id === estado.yo ? (r.emoji ? [r.emoji] : []) : JSON.parse(item.dataset.mias || '[]');
    pintarReacciones(String(r.mensaje_id), r.reacciones, mias);
  };
  socket.on('reaccion_agregada', alReaccionar);
  socket.on('reaccion_eliminada', alReaccionar);
  socket.on('mensaje_fijado', (f) => {
    if (mismaConversacion(f.conversacion_id)) mostrarFijado(f);
  });
  socket.on('mensaje_desfijado', (f) => {
    if (mismaConversacion(f.conversacion_id) && $('fijado').dataset.id === String(f.mensaje_id)) mostrarFijado(null);
  });
  socket.on('mensaje_eliminado', ({ conversacion_id, mensaje_id }) => {
    if (!mismaConversacion(conversacion_id)) return;
    const clave = String(mensaje_id);
    elementoDe(clave)?.remove();
    estado.mensajes.delete(clave);
    if ($('fijado').dataset.id === clave) mostrarFijado(null);
    if (estado.respondiendo && String(estado.respondiendo.id) === clave) cancelarRespuesta();
  });
  socket.on('error', (e) => avisar(e && e.msg ? e.msg : String(e)));

  // ---- page ----

  $('form').addEventListener('submit', (evento) => {
    evento.preventDefault();
    enviar().catch((e) => avisar(e.message));
  });
  $('respondiendo').querySelector('.cancelar').addEventListener('click', cancelarRespuesta);
  $('fijado').querySelector('.desfijar').addEventListener('click', () => {
    const id = $('fijado').dataset.id;
    if (id) api('POST', `/api/chat/mensajes/${encodeURIComponent(id)}/desfijar`).catch((e) => avisar(e.message));
  });
})();
