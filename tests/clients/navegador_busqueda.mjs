// Browser scenario for search, attachments and notifications with Debian's Chromium.
//   node navegador_busqueda.mjs BASE_URL OUTPUT_DIR CONV_ANA_BRUNO CONV_CARLA_BRUNO
// Ana searches "cancion" and jumps to the old message (highlighted); Ana attaches an image
// and Bruno sees its preview and downloads it (same bytes); with Bruno's tab hidden and the
// notification permission granted, a message from Ana shows a notification; after Bruno mutes
// that conversation, Ana's next message shows none while Carla's (another conversation) does.
// Prints one "ok" line per check; saves screenshots in OUTPUT_DIR. Exits 1 on a failed check.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [base, salida, convAnaBruno, convCarlaBruno] = process.argv.slice(2);
if (!base || !salida || !convAnaBruno || !convCarlaBruno) {
  console.error('uso: node navegador_busqueda.mjs BASE_URL OUTPUT_DIR CONV_ANA_BRUNO CONV_CARLA_BRUNO');
  process.exit(2);
}
const ESPERA_MS = 10000;
// A real 1x1 PNG, so the preview really decodes.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==', 'base64');

const ok = (t) => console.log(`ok: ${t}`);
function afirmar(c, t) { if (!c) throw new Error(t); }

async function nuevaPagina(navegador, nombre, correo, notificaciones = false) {
  const contexto = await navegador.newContext({ viewport: { width: 1100, height: 760 }, locale: 'es-CL', acceptDownloads: true });
  if (notificaciones) {
    await contexto.grantPermissions(['notifications'], { origin: base });
    // The test decides when the tab is "hidden", and records the notifications shown.
    await contexto.addInitScript(() => {
      window.__oculto = false;
      window.__avisos = [];
      Object.defineProperty(document, 'hidden', { get: () => window.__oculto });
      Object.defineProperty(document, 'visibilityState', { get: () => (window.__oculto ? 'hidden' : 'visible') });
      const Original = window.Notification;
      class Registrada extends Original {
        constructor(titulo, opciones) {
          super(titulo, opciones);
          window.__avisos.push({ titulo, cuerpo: (opciones && opciones.body) || '' });
        }
      }
      Object.defineProperty(Registrada, 'permission', { get: () => Original.permission });
      Registrada.requestPermission = (...a) => Original.requestPermission(...a);
      window.Notification = Registrada;
    });
  }
  const pagina = await contexto.newPage();
  pagina.setDefaultTimeout(ESPERA_MS);
  const usuario = { nombre, pagina, errores: [] };
  pagina.on('pageerror', (e) => usuario.errores.push(e.message));
  await pagina.goto(`${base}/`);
  await pagina.fill('input[name="usuario"]', correo);
  await pagina.fill('input[name="password"]', 'demo1234');
  await Promise.all([pagina.waitForURL(/\/chat$/), pagina.click('button[type="submit"]')]);
  await pagina.waitForFunction(() => window.weigenceChat && document.getElementById('buscar-mensajes'));
  await pagina.waitForSelector('#estado-conexion[data-estado="vivo"]');
  return usuario;
}

