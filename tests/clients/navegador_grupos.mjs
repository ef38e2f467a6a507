// Browser scenario for groups and the life of a message, with Debian's Chromium and playwright-core.
//   node navegador_grupos.mjs BASE_URL OUTPUT_DIR          (CHROMIUM=/path/to/chromium to override)
// Ana, Bruno and Carla log in through the form in three browser contexts. Ana creates a group
// with Bruno and Carla from «Nuevo grupo» (both see it appear live, with its member count);
// a message from each reaches the other two live (with its author in the list preview); a
// reaction, a second one from the chip (counts, mine highlighted), an edit («editado»), a reply
// (quote above the input and in the message), a pin (pinned bar), a delete of one's own and an
// admin's delete of another's message; ticks of a message sent while Bruno and Carla are away:
// ✓, then ✓✓ once both pages load, then «leído por 1 de 2» and «leído por 2 de 2» as they open
// it; Ana removes Carla (Carla's page shows the notice, the input is disabled, the group leaves
// her list and a send is refused; Ana and Bruno see the system message), renames the group,
// adds Diego and makes Bruno admin (Bruno's panel shows it live); finally a reload of Ana's page
// shows exactly the same conversation; Diego, with Socket.IO cut (REST polling), delivers and
// reads through REST and notices his removal from the history's 403. Prints one "ok" line per check; screenshots in
// OUTPUT_DIR (also on failure). Exits 1 on the first failed check, 2 on bad usage.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [base, salida] = process.argv.slice(2);
if (!base || !salida) {
  console.error('uso: node navegador_grupos.mjs BASE_URL OUTPUT_DIR');
  process.exit(2);
}

const ESPERA_MS = 10000;
const ESPERA_SONDEO_MS = 20000; // lo que llega por el sondeo REST (cada 5 s)
const CARLA = '33333333-3';
const BRUNO = '22222222-2';
const GRUPO = 'Bodega norte';

const ok = (texto) => console.log(`ok: ${texto}`);

function afirmar(condicion, texto) {
  if (!condicion) throw new Error(texto);
}

async function nuevaPagina(navegador, nombre, sinSocket = false) {
  const contexto = await navegador.newContext({ viewport: { width: 1200, height: 800 }, locale: 'es-CL' });
  if (sinSocket) {
    // Socket.IO cortado (WebSocket con un paquete inválido, long-polling abortado): la página sondea.
    await contexto.routeWebSocket(/\/socket\.io\//, (ws) => {
      ws.send('x');
      ws.close();
    });
    await contexto.route('**/socket.io/**', (ruta) => ruta.abort());
  }
  const pagina = await contexto.newPage();
  pagina.setDefaultTimeout(ESPERA_MS);
  const usuario = { nombre, pagina, errores: [], dialogos: [] };
  pagina.on('pageerror', (error) => usuario.errores.push(error.message));
  pagina.on('dialog', (dialogo) => {
    usuario.dialogos.push(dialogo.message());
    dialogo.dismiss().catch(() => {});
  });
  return usuario;
}

async function iniciarSesion({ pagina }, correo, estado = 'vivo') {
  await pagina.goto(`${base}/`);
  await pagina.fill('input[name="usuario"]', correo);
  await pagina.fill('input[name="password"]', 'demo1234');
  await Promise.all([pagina.waitForURL(/\/chat$/), pagina.click('button[type="submit"]')]);
  await enVivo({ pagina }, estado);
}

async function enVivo({ pagina }, estado = 'vivo') {
  await pagina.waitForSelector(`#estado-conexion[data-estado="${estado}"]`);
  await pagina.waitForSelector('#btn-nuevo-grupo:not(.hidden)');
}

function itemLista({ pagina }, nombre) {
  return pagina.locator('#lista-conversaciones button.conversacion', { hasText: nombre });
}

async function abrirGrupo(usuario, nombre = GRUPO) {
  await itemLista(usuario, nombre).first().click();
  await usuario.pagina.waitForFunction((n) => document.getElementById('chat-nombre').textContent === n, nombre);
  await usuario.pagina.waitForSelector('#btn-grupo:not(.hidden)');
}

