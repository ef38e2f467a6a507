// No loss, no duplicates: C concurrent clients send N messages over REST, each with its own
// client_id, retrying the same key on any failure (connection refused or reset, 5xx) until
// the server answers 201. Meant to run while the server is killed and restarted.
//   node fiable.mjs BASE CONVERSACION COOKIE_A COOKIE_B CLIENTES MENSAJES SALIDA.json
// SALIDA.json: {"acked": {client_id: message_id}, "reintentos": n, "plazos": n, "segundos": s}
// An attempt is abandoned after 5 s by a referenced timer: undici can leave a fetch to a port
// that is refusing connections unsettled, and an `AbortSignal.timeout` timer is unreferenced,
// so Node would exit with code 13 (unsettled top-level await) instead of retrying.
import { writeFileSync } from 'node:fs';

const [base, conversacion, cookieA, cookieB, clientesTexto, mensajesTexto, salida] = process.argv.slice(2);
const clientes = Number(clientesTexto);
const mensajes = Number(mensajesTexto);
const acked = {};
let reintentos = 0;
let plazos = 0;
const espera = (ms) => new Promise((r) => setTimeout(r, ms));

async function enviarHastaConfirmar(cookie, clientId) {
  for (let intento = 0; ; intento += 1) {
    // Random duplicate sends of the same key, as a flaky network would produce.
    const duplicar = Math.random() < 0.05;
    const plazo = new AbortController();
    const reloj = setTimeout(() => {
      plazos += 1;
      plazo.abort(new Error('no answer within 5 s'));
    }, 5000);
    try {
      const envios = (duplicar ? [0, 1] : [0]).map(() => fetch(`${base}/api/chat/mensaje/enviar`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Cookie: `session=${cookie}` },
        body: JSON.stringify({ conversacion_id: conversacion, contenido: `fiable ${clientId}`, client_id: clientId }),
        signal: plazo.signal,
      }));
      const respuestas = await Promise.all(envios);
      const ok = respuestas.filter((r) => r.status === 201);
      if (ok.length > 0) {
        const ids = new Set();
        for (const r of ok) ids.add(String((await r.json()).mensaje.id));
        if (ids.size !== 1) throw new Error(`one key, two messages: ${[...ids]}`);
        return [...ids][0];
      }
      if (respuestas.some((r) => r.status < 500 && r.status !== 429)) {
        throw new Error(`refused with ${respuestas.map((r) => r.status)}`);
      }
    } catch (e) {
      if (String(e.message).startsWith('one key') || String(e.message).startsWith('refused')) throw e;
    } finally {
      clearTimeout(reloj);
    }
    reintentos += 1;
    await espera(Math.min(50 * 2 ** Math.min(intento, 4), 500) + Math.random() * 50);
  }
}

async function cliente(i) {
  const cookie = i % 2 === 0 ? cookieA : cookieB;
  for (let k = i; k < mensajes; k += clientes) {
    const clientId = `c${i}-m${k}`;
    acked[clientId] = await enviarHastaConfirmar(cookie, clientId);
  }
}

const inicio = Date.now();
await Promise.all(Array.from({ length: clientes }, (_, i) => cliente(i)));
const segundos = (Date.now() - inicio) / 1000;
writeFileSync(salida, JSON.stringify({ acked, reintentos, plazos, segundos }));
console.log(`fiable: ${Object.keys(acked).length} messages acknowledged by ${clientes} clients in ${segundos.toFixed(1)} s with ${reintentos} retries (${plazos} after 5 s without an answer)`);
