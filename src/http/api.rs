//! The v1 REST API (CONTRACT.md §4), except the paths v2 shares (`api_comun`). Each operation
//! only translates between JSON and the service; every rule lives in
//! [`ChatService`](crate::service::ChatService).

use poem::{IntoResponse, Response};
use poem_openapi::param::{Header, Query};
use poem_openapi::payload::{Json, Payload};
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, OpenApi, Tags};
use serde::Serialize;
use serde_json::Value;

use super::errores::RespuestaError;
use super::sesion::{Ambas, Autenticado};
use crate::contrato::Latido;
use crate::contrato::v1::*;
use crate::operacion::{V1, metricas};
use crate::service::{Envio, ErrorChat};

/// Result of an API operation.
pub type Api<T> = Result<T, RespuestaError>;

/// OpenAPI tags.
#[derive(Tags)]
pub enum Etiqueta {
    /// v1: the `/chat` page's 1:1 chat (CONTRACT.md §4).
    Chat,
    /// Paths both generations share: each answers with both generations' keys.
    Comun,
    /// v2: the floating widget (CONTRACT-v2.md §1).
    ChatV2,
    /// Who is online.
    Presencia,
    /// Our own additions: message search, attachments, per-conversation mute.
    Propia,
    /// Our own additions: groups, edits, reactions, pins, delivery states.
    Grupos,
}

/// A JSON answer serialized straight from its wire struct with serde, documented in the OpenAPI
/// document as `T`'s schema. poem-openapi's own `Json` first builds a `serde_json::Value` tree
/// (`ToJSON`) and then serializes that: for a list of 500 conversations the tree cost more CPU
/// than the rest of the request (BENCHMARKS.md, tuning log).
pub struct Directo<T>(pub T);

impl<T: Type + Send> Payload for Directo<T> {
    const CONTENT_TYPE: &'static str = "application/json; charset=utf-8";

    fn check_content_type(content_type: &str) -> bool {
        <Json<T> as Payload>::check_content_type(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Serialize + Send> IntoResponse for Directo<T> {
    fn into_response(self) -> Response {
        poem::web::Json(self.0).into_response()
    }
}

/// `GET` answers with a JSON body.
#[derive(ApiResponse)]
pub enum Ok200<T: Type + Serialize + Send + Sync> {
    /// Success.
    #[oai(status = 200)]
    Ok(Directo<T>),
}

/// Creation answers: 201 when created, 200 when it already existed.
#[derive(ApiResponse)]
pub enum Creado<T: Type + Serialize + Send + Sync> {
    /// Created.
    #[oai(status = 201)]
    Creado(Directo<T>),
    /// Already existed.
    #[oai(status = 200)]
    Existia(Directo<T>),
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
        Ok(Ok200::Ok(Directo(ListaUsuarios {
            usuarios: usuarios.iter().map(UsuarioJson::from).collect(),
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
            Creado::Creado(Directo(respuesta))
        } else {
            Creado::Existia(Directo(respuesta))
        })
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
        historial(yo, Value::String(id), antes.0, limite.0).await
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
        let envio = Envio {
            conversacion: body.conversacion_id.as_ref(),
            contenido: body.contenido.as_ref(),
            clave: clave.as_ref(),
            responde_a: body.reply_to.as_ref(),
            ..Envio::default()
        };
        let mensaje = yo.servicio.enviar(&yo.actor, envio).await?;
        metricas::contar(
            &metricas::MENSAJES,
            &[("transport", "rest"), ("generacion", V1)],
        );
        Ok(Creado::Creado(Directo(MensajeEnviado {
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
        Ok(Ok200::Ok(Directo(Exito { success: true })))
    }
}

/// A conversation's messages, v1 shapes.
async fn historial(
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
    Ok(Ok200::Ok(Directo(ListaMensajes { mensajes })))
}

/// Presence endpoints used by the Weigence pages.
pub struct PresenciaApi;

#[OpenApi(prefix_path = "/usuarios", tag = "Etiqueta::Presencia")]
impl PresenciaApi {
    /// Keeps the caller online while a page without a socket is open (sent every 15 s).
    #[oai(path = "/heartbeat", method = "post")]
    async fn heartbeat(&self, yo: Autenticado<Ambas>) -> Api<Ok200<Latido>> {
        yo.servicio.latido(&yo.actor)?;
        let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        Ok(Ok200::Ok(Directo(Latido {
            success: true,
            usuario_id: yo.actor.rut.clone(),
            timestamp,
            usuario: yo.actor.nombre.clone(),
            rut: yo.actor.rut.clone(),
            total_conectados: yo.servicio.en_linea().await.len(),
        })))
    }

    /// Users online anywhere in the cluster.
    #[oai(path = "/conectados", method = "get")]
    async fn conectados(&self, yo: Autenticado<Ambas>) -> Api<Ok200<Conectados>> {
        let conectados = yo.servicio.conectados(&yo.actor).await?;
        Ok(Ok200::Ok(Directo(Conectados {
            success: true,
            total: conectados.len(),
            conectados,
        })))
    }
}
