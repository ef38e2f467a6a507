//! The v1 REST API (CONTRACT.md §4). Each operation only translates between JSON and the
//! service; every rule lives in [`ChatService`](crate::service::ChatService).

use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, Tags};
use serde_json::Value;

use super::errores::RespuestaError;
use super::sesion::Autenticado;
use crate::contrato::v1::*;
use crate::service::ErrorChat;

/// Result of an API operation.
type Api<T> = Result<T, RespuestaError>;

#[derive(Tags)]
enum Etiqueta {
    /// 1:1 chat between Weigence staff.
    Chat,
    /// Who is online.
    Presencia,
}

/// `GET` answers with a JSON body.
#[derive(ApiResponse)]
pub enum Ok200<T: poem_openapi::types::ToJSON + Send + Sync> {
    /// Success.
    #[oai(status = 200)]
    Ok(Json<T>),
}

/// Creation answers: 201 when created, 200 when it already existed.
#[derive(ApiResponse)]
pub enum Creado<T: poem_openapi::types::ToJSON + Send + Sync> {
    /// Created.
    #[oai(status = 201)]
    Creado(Json<T>),
    /// Already existed.
    #[oai(status = 200)]
    Existia(Json<T>),
}

/// The chat API. Stateless: the service arrives with the [`Autenticado`] extractor, so the
/// OpenAPI document can be generated without a database.
pub struct ChatApi;

#[OpenApi(prefix_path = "/chat", tag = "Etiqueta::Chat")]
impl ChatApi {
    /// Every user except the caller, ordered by name.
    #[oai(path = "/usuarios", method = "get")]
    async fn usuarios(&self, yo: Autenticado) -> Api<Ok200<ListaUsuarios>> {
        let usuarios = yo.servicio.usuarios(&yo.actor).await?;
        Ok(Ok200::Ok(Json(ListaUsuarios {
            usuarios: usuarios.iter().map(UsuarioJson::from).collect(),
        })))
    }

    /// The caller's conversations, most recent activity first, with unread counts.
    #[oai(path = "/conversaciones", method = "get")]
    async fn conversaciones(&self, yo: Autenticado) -> Api<Ok200<ListaConversaciones>> {
        let lista = yo.servicio.conversaciones(&yo.actor).await?;
        Ok(Ok200::Ok(Json(ListaConversaciones {
            conversaciones: lista.iter().map(ConversacionJson::from).collect(),
        })))
    }

    /// Finds or creates the 1:1 conversation between the caller and another user.
    #[oai(path = "/conversacion/crear", method = "post")]
    async fn crear(
        &self,
        yo: Autenticado,
        body: Json<CrearConversacionBody>,
    ) -> Api<Creado<ConversacionCreadaJson>> {
        let hecha = yo
            .servicio
            .crear_conversacion(
                &yo.actor,
                body.participantes.as_ref(),
                body.usuario_id.as_ref(),
            )
            .await?;
        let respuesta = ConversacionCreadaJson {
            success: true,
            conversacion_id: hecha.id.to_string(),
            conversacion: ConversacionBreve {
                id: hecha.id.to_string(),
                nombre: Nulable(None),
                es_grupal: false,
                creado: hecha.creada,
            },
            mensaje: if hecha.creada {
                "Conversación creada"
            } else {
                "Conversación existente"
            }
            .into(),
        };
        Ok(if hecha.creada {
            Creado::Creado(Json(respuesta))
        } else {
            Creado::Existia(Json(respuesta))
        })
    }

    /// The newest messages of a conversation (at most 100, oldest first); `antes` pages back.
    #[oai(path = "/mensajes/:conversacion_id", method = "get")]
    async fn mensajes(
        &self,
        yo: Autenticado,
        conversacion_id: Path<String>,
        antes: Query<Option<String>>,
        limite: Query<Option<String>>,
    ) -> Api<Ok200<ListaMensajes>> {
        self.historial(yo, Value::String(conversacion_id.0), antes.0, limite.0)
            .await
    }

