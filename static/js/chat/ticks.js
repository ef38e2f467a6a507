/*
 * Confirmaciones de mis mensajes: ✓ enviado (guardado), ✓✓ entregado (llegó a un socket de
 * cada destinatario), leído (✓✓ azul en 1:1; «leído por N de M» en grupos). Parten de la
 * `entrega` del historial y avanzan con mensaje_entregado y mensaje_visto (marcas que solo
 * avanzan: un usuario llegó hasta tal mensaje). Y el aviso propio: marcar_entregado por cada
 * mensaje de otro que llega a esta página.
 */

import { api, crear, existe, mismoId } from './comun.js';
import { dom, enVivo, estado, idActual, manejarError, YO } from './estado.js';
import { esPropio } from './lista.js';

const TITULOS = { enviado: 'Enviado', entregado: 'Entregado', leido: 'Leído' };

/** La entrega de un mensaje propio (la crea vacía si el mensaje llegó sin ella). */
function entregaDe(m) {
  if (!m.entrega) m.entrega = { estado: 'enviado', destinatarios: 0, entregado_a: [], leido_por: [] };
  m.entrega.entregado_a = m.entrega.entregado_a || [];
  m.entrega.leido_por = m.entrega.leido_por || [];
  return m.entrega;
}

/** Une dos entregas de un mismo mensaje: las listas solo crecen. */
export function unirEntregas(vieja, nueva) {
  if (!vieja) return nueva;
  const unir = (a, b) => Array.from(new Set([...(a || []), ...(b || [])].map(String)));
  return Object.assign({}, nueva, {
    entregado_a: unir(vieja.entregado_a, nueva.entregado_a),
    leido_por: unir(vieja.leido_por, nueva.leido_por)
  });
}

/** Los destinatarios actuales de mis mensajes en la conversación abierta: los demás miembros. */
function destinatarios() {
  if (estado.grupo && Array.isArray(estado.grupo.miembros)) {
    return estado.grupo.miembros.map((x) => String(x.usuario_id)).filter((rut) => rut !== YO);
  }
  return ((estado.actual && estado.actual.participantes) || []).map((p) => String(p.id)).filter((rut) => rut !== YO);
}

/** Estado de un mensaje propio contra los miembros actuales (como calcula el servidor). */
function estadoEntrega(m) {
  const e = entregaDe(m);
  const para = destinatarios();
  if (para.length === 0) {
    return { estado: e.estado || 'enviado', leidos: e.leido_por.length, total: Number(e.destinatarios) || 0 };
  }
  const leidos = para.filter((rut) => e.leido_por.includes(rut)).length;
  const entregados = para.filter((rut) => e.leido_por.includes(rut) || e.entregado_a.includes(rut)).length;
  let clave = 'enviado';
  if (leidos === para.length) clave = 'leido';
  else if (entregados === para.length) clave = 'entregado';
  return { estado: clave, leidos, total: para.length };
}

/** Los elementos de confirmación del pie de un mensaje propio: ✓/✓✓ y, en grupos, «leído por». */
export function elementosRecibo(m) {
  const recibo = crear('span', 'recibo');
  const leidoPor = crear('span', 'leido-por hidden');
  pintar(recibo, leidoPor, m);
  return [recibo, leidoPor];
}

function pintar(recibo, leidoPor, m) {
  const { estado: clave, leidos, total } = estadoEntrega(m);
  recibo.dataset.estado = clave;
  recibo.textContent = clave === 'enviado' ? '✓' : '✓✓';
  recibo.classList.toggle('leido', clave === 'leido');
  recibo.title = TITULOS[clave];
  recibo.setAttribute('aria-label', recibo.title);
  const enGrupo = Boolean(estado.actual && estado.actual.es_grupal);
  leidoPor.textContent = enGrupo && leidos > 0 ? 'leído por ' + leidos + ' de ' + total : '';
  leidoPor.classList.toggle('hidden', leidoPor.textContent === '');
}