async function escenario(ana, bruno, carla) {
  // Search and jump.
  await ana.pagina.fill('#buscar-mensajes', 'cancion');
  const resultado = ana.pagina.locator('.resultado-boton', { hasText: 'perdida' });
  await resultado.waitFor();
  afirmar((await resultado.locator('mark').first().textContent()) === 'canción', 'palabra resaltada');
  await resultado.click();
  await ana.pagina.waitForSelector('.mensaje.resaltado');
  const resaltado = await ana.pagina.textContent('.mensaje.resaltado .burbuja-texto');
  afirmar(resaltado.includes('la canción perdida'), `resaltado: ${resaltado}`);
  ok('search finds the accented word and jumps to the message (older than the page loaded), highlighted');

  // Attach an image; the other browser previews and downloads it.
  await bruno.pagina.evaluate((id) => window.weigenceChat.abrir(id), convAnaBruno);
  await ana.pagina.setInputFiles('#input-adjunto', { name: 'foto.png', mimeType: 'image/png', buffer: PNG });
  const imagen = bruno.pagina.locator('.adjunto-imagen');
  await imagen.waitFor();
  await bruno.pagina.waitForFunction(() => {
    const img = document.querySelector('.adjunto-imagen');
    return img && img.complete && img.naturalWidth === 1;
  });
  const fuente = await bruno.pagina.getAttribute('.adjunto-imagen', 'src');
  afirmar(fuente.endsWith('/miniatura'), `preview from the thumbnail: ${fuente}`);
  ok('the other browser shows the image preview (its thumbnail)');
  const [descarga] = await Promise.all([
    bruno.pagina.waitForEvent('download'),
    bruno.pagina.click('.adjunto-enlace')
  ]);
  afirmar(descarga.suggestedFilename() === 'foto.png', `nombre ${descarga.suggestedFilename()}`);
  const ruta = await descarga.path();
  const { readFile } = await import('node:fs/promises');
  afirmar(Buffer.compare(await readFile(ruta), PNG) === 0, 'same bytes');
  ok('download gives the same file');

  // Notifications for a hidden tab, none for a muted conversation.
  await bruno.pagina.evaluate(() => { window.__oculto = true; });
  await ana.pagina.fill('#input-mensaje', 'aviso uno');
  await ana.pagina.press('#input-mensaje', 'Enter');
  await bruno.pagina.waitForFunction(() => window.__avisos.some((a) => a.cuerpo === 'aviso uno'));
  ok('a notification for a message while the tab is hidden');
  await bruno.pagina.evaluate(() => { window.__oculto = false; });
  await bruno.pagina.click('#btn-silenciar');
  await bruno.pagina.waitForSelector('#btn-silenciar[data-silenciada="1"]');
  await bruno.pagina.evaluate(() => { window.__oculto = true; });
  await ana.pagina.fill('#input-mensaje', 'silenciado dos');
  await ana.pagina.press('#input-mensaje', 'Enter');
  await ana.pagina.waitForFunction(() => Array.from(document.querySelectorAll('.mensaje-propio .burbuja-texto'))
    .some((p) => p.textContent === 'silenciado dos'));
  const r = await carla.pagina.request.post(`${base}/api/chat/mensaje/enviar`, {
    data: { conversacion_id: convCarlaBruno, contenido: 'de carla' }
  });
  afirmar(r.status() === 201, `carla envía: ${r.status()}`);
  await bruno.pagina.waitForFunction(() => window.__avisos.some((a) => a.cuerpo === 'de carla'));
  const avisos = await bruno.pagina.evaluate(() => window.__avisos.map((a) => a.cuerpo));
  afirmar(!avisos.includes('silenciado dos'), `muted conversation notified: ${avisos}`);
  ok('no notification for the muted conversation, one for the other');
  const titulo = await bruno.pagina.title();
  afirmar(/^\(1\) /.test(titulo), `title counts only the unmuted unread: ${titulo}`);
  ok('unread count in the title skips the muted conversation');
}

const navegador = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync']
});
let usuarios = [];
let codigo = 0;
try {
  const ana = await nuevaPagina(navegador, 'ana', 'ana@weigence.cl');
  const bruno = await nuevaPagina(navegador, 'bruno', 'bruno@weigence.cl', true);
  const carla = await nuevaPagina(navegador, 'carla', 'carla@weigence.cl');
  usuarios = [ana, bruno, carla];
  await escenario(ana, bruno, carla);
  for (const u of usuarios) afirmar(u.errores.length === 0, `${u.nombre}: errores de página ${u.errores}`);
} catch (error) {
  console.error(`FALLO: ${error.stack || error}`);
  codigo = 1;
} finally {
  await mkdir(salida, { recursive: true });
  for (const { nombre, pagina } of usuarios) {
    await pagina.screenshot({ path: join(salida, `busqueda-${nombre}.png`), fullPage: true }).catch(() => {});
  }
  await navegador.close();
}
process.exit(codigo);
