// Browser scenarios for the chat page (CONTRACT.md §7) with Debian's Chromium and playwright-core.
//   node navegador.mjs BASE_URL OUTPUT_DIR                          (CHROMIUM=/path/to/chromium to override)
//   node navegador.mjs --teclado BASE_PROPIO BASE_SUSTITUTO OUTPUT_DIR
// Default scenario: Ana and Bruno log in through the form, open /chat, start a conversation
// through the new-chat modal and chat live (list preview and badge, presence, typing, read
// receipts, messages both ways in under a second, markup shown as text); then Bruno's socket is
// cut: Ana's next message must still reach him by REST polling, and once the connection is back
// he is live again with nothing lost or duplicated.
// --teclado: the Enter key sends with both kinds of script, typed with the keyboard. On
// BASE_PROPIO (our static/js/chat.js) Shift+Enter makes a line break and Enter sends the
// two-line message; on BASE_SUSTITUTO (a server whose STATIC_DIR is tests/estatico-sustituto:
// a stand-in chat.js that, like the untouched original, only listens to the form's submit event,
// and no css/chat.css) Enter in #input-mensaje submits the form, and the page still hides what
// it must. Each sent message is checked on screen and stored (read back through the API).
// Prints one "ok" line per check and the measured times; saves screenshots in OUTPUT_DIR (also
// on failure). Exits 1 on the first failed check, 2 on bad usage.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const argumentos = process.argv.slice(2);
const teclado = argumentos[0] === '--teclado';
const [base, salida] = teclado ? [argumentos[1], argumentos[3]] : argumentos;
const baseSustituto = teclado ? argumentos[2] : null;
if (!base || !salida || (teclado && !baseSustituto)) {
  console.error('uso: node navegador.mjs BASE_URL OUTPUT_DIR\n     node navegador.mjs --teclado BASE_PROPIO BASE_SUSTITUTO OUTPUT_DIR');
  process.exit(2);
}

const CLAVE = 'demo1234';
const LIMITE_EN_VIVO_MS = 1000;   // enviar → burbuja en la otra página, con el socket conectado
const LIMITE_SONDEO_MS = 8000;    // lo mismo por sondeo REST (cada 5 s)
const ESPERA_MS = 10000;          // cualquier otra espera
const ESPERA_RECONEXION_MS = 20000; // el cliente reintenta con espera creciente (hasta ~7,5 s)
const ETIQUETA = Date.now().toString(36); // textos únicos: la base de datos puede venir de otra corrida

const tiempos = [];
const ok = (texto) => console.log(`ok: ${texto}`);

function afirmar(condicion, texto) {
  if (!condicion) throw new Error(texto);
}

function medir(nombre, ms, limite) {
  tiempos.push(`${nombre}: ${ms} ms`);
  console.log(`tiempo: ${nombre}: ${ms} ms${limite ? ` (límite ${limite} ms)` : ''}`);
  if (limite) afirmar(ms < limite, `${nombre} tardó ${ms} ms (límite ${limite} ms)`);
}

async function nuevaPagina(navegador, nombre, cortable = false) {
  const contexto = await navegador.newContext({ viewport: { width: 1100, height: 760 }, locale: 'es-CL' });
  const usuario = { nombre, contexto, errores: [], dialogos: [], cortado: false };
  if (cortable) await prepararCorte(usuario);
  const pagina = await contexto.newPage();
  pagina.setDefaultTimeout(ESPERA_MS);
  usuario.pagina = pagina;
  pagina.on('pageerror', (error) => usuario.errores.push(error.message));
  pagina.on('dialog', (dialogo) => {
    usuario.dialogos.push(dialogo.message());
    dialogo.dismiss().catch(() => {});
  });
  return usuario;
}

/**
 * page.route no ve los WebSocket y routeWebSocket solo actúa si existe antes de cargar la
 * página: hasta el corte cada WebSocket de /socket.io/ va al servidor (Playwright lo
 * retransmite); durante el corte recibe un paquete Engine.IO inválido y se cierra, como un
 * proxy roto, para que el cliente falle enseguida (un cierre limpio lo dejaría esperando su
 * plazo de 20 s) y pruebe el sondeo largo HTTP, que context.route rechaza.
 */
async function prepararCorte(usuario) {
  await usuario.contexto.routeWebSocket(/\/socket\.io\//, (ws) => {
    if (!usuario.cortado) return ws.connectToServer();
    ws.send('x');
    ws.close();
  });
}