/** Vuelve a pintar las confirmaciones de los mensajes propios mostrados. */
export function pintarRecibos() {
  estado.mensajes.forEach((m, posicion) => {
    const fila = dom.mensajes.children[posicion];
    const recibo = fila && fila.querySelector('.recibo');
    if (recibo) pintar(recibo, fila.querySelector('.leido-por'), m);
  });
}

/**
 * mensaje_entregado (`tipo` «entregado») o mensaje_visto de otro (`tipo` «leido»): ese
 * usuario llegó hasta `ultimo_id`. Se guarda por conversación y se aplica a la abierta.
 */
export function alMarcar(tipo, datos) {
  if (!datos || !existe(datos.ultimo_id) || !existe(datos.usuario_id) || mismoId(datos.usuario_id, YO)) return;
  const id = String(datos.conversacion_id);
  if (!estado.marcas.has(id)) estado.marcas.set(id, new Map());
  estado.marcas.get(id).set(tipo + ':' + datos.usuario_id, datos.ultimo_id);
  if (id === idActual()) aplicarMarcas();
}

/**
 * Aplica las marcas de la conversación abierta a mis mensajes mostrados hasta la posición del
 * mensaje marcado. Si ese mensaje aún no se muestra no se aplica: al llegar se vuelve a calcular.
 */
export function aplicarMarcas() {
  const marcas = estado.marcas.get(idActual());
  if (marcas) {
    for (const [clave, ultimo] of marcas) {
      const corte = clave.indexOf(':');
      const tipo = clave.slice(0, corte);
      const rut = clave.slice(corte + 1);
      const hasta = estado.mensajes.findIndex((m) => mismoId(m.id, ultimo));
      for (let i = 0; i <= hasta; i++) {
        const m = estado.mensajes[i];
        if (!esPropio(m) || m.tipo === 'sistema' || mismoId(m.usuario_id, rut)) continue;
        const lista = tipo === 'leido' ? entregaDe(m).leido_por : entregaDe(m).entregado_a;
        if (!lista.includes(rut)) lista.push(rut);
      }
    }
  }
  pintarRecibos();
}

/**
 * Miembros recién agregados a la conversación abierta: el servidor pone sus marcas en el
 * mensaje más nuevo, así que todo lo mostrado ya cuenta como entregado y leído por ellos.
 */
export function incorporarMiembros(ruts) {
  for (const m of estado.mensajes) {
    if (!esPropio(m) || m.tipo === 'sistema') continue;
    const e = entregaDe(m);
    for (const rut of ruts) {
      if (!e.entregado_a.includes(rut)) e.entregado_a.push(rut);
      if (!e.leido_por.includes(rut)) e.leido_por.push(rut);
    }
  }
}

/**
 * Avisa al servidor que un mensaje de otro llegó a esta página (una vez por mensaje): por el
 * socket (marcar_entregado) o, si la página sondea sin él, por REST. Mientras el socket aún
 * conecta no se avisa: la recarga que sigue a la conexión lo hace por el socket.
 */
export function avisarEntregado(conversacionId, mensajeId) {
  const id = String(conversacionId);
  if (!existe(mensajeId) || mismoId(estado.entregaAvisada.get(id), mensajeId)) return;
  const vivo = enVivo();
  if (!vivo && (estado.sinGrupos || dom.estadoConexion.dataset.estado === 'conectando')) return;
  estado.entregaAvisada.set(id, mensajeId);
  if (vivo) {
    estado.socket.emit('marcar_entregado', { conversacion_id: id, mensaje_id: mensajeId });
  } else {
    api('POST', '/api/chat/conversaciones/' + encodeURIComponent(id) + '/entregado', { mensaje_id: mensajeId })
      .catch((error) => manejarError(error, true));
  }
}

/** Tras cargar la lista: el último mensaje de cada conversación, si es de otro, llegó aquí. */
export function avisarEntregadosDeLista() {
  for (const c of estado.conversaciones) {
    if (c.ultimo_mensaje && !esPropio(c.ultimo_mensaje)) avisarEntregado(c.id, c.ultimo_mensaje.id);
  }
}
