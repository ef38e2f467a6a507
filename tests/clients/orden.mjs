// Ordering: N sockets (tabs of two users) in one conversation all send at once; every socket
// must receive every message exactly once and in the order GET /api/chat/mensajes returns.
//   node orden.mjs BASE CONVERSACION COOKIE_A COOKIE_B [SOCKETS=50] [POR_SOCKET=2]
import { io } from 'socket.io-client';

const [base, conversacion, cookieA, cookieB, socketsTexto, porSocketTexto] = process.argv.slice(2);
const nSockets = Number(socketsTexto || 50);
const porSocket = Number(porSocketTexto || 2);
const total = nSockets * porSocket;

function conectar(cookie) {
  return new Promise((resolver, rechazar) => {
    const socket = io(base, { transports: ['websocket'], extraHeaders: { Cookie: `session=${cookie}`, Origin: base }, reconnection: false });
    socket.on('connect', () => resolver(socket));
    socket.on('connect_error', rechazar);
  });
}

const unirse = (socket) => new Promise((resolver) => {
  socket.once('unido_conversacion', resolver);
  socket.emit('unirse_conversacion', { conversacion_id: conversacion });
});

async function main() {
  const sockets = [];
  for (let i = 0; i < nSockets; i += 1) sockets.push(await conectar(i % 2 === 0 ? cookieA : cookieB));
  await Promise.all(sockets.map(unirse));
  const recibidos = sockets.map(() => []);
  const completos = sockets.map((socket, i) => new Promise((resolver) => {
    socket.on('mensaje_recibido', (m) => {
      recibidos[i].push(String(m.id));
      if (recibidos[i].length === total) resolver();
    });
  }));
  await Promise.all(sockets.flatMap((socket, i) => Array.from({ length: porSocket }, (_, k) =>
    socket.timeout(10000).emitWithAck('mensaje_enviar', { conversacion_id: conversacion, contenido: `s${i}-m${k}` }))));
  await Promise.race([Promise.all(completos), new Promise((_, r) => setTimeout(() => r(new Error('not every message arrived')), 15000))]);
  await new Promise((r) => setTimeout(r, 300));
  const r = await fetch(`${base}/api/chat/mensajes/${conversacion}?limite=100`, { headers: { Cookie: `session=${cookieA}` } });
  const historial = (await r.json()).mensajes.map((m) => String(m.id));
  if (historial.length !== total) throw new Error(`history has ${historial.length} of ${total}`);
  recibidos.forEach((lista, i) => {
    if (lista.length !== total) throw new Error(`socket ${i} received ${lista.length} (duplicates or losses)`);
    if (lista.join() !== historial.join()) throw new Error(`socket ${i} saw another order than GET mensajes`);
  });
  console.log(`ok: ${nSockets} sockets sent ${total} messages at once; every socket saw each once, in the order of GET mensajes`);
  sockets.forEach((s) => s.close());
}

main().then(() => process.exit(0), (e) => { console.error(`FAIL: ${e.message}`); process.exit(1); });
