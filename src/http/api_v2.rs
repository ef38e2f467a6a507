//! The v2 REST API (CONTRACT-v2.md §1, with the fixes of §7), except the paths v1 shares
//! (`api_comun`, which also holds v2's `DELETE` of a shared path). Each operation only translates between JSON and the service; errors carry
//! the v2 texts under `msg` (and `error`).

use std::collections::HashSet;

use poem_openapi::OpenApi;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use serde_json::Value;

use super::api::{Api, Directo, Etiqueta, Ok200};
use super::errores::RespuestaError;
use super::sesion::{Autenticado, V2};
use crate::contrato::v2::*;
use crate::contrato::{Exito, Nulable};
use crate::dominio::Id;
use crate::operacion::{self, metricas};
use crate::service::{Envio, ErrorChat};

/// The widget's operations.
pub struct ChatV2Api;

/// Maps a service error to the v2 body.
fn v2(e: ErrorChat) -> RespuestaError {
    RespuestaError::v2(e)
}

#[OpenApi(prefix_path = "/chat", tag = "Etiqueta::ChatV2")]
impl ChatV2Api {
    /// Every user except the caller, by name, with their online state.
    #[oai(path = "/users", method = "get")]
    async fn users(&self, yo: Autenticado<V2>) -> Api<Ok200<ListaUsuariosV2>> {
        let usuarios = yo.servicio.usuarios(&yo.actor).await.map_err(v2)?;
        let en_linea: HashSet<String> = yo.servicio.en_linea().await.into_iter().collect();
        Ok(Ok200::Ok(Directo(ListaUsuariosV2 {
            success: true,
            usuarios: usuarios
                .iter()
                .map(|u| UsuarioV2::de(u, &en_linea))
                .collect(),
        })))
    }

    /// Opens the 1:1 chat with the user `rut` (created atomically on first use): its newest 50
    /// messages with replies and reactions, both read markers and the pinned message. 400 for
    /// the caller's own rut, 404 for an unknown one.
    #[oai(path = "/history/:rut", method = "get")]
    async fn history(&self, yo: Autenticado<V2>, rut: Path<String>) -> Api<Ok200<Historial>> {
        let chat = yo
            .servicio
            .abrir_chat(&yo.actor, &rut.0)
            .await
            .map_err(v2)?;
        let para = |m| MensajeV2::para(m, Some(&yo.actor.rut));
        Ok(Ok200::Ok(Directo(Historial {
            success: true,
            conversacion_id: chat.conversacion.to_json(),
            mensajes: chat.mensajes.iter().map(para).collect(),
            last_seen_me: Nulable(chat.estado.visto_por_mi.as_ref().map(Id::to_json)),
            last_seen_other: Nulable(chat.estado.visto_por_otro.as_ref().map(Id::to_json)),
            mensaje_fijado: Nulable(chat.estado.fijado.as_ref().map(para)),
        })))
    }

    /// Sends a message to the user `destinatario_id` (or `rut_destino`; the chat is found or
    /// created) or into `conversacion_id`, optionally replying to a message of the same
    /// conversation. A retry with the same `client_id` (or `Idempotency-Key`) returns the
    /// first message.
    #[oai(path = "/send", method = "post")]
    async fn send(
        &self,
        yo: Autenticado<V2>,
        #[oai(name = "Idempotency-Key")] clave: Header<Option<String>>,
        body: Json<EnviarV2Body>,
    ) -> Api<Ok200<EnviadoV2>> {
        let clave = clave
            .0
            .map(Value::String)
            .or_else(|| body.client_id.clone());
        let envio = Envio {
            conversacion: body.conversacion_id.as_ref(),
            destinatario: body.destinatario_id.as_ref().or(body.rut_destino.as_ref()),
            contenido: body.contenido.as_ref(),
            clave: clave.as_ref(),
            responde_a: body.reply_to.as_ref(),
        };
        let mensaje = yo
            .servicio
            .enviar(&yo.actor, envio)
            .await
            .map_err(|e| match e {
                ErrorChat::SinAcceso => v2(e).con_msg("Sin acceso a la conversacion".to_owned()),
                otro => v2(otro),
            })?;
        metricas::contar(
            &metricas::MENSAJES,
            &[("transport", "rest"), ("generacion", operacion::V2)],
        );
        Ok(Ok200::Ok(Directo(EnviadoV2 {
            success: true,
            conversacion_id: mensaje.conversacion_id.to_string(),
            mensaje: MensajeV2::para(&mensaje, Some(&yo.actor.rut)),
        })))
    }

    /// Sets the caller's reaction to a message (one emoji; it replaces their previous one).
    #[oai(path = "/mensajes/:id/reaccion", method = "post")]
    async fn reaccionar(
        &self,
        yo: Autenticado<V2>,
        id: Path<String>,
        body: Json<ReaccionBody>,
    ) -> Api<Ok200<ReaccionHecha>> {
        reaccion(yo, &id.0, body.emoji.as_ref(), false).await
    }

    /// Removes the caller's reaction to a message.
    #[oai(path = "/mensajes/:id/reaccion", method = "delete")]
    async fn quitar_reaccion(
        &self,
        yo: Autenticado<V2>,
        id: Path<String>,
    ) -> Api<Ok200<ReaccionHecha>> {
        reaccion(yo, &id.0, None, true).await
    }

    /// Pins a message (one pin per conversation; it replaces the previous).
    #[oai(path = "/mensajes/:id/fijar", method = "post")]
    async fn fijar(&self, yo: Autenticado<V2>, id: Path<String>) -> Api<Ok200<Exito>> {
        yo.servicio.fijar(&yo.actor, &id.0).await.map_err(v2)?;
        Ok(Ok200::Ok(Directo(Exito { success: true })))
    }

    /// Unpins a message when it is the pinned one (otherwise nothing changes).
    #[oai(path = "/mensajes/:id/desfijar", method = "post")]
    async fn desfijar(&self, yo: Autenticado<V2>, id: Path<String>) -> Api<Ok200<Exito>> {
        yo.servicio.desfijar(&yo.actor, &id.0).await.map_err(v2)?;
        Ok(Ok200::Ok(Directo(Exito { success: true })))
    }
}

async fn reaccion(
    yo: Autenticado<V2>,
    id: &str,
    emoji: Option<&Value>,
    quitar: bool,
) -> Api<Ok200<ReaccionHecha>> {
    let (_, reacciones) = yo
        .servicio
        .reaccionar(&yo.actor, id, emoji, quitar)
        .await
        .map_err(v2)?;
    let mia = reacciones
        .iter()
        .find(|r| r.usuario_id == yo.actor.rut)
        .map(|r| r.emoji.clone());
    Ok(Ok200::Ok(Directo(ReaccionHecha {
        success: true,
        emoji: Nulable(mia),
        reacciones: resumen(&reacciones),
    })))
}
