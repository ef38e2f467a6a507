// Send-to-receipt latency over Socket.IO (WebSocket): Ana emits `mensaje_enviar`, the clock stops
// when Bruno's socket receives the `mensaje_recibido` for it. Messages go one after another.
//   node latencia.mjs BASE CONVERSACION COOKIE_ANA COOKIE_BRUNO [N=1000]
// Prints one JSON line: {n, p50_ms, p90_ms, p99_ms, max_ms, mean_ms}.
import { io } from 'socket.io-client';

const [base, conversacion, cookieAna, cookieBruno, nTexto] = process.argv.slice(2);
const n = Number(nTexto || 1000);

function conectar(cookie) {
  return new Promise((resolver, rechazar) => {
    const socket = io(base, {
      transports: ['websocket'],
      extraHeaders: { Cookie: `session=${cookie}`, Origin: base },
      reconnection: false,
    });
    socket.on('connect', () => resolver(socket));
    socket.on('connect_error', rechazar);
  });
}

const unirse = (socket) =>
  new Promise((resolver) => {
    socket.once('unido_conversacion', resolver);
    socket.emit('unirse_conversacion', { conversacion_id: conversacion });
  });

function percentil(ordenados, p) {
  return ordenados[Math.min(ordenados.length - 1, Math.ceil((p / 100) * ordenados.length) - 1)];
}

async function main() {
  const ana = await conectar(cookieAna);
  const bruno = await conectar(cookieBruno);
  await Promise.all([unirse(ana), unirse(bruno)]);
  const pendientes = new Map();
  bruno.on('mensaje_recibido', (m) => {
    const resolver = pendientes.get(m.contenido);
    if (resolver) resolver(process.hrtime.bigint());
  });
  const tiempos = [];
  for (let i = 0; i < n + 50; i += 1) {
    const contenido = `latencia ${i}`;
    const llegada = new Promise((resolver) => pendientes.set(contenido, resolver));
    const inicio = process.hrtime.bigint();
    ana.emit('mensaje_enviar', { conversacion_id: conversacion, contenido });
    const fin = await llegada;
    pendientes.delete(contenido);
    if (i >= 50) tiempos.push(Number(fin - inicio) / 1e6); // the first 50 warm up
  }
  ana.close();
  bruno.close();
  const ordenados = [...tiempos].sort((a, b) => a - b);
  const redondo = (x) => Math.round(x * 1000) / 1000;
  console.log(JSON.stringify({
    n: tiempos.length,
    p50_ms: redondo(percentil(ordenados, 50)),
    p90_ms: redondo(percentil(ordenados, 90)),
    p99_ms: redondo(percentil(ordenados, 99)),
    max_ms: redondo(ordenados[ordenados.length - 1]),
    mean_ms: redondo(tiempos.reduce((a, b) => a + b, 0) / tiempos.length),
  }));
}

main().catch((e) => { console.error(e); process.exit(1); });
