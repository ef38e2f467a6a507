/*
 * El grupo de la conversación abierta (G: nombre, miembros, administradores) y sus eventos:
 * grupo_actualizado, y removido_de_conversacion, tras el cual quien ya no es miembro ve el
 * aviso, no puede escribir y pierde la conversación de la lista. Crear un grupo está en
 * nuevo-grupo.js y el panel de miembros en panel-grupo.js.
 */

import { existe, mismoId } from './comun.js';
import { dom, estado, idActual, YO } from './estado.js';
import { abrirConversacion, buscarConversacionPorId, mostrarCabecera, renderConversaciones } from './lista.js';
import { cerrarPanel, pintarPanel } from './panel-grupo.js';
import { incorporarMiembros, pintarRecibos } from './ticks.js';

const $ = (id) => document.getElementById(id);

/** Participantes de la lista (los demás miembros) a partir de un grupo G. */
function participantesDe(g) {
  return g.miembros.filter((x) => !mismoId(x.usuario_id, YO))
    .map((x) => ({ id: x.usuario_id, nombre: x.nombre, nombre_completo: x.nombre, es_admin: x.es_admin }));
}

/** Un grupo G nuevo para su conversación: lista, cabecera, panel y, si está abierta, entregas. */
export function ponerGrupo(g) {
  if (!g || !existe(g.id)) return;
  const miembros = Array.isArray(g.miembros) ? g.miembros : [];
  const yo = miembros.find((x) => mismoId(x.usuario_id, YO));
  const grupo = Object.assign({}, g, { miembros, soy_admin: Boolean(yo && yo.es_admin) });
  if (estado.grupo && JSON.stringify(estado.grupo) === JSON.stringify(grupo)) return; // recarga sin cambios
  const c = buscarConversacionPorId(grupo.id);
  if (c && grupo.es_grupal) {
    c.nombre = grupo.nombre;
    c.participantes = participantesDe(grupo);
    renderConversaciones();
  }
  if (!mismoId(grupo.id, idActual())) return;
  const previo = estado.grupo && mismoId(estado.grupo.id, grupo.id) ? estado.grupo.miembros : null;
  if (previo) {
    incorporarMiembros(miembros.map((x) => String(x.usuario_id))
      .filter((rut) => !previo.some((x) => mismoId(x.usuario_id, rut))));
  }
  estado.grupo = grupo;
  if (grupo.es_grupal && estado.actual && estado.removida === null) {
    if (!c) Object.assign(estado.actual, { nombre: grupo.nombre, participantes: participantesDe(grupo) });
    mostrarCabecera(estado.actual);
    dom.btnGrupo.classList.remove('hidden');
  }
  pintarPanel();
  pintarRecibos();
}

/** grupo_actualizado: nombre y miembros nuevos (el G del evento no trae soy_admin). */
export function alActualizarGrupo(datos) {
  if (datos && datos.grupo) ponerGrupo(Object.assign({ id: datos.conversacion_id }, datos.grupo));
}

/** Al abrir o cerrar una conversación: sin grupo, sin aviso de expulsión, campo habilitado. */
export function reiniciarGrupo() {
  estado.grupo = null;
  estado.removida = null;
  dom.area.classList.remove('removida');
  dom.avisoRemovido.classList.add('hidden');
  dom.entrada.disabled = false;
  dom.btnEnviar.disabled = false;
  const adjuntar = $('btn-adjuntar');
  if (adjuntar) adjuntar.disabled = false;
  dom.btnGrupo.classList.toggle('hidden', !(estado.actual && estado.actual.es_grupal));
  cerrarPanel();
}

/** La conversación abierta ya no es mía: aviso, sin escribir ni menú, y fuera de la lista. */
export function mostrarRemovida(id) {
  quitarDeLista(id);
  if (!mismoId(id, idActual())) return;
  estado.removida = String(id);
  estado.grupo = null;
  dom.area.classList.add('removida');
  dom.avisoRemovido.classList.remove('hidden');
  dom.entrada.disabled = true;
  dom.btnEnviar.disabled = true;
  const adjuntar = $('btn-adjuntar');
  if (adjuntar) adjuntar.disabled = true;
  dom.btnGrupo.classList.add('hidden');
  cerrarPanel();
  dom.respuestaPrevia.classList.add('hidden');
  estado.respuesta = null;
}

/** Quita una conversación de la lista y de las salas pedidas. */
export function quitarDeLista(id) {
  estado.salas.delete(String(id));
  const antes = estado.conversaciones.length;
  estado.conversaciones = estado.conversaciones.filter((c) => !mismoId(c.id, id));
  if (estado.conversaciones.length !== antes) renderConversaciones();
}

/** removido_de_conversacion: me quitaron (o salí) de un grupo. */
export function alSerRemovido(datos) {
  if (datos && existe(datos.conversacion_id)) mostrarRemovida(String(datos.conversacion_id));
}

/** nueva_conversacion de la que está abierta tras quitarme: me volvieron a agregar. */
export function alReincorporarse(id) {
  if (!mismoId(id, estado.removida)) return;
  const c = buscarConversacionPorId(id);
  if (c) abrirConversacion(c);
}