/** La fila del mensaje con ese texto (exacto). */
function fila({ pagina }, texto) {
  return pagina.locator('#mensajes-contenedor .mensaje').filter({
    has: pagina.locator('.burbuja-texto').getByText(texto, { exact: true })
  });
}

async function esperarTexto(usuario, texto) {
  await fila(usuario, texto).waitFor();
}

async function enviar(usuario, texto) {
  await usuario.pagina.fill('#input-mensaje', texto);
  await usuario.pagina.press('#input-mensaje', 'Enter');
  await usuario.pagina.locator('.mensaje-propio').filter({
    has: usuario.pagina.locator('.burbuja-texto').getByText(texto, { exact: true })
  }).waitFor();
}

/** Abre el menú «⋯» de un mensaje y pulsa la opción `accion` (y `emoji`). */
async function menu(usuario, texto, accion, emoji) {
  const f = fila(usuario, texto);
  await f.hover();
  await f.locator('.boton-menu').click();
  const selector = `.menu-mensaje [data-accion="${accion}"]` + (emoji ? `[data-emoji="${emoji}"]` : '');
  await f.locator(selector).click();
}

async function esperarSistema({ pagina }, parte) {
  await pagina.locator('#mensajes-contenedor .mensaje-sistema .texto-sistema', { hasText: parte }).last().waitFor();
}

async function reaccion({ pagina }, texto, emoji) {
  const chip = fila({ pagina }, texto).locator(`.reaccion[data-emoji="${emoji}"]`);
  if (await chip.count() === 0) return null;
  return { texto: await chip.textContent(), mia: await chip.evaluate((b) => b.classList.contains('mia')) };
}

async function esperarReaccion(usuario, texto, emoji, esperado, mia) {
  await usuario.pagina.waitForFunction(([t, e, esperadoTexto, esMia]) => {
    const filas = Array.from(document.querySelectorAll('#mensajes-contenedor .mensaje'));
    const f = filas.find((x) => { const p = x.querySelector('.burbuja-texto'); return p && p.textContent === t; });
    const chip = f && Array.from(f.querySelectorAll('.reaccion')).find((b) => b.dataset.emoji === e);
    return chip && chip.textContent === esperadoTexto && chip.classList.contains('mia') === esMia;
  }, [texto, emoji, esperado, mia]);
}

/** El estado del recibo y el «leído por» del mensaje propio con ese texto. */
async function esperarRecibo({ pagina }, texto, estado, leidoPor, timeout = ESPERA_MS) {
  await pagina.waitForFunction(([t, e, l]) => {
    const filas = Array.from(document.querySelectorAll('#mensajes-contenedor .mensaje-propio'));
    const f = filas.find((x) => x.querySelector('.burbuja-texto').textContent === t);
    const recibo = f && f.querySelector('.recibo');
    const por = f && f.querySelector('.leido-por');
    return recibo && recibo.dataset.estado === e && por.textContent === l;
  }, [texto, estado, leidoPor], { timeout });
}

/** Lo que Ana ve de la conversación, sin horas: para compararlo tras recargar. */
function foto({ pagina }) {
  return pagina.evaluate(() => ({
    nombre: document.getElementById('chat-nombre').textContent,
    info: document.getElementById('chat-info').textContent,
    fijados: Array.from(document.querySelectorAll('#barra-fijados .fijado')).map((b) => b.textContent),
    mensajes: Array.from(document.querySelectorAll('#mensajes-contenedor .mensaje')).map((f) => ({
      clase: f.className.replace(' resaltado', ''),
      sistema: f.querySelector('.texto-sistema')?.textContent ?? null,
      autor: f.querySelector('.burbuja-autor')?.textContent ?? null,
      texto: f.querySelector('.burbuja-texto')?.textContent ?? null,
      cita: f.querySelector('.cita')?.textContent ?? null,
      reacciones: Array.from(f.querySelectorAll('.reaccion')).map((b) => b.textContent + (b.classList.contains('mia') ? ' (mía)' : '')),
      editado: Boolean(f.querySelector('.editado')),
      recibo: f.querySelector('.recibo')?.dataset.estado ?? null,
      leidoPor: f.querySelector('.leido-por')?.textContent ?? null
    }))
  }));
}