async function iniciarSesion({ pagina }, correo, servidor = base) {
  await pagina.goto(`${servidor}/`);
  await pagina.fill('input[name="usuario"]', correo);
  await pagina.fill('input[name="password"]', CLAVE);
  await Promise.all([pagina.waitForURL(/\/chat$/), pagina.click('button[type="submit"]')]);
}

function estadoConexion({ pagina }, estado, timeout = ESPERA_MS) {
  return pagina.waitForSelector(`#estado-conexion[data-estado="${estado}"]`, { timeout });
}

/** Promesa (en la página) que se cumple con Date.now() cuando aparece una burbuja con ese texto. */
function esperarBurbuja({ pagina }, texto, timeout) {
  return pagina.evaluate(([buscado, limite]) => new Promise((resolver, rechazar) => {
    const contenedor = document.getElementById('mensajes-contenedor');
    const hay = () => Array.from(contenedor.querySelectorAll('.burbuja-texto')).some((p) => p.textContent === buscado);
    if (hay()) return resolver(Date.now());
    const observador = new MutationObserver(() => {
      if (!hay()) return;
      observador.disconnect();
      resolver(Date.now());
    });
    observador.observe(contenedor, { childList: true, subtree: true });
    setTimeout(() => {
      observador.disconnect();
      rechazar(new Error(`no apareció «${buscado}» en ${limite} ms`));
    }, limite);
  }), [texto, timeout]);
}

/** Escribe y envía con Intro; devuelve los ms hasta que la burbuja aparece en la otra página. */
async function enviar(de, para, texto, limite) {
  await de.pagina.fill('#input-mensaje', texto);
  const llegada = esperarBurbuja(para, texto, limite + ESPERA_MS);
  const inicio = Date.now();
  await de.pagina.press('#input-mensaje', 'Enter');
  const ms = (await llegada) - inicio;
  await de.pagina.waitForFunction((t) => Array.from(document.querySelectorAll('.mensaje-propio .burbuja-texto'))
    .some((p) => p.textContent === t), texto);
  return ms;
}

async function abrirConversacionCon({ pagina }, nombre) {
  const boton = pagina.locator('#lista-conversaciones button.conversacion', { hasText: nombre });
  await boton.first().click();
  await pagina.waitForFunction((n) => document.getElementById('chat-nombre').textContent === n, nombre);
}

/** Ningún id de mensaje repetido en pantalla, y cada texto de esta corrida una sola vez. */
async function sinDuplicados(usuario, textos) {
  const { ids, burbujas } = await usuario.pagina.evaluate(() => ({
    ids: Array.from(document.querySelectorAll('#mensajes-contenedor .mensaje')).map((m) => m.dataset.id),
    burbujas: Array.from(document.querySelectorAll('#mensajes-contenedor .burbuja-texto')).map((p) => p.textContent)
  }));
  afirmar(new Set(ids).size === ids.length, `${usuario.nombre}: ids de mensaje repetidos en pantalla`);
  for (const texto of textos) {
    const veces = burbujas.filter((b) => b === texto).length;
    afirmar(veces === 1, `${usuario.nombre}: «${texto}» aparece ${veces} veces`);
  }
}

async function capturar(usuarios, sufijo = '') {
  await mkdir(salida, { recursive: true });
  for (const { nombre, pagina } of usuarios) {
    await pagina.screenshot({ path: join(salida, `navegador-${nombre}${sufijo}.png`), fullPage: true }).catch(() => {});
  }
}

