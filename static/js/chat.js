/*
 * Chat interno de Weigence: lista de conversaciones, mensajes y chat nuevo.
 *
 * JavaScript simple (ES2017), sin compilación. En vivo por Socket.IO (mensajes,
 * «escribiendo», confirmaciones de lectura, conversaciones nuevas y presencia)
 * cuando la página cargó el cliente oficial (window.io); mientras el socket no
 * está conectado, o si ese cliente falta, sondeo REST cada 5 s.
 *
 * Todo texto que viene del servidor llega al DOM con textContent, nunca con
 * innerHTML. Los ids se comparan como cadenas: pueden ser números o uuid.
 */
(function () {
  'use strict';

  const INTERVALO_SONDEO_MS = 5000;
  const INTERVALO_LATIDO_MS = 15000;
  const INTERVALO_ESCRIBIENDO_MS = 2000;  // como mucho un aviso «escribiendo» cada 2 s
  const DURACION_ESCRIBIENDO_MS = 3000;   // el indicador se oculta sin avisos nuevos
  const ESPERA_ACUSE_MS = 5000;           // acuse de mensaje_enviar antes de reintentar por REST
  const ESPERA_UNION_MS = 3000;           // confirmación de unirse_conversacion antes de recargar igual
  const DURACION_AVISO_MS = 4000;
  const MARGEN_FINAL_PX = 80;
  const ALTURA_MAXIMA_ENTRADA_PX = 160;
  const MAX_PAGINAS_ANTERIORES = 50;      // como mucho 5.000 mensajes atrás al abrir un resultado

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

  const dom = {
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
    aviso: $('aviso')
  };
  dom.btnEnviar = dom.formulario.querySelector('button[type="submit"]');

  const YO = document.body.dataset.usuarioId || '';
  const META_CSRF = document.querySelector('meta[name="csrf-token"]');
  const CSRF = META_CSRF ? META_CSRF.content : '';
  const TITULO_BASE = document.title;
  const PANTALLA_ANGOSTA = window.matchMedia('(max-width: 767px)');

  const estado = {
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
    vistos: new Map(),        // id de conversación → último id leído por el otro participante
    ultimoAvisoEscritura: 0,
    temporizadorSondeo: 0,
    temporizadorEscribiendo: 0,
    temporizadorAviso: 0
  };

  /* ---------- utilidades ---------- */

  class ErrorApi extends Error {
    constructor(mensaje, status) {
      super(mensaje);
      this.status = status;
    }
  }

  function existe(valor) {
    return valor !== null && valor !== undefined;
  }

  function mismoId(a, b) {
    return existe(a) && existe(b) && String(a) === String(b);
  }

  function idActual() {
    return estado.actual ? String(estado.actual.id) : null;
  }

  function crear(etiqueta, clase, texto) {
    const elemento = document.createElement(etiqueta);
    if (clase) elemento.className = clase;
    if (existe(texto)) elemento.textContent = texto;
    return elemento;
  }

  /** Minúsculas y sin tildes, para buscar «jose» y encontrar «José». */
  function normalizar(texto) {
    return String(texto || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().trim();
  }

  function iniciales(nombre) {
    const palabras = String(nombre || '').trim().split(/\s+/).filter(Boolean);
    const letras = palabras.length > 1
      ? Array.from(palabras[0])[0] + Array.from(palabras[1])[0]
      : Array.from(palabras[0] || 'U').slice(0, 2).join('');
    return letras.toUpperCase();
  }

  function capitalizar(texto) {
    const limpio = String(texto || '');
    return limpio.charAt(0).toUpperCase() + limpio.slice(1);
  }

  function nuevoIdCliente() {
    if (typeof crypto.randomUUID === 'function') return crypto.randomUUID(); // solo en contextos seguros
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  /* ---------- fechas ---------- */

  /** Acepta ISO 8601 y el formato de Postgres («2024-05-01 10:00:00.123456+00»). */
  function parsearFecha(valor) {
    if (!valor) return null;
    const texto = String(valor).trim()
      .replace(' ', 'T')
      .replace(/(\.\d{3})\d+/, '$1')
      .replace(/(:\d{2}(?:\.\d+)?)([+-]\d{2})$/, '$1$2:00');
    const fecha = new Date(texto);
    return isNaN(fecha.getTime()) ? null : fecha;
  }

  function mismoDia(a, b) {
    return a.toDateString() === b.toDateString();
  }

  function formatoHora(fecha) {
    return fecha.toLocaleTimeString('es-CL', { hour: '2-digit', minute: '2-digit' });
  }

  function tiempoRelativo(fecha) {
    const segundos = (Date.now() - fecha.getTime()) / 1000;
    if (segundos < 60) return 'ahora';
    if (segundos < 3600) return 'hace ' + Math.floor(segundos / 60) + ' min';
    const hoy = new Date();
    if (mismoDia(fecha, hoy)) return formatoHora(fecha);
    const ayer = new Date(hoy.getFullYear(), hoy.getMonth(), hoy.getDate() - 1);
    if (mismoDia(fecha, ayer)) return 'ayer';
    if (segundos < 6 * 86400) return fecha.toLocaleDateString('es-CL', { weekday: 'short' });
    return fecha.toLocaleDateString('es-CL', { day: '2-digit', month: '2-digit', year: '2-digit' });
  }

  function horaMensaje(fecha) {
    if (mismoDia(fecha, new Date())) return formatoHora(fecha);
    return fecha.toLocaleDateString('es-CL', { day: '2-digit', month: '2-digit' }) + ' ' + formatoHora(fecha);
  }

  /** Un <time> con el texto formateado y la fecha completa como tooltip. */
  function elementoHora(valor, formatear, clase) {
    const fecha = parsearFecha(valor);
    const elemento = crear('time', clase, fecha ? formatear(fecha) : '');
    if (fecha) {
      elemento.dateTime = fecha.toISOString();
      elemento.title = fecha.toLocaleString('es-CL');
    }
    return elemento;
  }

  /* ---------- API ---------- */

  async function api(metodo, url, cuerpo) {
    const opciones = { method: metodo, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (existe(cuerpo)) {
      opciones.headers['Content-Type'] = 'application/json';
      opciones.headers['X-CSRFToken'] = CSRF;
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

  function textoError(status, datos) {
    if (datos && typeof datos.error === 'string' && datos.error) return datos.error;
    return status >= 500 ? 'Error del servidor, inténtalo de nuevo' : 'Solicitud rechazada (' + status + ')';
  }

  /** Errores de red o HTTP: aviso visible salvo en tareas de fondo; los fallos de código se propagan. */
  function manejarError(error, silencioso) {
    if (!(error instanceof ErrorApi)) throw error;
    if (error.status === 401) return; // ya se está redirigiendo al login
    if (error.status === 0 && !enVivo()) mostrarEstadoConexion('caido');
    if (!silencioso) mostrarAviso(error.message);
  }

  /* ---------- avisos y estado ---------- */

  function mostrarAviso(texto) {
    dom.aviso.textContent = texto;
    dom.aviso.classList.remove('hidden');
    clearTimeout(estado.temporizadorAviso);
    estado.temporizadorAviso = setTimeout(() => dom.aviso.classList.add('hidden'), DURACION_AVISO_MS);
  }

  function mostrarEstadoConexion(clave) {
    dom.estadoConexion.textContent = ESTADOS_CONEXION[clave].texto;
    dom.estadoConexion.title = ESTADOS_CONEXION[clave].detalle;
    dom.estadoConexion.dataset.estado = clave;
  }

  /** Conversaciones silenciadas (las mantiene static/js/chat/avisos.js): sin aviso ni cuenta. */
  const silenciadas = new Set();

  function actualizarTitulo() {
    const total = estado.conversaciones
      .filter((c) => !silenciadas.has(String(c.id)))
      .reduce((suma, c) => suma + contarNoLeidos(c), 0);
    document.title = (total > 0 ? '(' + total + ') ' : '') + TITULO_BASE;
  }

  /* ---------- conversaciones ---------- */

  function nombreUsuario(usuario) {
    return (usuario && (usuario.nombre_completo || usuario.nombre)) || 'Usuario';
  }

  function detalleUsuario(usuario) {
    return [capitalizar(usuario.rol), usuario.email].filter(Boolean).join(' · ');
  }

  function otroParticipante(c) {
    return (c.participantes || [])[0] || null;
  }

  function nombreConversacion(c) {
    if (c.es_grupal) return c.nombre || 'Grupo sin nombre';
    const otro = otroParticipante(c);
    return otro ? nombreUsuario(otro) : (c.nombre || 'Usuario');
  }

  function infoConversacion(c) {
    if (c.es_grupal) return ((c.participantes || []).length + 1) + ' participantes';
    const otro = otroParticipante(c);
    if (!otro) return '';
    return [estaEnLinea(c) ? 'En línea' : '', detalleUsuario(otro)].filter(Boolean).join(' · ');
  }

  /** En línea: el otro participante de un chat 1:1 tiene un socket abierto o un latido reciente. */
  function estaEnLinea(c) {
    const otro = !c.es_grupal && otroParticipante(c);
    return Boolean(otro) && estado.conectados.has(String(otro.id));
  }

  /** Avatar con sus iniciales y, si corresponde, el punto verde de presencia. */
  function elementoAvatar(nombre, enLinea) {
    const avatar = crear('span', 'avatar' + (enLinea ? ' en-linea' : ''), iniciales(nombre));
    if (enLinea) avatar.title = 'En línea';
    return avatar;
  }

  function esPropio(m) {
    if (typeof m.es_propio === 'boolean') return m.es_propio;
    if (typeof m.es_mio === 'boolean') return m.es_mio;
    return mismoId(m.usuario_id, YO);
  }

  function vistaPrevia(c) {
    const ultimo = c.ultimo_mensaje;
    if (!ultimo) return 'Sin mensajes';
    return (esPropio(ultimo) ? 'Tú: ' : '') + String(ultimo.contenido || '');
  }

  function fechaActividad(c) {
    return (c.ultimo_mensaje && c.ultimo_mensaje.fecha_envio) ||
      c.ultimo_mensaje_timestamp || c.ultima_actualizacion || c.fecha_creacion;
  }

  function marcaActividad(c) {
    const fecha = parsearFecha(fechaActividad(c));
    return fecha ? fecha.getTime() : 0;
  }

  /** La conversación abierta en una pestaña visible: lo que llega ahí se da por leído. */
  function estaALaVista(c) {
    return mismoId(c.id, idActual()) && !document.hidden;
  }

  function contarNoLeidos(c) {
    return Number(c.no_leidos || c.mensajes_no_leidos || 0);
  }

  function buscarConversacionPorId(id) {
    return estado.conversaciones.find((c) => mismoId(c.id, id)) || null;
  }

  async function cargarConversaciones() {
    const datos = await api('GET', '/api/chat/conversaciones');
    estado.conversaciones = datos.conversaciones || [];
    const abierta = estado.actual && buscarConversacionPorId(estado.actual.id);
    if (abierta) {
      estado.actual = abierta;
      mostrarCabecera(abierta);
    }
    renderConversaciones();
    sincronizarSalas();
  }

  /** Refleja un mensaje en la lista (vista previa, orden y no leídos) sin esperar al sondeo. */
  function anotarEnLista(m) {
    const c = buscarConversacionPorId(m.conversacion_id);
    if (!c) {
      refrescar(); // conversación que la lista aún no tiene
      return;
    }
    if (c.ultimo_mensaje && compararMensajes(m, c.ultimo_mensaje) <= 0) return; // ya anotado
    c.ultimo_mensaje = {
      id: m.id, contenido: m.contenido, fecha_envio: m.fecha_envio, usuario_id: m.usuario_id, editado: m.editado
    };
    c.ultimo_mensaje_timestamp = m.fecha_envio;
    if (!esPropio(m) && !estaALaVista(c)) {
      c.no_leidos = contarNoLeidos(c) + 1;
      c.mensajes_no_leidos = c.no_leidos;
    }
    listaCambiada();
  }

  /** Reordena y redibuja la lista tras un cambio en vivo; una recarga en curso ya trae datos viejos. */
  function listaCambiada() {
    if (estado.refrescando) estado.repetirRefresco = true;
    estado.conversaciones.sort((a, b) => marcaActividad(b) - marcaActividad(a));
    renderConversaciones();
  }

  function renderConversaciones() {
    const filtro = normalizar(dom.buscarConversacion.value);
    const visibles = estado.conversaciones.filter((c) => normalizar(nombreConversacion(c)).includes(filtro));
    const enfocada = dom.lista.contains(document.activeElement) ? document.activeElement.dataset.id : null;

    const fragmento = document.createDocumentFragment();
    visibles.forEach((c) => fragmento.appendChild(elementoConversacion(c)));
    if (visibles.length === 0) {
      fragmento.appendChild(crear('li', 'lista-vacia', filtro ? 'Sin resultados' : 'Aún no tienes conversaciones'));
    }
    dom.lista.textContent = '';
    dom.lista.appendChild(fragmento);

    // Volver a enfocar la misma conversación tras redibujar la lista.
    const boton = enfocada && Array.from(dom.lista.querySelectorAll('button[data-id]')).find((b) => b.dataset.id === enfocada);
    if (boton) boton.focus();
    actualizarTitulo();
  }

  function elementoConversacion(c) {
    const activa = mismoId(c.id, idActual());
    // La conversación abierta y visible se marca como leída en cada sondeo.
    const noLeidos = (activa && !document.hidden) || silenciadas.has(String(c.id)) ? 0 : contarNoLeidos(c);

    const boton = crear('button', 'conversacion' + (activa ? ' activa' : '') + (noLeidos > 0 ? ' con-no-leidos' : ''));
    boton.type = 'button';
    boton.dataset.id = String(c.id);
    if (activa) boton.setAttribute('aria-current', 'true');

    const nombre = nombreConversacion(c);
    const cuerpo = crear('span', 'conversacion-cuerpo');
    const filaSuperior = crear('span', 'conversacion-fila');
    filaSuperior.append(
      crear('span', 'conversacion-nombre', nombre),
      elementoHora(fechaActividad(c), tiempoRelativo, 'conversacion-hora')
    );
    const filaInferior = crear('span', 'conversacion-fila');
    filaInferior.appendChild(crear('span', 'conversacion-preview', vistaPrevia(c)));
    if (noLeidos > 0) {
      const insignia = crear('span', 'insignia', noLeidos > 99 ? '99+' : String(noLeidos));
      insignia.setAttribute('aria-label', noLeidos + ' sin leer');
      filaInferior.appendChild(insignia);
    }
    cuerpo.append(filaSuperior, filaInferior);
    boton.append(elementoAvatar(nombre, estaEnLinea(c)), cuerpo);

    const item = crear('li');
    item.appendChild(boton);
    return item;
  }

  function alElegirConversacion(evento) {
    const boton = evento.target.closest('button[data-id]');
    const c = boton && buscarConversacionPorId(boton.dataset.id);
    if (c && !mismoId(c.id, idActual())) abrirConversacion(c);
  }

  function mostrarCabecera(c) {
    const nombre = nombreConversacion(c);
    dom.chatNombre.textContent = nombre;
    dom.chatInfo.textContent = infoConversacion(c);
    dom.chatAvatar.textContent = iniciales(nombre);
    dom.chatAvatar.classList.toggle('en-linea', estaEnLinea(c));
  }

  async function abrirConversacion(c) {
    estado.actual = c;
    reiniciarMensajes();
    mostrarCabecera(c);
    dom.sinConversacion.classList.add('hidden');
    dom.area.classList.remove('hidden');
    document.body.classList.add('con-conversacion');
    renderConversaciones();
    if (!PANTALLA_ANGOSTA.matches) dom.entrada.focus(); // en móvil no abrir el teclado sin pedirlo

    dom.mensajes.classList.add('cargando');
    try {
      await cargarMensajes();
    } catch (error) {
      manejarError(error);
    } finally {
      if (mismoId(c.id, idActual())) dom.mensajes.classList.remove('cargando');
    }
  }

  /** Vuelve a la lista (en pantallas angostas solo se ve un panel a la vez). */
  function cerrarConversacion() {
    estado.actual = null;
    reiniciarMensajes();
    dom.area.classList.add('hidden');
    dom.sinConversacion.classList.remove('hidden');
    document.body.classList.remove('con-conversacion');
    renderConversaciones();
  }

  /* ---------- mensajes ---------- */

  function reiniciarMensajes() {
    estado.mensajes = [];
    estado.idsMostrados.clear();
    estado.ultimoMarcado = null;
    estado.ultimoAvisoEscritura = 0;
    dom.mensajes.textContent = '';
    ocultarEscribiendo();
  }

  /** Ordena por fecha_envio y, a igual fecha, por id (numérico si ambos lo son). */
  function compararMensajes(a, b) {
    const fechaA = parsearFecha(a.fecha_envio);
    const fechaB = parsearFecha(b.fecha_envio);
    return (fechaA && fechaB ? fechaA - fechaB : 0) || compararIds(a.id, b.id);
  }

  function compararIds(a, b) {
    const x = String(a);
    const y = String(b);
    if (/^\d+$/.test(x) && /^\d+$/.test(y) && x.length !== y.length) return x.length - y.length;
    return x < y ? -1 : (x > y ? 1 : 0);
  }

  async function cargarMensajes() {
    const id = idActual();
    if (id === null) return;
    const datos = await api('GET', '/api/chat/mensajes/' + encodeURIComponent(id));
    if (id !== idActual()) return; // se abrió otra conversación mientras tanto
    agregarMensajes(datos.mensajes || []);
    marcarLeido();
  }

  /** Inserta un mensaje de la conversación abierta en su lugar; false si ya estaba o es de otra. */
  function insertarMensaje(m) {
    const actual = idActual();
    if (!m || !existe(m.id) || actual === null) return false;
    if (existe(m.conversacion_id) && !mismoId(m.conversacion_id, actual)) return false;
    if (estado.idsMostrados.has(String(m.id))) return false;

    let posicion = estado.mensajes.length;
    while (posicion > 0 && compararMensajes(estado.mensajes[posicion - 1], m) > 0) posicion -= 1;
    estado.mensajes.splice(posicion, 0, m);
    estado.idsMostrados.add(String(m.id));
    dom.mensajes.insertBefore(elementoMensaje(m), dom.mensajes.children[posicion] || null);
    return true;
  }

  /** Agrega varios mensajes; baja al final solo si el usuario ya estaba abajo. */
  function agregarMensajes(lista) {
    const estabaAbajo = estaCercaDelFinal();
    const nuevos = lista.filter(insertarMensaje).length;
    if (nuevos > 0) actualizarRecibos();
    if (nuevos > 0 && estabaAbajo) desplazarAlFinal();
    return nuevos;
  }

  function agregarMensaje(m) {
    return agregarMensajes([m]) === 1;
  }

  /**
   * La fila de un mensaje de la conversación abierta; si no está entre los mostrados, carga
   * páginas anteriores (`antes=`) hasta encontrarlo o llegar al principio. Para abrir un
   * resultado de búsqueda viejo.
   */
  async function filaCargandoAnteriores(mensajeId) {
    const id = idActual();
    const selector = '[data-id="' + CSS.escape(String(mensajeId)) + '"]';
    for (let pagina = 0; pagina < MAX_PAGINAS_ANTERIORES; pagina++) {
      const fila = dom.mensajes.querySelector(selector);
      if (fila || estado.mensajes.length === 0 || id !== idActual()) return fila;
      const antes = estado.mensajes[0].id;
      const datos = await api('GET', '/api/chat/mensajes/' + encodeURIComponent(id) +
        '?antes=' + encodeURIComponent(antes) + '&limite=100');
      if (id !== idActual()) return null;
      const lista = datos.mensajes || [];
      if (lista.length === 0) return null;
      lista.forEach(insertarMensaje);
      actualizarRecibos();
    }
    return dom.mensajes.querySelector(selector);
  }

  function elementoMensaje(m) {
    const propio = esPropio(m);
    const fila = crear('div', 'mensaje ' + (propio ? 'mensaje-propio' : 'mensaje-ajeno'));
    fila.dataset.id = String(m.id);

    const burbuja = crear('div', 'burbuja');
    if (!propio && estado.actual && estado.actual.es_grupal) {
      burbuja.appendChild(crear('span', 'burbuja-autor', nombreUsuario(m.usuario)));
    }
    burbuja.appendChild(m.eliminado
      ? crear('p', 'burbuja-texto eliminado', 'Mensaje eliminado')
      : crear('p', 'burbuja-texto', String(m.contenido || '')));

    const pie = crear('span', 'burbuja-pie');
    pie.appendChild(elementoHora(m.fecha_envio, horaMensaje));
    if (m.editado && !m.eliminado) pie.appendChild(crear('span', 'editado', 'editado'));
    if (propio) pie.appendChild(marcarRecibo(crear('span', 'recibo'), false));
    burbuja.appendChild(pie);

    fila.appendChild(burbuja);
    return fila;
  }

  function estaCercaDelFinal() {
    const caja = dom.mensajes;
    return caja.scrollHeight - caja.scrollTop - caja.clientHeight < MARGEN_FINAL_PX;
  }

  function desplazarAlFinal() {
    dom.mensajes.scrollTop = dom.mensajes.scrollHeight;
  }

  /* ---------- confirmaciones de lectura ---------- */

  function marcarRecibo(recibo, leido) {
    recibo.textContent = leido ? '✓✓' : '✓';
    recibo.title = leido ? 'Leído' : 'Enviado';
    recibo.setAttribute('aria-label', recibo.title);
    recibo.classList.toggle('leido', leido);
    return recibo;
  }

  /**
   * ✓✓ en los mensajes propios hasta la posición del último que el otro leyó. Si ese
   * mensaje aún no se muestra no se cambia nada: la marca solo avanza, y al llegar el
   * mensaje se vuelve a calcular.
   */
  function actualizarRecibos() {
    const marca = estado.vistos.get(idActual());
    const hasta = existe(marca) ? estado.mensajes.findIndex((m) => mismoId(m.id, marca)) : -1;
    if (hasta < 0) return;
    estado.mensajes.forEach((m, posicion) => {
      const recibo = dom.mensajes.children[posicion].querySelector('.recibo');
      if (recibo) marcarRecibo(recibo, posicion <= hasta);
    });
  }

  /** Avisa hasta el último mensaje mostrado, una sola vez y solo si la pestaña está visible. */
  async function marcarLeido() {
    const id = idActual();
    const ultimo = estado.mensajes[estado.mensajes.length - 1];
    if (id === null || !ultimo || document.hidden || mismoId(ultimo.id, estado.ultimoMarcado)) return;

    estado.ultimoMarcado = ultimo.id;
    try {
      await api('POST', '/api/chat/mensaje/marcar-leido', { conversacion_id: id, mensaje_id: ultimo.id });
    } catch (error) {
      if (id === idActual()) estado.ultimoMarcado = null; // reintentar en el próximo sondeo
      manejarError(error, true);
      return;
    }
    const c = buscarConversacionPorId(id);
    if (c && contarNoLeidos(c) > 0) {
      c.no_leidos = 0;
      c.mensajes_no_leidos = 0;
      renderConversaciones();
    }
  }

  /** Reutiliza el client_id si se reintenta el mismo texto, para que el servidor no lo duplique. */
  function idClienteParaEnvio(conversacionId, contenido) {
    const previo = estado.pendiente;
    if (!previo || previo.conversacionId !== conversacionId || previo.contenido !== contenido) {
      estado.pendiente = { conversacionId, contenido, clientId: nuevoIdCliente() };
    }
    return estado.pendiente.clientId;
  }

  async function enviarMensaje() {
    const id = idActual();
    const contenido = dom.entrada.value.trim();
    if (id === null || !contenido || estado.enviando) return;

    estado.enviando = true;
    dom.btnEnviar.disabled = true;
    try {
      const mensaje = await entregarMensaje({
        conversacion_id: id,
        contenido,
        client_id: idClienteParaEnvio(id, contenido)
      });
      estado.pendiente = null;
      estado.ultimoAvisoEscritura = 0;
      if (id === idActual()) {
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
      dom.btnEnviar.disabled = false;
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
  function alPulsarTecla(evento) {
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

  function alEscribir() {
    ajustarAltura();
    avisarQueEscribo();
  }

  /* ---------- «escribiendo…» ---------- */

  function avisarQueEscribo() {
    const id = idActual();
    const ahora = Date.now();
    if (!enVivo() || id === null || !dom.entrada.value.trim()) return;
    if (ahora - estado.ultimoAvisoEscritura < INTERVALO_ESCRIBIENDO_MS) return;
    estado.ultimoAvisoEscritura = ahora;
    estado.socket.emit('escribiendo', { conversacion_id: id });
  }

  function alEscribirOtro(datos) {
    if (!datos || mismoId(datos.usuario_id, YO) || !mismoId(datos.conversacion_id, idActual())) return;
    dom.escribiendo.textContent = (datos.nombre || 'Alguien') + ' está escribiendo…';
    dom.escribiendo.classList.remove('hidden');
    clearTimeout(estado.temporizadorEscribiendo);
    estado.temporizadorEscribiendo = setTimeout(ocultarEscribiendo, DURACION_ESCRIBIENDO_MS);
  }

  function ocultarEscribiendo() {
    clearTimeout(estado.temporizadorEscribiendo);
    dom.escribiendo.classList.add('hidden');
    dom.escribiendo.textContent = '';
  }

  /* ---------- chat nuevo ---------- */

  function modalAbierto() {
    return !dom.modal.classList.contains('hidden');
  }

  function abrirModal() {
    dom.modal.classList.remove('hidden');
    dom.buscarUsuario.value = '';
    dom.buscarUsuario.focus();
    cargarUsuarios();
  }

  function cerrarModal() {
    dom.modal.classList.add('hidden');
    dom.btnNuevoChat.focus();
  }

  async function cargarUsuarios() {
    mostrarMensajeUsuarios('Cargando usuarios…');
    try {
      const datos = await api('GET', '/api/chat/usuarios');
      estado.usuarios = datos.usuarios || [];
      renderUsuarios();
    } catch (error) {
      mostrarMensajeUsuarios('No se pudieron cargar los usuarios');
      manejarError(error);
    }
  }

  function mostrarMensajeUsuarios(texto) {
    dom.listaUsuarios.textContent = '';
    dom.listaUsuarios.appendChild(crear('li', 'lista-vacia', texto));
  }

  function renderUsuarios() {
    const filtro = normalizar(dom.buscarUsuario.value);
    const visibles = estado.usuarios.filter((u) =>
      normalizar([nombreUsuario(u), u.email, u.rol].join(' ')).includes(filtro));
    if (visibles.length === 0) {
      mostrarMensajeUsuarios(filtro ? 'Sin resultados' : 'No hay otros usuarios');
      return;
    }
    const fragmento = document.createDocumentFragment();
    visibles.forEach((u) => fragmento.appendChild(elementoUsuario(u)));
    dom.listaUsuarios.textContent = '';
    dom.listaUsuarios.appendChild(fragmento);
  }

  function elementoUsuario(u) {
    const nombre = nombreUsuario(u);
    const boton = crear('button', 'usuario');
    boton.type = 'button';
    boton.dataset.id = String(u.id);
    const textos = crear('span', 'usuario-textos');
    textos.append(crear('span', 'usuario-nombre', nombre), crear('span', 'usuario-detalle', detalleUsuario(u)));
    boton.append(crear('span', 'avatar', iniciales(nombre)), textos);

    const item = crear('li');
    item.appendChild(boton);
    return item;
  }

  function alElegirUsuario(evento) {
    const boton = evento.target.closest('button[data-id]');
    const usuario = boton && estado.usuarios.find((u) => mismoId(u.id, boton.dataset.id));
    if (usuario) crearConversacion(usuario);
  }

  /** Busca o crea el chat 1:1 con el usuario elegido y lo abre. */
  async function crearConversacion(usuario) {
    if (estado.creando) return;
    estado.creando = true;
    try {
      const datos = await api('POST', '/api/chat/conversacion/crear', { participantes: [YO, usuario.id] });
      const conversacion = datos.conversacion || {};
      const id = String(existe(datos.conversacion_id) ? datos.conversacion_id : conversacion.id);
      cerrarModal();
      await cargarConversaciones().catch((error) => manejarError(error, true));
      // Si la lista aún no la trae, se abre con lo que devolvió la creación.
      abrirConversacion(buscarConversacionPorId(id) ||
        Object.assign({ es_grupal: false, nombre: null, participantes: [usuario] }, conversacion, { id }));
    } catch (error) {
      manejarError(error);
    } finally {
      estado.creando = false;
    }
  }

  /* ---------- tiempo real (Socket.IO) ---------- */

  function enVivo() {
    return Boolean(estado.socket && estado.socket.connected);
  }

  /**
   * Abre el socket si la página cargó el cliente Socket.IO (mismo origen; la cookie de
   * sesión viaja sola). Se reconecta solo; mientras tanto la página sondea por REST.
   */
  function iniciarSocket() {
    if (typeof window.io !== 'function') return;
    const socket = window.io({ transports: ['websocket', 'polling'], tryAllTransports: true });
    estado.socket = socket;
    socket.on('connect', alConectarSocket);
    socket.on('disconnect', alDesconectarSocket);
    socket.on('unido_conversacion', alUnirseConversacion);
    socket.on('mensaje_recibido', alRecibirMensaje);
    socket.on('usuario_escribiendo', alEscribirOtro);
    socket.on('nueva_conversacion', alCrearseConversacion);
    socket.on('mensaje_visto', alVerseMensaje);
    socket.on('usuario_conectado', (datos) => cambiarPresencia(datos, true));
    socket.on('usuario_desconectado', (datos) => cambiarPresencia(datos, false));
    socket.on('error', (datos) => mostrarAviso((datos && datos.mensaje) || 'Error en el chat en tiempo real'));
  }

  /** Al (re)conectar: sin sondeo, de vuelta en todas las salas y una recarga REST tras unirse. */
  function alConectarSocket() {
    detenerSondeo();
    mostrarEstadoConexion('vivo');
    estado.salas.clear();
    estado.salasPendientes.clear();
    if (!sincronizarSalas()) ponerseAlDia();
  }

  /** Recarga por REST lo que pudo cambiar sin eventos: mensajes, lista y presencia. */
  function ponerseAlDia() {
    refrescar();
    cargarConectados();
  }

  function alDesconectarSocket() {
    ocultarEscribiendo();
    iniciarSondeo();
  }

  /**
   * Se une a la sala de cada conversación de la lista que aún no tiene, para recibir sus
   * mensajes, «escribiendo» y lecturas. Cuando el servidor confirma, recarga por REST lo
   * enviado antes de estar en la sala, y la presencia (los avisos de conexión solo llegan
   * a quien ya compartía una conversación). Devuelve si pidió alguna sala.
   */
  function sincronizarSalas() {
    if (!enVivo()) return false;
    const nuevas = estado.conversaciones.map((c) => String(c.id)).filter((id) => !estado.salas.has(id));
    nuevas.forEach((id) => {
      estado.salas.add(id);
      estado.salasPendientes.add(id);
      estado.socket.emit('unirse_conversacion', { conversacion_id: id });
    });
    if (nuevas.length > 0) salasConfirmadas().then(ponerseAlDia);
    return nuevas.length > 0;
  }

  /** Se cumple cuando no quedan salas por confirmar, o tras ESPERA_UNION_MS (p. ej. si una se rechazó). */
  function salasConfirmadas() {
    return new Promise((resolve) => {
      estado.esperasUnion.push(resolve);
      setTimeout(resolve, ESPERA_UNION_MS);
    });
  }

  function alUnirseConversacion(datos) {
    estado.salasPendientes.delete(String(datos && datos.conversacion_id));
    if (estado.salasPendientes.size === 0) estado.esperasUnion.splice(0).forEach((resolve) => resolve());
  }

  function alRecibirMensaje(m) {
    if (!m || !existe(m.id)) return;
    // Para los módulos de static/js/chat/ (avisos del navegador, adjuntos).
    document.dispatchEvent(new CustomEvent('weigence:mensaje', { detail: m }));
    if (mismoId(m.conversacion_id, idActual()) && agregarMensaje(m) && !esPropio(m)) {
      ocultarEscribiendo();
      marcarLeido();
    }
    anotarEnLista(m);
  }

  function alCrearseConversacion(datos) {
    const c = datos && datos.conversacion;
    if (!c || !existe(c.id) || buscarConversacionPorId(c.id)) return;
    estado.conversaciones.push(c);
    listaCambiada();
    sincronizarSalas();
  }

  /** mensaje_visto: del otro, mueve las confirmaciones; mío (otra pestaña), limpia los no leídos. */
  function alVerseMensaje(datos) {
    if (!datos || !existe(datos.ultimo_id)) return;
    const id = String(datos.conversacion_id);
    if (mismoId(datos.usuario_id, YO)) {
      leidaEnOtraPestana(id, datos.ultimo_id);
      return;
    }
    estado.vistos.set(id, datos.ultimo_id);
    if (id === idActual()) actualizarRecibos();
  }

  function leidaEnOtraPestana(id, ultimoId) {
    const c = buscarConversacionPorId(id);
    if (!c || !c.ultimo_mensaje || !mismoId(c.ultimo_mensaje.id, ultimoId) || contarNoLeidos(c) === 0) return;
    c.no_leidos = 0;
    c.mensajes_no_leidos = 0;
    renderConversaciones();
  }

  /* ---------- presencia ---------- */

  async function cargarConectados() {
    try {
      const datos = await api('GET', '/api/usuarios/conectados');
      estado.conectados = new Set((datos.conectados || []).map(String));
      mostrarPresencia();
    } catch (error) {
      manejarError(error, true);
    }
  }

  function cambiarPresencia(datos, enLinea) {
    if (!datos || !existe(datos.usuario_id)) return;
    if (enLinea) estado.conectados.add(String(datos.usuario_id));
    else estado.conectados.delete(String(datos.usuario_id));
    mostrarPresencia();
  }

  function mostrarPresencia() {
    renderConversaciones();
    if (estado.actual) mostrarCabecera(estado.actual);
  }

  /** Latido cada 15 s; sin socket, la presencia no llega por eventos y se pide de nuevo. */
  function latir() {
    api('POST', '/api/usuarios/heartbeat', {}).catch((error) => manejarError(error, true));
    if (!enVivo()) cargarConectados();
  }

  /* ---------- sondeo y recarga ---------- */

  /** Recarga la lista y los mensajes abiertos; si ya hay una recarga en curso, esta se repite al terminar. */
  async function refrescar() {
    if (estado.refrescando) {
      estado.repetirRefresco = true;
      return;
    }
    estado.refrescando = true;
    try {
      do {
        estado.repetirRefresco = false;
        await cargarConversaciones();
        await cargarMensajes();
      } while (estado.repetirRefresco);
      mostrarEstadoConexion(enVivo() ? 'vivo' : 'sondeo');
    } catch (error) {
      manejarError(error, true);
    } finally {
      estado.refrescando = false;
    }
  }

  /** Sondeo REST cada 5 s mientras no haya socket conectado. */
  function iniciarSondeo() {
    if (estado.temporizadorSondeo) return;
    estado.temporizadorSondeo = setInterval(refrescar, INTERVALO_SONDEO_MS);
    refrescar();
  }

  function detenerSondeo() {
    clearInterval(estado.temporizadorSondeo);
    estado.temporizadorSondeo = 0;
  }

  function alCambiarVisibilidad() {
    if (document.hidden) return;
    if (!enVivo()) {
      refrescar();
      return;
    }
    marcarLeido();
    renderConversaciones();
  }

  function alPulsarTeclaGlobal(evento) {
    if (evento.key === 'Escape' && modalAbierto()) cerrarModal();
  }

  function iniciar() {
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
        const fila = await filaCargandoAnteriores(mensajeId);
        if (!fila) return false;
        dom.mensajes.querySelectorAll('.mensaje.resaltado').forEach((f) => f.classList.remove('resaltado'));
        fila.classList.add('resaltado');
        fila.scrollIntoView({ block: 'center' });
        return true;
      }
    };
    iniciarSondeo(); // hasta que el socket conecte; sin Socket.IO, siempre
    latir();
    setInterval(latir, INTERVALO_LATIDO_MS);
  }

  iniciar();
}());