    /// Same as `/mensajes/{conversacion_id}`, with the id as a query parameter.
    #[oai(path = "/mensajes", method = "get")]
    async fn mensajes_query(
        &self,
        yo: Autenticado,
        conversacion_id: Query<Option<String>>,
        antes: Query<Option<String>>,
        limite: Query<Option<String>>,
    ) -> Api<Ok200<ListaMensajes>> {
        let id = conversacion_id
            .0
            .filter(|s| !s.trim().is_empty())
            .ok_or(ErrorChat::Invalido("Falta conversacion_id"))?;
        self.historial(yo, Value::String(id), antes.0, limite.0)
            .await
    }

    /// Stores a message from the caller. A retry with the same `client_id` (or
    /// `Idempotency-Key` header) returns the first message instead of storing it twice.
    #[oai(path = "/mensaje/enviar", method = "post")]
    async fn enviar(
        &self,
        yo: Autenticado,
        #[oai(name = "Idempotency-Key")] clave: Header<Option<String>>,
        body: Json<EnviarBody>,
    ) -> Api<Creado<MensajeEnviado>> {
        let clave = clave
            .0
            .map(Value::String)
            .or_else(|| body.client_id.clone());
        let mensaje = yo
            .servicio
            .enviar(
                &yo.actor,
                body.conversacion_id.as_ref(),
                body.contenido.as_ref(),
                clave.as_ref(),
            )
            .await?;
        Ok(Creado::Creado(Json(MensajeEnviado {
            mensaje: MensajeJson::para(&mensaje, &yo.actor.rut),
        })))
    }

    /// Moves the caller's read marker forward.
    #[oai(path = "/mensaje/marcar-leido", method = "post")]
    async fn marcar_leido(
        &self,
        yo: Autenticado,
        body: Json<MarcarLeidoBody>,
    ) -> Api<Ok200<Exito>> {
        yo.servicio
            .marcar_leido(
                &yo.actor,
                body.conversacion_id.as_ref(),
                body.mensaje_id.as_ref(),
            )
            .await?;
        Ok(Ok200::Ok(Json(Exito { success: true })))
    }
}

impl ChatApi {
    async fn historial(
        &self,
        yo: Autenticado,
        conversacion: Value,
        antes: Option<String>,
        limite: Option<String>,
    ) -> Api<Ok200<ListaMensajes>> {
        let mensajes = yo
            .servicio
            .mensajes(
                &yo.actor,
                &conversacion,
                antes.as_deref(),
                limite.as_deref(),
            )
            .await?;
        let mensajes = mensajes
            .iter()
            .map(|m| MensajeJson::para(m, &yo.actor.rut))
            .collect();
        Ok(Ok200::Ok(Json(ListaMensajes { mensajes })))
    }
}

/// Presence endpoints used by the Weigence pages.
pub struct PresenciaApi;

#[OpenApi(prefix_path = "/usuarios", tag = "Etiqueta::Presencia")]
impl PresenciaApi {
    /// Keeps the caller online while a page without a socket is open (sent every 15 s).
    #[oai(path = "/heartbeat", method = "post")]
    async fn heartbeat(&self, yo: Autenticado) -> Api<Ok200<Latido>> {
        yo.servicio.latido(&yo.actor)?;
        let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        Ok(Ok200::Ok(Json(Latido {
            success: true,
            usuario_id: yo.actor.rut.clone(),
            timestamp,
        })))
    }

    /// Users online anywhere in the cluster.
    #[oai(path = "/conectados", method = "get")]
    async fn conectados(&self, yo: Autenticado) -> Api<Ok200<Conectados>> {
        let conectados = yo.servicio.conectados(&yo.actor).await?;
        Ok(Ok200::Ok(Json(Conectados {
            success: true,
            total: conectados.len(),
            conectados,
        })))
    }
}
