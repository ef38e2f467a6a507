/*
 * Avisos del navegador: con la pestaña oculta, cada mensaje nuevo de otro usuario en una
 * conversación no silenciada muestra una notificación (API Notification; el permiso se pide
 * una sola vez, al pulsar «Activar avisos»). Silenciar una conversación se guarda en el
 * servidor y la quita de los avisos, del título y de las insignias.
 */
import { api, avisar, chat, crear } from './comun.js';

/** Avisos del navegador de los mensajes que llegan y el silencio por conversación. */
export async function iniciarAvisos() {
  const sesion = document.querySelector('.sesion');
  if ('Notification' in window && Notification.permission === 'default') {
    const activar = crear('button', 'boton boton-avisos', 'Activar avisos');
    activar.type = 'button';
    activar.id = 'btn-avisos';
    activar.addEventListener('click', async () => {
      await Notification.requestPermission();
      activar.remove();
    });
    sesion.prepend(activar);
  }

  const cabecera = document.querySelector('.cabecera-conversacion');
  const silencio = crear('button', 'boton-icono boton-silencio', '🔔');
  silencio.type = 'button';
  silencio.id = 'btn-silenciar';
  cabecera.appendChild(silencio);
  silencio.addEventListener('click', alternarSilencio);
  new MutationObserver(() => pintarSilencio(silencio)).observe(document.getElementById('chat-nombre'), {
    childList: true, characterData: true, subtree: true
  });

  try {
    const datos = await api('GET', '/api/chat/silencios');
    aplicar(datos.silenciadas);
  } catch (_) { /* sin la columna silenciado: nada silenciado */ }
  pintarSilencio(silencio);

  document.addEventListener('weigence:mensaje', (e) => notificar(e.detail));
}

function aplicar(ids) {
  const conjunto = chat().silenciadas;
  conjunto.clear();
  for (const id of ids) conjunto.add(String(id));
  chat().refrescarTitulo();
}

function pintarSilencio(boton) {
  const actual = chat().actual();
  const silenciada = actual !== null && chat().silenciadas.has(String(actual));
  boton.textContent = silenciada ? '🔕' : '🔔';
  boton.title = silenciada ? 'Conversación silenciada: pulsa para activar avisos' : 'Silenciar conversación';
  boton.setAttribute('aria-label', boton.title);
  boton.dataset.silenciada = silenciada ? '1' : '0';
}

async function alternarSilencio(e) {
  const boton = e.currentTarget;
  const actual = chat().actual();
  if (actual === null) return;
  const silenciar = !chat().silenciadas.has(String(actual));
  try {
    const datos = await api('PUT', '/api/chat/conversaciones/' + encodeURIComponent(actual) + '/silencio', {
      silenciado: silenciar
    });
    aplicar(datos.silenciadas);
  } catch (error) {
    avisar(error.message);
  }
  pintarSilencio(boton);
}

function notificar(m) {
  if (!document.hidden || !('Notification' in window) || Notification.permission !== 'granted') return;
  if (String(m.usuario_id) === String(chat().yo)) return;
  if (chat().silenciadas.has(String(m.conversacion_id))) return;
  const autor = (m.usuario && (m.usuario.nombre_completo || m.usuario.nombre)) || 'Mensaje nuevo';
  const aviso = new Notification(autor, {
    body: String(m.contenido || '').slice(0, 140),
    tag: 'conversacion-' + m.conversacion_id
  });
  aviso.addEventListener('click', () => {
    window.focus();
    chat().abrir(m.conversacion_id, m.id);
  });
}