async function escenario(ana, bruno) {
  const textos = [];
  const texto = (t) => {
    const completo = `${t} [${ETIQUETA}]`;
    textos.push(completo);
    return completo;
  };

  let inicio = Date.now();
  await iniciarSesion(ana, 'ana@weigence.cl');
  await iniciarSesion(bruno, 'bruno@weigence.cl');
  await Promise.all([estadoConexion(ana, 'vivo'), estadoConexion(bruno, 'vivo')]);
  medir('login de ambos hasta «En vivo»', Date.now() - inicio);
  for (const u of [ana, bruno]) {
    afirmar(await u.pagina.textContent('#estado-conexion') === 'En vivo', `${u.nombre}: #estado-conexion no dice «En vivo»`);
  }
  ok('ambos en /chat con Socket.IO conectado');

  // Chat nuevo desde el modal.
  await ana.pagina.click('#btn-nuevo-chat');
  await ana.pagina.locator('#lista-usuarios button.usuario', { hasText: 'Bruno Soto' }).click();
  await ana.pagina.waitForSelector('#area-conversacion:not(.hidden)');
  await ana.pagina.waitForFunction(() => document.getElementById('chat-nombre').textContent === 'Bruno Soto');
  afirmar(await ana.pagina.isHidden('#modal-nuevo-chat'), 'el modal sigue abierto');
  ok('Ana abrió el chat con Bruno desde «Nuevo chat»');

  // La lista de Bruno se actualiza en vivo: conversación, vista previa e insignia.
  const primero = texto('Hola Bruno, ¿tienes el informe de bodega?');
  inicio = Date.now();
  await ana.pagina.fill('#input-mensaje', primero);
  await ana.pagina.press('#input-mensaje', 'Enter');
  const item = bruno.pagina.locator('#lista-conversaciones button.conversacion', { hasText: 'Ana Pérez' });
  await item.locator('.conversacion-preview', { hasText: primero }).waitFor();
  medir('vista previa en la lista de Bruno', Date.now() - inicio, LIMITE_EN_VIVO_MS);
  await item.locator('.insignia').waitFor();
  ok('la lista de Bruno muestra el mensaje nuevo y la insignia sin leer');

  // Presencia: cada uno ve al otro en línea.
  await ana.pagina.waitForSelector('#chat-avatar.en-linea');
  await item.locator('.avatar.en-linea').waitFor();
  ok('punto de presencia en la cabecera de Ana y en la lista de Bruno');

  // Bruno abre la conversación: Ana ve ✓✓.
  inicio = Date.now();
  await abrirConversacionCon(bruno, 'Ana Pérez');
  await esperarBurbuja(bruno, primero, ESPERA_MS);
  afirmar(await item.locator('.insignia').count() === 0, 'la insignia sigue en la conversación abierta');
  await ana.pagina.waitForFunction((t) => {
    const burbuja = Array.from(document.querySelectorAll('.mensaje-propio')).find((m) => m.querySelector('.burbuja-texto').textContent === t);
    const recibo = burbuja && burbuja.querySelector('.recibo');
    return recibo && recibo.classList.contains('leido') && recibo.textContent === '✓✓';
  }, primero);
  medir('Bruno abre la conversación → ✓✓ en Ana', Date.now() - inicio);
  ok('Ana ve ✓✓ cuando Bruno abre la conversación');

  // «Escribiendo…».
  inicio = Date.now();
  await ana.pagina.locator('#input-mensaje').pressSequentially('Te lo', { delay: 30 });
  await bruno.pagina.waitForFunction(() => {
    const aviso = document.getElementById('escribiendo');
    return !aviso.classList.contains('hidden') && aviso.textContent === 'Ana Pérez está escribiendo…';
  });
  medir('indicador «escribiendo» en Bruno', Date.now() - inicio, LIMITE_EN_VIVO_MS);
  ok('Bruno ve «Ana Pérez está escribiendo…»');
  await ana.pagina.fill('#input-mensaje', '');
  await bruno.pagina.waitForSelector('#escribiendo.hidden', { state: 'attached', timeout: 6000 });
  ok('el indicador se oculta solo');

  // Mensajes en vivo en ambos sentidos.
  medir('en vivo Ana → Bruno', await enviar(ana, bruno, texto('Te lo mando en cinco minutos'), LIMITE_EN_VIVO_MS), LIMITE_EN_VIVO_MS);
  medir('en vivo Bruno → Ana', await enviar(bruno, ana, texto('¡Perfecto, gracias!'), LIMITE_EN_VIVO_MS), LIMITE_EN_VIVO_MS);
  const ultimoDeAna = texto('Listo, revisa tu correo');
  medir('en vivo Ana → Bruno', await enviar(ana, bruno, ultimoDeAna, LIMITE_EN_VIVO_MS), LIMITE_EN_VIVO_MS);
  await ana.pagina.waitForFunction(() => {
    const propios = document.querySelectorAll('.mensaje-propio .recibo');
    return propios.length > 0 && propios[propios.length - 1].classList.contains('leido');
  });
  ok('mensajes en vivo en ambos sentidos y ✓✓ en el último de Ana');

  // Marcado en el texto de un mensaje: se muestra como texto.
  const marcado = texto('<img src=x onerror=alert(1)>');
  medir('en vivo Ana → Bruno (marcado)', await enviar(ana, bruno, marcado, LIMITE_EN_VIVO_MS), LIMITE_EN_VIVO_MS);
  for (const u of [ana, bruno]) {
    afirmar(await u.pagina.locator('#mensajes-contenedor img, #lista-conversaciones img').count() === 0,
      `${u.nombre}: el mensaje se convirtió en un <img>`);
  }
  ok('«<img src=x onerror=alert(1)>» se muestra como texto en ambas páginas');

  // Corte del socket de Bruno: su contexto rechaza /socket.io/ (HTTP y WebSocket) y se cierra la conexión.
  bruno.cortado = true;
  const rechazar = (ruta) => ruta.abort();
  await bruno.contexto.route('**/socket.io/**', rechazar);
  await bruno.pagina.evaluate(() => window.weigenceChat.socket.io.engine.close());
  await estadoConexion(bruno, 'sondeo');
  afirmar(await bruno.pagina.textContent('#estado-conexion') === 'Sin conexión en tiempo real',
    'Bruno: #estado-conexion no muestra el estado de sondeo');
  ok('Bruno sin socket: «Sin conexión en tiempo real»');
  await ana.pagina.waitForSelector('#chat-avatar:not(.en-linea)', { state: 'attached' });
  ok('Ana ve a Bruno desconectado');

  const porSondeo = texto('¿Me lees sin socket?');
  medir('por sondeo Ana → Bruno', await enviar(ana, bruno, porSondeo, LIMITE_SONDEO_MS), LIMITE_SONDEO_MS);
  afirmar(await bruno.pagina.evaluate(() => !window.weigenceChat.socket.connected), 'el socket de Bruno volvió antes de tiempo');
  ok('el mensaje llega a Bruno por sondeo REST');

  // Vuelve la conexión justo después de otro mensaje de Ana: la recarga REST al reconectar
  // lo trae (el sondeo ya se detuvo), de nuevo en vivo, salas recuperadas, nada duplicado.
  const antesDeVolver = texto('Te escribí mientras volvías');
  await ana.pagina.fill('#input-mensaje', antesDeVolver);
  await ana.pagina.press('#input-mensaje', 'Enter');
  bruno.cortado = false;
  await bruno.contexto.unroute('**/socket.io/**', rechazar);
  inicio = Date.now();
  await estadoConexion(bruno, 'vivo', ESPERA_RECONEXION_MS);
  medir('reconexión de Bruno', Date.now() - inicio);
  await esperarBurbuja(bruno, antesDeVolver, 3000);
  ok('el mensaje enviado durante el corte está en Bruno tras reconectar');
  await ana.pagina.waitForSelector('#chat-avatar.en-linea');
  ok('Ana ve a Bruno en línea otra vez');
  medir('en vivo Ana → Bruno tras reconectar', await enviar(ana, bruno, texto('Ya volviste'), LIMITE_EN_VIVO_MS), LIMITE_EN_VIVO_MS);
  ok('Bruno vuelve a «En vivo» y recibe en vivo otra vez');

  for (const u of [ana, bruno]) await sinDuplicados(u, textos);
  ok('ningún mensaje duplicado en pantalla');
  for (const u of [ana, bruno]) {
    afirmar(u.dialogos.length === 0, `${u.nombre}: se abrió un diálogo: ${u.dialogos.join('; ')}`);
    afirmar(u.errores.length === 0, `${u.nombre}: errores de JavaScript: ${u.errores.join('; ')}`);
  }
  ok('sin diálogos ni errores de JavaScript');
}

