//! The two paths both generations use with different meanings (CONTRACT-v2.md §6): one
//! operation each, answering with the keys of every generation switched on.

use std::collections::HashSet;

use poem_openapi::OpenApi;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use serde_json::Value;

use super::api::{Api, Directo, Etiqueta, Ok200};
use super::errores::RespuestaError;
use super::sesion::{Ambas, Autenticado};
use crate::contrato::propia::{EditarBody, MensajeEditado, MensajePropio};
use crate::contrato::{ConversacionesAmbas, Exito, MensajesAmbas, v1, v2};
use crate::service::ErrorChat;

/// Operations on the shared paths.
pub struct ComunApi;

#[OpenApi(prefix_path = "/chat", tag = "Etiqueta::Comun")]
impl ComunApi {
    /// The caller's conversations, most recent activity first, with unread counts:
    /// `conversaciones` (v1) and `lista` (v2, one item per conversation with another member).
    #[oai(path = "/conversaciones", method = "get")]
    async fn conversaciones(&self, yo: Autenticado<Ambas>) -> Api<Ok200<ConversacionesAmbas>> {
        let g = yo.generaciones;
        let lista = yo
            .servicio
            .conversaciones(&yo.actor)
            .await
            .map_err(|e| error_de(g.v1, e))?;
        let en_linea: HashSet<String> = if g.v2 {
            yo.servicio.en_linea().await.into_iter().collect()
        } else {
            HashSet::new()
        };
        Ok(Ok200::Ok(Directo(ConversacionesAmbas {
            success: true,
            conversaciones: g
                .v1
                .then(|| lista.iter().map(v1::ConversacionJson::from).collect()),
            lista: g.v2.then(|| {
                lista
                    .iter()
                    .filter_map(|c| v2::ConversacionV2::de(c, &en_linea))
                    .collect()
            }),
        })))
    }

    /// `id` as a conversation of the caller (v1: `mensajes`, its newest 100 messages, oldest
    /// first; `antes` and `limite` page back) and as a message the caller may read (v2:
    /// `mensaje`). 403/404 only when it is neither.
    #[oai(path = "/mensajes/:id", method = "get")]
    async fn mensajes(
        &self,
        yo: Autenticado<Ambas>,
        id: Path<String>,
        antes: Query<Option<String>>,
        limite: Query<Option<String>>,
    ) -> Api<Ok200<MensajesAmbas>> {
        let g = yo.generaciones;
        let como_conversacion = if g.v1 {
            let historial = yo
                .servicio
                .mensajes(
                    &yo.actor,
                    &Value::String(id.0.clone()),
                    antes.0.as_deref(),
                    limite.0.as_deref(),
                )
                .await;
            Some(historial.map(|lista| {
                lista
                    .iter()
                    .map(|m| v1::MensajeJson::para(m, &yo.actor.rut))
                    .collect::<Vec<_>>()
            }))
        } else {
            None
        };
        let como_mensaje = if g.v2 {
            Some(
                yo.servicio
                    .mensaje(&yo.actor, &id.0)
                    .await
                    .map(|m| v2::MensajeV2::para(&m, Some(&yo.actor.rut))),
            )
        } else {
            None
        };
        match (como_conversacion, como_mensaje) {
            // A bad `antes` or `limite` is a v1 request's mistake, whatever the id is.
            (Some(Err(e @ ErrorChat::Invalido(_))), _) | (Some(Err(e)), None) => {
                Err(RespuestaError::from(e))
            }
            (Some(Err(e)), Some(Err(e2))) => {
                Err(RespuestaError::from(e).con_msg(v2::texto_error(&e2)))
            }
            (None, Some(Err(e))) => Err(RespuestaError::v2(e)),
            (conversacion, mensaje) => Ok(Ok200::Ok(Directo(MensajesAmbas {
                success: true,
                mensajes: conversacion.and_then(Result::ok),
                mensaje: mensaje.and_then(Result::ok),
            }))),
        }
    }
    /// Deletes a message (with its reactions and pin): the caller's own, or any in a group the
    /// caller administers (v2's route, and our page's). Here because poem-openapi keeps one set
    /// of operations per path.
    #[oai(path = "/mensajes/:id", method = "delete")]
    async fn eliminar(&self, yo: Autenticado<Ambas>, id: Path<String>) -> Api<Ok200<Exito>> {
        yo.servicio
            .eliminar(&yo.actor, &id.0)
            .await
            .map_err(RespuestaError::v2)?;
        Ok(Ok200::Ok(Directo(Exito { success: true })))
    }

    /// Our API: edits one of the caller's messages within `EDIT_WINDOW_SECONDS` of sending it
    /// (`editado` becomes true; the room hears `mensaje_editado`).
    #[oai(path = "/mensajes/:id", method = "patch")]
    async fn editar(
        &self,
        yo: Autenticado<Ambas>,
        id: Path<String>,
        body: Json<EditarBody>,
    ) -> Api<Ok200<MensajeEditado>> {
        let (mensaje, entregas) = yo
            .servicio
            .editar(&yo.actor, &id.0, body.contenido.as_ref())
            .await?;
        Ok(Ok200::Ok(Directo(MensajeEditado {
            success: true,
            mensaje: MensajePropio::para(&mensaje, &yo.actor.rut, &entregas),
        })))
    }
}

/// An error with the texts of v1 when v1 is on, else of v2.
fn error_de(v1: bool, e: ErrorChat) -> RespuestaError {
    if v1 {
        RespuestaError::from(e)
    } else {
        RespuestaError::v2(e)
    }
}