async function capturar(usuarios, sufijo = '') {
  await mkdir(salida, { recursive: true });
  for (const { nombre, pagina } of usuarios) {
    await pagina.screenshot({ path: join(salida, `grupos-${nombre}${sufijo}.png`), fullPage: true }).catch(() => {});
  }
}

async function escenario(ana, bruno, carla, diego) {
  await Promise.all([
    iniciarSesion(ana, 'ana@weigence.cl'),
    iniciarSesion(bruno, 'bruno@weigence.cl'),
    iniciarSesion(carla, 'carla@weigence.cl')
  ]);
  ok('Ana, Bruno y Carla en /chat con Socket.IO conectado');

  // Ana crea el grupo: necesita nombre y al menos dos personas.
  await ana.pagina.click('#btn-nuevo-grupo');
  await ana.pagina.fill('#grupo-nombre', GRUPO);
  await ana.pagina.locator('label.candidato', { hasText: 'Bruno Soto' }).locator('input').check();
  afirmar(await ana.pagina.isDisabled('#btn-crear-grupo'), 'crear con una sola persona está habilitado');
  await ana.pagina.locator('label.candidato', { hasText: 'Carla Díaz' }).locator('input').check();
  await ana.pagina.click('#btn-crear-grupo');
  await ana.pagina.waitForFunction((n) => document.getElementById('chat-nombre').textContent === n, GRUPO);
  await esperarSistema(ana, GRUPO);
  afirmar(await ana.pagina.isHidden('#modal-nuevo-grupo'), 'el diálogo sigue abierto');
  afirmar(await ana.pagina.locator('.mensaje-sistema .boton-menu').count() === 0, 'un mensaje de sistema tiene menú');
  ok('Ana creó el grupo y lo ve abierto con el mensaje de sistema (centrado, sin menú)');

  for (const u of [bruno, carla]) {
    await itemLista(u, GRUPO).locator('.conversacion-miembros', { hasText: '3 miembros' }).waitFor();
  }
  ok('Bruno y Carla ven aparecer el grupo en vivo, con «3 miembros»');
  await abrirGrupo(bruno);
  await abrirGrupo(carla);
  await esperarSistema(bruno, GRUPO);

  // Mensajes de cada uno a los otros dos, en vivo.
  const deAna = 'Hola equipo, ¿cómo va el inventario?';
  const deBruno = 'Bien, falta contar el pasillo 3';
  const deCarla = 'Yo lo cuento mañana';
  await enviar(ana, deAna);
  await Promise.all([esperarTexto(bruno, deAna), esperarTexto(carla, deAna)]);
  await enviar(bruno, deBruno);
  await Promise.all([esperarTexto(ana, deBruno), esperarTexto(carla, deBruno)]);
  await enviar(carla, deCarla);
  await Promise.all([esperarTexto(ana, deCarla), esperarTexto(bruno, deCarla)]);
  const autor = await fila(ana, deCarla).locator('.burbuja-autor').textContent();
  afirmar(autor === 'Carla Díaz', `autor en la burbuja: ${autor}`);
  await itemLista(ana, GRUPO).locator('.conversacion-preview', { hasText: `Carla Díaz: ${deCarla}` }).waitFor();
  await itemLista(bruno, GRUPO).locator('.conversacion-preview', { hasText: `Carla Díaz: ${deCarla}` }).waitFor();
  ok('un mensaje de cada uno llega en vivo a los otros dos; la lista muestra el último con su autor');

  // Reacciones: Bruno desde el menú, Carla desde el botón de la reacción.
  await menu(bruno, deAna, 'reaccion', '👍');
  await esperarReaccion(bruno, deAna, '👍', '👍 1', true);
  await esperarReaccion(ana, deAna, '👍', '👍 1', false);
  await esperarReaccion(carla, deAna, '👍', '👍 1', false);
  await fila(carla, deAna).locator('.reaccion[data-emoji="👍"]').click();
  await esperarReaccion(carla, deAna, '👍', '👍 2', true);
  await esperarReaccion(ana, deAna, '👍', '👍 2', false);
  await esperarReaccion(bruno, deAna, '👍', '👍 2', true);
  ok('reacciones en vivo: la cuenta sube en las tres páginas y la propia se resalta');

  // Edición del propio mensaje, en su lugar.
  const editado = 'Hola equipo, ¿cómo va el inventario de bodega?';
  await menu(ana, deAna, 'editar');
  await ana.pagina.fill('.edicion-campo', editado);
  await ana.pagina.press('.edicion-campo', 'Enter');
  for (const u of [ana, bruno, carla]) {
    await esperarTexto(u, editado);
    afirmar(await fila(u, editado).locator('.editado').count() === 1, `${u.nombre}: sin marca «editado»`);
  }
  afirmar((await reaccion(bruno, editado, '👍'))?.texto === '👍 2', 'la edición perdió las reacciones');
  ok('edición en vivo con la marca «editado» (las reacciones siguen)');

  // Bruno no puede eliminar mensajes ajenos (no es administrador); Ana sí.
  const moderable = 'Mensaje de Carla para moderar';
  await enviar(carla, moderable);
  await esperarTexto(bruno, moderable);
  const filaBruno = fila(bruno, moderable);
  await filaBruno.hover();
  await filaBruno.locator('.boton-menu').click();
  afirmar(await filaBruno.locator('[data-accion="eliminar"]').count() === 0, 'Bruno ve «Eliminar» en un mensaje ajeno');
  await capturar([bruno], '-menu');
  await bruno.pagina.keyboard.press('Escape');
  await filaBruno.locator('.menu-mensaje').waitFor({ state: 'detached' });
  afirmar(await bruno.pagina.evaluate(() => document.activeElement.classList.contains('boton-menu')), 'Escape no devolvió el foco a «⋯»');
  await esperarTexto(ana, moderable);
  await menu(ana, moderable, 'eliminar');
  await fila(ana, moderable).locator('[data-accion="confirmar-eliminar"]').click();
  for (const u of [ana, bruno, carla]) await fila(u, moderable).waitFor({ state: 'detached' });
  ok('solo los administradores ven «Eliminar» en mensajes ajenos; Ana elimina el de Carla y desaparece en las tres páginas');

  // Bruno elimina uno propio.
  const propioBruno = 'Este lo borro yo';
  await enviar(bruno, propioBruno);
  await esperarTexto(ana, propioBruno);
  await menu(bruno, propioBruno, 'eliminar');
  await fila(bruno, propioBruno).locator('[data-accion="confirmar-eliminar"]').click();
  for (const u of [ana, bruno, carla]) await fila(u, propioBruno).waitFor({ state: 'detached' });
  ok('Bruno elimina su propio mensaje en vivo');

  // Carla responde a Bruno: la cita sobre el campo y en el mensaje.
  const respuesta = 'Ese pasillo ya lo revisé ayer';
  await menu(carla, deBruno, 'responder');
  await carla.pagina.waitForSelector('#respuesta-previa:not(.hidden)');
  afirmar((await carla.pagina.textContent('#respuesta-previa .respuesta-texto')) === deBruno, 'la cita sobre el campo');
  await enviar(carla, respuesta);
  afirmar(await carla.pagina.isHidden('#respuesta-previa'), 'la cita sigue sobre el campo tras enviar');
  for (const u of [ana, bruno, carla]) {
    await esperarTexto(u, respuesta);
    const cita = fila(u, respuesta).locator('.cita');
    afirmar((await cita.locator('.cita-autor').textContent()) === 'Bruno Soto', `${u.nombre}: autor de la cita`);
    afirmar((await cita.locator('.cita-texto').textContent()) === deBruno, `${u.nombre}: texto de la cita`);
  }
  ok('respuesta con la cita sobre el campo y en el mensaje, en las tres páginas');
  const respuestaEditada = 'Ese pasillo ya lo revisé ayer en la tarde';
  await menu(carla, respuesta, 'editar');
  await carla.pagina.fill('.edicion-campo', respuestaEditada);
  await carla.pagina.click('.edicion-guardar');
  for (const u of [ana, bruno, carla]) {
    await esperarTexto(u, respuestaEditada);
    afirmar((await fila(u, respuestaEditada).locator('.cita .cita-texto').textContent()) === deBruno,
      `${u.nombre}: la respuesta editada perdió su cita`);
  }
  ok('editar una respuesta conserva su cita en las tres páginas');

  // Bruno fija el mensaje editado de Ana, solo con el teclado: Intro abre el menú, Fin va a
  // la última opción («Fijar»: no es suyo ni es administrador), Intro la elige.
  await fila(bruno, editado).locator('.boton-menu').focus();
  await bruno.pagina.keyboard.press('Enter');
  await fila(bruno, editado).locator('.menu-mensaje').waitFor();
  await bruno.pagina.keyboard.press('End');
  afirmar(await bruno.pagina.evaluate(() => document.activeElement.dataset.accion) === 'fijar', 'Fin no llevó a «Fijar»');
  await bruno.pagina.keyboard.press('Enter');
  for (const u of [ana, bruno, carla]) {
    await u.pagina.locator('#barra-fijados .fijado', { hasText: editado }).waitFor();
  }
  ok('fijado en vivo desde el menú manejado con el teclado: la barra de fijados en las tres páginas');
  await menu(ana, deBruno, 'fijar');
  const fijados = (u) => u.pagina.evaluate(() => Array.from(document.querySelectorAll('#barra-fijados .fijado-texto')).map((x) => x.textContent));
  await carla.pagina.locator('#barra-fijados .fijado', { hasText: deBruno }).waitFor();
  afirmar(JSON.stringify(await fijados(carla)) === JSON.stringify([editado, deBruno]), `orden de los fijados: ${await fijados(carla)}`);
  await menu(carla, deBruno, 'desfijar');
  for (const u of [ana, bruno, carla]) {
    await u.pagina.locator('#barra-fijados .fijado', { hasText: deBruno }).waitFor({ state: 'detached' });
    afirmar(JSON.stringify(await fijados(u)) === JSON.stringify([editado]), `${u.nombre}: fijados tras desfijar`);
  }
  ok('varios fijados en el orden en que se fijaron; desfijar lo quita de la barra en las tres páginas');

  // Entregas: Bruno y Carla se van; Ana envía (✓); vuelven (✓✓); abren el grupo (leído).
  await bruno.pagina.goto('about:blank');
  await carla.pagina.goto('about:blank');
  const conTicks = '¿Les llegó el informe?';
  await enviar(ana, conTicks);
  await esperarRecibo(ana, conTicks, 'enviado', '');
  afirmar((await fila(ana, conTicks).locator('.recibo').textContent()) === '✓', 'recibo enviado: ✓');
  ok('✓ mientras nadie más tiene la página abierta');
  await bruno.pagina.goto(`${base}/chat`);
  await enVivo(bruno);
  await carla.pagina.goto(`${base}/chat`);
  await enVivo(carla);
  await esperarRecibo(ana, conTicks, 'entregado', '');
  afirmar((await fila(ana, conTicks).locator('.recibo').textContent()) === '✓✓', 'recibo entregado: ✓✓');
  ok('✓✓ entregado cuando las páginas de Bruno y Carla cargan (sin abrir el grupo)');
  await abrirGrupo(bruno);
  await esperarRecibo(ana, conTicks, 'entregado', 'leído por 1 de 2');
  await abrirGrupo(carla);
  await esperarRecibo(ana, conTicks, 'leido', 'leído por 2 de 2');
  afirmar(await fila(ana, conTicks).locator('.recibo.leido').count() === 1, 'el recibo leído no se resalta');
  ok('«leído por 1 de 2» y «leído por 2 de 2» a medida que lo abren');

  // El panel de miembros: Bruno no es administrador.
  await bruno.pagina.click('#btn-grupo');
  await bruno.pagina.locator('#grupo-miembros .miembro').nth(2).waitFor();
  afirmar(await bruno.pagina.locator('#grupo-miembros [data-accion]').count() === 0, 'Bruno ve acciones de administrador');
  afirmar(await bruno.pagina.isHidden('#form-agregar-miembro'), 'Bruno puede agregar');
  const adminDeAna = bruno.pagina.locator('#grupo-miembros .miembro', { hasText: 'Ana Pérez' }).locator('.insignia-admin');
  afirmar(await adminDeAna.count() === 1, 'sin insignia de administradora en Ana');
  ok('panel de miembros: nombres e insignia de administrador; sin acciones para quien no lo es');

  // Ana quita a Carla.
  await ana.pagina.click('#btn-grupo');
  await ana.pagina.locator(`#grupo-miembros .miembro[data-id="${CARLA}"] [data-accion="quitar"]`).click();
  await carla.pagina.waitForSelector('#aviso-removido:not(.hidden)');
  afirmar((await carla.pagina.textContent('#aviso-removido')) === 'Ya no eres miembro de este grupo', 'texto del aviso');
  afirmar(await carla.pagina.isDisabled('#input-mensaje'), 'Carla aún puede escribir');
  await itemLista(carla, GRUPO).waitFor({ state: 'detached' });
  const rechazo = await carla.pagina.evaluate(async () => {
    const id = window.weigenceChat.actual();
    const meta = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
    const r = await fetch('/api/chat/mensaje/enviar', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': meta },
      body: JSON.stringify({ conversacion_id: id, contenido: 'ya no debería poder' })
    });
    return r.status;
  });
  afirmar(rechazo === 403, `Carla envía tras ser quitada: ${rechazo}`);
  await capturar([carla], '-removida');
  await esperarSistema(ana, 'quitó a');
  await esperarSistema(bruno, 'quitó a');
  await ana.pagina.locator(`#grupo-miembros .miembro[data-id="${CARLA}"]`).waitFor({ state: 'detached' });
  await bruno.pagina.waitForFunction(() => document.getElementById('chat-info').textContent === '2 participantes');
  ok('Carla quitada: ve el aviso, no puede escribir ni enviar, pierde el grupo; Ana y Bruno ven el mensaje de sistema');
  await esperarRecibo(ana, conTicks, 'leido', 'leído por 1 de 1');
  ok('las entregas se cuentan sobre los miembros actuales: «leído por 1 de 1»');

  // Ana renombra, agrega a Diego y hace administrador a Bruno; Bruno lo ve en vivo.
  const nuevoNombre = 'Bodega norte y sur';
  await ana.pagina.fill('#grupo-nuevo-nombre', nuevoNombre);
  await ana.pagina.press('#grupo-nuevo-nombre', 'Enter');
  await bruno.pagina.waitForFunction((n) => document.getElementById('chat-nombre').textContent === n, nuevoNombre);
  await itemLista(bruno, nuevoNombre).waitFor();
  await ana.pagina.selectOption('#grupo-agregar-usuario', { label: 'Diego Rojas' });
  await ana.pagina.locator('#form-agregar-miembro button[type="submit"]').click();
  await esperarSistema(bruno, 'agregó a');
  await bruno.pagina.locator('#grupo-miembros .miembro', { hasText: 'Diego Rojas' }).waitFor();
  await ana.pagina.locator(`#grupo-miembros .miembro[data-id="${BRUNO}"] [data-accion="hacer-admin"]`).click();
  await bruno.pagina.locator(`#grupo-miembros .miembro[data-id="${BRUNO}"] .insignia-admin`).waitFor();
  await bruno.pagina.locator('#grupo-miembros .miembro', { hasText: 'Diego Rojas' }).locator('[data-accion="quitar"]').waitFor();
  afirmar(await bruno.pagina.locator('#grupo-miembros .miembro', { hasText: 'Ana Pérez' }).locator('[data-accion]').count() === 0,
    'Bruno, administrador, ve acciones sobre la creadora');
  ok('renombrar, agregar a Diego y hacer administrador a Bruno: en vivo en la página de Bruno (sin acciones sobre la creadora)');
  await ana.pagina.locator('#modal-grupo [data-cerrar]').last().click();

  // Recargar la página de Ana muestra lo mismo.
  await ana.pagina.locator('#mensajes-contenedor .mensaje-sistema', { hasText: 'administrador' }).last().waitFor();
  const antes = await foto(ana);
  await ana.pagina.reload();
  await enVivo(ana);
  await abrirGrupo(ana, nuevoNombre);
  await ana.pagina.waitForFunction((n) => document.querySelectorAll('#mensajes-contenedor .mensaje').length === n,
    antes.mensajes.length);
  await ana.pagina.waitForFunction((n) => document.querySelectorAll('#barra-fijados .fijado').length === n, antes.fijados.length);
  const despues = await foto(ana);
  afirmar(JSON.stringify(despues) === JSON.stringify(antes),
    `tras recargar la conversación cambió:\nantes   ${JSON.stringify(antes)}\ndespués ${JSON.stringify(despues)}`);
  ok(`tras recargar, Ana ve lo mismo (${antes.mensajes.length} mensajes, reacciones, edición, cita, fijado, entregas)`);
  await carla.pagina.reload();
  await enVivo(carla);
  await carla.pagina.waitForFunction(() => !document.getElementById('lista-conversaciones').textContent.includes('Cargando'));
  afirmar(await itemLista(carla, 'Bodega').count() === 0, 'el grupo volvió a la lista de Carla tras recargar');
  ok('tras recargar, Carla sigue sin el grupo');

  // Diego entra sin Socket.IO (la página sondea por REST cada 5 s): avisa la entrega por REST,
  // lee al abrir, y nota que lo quitaron por el 403 del historial.
  await iniciarSesion(diego, 'diego@weigence.cl', 'sondeo');
  await itemLista(diego, nuevoNombre).waitFor({ timeout: ESPERA_SONDEO_MS });
  const paraDiego = 'Diego, bienvenido al grupo';
  await enviar(ana, paraDiego);
  await esperarRecibo(ana, paraDiego, 'entregado', 'leído por 1 de 2', ESPERA_SONDEO_MS);
  ok('sin socket, la página de Diego avisa la entrega por REST: ✓✓ y «leído por 1 de 2» (Bruno lo leyó en vivo)');
  await itemLista(diego, nuevoNombre).click();
  await esperarTexto(diego, paraDiego);
  await esperarRecibo(ana, paraDiego, 'leido', 'leído por 2 de 2', ESPERA_SONDEO_MS);
  ok('Diego lo abre por REST: «leído por 2 de 2»');
  await ana.pagina.click('#btn-grupo');
  await ana.pagina.locator('#grupo-miembros .miembro', { hasText: 'Diego Rojas' }).locator('[data-accion="quitar"]').click();
  await diego.pagina.waitForSelector('#aviso-removido:not(.hidden)', { timeout: ESPERA_SONDEO_MS });
  afirmar(await diego.pagina.isDisabled('#input-mensaje'), 'Diego aún puede escribir');
  await itemLista(diego, nuevoNombre).waitFor({ state: 'detached' });
  ok('sin socket, Diego nota que lo quitaron en el siguiente sondeo: aviso, campo deshabilitado, sin el grupo');
  await ana.pagina.locator('#modal-grupo [data-cerrar]').last().click();

  // Bruno sale del grupo: se cierra en su página y Ana ve el mensaje de sistema.
  await bruno.pagina.click('#btn-salir-grupo');
  await bruno.pagina.waitForSelector('#area-conversacion.hidden', { state: 'attached' });
  await itemLista(bruno, nuevoNombre).waitFor({ state: 'detached' });
  await esperarSistema(ana, 'salió del grupo');
  ok('Bruno sale del grupo: lo pierde de su lista y Ana ve «salió del grupo»');

  for (const u of [ana, bruno, carla, diego]) {
    afirmar(u.dialogos.length === 0, `${u.nombre}: se abrió un diálogo: ${u.dialogos.join('; ')}`);
    afirmar(u.errores.length === 0, `${u.nombre}: errores de JavaScript: ${u.errores.join('; ')}`);
  }
  ok('sin diálogos ni errores de JavaScript');
}

async function main() {
  const navegador = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync']
  });
  const usuarios = [];
  try {
    const ana = await nuevaPagina(navegador, 'ana');
    const bruno = await nuevaPagina(navegador, 'bruno');
    const carla = await nuevaPagina(navegador, 'carla');
    const diego = await nuevaPagina(navegador, 'diego', true);
    usuarios.push(ana, bruno, carla, diego);
    await escenario(ana, bruno, carla, diego);
    await capturar(usuarios);
    console.log('navegador_grupos: todo bien');
  } catch (error) {
    await capturar(usuarios, '-fallo');
    throw error;
  } finally {
    await navegador.close();
  }
}

main().catch((error) => {
  console.error(`navegador_grupos: FALLO: ${error.message}`);
  process.exit(1);
});
