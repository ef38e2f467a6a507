/*
 * Entrada de la página de chat (la carga static/js/chat.js): primero la página (lista,
 * mensajes, envío, tiempo real, sondeo), luego lo que se apoya en su API window.weigenceChat:
 * búsqueda de mensajes, adjuntos y avisos del navegador.
 */
import { iniciarAdjuntos } from './adjuntos.js';
import { iniciarAvisos } from './avisos.js';
import { iniciarBusqueda } from './busqueda.js';
import { iniciar } from './pagina.js';

iniciar();
iniciarBusqueda();
iniciarAdjuntos();
iniciarAvisos();
