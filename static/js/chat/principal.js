/*
 * Entrada de los módulos de la página de chat (sin compilación): búsqueda de mensajes,
 * adjuntos y avisos del navegador, sobre la API que chat.js deja en window.weigenceChat.
 * chat.js (script clásico con defer) corre antes que este módulo.
 */
import { iniciarAdjuntos } from './adjuntos.js';
import { iniciarAvisos } from './avisos.js';
import { iniciarBusqueda } from './busqueda.js';

iniciarBusqueda();
iniciarAdjuntos();
iniciarAvisos();