/** Los mensajes de la conversación, leídos con la sesión de la página (GET /api/chat/mensajes/<id>). */
function almacenados({ pagina }, conversacion) {
  return pagina.evaluate(async (id) => {
    const respuesta = await fetch(`/api/chat/mensajes/${id}`);
    return (await respuesta.json()).mensajes.map((m) => m.contenido);
  }, conversacion);
}

async function tecladoPropio(ana) {
  await iniciarSesion(ana, 'ana@weigence.cl');
  const { pagina } = ana;
  await pagina.waitForFunction(() => window.weigenceChat); // los módulos de la página cargaron
  afirmar(await pagina.evaluate(() => document.getElementById('input-mensaje').tagName) === 'TEXTAREA',
    'nuestro chat.js no cambió #input-mensaje por un área de texto');
  await pagina.click('#btn-nuevo-chat');
  await pagina.locator('#lista-usuarios button.usuario', { hasText: 'Bruno Soto' }).click();
  await pagina.waitForFunction(() => document.getElementById('chat-nombre').textContent === 'Bruno Soto');

  const primera = `teclado propio ${ETIQUETA}`;
  const segunda = 'segunda línea';
  await pagina.click('#input-mensaje');
  await pagina.keyboard.type(primera);
  await pagina.keyboard.press('Shift+Enter');
  await pagina.keyboard.type(segunda);
  afirmar(await pagina.inputValue('#input-mensaje') === `${primera}\n${segunda}`, 'Mayús+Intro no insertó un salto de línea');
  await pagina.keyboard.press('Enter');
  const completo = `${primera}\n${segunda}`;
  await esperarBurbuja(ana, completo, ESPERA_MS);
  afirmar(await pagina.inputValue('#input-mensaje') === '', 'el campo no quedó vacío tras enviar');
  ok('nuestro chat.js: Mayús+Intro salta de línea, Intro envía y el mensaje de dos líneas se muestra');
  const activa = pagina.locator('#lista-conversaciones button.conversacion.activa');
  await activa.waitFor();
  afirmar((await almacenados(ana, await activa.getAttribute('data-id'))).filter((c) => c === completo).length === 1, 'el mensaje no quedó guardado una vez');
  ok('nuestro chat.js: el mensaje quedó guardado (GET /api/chat/mensajes)');
}

