// Drives Weigence's real v2 floating widget (served by scripts/widget-v2 from a temporary folder,
// never committed) with two users in Debian's Chromium against weigence-chat, through the
// widget's own UI: the floating button, the user list, Enter in the input, the hover actions
// (reply, emoji picker, "more" menu: pin, "Anular envío"), the pinned banner's close button.
//   SESION_ANA=<cookie> SESION_BRUNO=<cookie> node widget_v2.mjs BASE_URL OUTPUT_DIR ANA_RUT BRUNO_RUT
// Runs every step even after a failure (later steps may fail because of an earlier one) and
// prints one line per step ("ok:" or "FALLO:"), then the widget's console errors and warnings,
// page errors and failed requests. Saves screenshots and the full console log in OUTPUT_DIR.
// Exits 1 when a step failed, 2 on bad usage.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [base, salida, rutAna, rutBruno] = process.argv.slice(2);
const { SESION_ANA, SESION_BRUNO } = process.env;
if (!base || !salida || !rutAna || !rutBruno || !SESION_ANA || !SESION_BRUNO) {
  console.error('uso: SESION_ANA=… SESION_BRUNO=… node widget_v2.mjs BASE_URL OUTPUT_DIR ANA_RUT BRUNO_RUT');
  process.exit(2);
}

const ESPERA_MS = 10000;
const resultados = [];

function afirmar(condicion, texto) {
  if (!condicion) throw new Error(texto);
}

/** Runs one step; records and prints its outcome without stopping the run. */
async function paso(nombre, cuerpo) {
  try {
    await cuerpo();
    resultados.push({ nombre, ok: true });
    console.log(`ok: ${nombre}`);
  } catch (error) {
    resultados.push({ nombre, ok: false, error: error.message.split('\n')[0] });
    console.log(`FALLO: ${nombre}: ${process.env.WIDGET_DETALLE ? error.message : error.message.split('\n')[0]}`);
  }
}

async function nuevoUsuario(navegador, nombre, rut, sesion) {
  const contexto = await navegador.newContext({ viewport: { width: 1000, height: 760 }, locale: 'es-CL' });
  await contexto.addCookies([{ name: 'weigence_session', value: sesion, url: base, httpOnly: true, sameSite: 'Lax' }]);
  const pagina = await contexto.newPage();
  pagina.setDefaultTimeout(ESPERA_MS);
  const u = { nombre, rut, contexto, pagina, consola: [], errores: [], fallidas: [], dialogos: [] };
  pagina.on('console', (m) => u.consola.push({ tipo: m.type(), texto: m.text() }));
  pagina.on('pageerror', (e) => u.errores.push(e.message));
  pagina.on('requestfailed', (r) => u.fallidas.push(`${r.method()} ${r.url()} (${r.failure()?.errorText})`));
  pagina.on('response', (r) => {
    if (r.status() >= 400) u.fallidas.push(`${r.request().method()} ${new URL(r.url()).pathname} → ${r.status()}`);
  });
  pagina.on('dialog', (d) => {
    u.dialogos.push(d.message());
    d.accept().catch(() => {}); // "¿Anular el envío de este mensaje?"
  });
  return u;
}

/** Loads the user's page and waits for the widget's socket (ChatCore) to connect. */
async function cargar(u) {
  await u.pagina.goto(`${base}/static/widget-${u.rut}.html`);
  await u.pagina.waitForFunction(() => window.ChatCore && window.ChatCore.isConnected());
}

/** Opens the panel with the floating button and the chat with `nombre` from the list. */
async function abrirChat(u, nombre) {
  await u.pagina.click('#chat-float-btn');
  await u.pagina.waitForSelector('#chat-mini-panel:not(.hidden)');
  const tarjeta = u.pagina.locator('#chat-user-view .usuario-mini-item', { hasText: nombre });
  await tarjeta.first().click();
  await u.pagina.waitForSelector('#chat-message-view:not(.hidden)');
  afirmar(await u.pagina.textContent('#chat-target-name') === nombre, `${u.nombre}: el chat abierto no es el de ${nombre}`);
  const sala = await u.pagina.waitForFunction(() => window.ChatCore.currentRoom()).then((h) => h.jsonValue());
  await esperarConsola(u, (t) => t.startsWith('[WS] joined'));
  return sala;
}

