/*
 * Mensajes fijados: varios por conversación, en el orden en que se fijaron, en una barra
 * bajo la cabecera; cada uno lleva a su mensaje. Fijar y desfijar desde el menú del mensaje.
 */

import { api, crear, mismoId } from './comun.js';
import { dom, estado, idActual, manejarError } from './estado.js';
import { nombreUsuario } from './lista.js';
import { irAMensaje, mensajePorId, pedirPagina } from './mensajes.js';

/** Si el mensaje está fijado en la conversación abierta. */
export function estaFijado(id) {
  return estado.fijados.some((f) => mismoId(f.id, id));
}

/** Los fijados de la conversación abierta (mensajes del servidor, en orden). */
export function ponerFijados(lista) {
  const nuevos = Array.isArray(lista) ? lista : [];
  if (JSON.stringify(nuevos) === JSON.stringify(estado.fijados)) return; // recarga sin cambios
  estado.fijados = nuevos;
  pintarFijados();
}

/** Dibuja la barra de fijados (el texto al día de los que se muestran en la conversación). */
export function pintarFijados() {
  const barra = dom.barraFijados;
  barra.textContent = '';
  barra.classList.toggle('hidden', estado.fijados.length === 0);
  if (estado.fijados.length === 0) return;
  barra.appendChild(crear('span', 'fijados-titulo', '📌 Fijados (' + estado.fijados.length + ')'));
  const lista = crear('ol', 'fijados-lista');
  for (const f of estado.fijados) {
    const m = mensajePorId(f.id) || f;
    const boton = crear('button', 'fijado');
    boton.type = 'button';
    boton.dataset.id = String(f.id);
    boton.append(crear('span', 'fijado-autor', nombreUsuario(m.usuario) + ': '), crear('span', 'fijado-texto', String(m.contenido || '')));
    boton.title = 'Ir al mensaje fijado';
    boton.addEventListener('click', () => irAMensaje(f.id));
    const item = crear('li');
    item.appendChild(boton);
    lista.appendChild(item);
  }
  barra.appendChild(lista);
}

/** Fija o desfija un mensaje. */
export async function alternarFijado(m) {
  try {
    const datos = await api(estaFijado(m.id) ? 'DELETE' : 'POST', '/api/chat/mensajes/' + encodeURIComponent(m.id) + '/fijado');
    if (mismoId(m.conversacion_id || idActual(), idActual())) ponerFijados(datos.fijados);
  } catch (error) {
    manejarError(error);
  }
}

/**
 * fijados_actualizados: los ids fijados, en orden. Los que ya se conocen se reordenan aquí; si
 * falta alguno (un mensaje no cargado), se piden los fijados con el historial.
 */
export async function alCambiarFijados(datos) {
  const id = idActual();
  if (!datos || !mismoId(datos.conversacion_id, id) || estado.removida === id) return;
  const ids = Array.isArray(datos.fijados) ? datos.fijados : [];
  const conocidos = ids.map((f) => estado.fijados.find((x) => mismoId(x.id, f)) || mensajePorId(f));
  if (conocidos.every(Boolean)) {
    ponerFijados(conocidos);
    return;
  }
  try {
    const pagina = await pedirPagina(id, null, 1);
    if (id === idActual()) ponerFijados(pagina.fijados);
  } catch (error) {
    manejarError(error, true);
  }
}