async function tecladoSustituto(ana) {
  const { pagina } = ana;
  await iniciarSesion(ana, 'ana@weigence.cl', baseSustituto);
  const conversacion = await pagina.evaluate(async () => {
    const meta = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
    const r = await fetch('/api/chat/conversacion/crear', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': meta },
      body: JSON.stringify({ participantes: [document.body.dataset.usuarioId, '22222222-2'] })
    });
    return (await r.json()).conversacion.id;
  });
  await pagina.goto('about:blank'); // desde /chat, cambiar solo el fragmento no recargaría la página
  await pagina.goto(`${baseSustituto}/chat#conversacion=${encodeURIComponent(conversacion)}`);
  await pagina.waitForSelector('#area-conversacion:not(.hidden)');
  afirmar(await pagina.isHidden('#modal-nuevo-chat') && await pagina.isHidden('#sin-conversacion'),
    'sin css/chat.css la clase «hidden» no oculta');
  ok('sustituto: la página oculta con «hidden» aunque /static no tenga nuestro CSS');

  const cabeceras = [];
  pagina.on('request', (peticion) => {
    if (peticion.url().endsWith('/api/chat/mensaje/enviar')) cabeceras.push(peticion.headers()['x-csrftoken']);
  });
  const texto = `teclado sustituto ${ETIQUETA}`;
  await pagina.click('#input-mensaje');
  await pagina.keyboard.type(texto);
  await pagina.keyboard.press('Enter');
  await pagina.waitForFunction((t) => Array.from(document.querySelectorAll('#mensajes-contenedor .enviado'))
    .some((p) => p.textContent === t), texto).catch(() => {
    throw new Error('sustituto: Intro en #input-mensaje no envió el formulario');
  });
  afirmar(await pagina.inputValue('#input-mensaje') === '', 'el campo no quedó vacío tras enviar');
  const meta = await pagina.getAttribute('meta[name="csrf-token"]', 'content');
  afirmar(cabeceras.length === 1 && cabeceras[0] === meta, `X-CSRFToken enviado: ${JSON.stringify(cabeceras)}`);
  ok('sustituto (solo «submit»): Intro envía el formulario, con X-CSRFToken de la meta, y el mensaje se muestra');
  afirmar((await almacenados(ana, conversacion)).filter((c) => c === texto).length === 1, 'el mensaje no quedó guardado una vez');
  ok('sustituto: el mensaje quedó guardado (GET /api/chat/mensajes)');
}

async function escenarioTeclado(navegador) {
  const propio = await nuevaPagina(navegador, 'teclado-propio');
  const sustituto = await nuevaPagina(navegador, 'teclado-sustituto');
  try {
    await tecladoPropio(propio);
    await tecladoSustituto(sustituto);
    for (const u of [propio, sustituto]) {
      afirmar(u.dialogos.length === 0, `${u.nombre}: se abrió un diálogo: ${u.dialogos.join('; ')}`);
      afirmar(u.errores.length === 0, `${u.nombre}: errores de JavaScript: ${u.errores.join('; ')}`);
    }
    await capturar([propio, sustituto]);
    console.log('navegador --teclado: todo bien');
  } catch (error) {
    await capturar([propio, sustituto], '-fallo');
    throw error;
  }
}

async function escenarioEnVivo(navegador) {
  const ana = await nuevaPagina(navegador, 'ana');
  const bruno = await nuevaPagina(navegador, 'bruno', true);
  try {
    await escenario(ana, bruno);
    await capturar([ana, bruno]);
    console.log(`navegador: todo bien (${tiempos.join('; ')})`);
  } catch (error) {
    await capturar([ana, bruno], '-fallo');
    throw error;
  }
}

async function main() {
  const navegador = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync']
  });
  try {
    await (teclado ? escenarioTeclado(navegador) : escenarioEnVivo(navegador));
  } finally {
    await navegador.close();
  }
}

main().catch((error) => {
  console.error(`navegador: FALLO: ${error.message}`);
  process.exit(1);
});
