// Group commit under load: several conversations, each with SOCKETS sockets (tabs of its two
// users), all sending at once. Every send must be acknowledged as stored, and in each
// conversation every socket must receive every message exactly once, in the order
// GET /api/chat/mensajes returns.
//   node lotes.mjs BASE SOCKETS POR_SOCKET CONVERSACION,COOKIE_A,COOKIE_B ...
import { io } from 'socket.io-client';

const [base, socketsTexto, porSocketTexto, ...grupos] = process.argv.slice(2);
const nSockets = Number(socketsTexto);
const porSocket = Number(porSocketTexto);
const total = nSockets * porSocket;

function conectar(cookie) {
  return new Promise((resolver, rechazar) => {
    const socket = io(base, { transports: ['websocket'], extraHeaders: { Cookie: `session=${cookie}`, Origin: base }, reconnection: false, forceNew: true });
    socket.on('connect', () => resolver(socket));
    socket.on('connect_error', rechazar);
  });
}

const unirse = (socket, conversacion) => new Promise((resolver) => {
  socket.once('unido_conversacion', resolver);
  socket.emit('unirse_conversacion', { conversacion_id: conversacion });
});

async function main() {
  const salas = [];
  for (const grupo of grupos) {
    const [conversacion, cookieA, cookieB] = grupo.split(',');
    const sockets = [];
    for (let i = 0; i < nSockets; i += 1) sockets.push(await conectar(i % 2 === 0 ? cookieA : cookieB));
    await Promise.all(sockets.map((s) => unirse(s, conversacion)));
    const recibidos = sockets.map(() => []);
    const completos = sockets.map((socket, i) => new Promise((resolver) => {
      socket.on('mensaje_recibido', (m) => {
        recibidos[i].push(String(m.id));
        if (recibidos[i].length === total) resolver();
      });
    }));
    salas.push({ conversacion, cookieA, sockets, recibidos, completos });
  }
  const envios = salas.flatMap((sala) => sala.sockets.flatMap((socket, i) => Array.from({ length: porSocket }, (_, k) =>
    socket.timeout(20000).emitWithAck('mensaje_enviar', { conversacion_id: sala.conversacion, contenido: `${sala.conversacion}-s${i}-m${k}` }))));
  const acks = await Promise.all(envios);
  acks.forEach((ack, i) => {
    if (!ack || ack.success === false || ack.id === undefined) throw new Error(`send ${i} not stored: ${JSON.stringify(ack)}`);
  });
  await Promise.race([
    Promise.all(salas.flatMap((s) => s.completos)),
    new Promise((_, r) => setTimeout(() => r(new Error('not every message arrived')), 20000)),
  ]);
  for (const sala of salas) {
    const r = await fetch(`${base}/api/chat/mensajes/${sala.conversacion}?limite=100`, { headers: { Cookie: `session=${sala.cookieA}` } });
    const historial = (await r.json()).mensajes.map((m) => String(m.id));
    if (historial.length !== total) throw new Error(`conversation ${sala.conversacion}: history has ${historial.length} of ${total}`);
    sala.recibidos.forEach((lista, i) => {
      if (lista.length !== total) throw new Error(`conversation ${sala.conversacion}, socket ${i}: received ${lista.length} (duplicates or losses)`);
      if (lista.join() !== historial.join()) throw new Error(`conversation ${sala.conversacion}, socket ${i}: another order than GET mensajes`);
    });
  }
  console.log(`ok: ${salas.length} conversations x ${nSockets} sockets sent ${acks.length} messages at once; every socket saw each of its conversation once, in the order of GET mensajes`);
  salas.forEach((s) => s.sockets.forEach((x) => x.close()));
}

main().then(() => process.exit(0), (e) => { console.error(`FAIL: ${e.message}`); process.exit(1); });
