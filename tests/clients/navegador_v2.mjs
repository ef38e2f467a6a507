// Browser scenario for the v2 API (CONTRACT-v2.md) with Debian's Chromium and playwright-core,
// on the test-only harness page tests/clients/v2/chat.html (served by the server under test).
//   SESION_ANA=<cookie value> SESION_BRUNO=<cookie value> \
//     node navegador_v2.mjs BASE_URL OUTPUT_DIR ANA_RUT BRUNO_RUT     (CHROMIUM=... to override)
// Each user has their own browser context holding a `weigence_session` cookie. Ana opens the
// chat with Bruno by rut and writes; Bruno, who has not opened it, sees an unread badge; then
// they reply, react, pin and delete, and each change shows live on the other page (Socket.IO
// over long-polling only). After a reload both pages show the same state from the history
// (reactions, reply quote, pin, the deleted message gone); then unpinning and removing a
// reaction show live too. Prints one "ok" line per check; saves screenshots of both pages in
// OUTPUT_DIR (once pinned and reacted, at the end, and on failure). Exits 1 on the first failed
// check, 2 on bad usage.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [base, salida, rutAna, rutBruno] = process.argv.slice(2);
const { SESION_ANA, SESION_BRUNO } = process.env;
if (!base || !salida || !rutAna || !rutBruno || !SESION_ANA || !SESION_BRUNO) {
  console.error('uso: SESION_ANA=… SESION_BRUNO=… node navegador_v2.mjs BASE_URL OUTPUT_DIR ANA_RUT BRUNO_RUT');
  process.exit(2);
}

const ESPERA_MS = 15000; // bound on any wait: a failure must not hang the test
const PAGINA = `${base}/static/chat.html`;

const ok = (texto) => console.log(`ok: ${texto}`);

function afirmar(condicion, texto) {
  if (!condicion) throw new Error(texto);
}

async function nuevoUsuario(navegador, nombre, rut, sesion) {
  const contexto = await navegador.newContext({ viewport: { width: 1000, height: 720 }, locale: 'es-CL' });
  await contexto.addCookies([{ name: 'weigence_session', value: sesion, url: base, httpOnly: true, sameSite: 'Lax' }]);
  const pagina = await contexto.newPage();
  pagina.setDefaultTimeout(ESPERA_MS);
  const usuario = { nombre, rut, contexto, pagina, errores: [], consola: [], fallidas: [] };
  pagina.on('pageerror', (error) => usuario.errores.push(error.message));
  pagina.on('console', (m) => {
    if (m.type() === 'error') usuario.consola.push(m.text());
  });
  pagina.on('response', (r) => {
    if (r.status() >= 400) usuario.fallidas.push(`${r.request().method()} ${new URL(r.url()).pathname} → ${r.status()}`);
  });
  return usuario;
}

/** Loads the harness and waits until the socket is up and the user list is drawn. */
async function cargar(u) {
  await u.pagina.goto(PAGINA);
  await u.pagina.waitForSelector('#estado[data-estado="conectado"]');
  await u.pagina.waitForSelector('#usuarios[data-cargada="si"]');
  afirmar(await u.pagina.textContent('#yo') === u.rut, `${u.nombre}: ws_connected no trajo su rut`);
}

/** Opens the chat with `otro` by clicking them in the list; waits for history and `joined`. */
async function abrir(u, otro, nombreOtro) {
  await u.pagina.click(`button.usuario[data-rut="${otro}"]`);
  await u.pagina.waitForSelector('#chat[data-unido="si"]');
  afirmar(await u.pagina.textContent('#con') === nombreOtro, `${u.nombre}: el chat abierto no es el de ${nombreOtro}`);
}

const mensaje = (u, texto) => u.pagina.locator('#mensajes .mensaje', { has: u.pagina.locator('.texto', { hasText: texto }) });

/** Waits until exactly one message with `texto` is on the page (with class `clase`, if given). */
async function verMensaje(u, texto, clase) {
  const m = mensaje(u, texto);
  await m.first().waitFor();
  afirmar(await m.count() === 1, `${u.nombre}: «${texto}» aparece ${await m.count()} veces`);
  if (clase) afirmar(await m.evaluate((e, c) => e.classList.contains(c), clase), `${u.nombre}: «${texto}» no es ${clase}`);
  return m;
}

async function escribir(u, texto) {
  await u.pagina.fill('#texto', texto);
  await u.pagina.press('#texto', 'Enter');
}

