//! Errors as the contract's JSON bodies: one mapping from [`ErrorChat`] to status codes, and a
//! catch-all that turns the framework's own errors (bad JSON, wrong content type, unknown
//! route, body too large) into the same JSON shape under `/api/`.

use poem::http::StatusCode;
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::ApiResponse;
use poem_openapi::payload::Json;

use crate::contrato::{CuerpoError, v2};
use crate::service::ErrorChat;

/// Every error an API operation can answer.
#[derive(ApiResponse, Debug)]
pub enum RespuestaError {
    /// Bad input.
    #[oai(status = 400)]
    Invalido(Json<CuerpoError>),
    /// No valid session.
    #[oai(status = 401)]
    NoAutenticado(Json<CuerpoError>),
    /// Not a participant, or a foreign origin.
    #[oai(status = 403)]
    SinAcceso(Json<CuerpoError>),
    /// Unknown user or route.
    #[oai(status = 404)]
    NoEncontrado(Json<CuerpoError>),
    /// Conflicts with the current state (already a member, too many pins).
    #[oai(status = 409)]
    Conflicto(Json<CuerpoError>),
    /// Method not allowed on this path.
    #[oai(status = 405)]
    MetodoNoPermitido(Json<CuerpoError>),
    /// Message or body too large.
    #[oai(status = 413)]
    DemasiadoGrande(Json<CuerpoError>),
    /// The body is not `application/json`.
    #[oai(status = 415)]
    TipoNoSoportado(Json<CuerpoError>),
    /// Rate limit hit.
    #[oai(status = 429)]
    DemasiadasSolicitudes(Json<CuerpoError>, #[oai(header = "Retry-After")] u64),
    /// Unexpected failure (details only in the log).
    #[oai(status = 500)]
    Interno(Json<CuerpoError>),
    /// Database unreachable.
    #[oai(status = 503)]
    NoDisponible(Json<CuerpoError>),
}

/// The contract's error body.
pub fn cuerpo(texto: impl Into<String>) -> Json<CuerpoError> {
    Json(CuerpoError::new(texto))
}

/// v1 routes answer with v1 texts.
impl From<ErrorChat> for RespuestaError {
    fn from(e: ErrorChat) -> Self {
        let texto = e.to_string();
        RespuestaError::con_texto(e, texto)
    }
}

impl RespuestaError {
    /// The error as a v2 route answers it (v2 texts).
    pub fn v2(e: ErrorChat) -> Self {
        let texto = v2::texto_error(&e);
        RespuestaError::con_texto(e, texto)
    }

    /// The same error with another `msg` (on shared paths: v1's text in `error`, v2's in
    /// `msg`).
    pub fn con_msg(mut self, msg: String) -> Self {
        let cuerpo = match &mut self {
            RespuestaError::Invalido(c)
            | RespuestaError::NoAutenticado(c)
            | RespuestaError::SinAcceso(c)
            | RespuestaError::NoEncontrado(c)
            | RespuestaError::MetodoNoPermitido(c)
            | RespuestaError::Conflicto(c)
            | RespuestaError::DemasiadoGrande(c)
            | RespuestaError::TipoNoSoportado(c)
            | RespuestaError::DemasiadasSolicitudes(c, _)
            | RespuestaError::Interno(c)
            | RespuestaError::NoDisponible(c) => c,
        };
        cuerpo.0.msg = msg;
        self
    }