/** Waits until a console line of the page satisfies `prueba`. */
async function esperarConsola(u, prueba) {
  const limite = Date.now() + ESPERA_MS;
  while (Date.now() < limite) {
    if (u.consola.some((m) => prueba(m.texto))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${u.nombre}: no apareció la línea de consola esperada`);
}

/** The message whose own text (not a quote of it) is exactly `texto`; `clase`: mine / other. */
function burbuja(u, texto, clase = '') {
  const exacto = new RegExp(`^${texto.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  const propio = u.pagina.locator('.message-bubble > div:not(.reply-context):not(.message-reaction)', { hasText: exacto });
  return u.pagina.locator(`#chat-body .message-wrapper${clase ? `.${clase}` : ''}`, { has: propio });
}

async function escribir(u, texto) {
  await u.pagina.fill('#chat-input', texto);
  await u.pagina.press('#chat-input', 'Enter');
}

/** Hovers a message (its actions appear on hover) and clicks one of its action buttons. */
async function accion(u, texto, selector) {
  const m = burbuja(u, texto).first();
  await m.hover();
  await m.locator(selector).click();
}

async function capturar(usuarios, sufijo) {
  for (const u of usuarios) {
    await u.pagina.screenshot({ path: join(salida, `widget_v2-${u.nombre}-${sufijo}.png`) }).catch(() => {});
  }
}

async function escenario(ana, bruno) {
  const hola = 'Hola Bruno, ¿revisaste el inventario?';
  const respuesta = 'Sí, está al día';
  const borrar = 'Este mensaje se anula';

  await paso('ambas páginas cargan el widget y su socket conecta por long-polling', async () => {
    await Promise.all([cargar(ana), cargar(bruno)]);
    for (const u of [ana, bruno]) {
      await esperarConsola(u, (t) => t.startsWith('[WS] sesion OK'));
    }
  });
  await paso('Ana abre el panel, elige a Bruno (history/<rut> + join → joined)', async () => {
    await abrirChat(ana, 'Bruno Soto');
  });
  await paso('Ana envía con Intro y ve su mensaje (eco mensaje_nuevo)', async () => {
    await escribir(ana, hola);
    await burbuja(ana, hola, 'mine').waitFor();
  });
  await paso('Bruno, con el panel cerrado, ve la insignia «1» en el botón flotante', async () => {
    await bruno.pagina.waitForSelector('#chat-unread-badge:not(.hidden)');
    afirmar(await bruno.pagina.textContent('#chat-unread-badge') === '1', 'la insignia no dice 1');
  });
  await paso('Bruno abre el chat con Ana y ve el mensaje (historial)', async () => {
    await abrirChat(bruno, 'Ana Pérez');
    await burbuja(bruno, hola, 'other').waitFor();
  });
  await paso('un mensaje llega en vivo a la otra página (Bruno → Ana)', async () => {
    await escribir(bruno, 'Te leo');
    await burbuja(ana, 'Te leo').waitFor();
  });
  await paso('Bruno responde al mensaje de Ana; ambos ven la cita', async () => {
    await accion(bruno, hola, 'button[title="Responder"]');
    await bruno.pagina.waitForSelector('#reply-indicator');
    await escribir(bruno, respuesta);
    for (const u of [ana, bruno]) {
      const cita = burbuja(u, respuesta).locator('.reply-context');
      await cita.waitFor();
      afirmar((await cita.textContent()).includes(hola), `${u.nombre}: la cita no muestra el mensaje de Ana`);
    }
  });
  await paso('Ana reacciona 👍 a la respuesta; Bruno lo ve en vivo', async () => {
    await accion(ana, respuesta, '.emoji-btn');
    await ana.pagina.locator('.emoji-picker .emoji-option', { hasText: '👍' }).click();
    for (const u of [ana, bruno]) {
      await burbuja(u, respuesta).locator('.message-reaction', { hasText: '👍' }).waitFor();
    }
  });
  await paso('Bruno fija el mensaje de Ana; Ana ve la banda en vivo (mensaje_fijado)', async () => {
    await accion(bruno, hola, '.more-btn');
    await bruno.pagina.locator('.more-menu .more-menu-item', { hasText: 'Fijar' }).click();
    for (const u of [bruno, ana]) {
      await u.pagina.waitForSelector('#chat-pinned-container:not(.hidden)');
      afirmar((await u.pagina.textContent('#chat-pinned-container')).includes(hola), `${u.nombre}: la banda no muestra el mensaje`);
    }
  });
  await capturar([ana, bruno], 'fijado');
  await paso('Ana anula el envío de un mensaje suyo; desaparece en la página de Bruno', async () => {
    await escribir(ana, borrar);
    await burbuja(bruno, borrar).waitFor();
    await accion(ana, borrar, '.more-btn');
    await ana.pagina.locator('.more-menu .more-menu-item', { hasText: 'Anular envío' }).click();
    for (const u of [ana, bruno]) await burbuja(u, borrar).waitFor({ state: 'detached' });
    afirmar(ana.dialogos.length === 1, `diálogos: ${ana.dialogos.join('; ')}`);
  });
  await paso('tras recargar: cita, reacción y fijado siguen; el anulado no está', async () => {
    await Promise.all([cargar(ana), cargar(bruno)]);
    await abrirChat(ana, 'Bruno Soto');
    await abrirChat(bruno, 'Ana Pérez');
    for (const u of [ana, bruno]) {
      await burbuja(u, respuesta).waitFor();
      afirmar(await burbuja(u, borrar).count() === 0, `${u.nombre}: el mensaje anulado volvió`);
      afirmar((await burbuja(u, respuesta).locator('.reply-context').textContent()).includes(hola), `${u.nombre}: sin cita`);
      afirmar(await burbuja(u, respuesta).locator('.message-reaction', { hasText: '👍' }).count() === 1, `${u.nombre}: sin reacción`);
      afirmar(await u.pagina.isVisible('#chat-pinned-container'), `${u.nombre}: sin banda fijada`);
    }
  });
  await paso('Ana desfija desde la banda; la banda desaparece también en Bruno', async () => {
    await ana.pagina.click('#chat-pinned-container button');
    for (const u of [ana, bruno]) await u.pagina.waitForSelector('#chat-pinned-container.hidden', { state: 'attached' });
  });
  await paso('ningún mensaje duplicado en pantalla', async () => {
    for (const u of [ana, bruno]) {
      const ids = await u.pagina.$$eval('#chat-body .message-wrapper', (ms) => ms.map((m) => m.dataset.messageId));
      afirmar(new Set(ids).size === ids.length, `${u.nombre}: ids repetidos ${ids.join(',')}`);
    }
  });
  await paso('el transporte fue siempre long-polling (sin WebSocket)', async () => {
    for (const u of [ana, bruno]) {
      const peticiones = await u.pagina.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name));
      afirmar(peticiones.some((n) => n.includes('/socket.io/?EIO=4&transport=polling')), `${u.nombre}: sin long-polling`);
      afirmar(!peticiones.some((n) => n.includes('transport=websocket')), `${u.nombre}: usó WebSocket`);
    }
  });
  await capturar([ana, bruno], 'final');
}

async function main() {
  await mkdir(salida, { recursive: true });
  const navegador = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync']
  });
  const ana = await nuevoUsuario(navegador, 'ana', rutAna, SESION_ANA);
  const bruno = await nuevoUsuario(navegador, 'bruno', rutBruno, SESION_BRUNO);
  try {
    await escenario(ana, bruno);
  } finally {
    const registro = [];
    for (const u of [ana, bruno]) {
      registro.push(`## ${u.nombre}`, ...u.consola.map((m) => `[${m.tipo}] ${m.texto}`), '');
      const avisos = u.consola.filter((m) => m.tipo === 'error' || m.tipo === 'warning');
      console.log(`\n${u.nombre}: consola (errores y avisos): ${avisos.length ? '' : 'ninguno'}`);
      for (const m of avisos) console.log(`  [${m.tipo}] ${m.texto}`);
      console.log(`${u.nombre}: errores de página: ${u.errores.length ? u.errores.join('; ') : 'ninguno'}`);
      console.log(`${u.nombre}: peticiones fallidas: ${u.fallidas.length ? u.fallidas.join('; ') : 'ninguna'}`);
    }
    await writeFile(join(salida, 'consola.log'), registro.join('\n'));
    await navegador.close();
  }
  const fallidos = resultados.filter((r) => !r.ok);
  console.log(`\nwidget_v2: ${resultados.length - fallidos.length}/${resultados.length} pasos bien`);
  process.exit(fallidos.length ? 1 : 0);
}

main().catch((error) => {
  console.error(`widget_v2: FALLO: ${error.message}`);
  process.exit(1);
});