/** Waits until the reactions of the message with `texto` read exactly `esperado` (e.g. ["👍 1"]). */
async function verReacciones(u, texto, esperado) {
  await u.pagina.waitForFunction(([t, e]) => {
    const m = Array.from(document.querySelectorAll('#mensajes .mensaje')).find((x) => x.querySelector('.texto').textContent === t);
    return m && JSON.stringify(Array.from(m.querySelectorAll('.reaccion')).map((r) => r.textContent)) === JSON.stringify(e);
  }, [texto, esperado]);
}

async function textos(u) {
  return u.pagina.$$eval('#mensajes .mensaje .texto', (ps) => ps.map((p) => p.textContent));
}

async function capturar(usuarios, sufijo = '') {
  await mkdir(salida, { recursive: true });
  for (const { nombre, pagina } of usuarios) {
    await pagina.screenshot({ path: join(salida, `navegador_v2-${nombre}${sufijo}.png`), fullPage: true }).catch(() => {});
  }
}

async function escenario(ana, bruno) {
  await Promise.all([cargar(ana), cargar(bruno)]);
  afirmar(await ana.pagina.evaluate(() => window.arnesV2.socket.io.engine.transport.name) === 'polling',
    'el cliente no usa long-polling');
  ok('ambas páginas conectadas por long-polling; ws_connected trae el rut de cada una');

  await abrir(ana, bruno.rut, 'Bruno Soto');
  afirmar((await textos(ana)).length === 0, 'el chat nuevo no está vacío');
  ok('Ana abre el chat con Bruno por su rut (history + join → joined)');

  const hola = 'Hola Bruno, ¿revisaste el inventario?';
  await escribir(ana, hola);
  await verMensaje(ana, hola, 'mio');
  const insignia = bruno.pagina.locator(`button.usuario[data-rut="${ana.rut}"] .insignia`);
  await insignia.waitFor();
  afirmar(await insignia.textContent() === '1', 'la insignia de Bruno no dice 1');
  ok('Ana envía con Intro; Bruno, sin el chat abierto, ve la insignia «1» en vivo (sala del usuario)');

  await abrir(bruno, ana.rut, 'Ana Pérez');
  await verMensaje(bruno, hola, 'ajeno');
  afirmar(await insignia.isHidden(), 'la insignia sigue visible con el chat abierto');
  await ana.pagina.waitForFunction((t) => {
    const m = Array.from(document.querySelectorAll('#mensajes .mensaje.mio')).find((x) => x.querySelector('.texto').textContent === t);
    return m && m.querySelector('.visto').textContent === '✓✓';
  }, hola);
  ok('Bruno abre el chat: ve el mensaje en el historial y Ana ve ✓✓ (seen → mensaje_visto)');

  const respuesta = 'Sí, está al día';
  await mensaje(bruno, hola).locator('button.responder').click();
  await bruno.pagina.waitForSelector('#respondiendo:not([hidden])');
  await escribir(bruno, respuesta);
  for (const u of [ana, bruno]) {
    const m = await verMensaje(u, respuesta, u === bruno ? 'mio' : 'ajeno');
    afirmar(await m.locator('.cita').textContent() === `Ana Pérez: ${hola}`, `${u.nombre}: la respuesta no cita el mensaje de Ana`);
  }
  afirmar(await bruno.pagina.isHidden('#respondiendo'), 'el aviso de respuesta sigue visible');
  ok('Bruno responde a Ana: ambos ven la cita en vivo');

  await mensaje(ana, respuesta).locator('button.reaccionar[data-emoji="👍"]').click();
  await verReacciones(bruno, respuesta, ['👍 1']);
  await verReacciones(ana, respuesta, ['👍 1']);
  await mensaje(bruno, hola).locator('button.reaccionar[data-emoji="❤️"]').click();
  await verReacciones(ana, hola, ['❤️ 1']);
  ok('reacciones en vivo en ambos sentidos (reaccion_agregada)');
  await mensaje(ana, respuesta).locator('button.reaccionar[data-emoji="😂"]').click();
  await verReacciones(bruno, respuesta, ['😂 1']);
  await verReacciones(ana, respuesta, ['😂 1']);
  afirmar(await mensaje(ana, respuesta).locator('.reaccion.propia').textContent() === '😂 1', 'Ana no ve su reacción como propia');
  ok('una reacción nueva de Ana reemplaza la anterior, también en la página de Bruno');

  await mensaje(bruno, hola).locator('button.fijar').click();
  for (const u of [ana, bruno]) {
    await u.pagina.waitForSelector('#fijado:not([hidden])');
    afirmar(await u.pagina.textContent('#fijado .fijado-texto') === hola, `${u.nombre}: la banda fijada no muestra el mensaje`);
  }
  ok('Bruno fija el mensaje de Ana: Ana lo ve en vivo (mensaje_fijado)');
  await capturar([ana, bruno], '-fijado');

  const borrar = 'Este mensaje se va a borrar';
  await escribir(ana, borrar);
  await verMensaje(bruno, borrar, 'ajeno');
  afirmar(await mensaje(bruno, borrar).locator('button.eliminar').count() === 0, 'Bruno puede borrar un mensaje ajeno');
  await mensaje(ana, borrar).locator('button.eliminar').click();
  for (const u of [ana, bruno]) await mensaje(u, borrar).waitFor({ state: 'detached' });
  ok('Ana borra su mensaje: desaparece en ambas páginas (mensaje_eliminado)');

  // Reload: the history must show what the live events showed.
  await Promise.all([cargar(ana), cargar(bruno)]);
  await abrir(ana, bruno.rut, 'Bruno Soto');
  await abrir(bruno, ana.rut, 'Ana Pérez');
  for (const u of [ana, bruno]) {
    afirmar(JSON.stringify(await textos(u)) === JSON.stringify([hola, respuesta]),
      `${u.nombre}: tras recargar los mensajes son ${JSON.stringify(await textos(u))}`);
    afirmar(await mensaje(u, respuesta).locator('.cita').textContent() === `Ana Pérez: ${hola}`, `${u.nombre}: la cita no sobrevive la recarga`);
    await verReacciones(u, respuesta, ['😂 1']);
    await verReacciones(u, hola, ['❤️ 1']);
    afirmar(await u.pagina.isVisible('#fijado') && await u.pagina.textContent('#fijado .fijado-texto') === hola,
      `${u.nombre}: el fijado no sobrevive la recarga`);
  }
  afirmar(await mensaje(ana, hola).locator('.visto').textContent() === '✓✓', 'Ana no ve ✓✓ tras recargar (last_seen_other)');
  afirmar(await mensaje(ana, respuesta).locator('.reaccion.propia').count() === 1, 'Ana no ve su reacción propia tras recargar');
  afirmar(await mensaje(bruno, hola).locator('.reaccion.propia').count() === 1, 'Bruno no ve su reacción propia tras recargar');
  ok('tras recargar ambas páginas: cita, reacciones (y cuáles son propias), fijado, ✓✓; el borrado no está');

  await ana.pagina.click('#fijado .desfijar');
  for (const u of [ana, bruno]) await u.pagina.waitForSelector('#fijado', { state: 'hidden' });
  ok('Ana desfija: la banda desaparece en ambas páginas (mensaje_desfijado)');
  await mensaje(ana, respuesta).locator('button.reaccionar[data-emoji="😂"]').click();
  await verReacciones(bruno, respuesta, []);
  await verReacciones(ana, respuesta, []);
  ok('Ana quita su reacción: desaparece en ambas páginas (reaccion_eliminada)');

  await escribir(bruno, 'Hasta luego');
  await verMensaje(ana, 'Hasta luego', 'ajeno');
  await verMensaje(bruno, 'Hasta luego', 'mio');
  for (const u of [ana, bruno]) {
    const ids = await u.pagina.$$eval('#mensajes .mensaje', (ms) => ms.map((m) => m.dataset.id));
    afirmar(new Set(ids).size === ids.length, `${u.nombre}: ids repetidos en pantalla`);
    afirmar(await u.pagina.evaluate(() => window.arnesV2.socket.io.engine.transport.name) === 'polling',
      `${u.nombre}: el transporte cambió de long-polling`);
    const avisos = await u.pagina.evaluate(() => window.arnesV2.estado.errores);
    afirmar(avisos.length === 0, `${u.nombre}: errores del servidor o de la API: ${avisos.join('; ')}`);
    afirmar(u.errores.length === 0, `${u.nombre}: errores de JavaScript: ${u.errores.join('; ')}`);
    afirmar(u.fallidas.length === 0, `${u.nombre}: peticiones fallidas: ${u.fallidas.join('; ')}`);
    afirmar(u.consola.length === 0, `${u.nombre}: errores en la consola: ${u.consola.join('; ')}`);
  }
  ok('sin duplicados, siempre long-polling, sin eventos error ni errores de JavaScript o de consola');
}

async function main() {
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
    await capturar([ana, bruno]);
    console.log('navegador_v2: todo bien');
  } catch (error) {
    await capturar([ana, bruno], '-fallo');
    throw error;
  } finally {
    await navegador.close();
  }
}

main().catch((error) => {
  console.error(`navegador_v2: FALLO: ${error.message}`);
  process.exit(1);
});