    /// The error with its status and `texto` as the body's text.
    fn con_texto(e: ErrorChat, texto: String) -> Self {
        match e {
            ErrorChat::Invalido(_) | ErrorChat::MensajeVacio | ErrorChat::FaltaDestino => {
                RespuestaError::Invalido(cuerpo(texto))
            }
            ErrorChat::NoAutenticado => RespuestaError::NoAutenticado(cuerpo(texto)),
            ErrorChat::YaEsMiembro | ErrorChat::DemasiadosFijados => {
                RespuestaError::Conflicto(cuerpo(texto))
            }
            ErrorChat::NoEsGrupo => RespuestaError::Invalido(cuerpo(texto)),
            ErrorChat::NoEsMiembro | ErrorChat::ConversacionNoEncontrada => {
                RespuestaError::NoEncontrado(cuerpo(texto))
            }
            ErrorChat::SinAcceso
            | ErrorChat::SinAccesoMensaje
            | ErrorChat::SoloElAutor
            | ErrorChat::SoloAdmin
            | ErrorChat::EsCreador
            | ErrorChat::SoloElAutorEdita
            | ErrorChat::MensajeDeSistema
            | ErrorChat::FueraDePlazo => RespuestaError::SinAcceso(cuerpo(texto)),
            ErrorChat::UsuarioNoEncontrado
            | ErrorChat::MensajeNoEncontrado
            | ErrorChat::AdjuntoNoEncontrado => RespuestaError::NoEncontrado(cuerpo(texto)),
            ErrorChat::DemasiadoLargo | ErrorChat::ArchivoGrande => {
                RespuestaError::DemasiadoGrande(cuerpo(texto))
            }
            ErrorChat::TipoNoPermitido => RespuestaError::TipoNoSoportado(cuerpo(texto)),
            ErrorChat::SinMigracion | ErrorChat::FaltaEsquema(_) => {
                RespuestaError::NoDisponible(cuerpo(texto))
            }
            ErrorChat::DemasiadasSolicitudes(espera) => RespuestaError::DemasiadasSolicitudes(
                cuerpo(texto),
                espera.as_secs_f64().ceil().max(1.0) as u64,
            ),
            ErrorChat::NoDisponible => RespuestaError::NoDisponible(cuerpo(texto)),
            ErrorChat::Interno => RespuestaError::Interno(cuerpo(texto)),
        }
    }

    /// The contract's error for a status the framework (or a guard) produced on its own.
    fn del_estado(status: StatusCode) -> Option<RespuestaError> {
        let c = cuerpo(texto_para(status));
        Some(match status {
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {
                RespuestaError::Invalido(c)
            }
            StatusCode::UNAUTHORIZED => RespuestaError::NoAutenticado(c),
            StatusCode::FORBIDDEN => RespuestaError::SinAcceso(c),
            StatusCode::NOT_FOUND => RespuestaError::NoEncontrado(c),
            StatusCode::METHOD_NOT_ALLOWED => RespuestaError::MetodoNoPermitido(c),
            StatusCode::PAYLOAD_TOO_LARGE => RespuestaError::DemasiadoGrande(c),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => RespuestaError::TipoNoSoportado(c),
            StatusCode::SERVICE_UNAVAILABLE => RespuestaError::NoDisponible(c),
            StatusCode::INTERNAL_SERVER_ERROR => RespuestaError::Interno(c),
            _ => return None,
        })
    }
}

/// A JSON error response with the contract's body.
pub fn respuesta_json(status: StatusCode, texto: &str) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .body(serde_json::json!({"success": false, "error": texto, "msg": texto}).to_string())
}

/// Spanish text for a status the framework produced on its own.
fn texto_para(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "Datos inválidos",
        StatusCode::UNAUTHORIZED => "No autenticado",
        StatusCode::FORBIDDEN => "Acceso denegado",
        StatusCode::NOT_FOUND => "Recurso no encontrado",
        StatusCode::METHOD_NOT_ALLOWED => "Método no permitido",
        StatusCode::PAYLOAD_TOO_LARGE => "Solicitud demasiado grande",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "Se requiere Content-Type: application/json",
        StatusCode::UNPROCESSABLE_ENTITY => "Datos inválidos",
        StatusCode::TOO_MANY_REQUESTS => "Demasiadas solicitudes",
        StatusCode::SERVICE_UNAVAILABLE => "Servicio no disponible",
        s if s.is_client_error() => "Solicitud inválida",
        _ => "Error interno del servidor",
    }
}

/// Middleware body for `/api/`: every response that is an error and not already JSON becomes
/// the contract's JSON error with the same status; internal details are logged, not sent.
pub async fn json_en_errores<E: Endpoint>(ep: E, req: Request) -> poem::Result<Response> {
    let ruta = req.uri().path().to_owned();
    let respuesta = match ep.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    };
    let status = respuesta.status();
    let es_json = respuesta
        .content_type()
        .is_some_and(|ct| ct.starts_with("application/json"));
    if (status.is_client_error() || status.is_server_error()) && !es_json {
        if status.is_server_error() {
            tracing::error!(%ruta, %status, "error del framework");
        }
        let mut nueva = match RespuestaError::del_estado(status) {
            Some(error) => error.into_response(),
            None => respuesta_json(status, texto_para(status)),
        };
        if let Some(v) = respuesta.headers().get("retry-after") {
            nueva.headers_mut().insert("retry-after", v.clone());
        }
        // Keeps the matched route template for the access log and the HTTP metrics.
        if let Some(plantilla) = respuesta.data::<poem::PathPattern>() {
            nueva.set_data(plantilla.clone());
        }
        return Ok(nueva);
    }
    Ok(respuesta)
}
