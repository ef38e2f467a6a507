// Contract scenario (CONTRACT.md §5) with the real Node socket.io-client 4.x over WebSocket.
//   node escenario_sio.mjs BASE CONVERSACION ANA BRUNO COOKIE_ANA COOKIE_BRUNO COOKIE_CARLA
// Cookies are Flask session cookie values made by the real Flask. Exits 1 on the first failed
// check; prints one "ok" line per check.
import { io } from 'socket.io-client';

const [base, conversacion, ana, bruno, cookieAna, cookieBruno, cookieCarla] = process.argv.slice(2);
const ESPERA = 5000;

function conectar(cookie, origen = base) {
  const extraHeaders = { Origin: origen };
  if (cookie) extraHeaders.Cookie = `session=${cookie}`;
  const socket = io(base, { transports: ['websocket'], extraHeaders, reconnection: false, timeout: ESPERA });
  const eventos = [];
  socket.onAny((evento, datos) => eventos.push([evento, datos]));
  return { socket, eventos };
}

function esperar(cliente, evento, condicion = () => true) {
  return new Promise((resolver, rechazar) => {
    const inicio = Date.now();
    const revisar = () => {
      const hallado = cliente.eventos.find(([e, d]) => e === evento && condicion(d));
      if (hallado) return resolver(hallado[1]);
      if (Date.now() - inicio > ESPERA) {
        return rechazar(new Error(`no llegó ${evento}; recibidos: ${cliente.eventos.map(([e]) => e)}`));
      }
      setTimeout(revisar, 10);
    };
    revisar();
  });
}

const conectado = (cliente) =>
  new Promise((resolver, rechazar) => {
    cliente.socket.on('connect', resolver);
    cliente.socket.on('connect_error', rechazar);
  });

function rechazo(cookie, origen) {
  return new Promise((resolver) => {
    const { socket } = conectar(cookie, origen);
    socket.on('connect', () => { socket.close(); resolver(false); });
    socket.on('connect_error', () => { socket.close(); resolver(true); });
  });
}

function afirmar(condicion, texto) {
  if (!condicion) throw new Error(texto);
}

const ok = (texto) => console.log(`ok: ${texto}`);
const cuantos = (cliente, evento, condicion = () => true) =>
  cliente.eventos.filter(([e, d]) => e === evento && condicion(d)).length;

async function main() {
  const a = conectar(cookieAna);
  const b = conectar(cookieBruno);
  const c = conectar(cookieCarla);
  await Promise.all([a, b, c].map(conectado));
  for (const cliente of [a, b, c]) await esperar(cliente, 'conectado');
  ok('three websocket clients connected with Flask cookies');

  const deLaConv = (d) => String(d.conversacion_id) === conversacion;
  for (const cliente of [a, b]) {
    cliente.socket.emit('unirse_conversacion', { conversacion_id: conversacion });
    await esperar(cliente, 'unido_conversacion', deLaConv);
  }
  c.socket.emit('unirse_conversacion', { conversacion_id: conversacion });
  const negado = await esperar(c, 'error');
  afirmar(negado.mensaje === 'No tienes acceso a esta conversación', JSON.stringify(negado));
  ok('members join; the outsider gets error');

  const guardado = await a.socket.timeout(ESPERA).emitWithAck('mensaje_enviar', { conversacion_id: conversacion, contenido: 'hola desde node' });
  afirmar(guardado.es_mio === true && guardado.contenido === 'hola desde node', JSON.stringify(guardado));
  for (const cliente of [a, b]) await esperar(cliente, 'mensaje_recibido', (d) => d.id === guardado.id);
  ok('socket send acked with the stored message and received by both');

  const r = await fetch(`${base}/api/chat/mensaje/enviar`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Cookie: `session=${cookieBruno}` },
    body: JSON.stringify({ conversacion_id: conversacion, contenido: 'hola por REST' }),
  });
  afirmar(r.status === 201, `REST send answered ${r.status}`);
  const porRest = (await r.json()).mensaje.id;
  for (const cliente of [a, b]) await esperar(cliente, 'mensaje_recibido', (d) => d.id === porRest);
  ok('REST send received by both');

  a.socket.emit('escribiendo', { conversacion_id: conversacion });
  const aviso = await esperar(b, 'usuario_escribiendo');
  afirmar(aviso.usuario_id === ana && String(aviso.conversacion_id) === conversacion, JSON.stringify(aviso));
  c.socket.emit('escribiendo', { conversacion_id: conversacion });
  c.socket.emit('mensaje_enviar', 'no es un objeto');
  await new Promise((r) => setTimeout(r, 500));
  afirmar(cuantos(a, 'usuario_escribiendo') === 0, 'the sender got its own typing');
  afirmar(cuantos(b, 'usuario_escribiendo') === 1, 'the outsider typing reached the room');
  afirmar(cuantos(c, 'error', (d) => d.mensaje === 'Datos inválidos') === 1, 'bad payload error');
  for (const cliente of [a, b]) {
    afirmar(cuantos(cliente, 'mensaje_recibido', (d) => d.id === guardado.id) === 1, 'socket message duplicated');
    afirmar(cuantos(cliente, 'mensaje_recibido', (d) => d.id === porRest) === 1, 'REST message duplicated');
  }
  afirmar(cuantos(c, 'mensaje_recibido') === 0, 'the outsider received a message');
  ok('exactly once; typing skips the sender; outsiders hear nothing');

  for (const cliente of [a, b, c]) cliente.socket.close();
  afirmar(await rechazo(null, base), 'no cookie accepted');
  afirmar(await rechazo(`${cookieAna}x`, base), 'tampered cookie accepted');
  afirmar(await rechazo(cookieAna, 'https://evil.example'), 'foreign origin accepted');
  ok('no cookie, tampered cookie and foreign Origin refused');
}

main().then(
  () => process.exit(0),
  (e) => { console.error(`FAIL: ${e.message}`); process.exit(1); },
);
