/*
 * Búsqueda de mensajes: un cuadro bajo la lista de conversaciones; los resultados (de las
 * conversaciones del usuario) muestran el fragmento con las palabras encontradas resaltadas
 * y, al elegir uno, abren su conversación en ese mensaje, resaltado.
 */
import { api, avisar, chat, crear } from './comun.js';

const ESPERA_TECLEO_MS = 300;

/** El campo de búsqueda de mensajes y sus resultados, que abren el mensaje en su conversación. */
export function iniciarBusqueda() {
  const acciones = document.querySelector('.barra-acciones');
  const caja = crear('div', 'busqueda-mensajes');
  const campo = crear('input', 'campo');
  campo.type = 'search';
  campo.id = 'buscar-mensajes';
  campo.placeholder = 'Buscar en los mensajes';
  campo.setAttribute('aria-label', 'Buscar en los mensajes');
  campo.autocomplete = 'off';
  const lista = crear('ul', 'resultados-busqueda hidden');
  lista.id = 'resultados-busqueda';
  caja.append(campo, lista);
  acciones.after(caja);

  let temporizador = 0;
  let turno = 0;
  campo.addEventListener('input', () => {
    clearTimeout(temporizador);
    temporizador = setTimeout(() => buscar(campo.value.trim()), ESPERA_TECLEO_MS);
  });

  async function buscar(texto) {
    const mio = ++turno;
    if (!texto) {
      lista.classList.add('hidden');
      lista.textContent = '';
      return;
    }
    let datos;
    try {
      datos = await api('GET', '/api/chat/buscar?q=' + encodeURIComponent(texto));
    } catch (error) {
      avisar(error.message);
      return;
    }
    if (mio !== turno) return;
    lista.textContent = '';
    if (datos.resultados.length === 0) lista.appendChild(crear('li', 'resultado-vacio', 'Sin resultados'));
    for (const r of datos.resultados) lista.appendChild(elementoResultado(r));
    lista.classList.remove('hidden');
  }

  function elementoResultado(r) {
    const li = crear('li', 'resultado');
    const boton = crear('button', 'resultado-boton');
    boton.type = 'button';
    boton.dataset.mensajeId = String(r.mensaje_id);
    boton.appendChild(crear('span', 'resultado-autor', r.usuario_nombre + ' · ' + chat().nombreDe(r.conversacion_id)));
    const texto = crear('span', 'resultado-fragmento');
    for (const trozo of r.fragmento) texto.appendChild(crear(trozo.resaltado ? 'mark' : 'span', '', trozo.texto));
    boton.appendChild(texto);
    boton.addEventListener('click', async () => {
      const ok = await chat().abrir(r.conversacion_id, r.mensaje_id);
      if (!ok) avisar('No se encontró el mensaje en la conversación');
    });
    li.appendChild(boton);
    return li;
  }
}
