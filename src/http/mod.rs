//! HTTP: the v1 REST API, the pages, static files, health and the OpenAPI document, plus the
//! request guards every route shares (origin check, body cap, JSON errors).

pub mod api;
pub mod api_comun;
pub mod api_grupos;
pub mod api_propia;
pub mod api_v2;
pub mod errores;
pub mod observar;
pub mod paginas;
pub mod sesion;

use std::sync::Arc;

use poem::endpoint::StaticFilesEndpoint;
use poem::http::{Method, StatusCode};
use poem::{Body, Endpoint, EndpointExt, IntoResponse, Request, Response, Route, get};
use poem_openapi::OpenApiService;
use tokio::io::AsyncReadExt;

use crate::service::ChatService;
use crate::session::SessionCodec;
use errores::respuesta_json;
use sesion::AjustesCookie;

/// What every handler needs, attached to all routes as request data.
pub struct Estado {
    /// The chat's rules.
    pub servicio: Arc<ChatService>,
    /// Flask cookie signer/verifier.
    pub codec: SessionCodec,
    /// Cookie name and attributes.
    pub cookie: AjustesCookie,
    /// Origins allowed on state-changing requests besides the request's own host.
    pub origenes: Arc<Vec<String>>,
    /// Largest accepted request body.
    pub max_cuerpo: usize,
    /// Largest accepted attachment upload (its route streams the body itself).
    pub max_subida: u64,
    /// Read the client address from `X-Forwarded-For` (behind a trusted proxy).
    pub confiar_forwarded: bool,
    /// The API generations served.
    pub generaciones: crate::config::Generaciones,
}

/// The client's address: the peer, or the first `X-Forwarded-For` hop when the proxy in front
/// is trusted to set it.
pub fn ip_cliente(req: &Request, confiar_forwarded: bool) -> Option<std::net::IpAddr> {
    let reenviada = confiar_forwarded
        .then(|| req.headers().get("x-forwarded-for"))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|v| v.trim().parse().ok());
    reenviada.or_else(|| req.remote_addr().as_socket_addr().map(|a| a.ip()))
}

/// Every API operation, both generations.
type Operaciones = (
    api::ChatApi,
    api_comun::ComunApi,
    api_v2::ChatV2Api,
    api::PresenciaApi,
    api_propia::PropiaApi,
    api_grupos::GruposApi,
);

/// The OpenAPI service for both API generations, mounted under `/api`.
pub fn servicio_openapi() -> OpenApiService<Operaciones, ()> {
    OpenApiService::new(
        (
            api::ChatApi,
            api_comun::ComunApi,
            api_v2::ChatV2Api,
            api::PresenciaApi,
            api_propia::PropiaApi,
            api_grupos::GruposApi,
        ),
        "weigence-chat",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Weigence chat API: v1 (the /chat page, CONTRACT.md §4) and v2 (the floating widget, \
         CONTRACT-v2.md §1) from one server; shared paths answer with both generations' keys. \
         Errors are `{\"success\": false, \"error\": \"...\", \"msg\": \"...\"}`; a generation \
         switched off by API_GENERATIONS answers 404 on its routes.",
    )
    .server("/api")
}

/// The OpenAPI document as served at `/openapi.json` and committed under `openapi/`.
pub fn especificacion() -> String {
    servicio_openapi().spec()
}

/// Every route of the service.
pub fn rutas(
    estado: Arc<Estado>,
    static_dir: &str,
    socketio: impl Endpoint<Output = Response> + 'static,
) -> impl Endpoint<Output = Response> + 'static {
    let spec = especificacion();
    Route::new()
        .nest_no_strip("/socket.io", socketio)
        .at("/", get(paginas::login_form).post(paginas::login))
        .at("/logout", get(paginas::logout))
        .at("/chat", get(paginas::chat))
        .at("/healthz", get(paginas::healthz))
        .at(
            "/openapi.json",
            get(handler_fn(move || {
                Response::builder()
                    .content_type("application/json")
                    .body(spec.clone())
            })),
        )
        .nest("/static", StaticFilesEndpoint::new(static_dir))
        .nest("/api", servicio_openapi().around(errores::json_en_errores))
        .around(limitar_cuerpo)
        .around(origen_permitido)
        .around(observar::observar)
        .data(estado)
        .map_to_response()
}

fn handler_fn<F: Fn() -> Response + Send + Sync + 'static>(f: F) -> impl Endpoint {
    poem::endpoint::make_sync(move |_| f())
}

fn estado(req: &Request) -> &Arc<Estado> {
    req.data::<Arc<Estado>>()
        .expect("Estado is attached to every route")
}

/// Refuses state-changing requests from foreign origins (CSRF protection without tokens).
/// Requests with neither `Origin` nor `Referer` come from non-browser clients and pass.
async fn origen_permitido<E: Endpoint>(ep: E, req: Request) -> poem::Result<Response> {
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        let origen = req
            .headers()
            .get("origin")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| {
                req.headers()
                    .get("referer")
                    .and_then(|v| v.to_str().ok())
                    .and_then(origen_de_url)
            });
        if let Some(origen) = origen {
            let host = req.headers().get("host").and_then(|v| v.to_str().ok());
            if !origen_aceptado(&origen, host, &estado(&req).origenes) {
                tracing::warn!(%origen, ruta = %req.uri().path(), "origen rechazado");
                return Ok(respuesta_json(StatusCode::FORBIDDEN, "Origen no permitido"));
            }
        }
    }
    ep.call(req).await.map(IntoResponse::into_response)
}

/// Whether `origen` is the request's own host or one of the configured origins.
pub fn origen_aceptado(origen: &str, host: Option<&str>, permitidos: &[String]) -> bool {
    let origen = origen.trim_end_matches('/');
    if permitidos.iter().any(|p| p.eq_ignore_ascii_case(origen)) {
        return true;
    }
    let autoridad = origen
        .strip_prefix("http://")
        .or_else(|| origen.strip_prefix("https://"));
    matches!((autoridad, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
}

/// `scheme://host[:port]` of a URL.
fn origen_de_url(url: &str) -> Option<String> {
    let (esquema, resto) = url.split_once("://")?;
    let autoridad = resto.split(['/', '?', '#']).next()?;
    (!autoridad.is_empty()).then(|| format!("{esquema}://{autoridad}"))
}

/// Caps request bodies (413), whether or not they declare a `Content-Length`. An error
/// answered to a request with a body says `Connection: close`: the body may be left unread, so
/// the connection cannot be reused, and clients must know instead of finding it dropped.
async fn limitar_cuerpo<E: Endpoint>(ep: E, req: Request) -> poem::Result<Response> {
    let declarado = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let por_trozos = declarado.is_none() && req.headers().contains_key("transfer-encoding");
    let con_cuerpo = declarado.is_some_and(|n| n > 0) || por_trozos;
    let mut respuesta = atender_con_limite(ep, req, declarado, por_trozos).await?;
    if con_cuerpo && respuesta.status().is_client_error() {
        respuesta.headers_mut().insert(
            poem::http::header::CONNECTION,
            poem::http::HeaderValue::from_static("close"),
        );
    }
    Ok(respuesta)
}

async fn atender_con_limite<E: Endpoint>(
    ep: E,
    mut req: Request,
    declarado: Option<u64>,
    por_trozos: bool,
) -> poem::Result<Response> {
    let max = estado(&req).max_cuerpo;
    if es_subida(&req) {
        // The upload streams its body to disk and stops at its own limit.
        if declarado.is_some_and(|n| n > estado(&req).max_subida) {
            return Ok(respuesta_json(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Archivo demasiado grande",
            ));
        }
        // Any Content-Type is accepted (the type comes from the bytes); none means raw bytes.
        if !req.headers().contains_key(poem::http::header::CONTENT_TYPE) {
            req.headers_mut().insert(
                poem::http::header::CONTENT_TYPE,
                poem::http::HeaderValue::from_static("application/octet-stream"),
            );
        }
        return ep.call(req).await.map(IntoResponse::into_response);
    }
    if declarado.is_some_and(|n| n > max as u64) {
        return Ok(demasiado_grande());
    }
    if por_trozos {
        let mut datos = Vec::new();
        let leido = req
            .take_body()
            .into_async_read()
            .take(max as u64 + 1)
            .read_to_end(&mut datos)
            .await;
        if leido.is_err() {
            return Ok(respuesta_json(StatusCode::BAD_REQUEST, "Datos inválidos"));
        }
        if datos.len() > max {
            return Ok(demasiado_grande());
        }
        req.set_body(Body::from(datos));
    }
    ep.call(req).await.map(IntoResponse::into_response)
}

/// Whether the request is an attachment upload (`POST /api/chat/conversaciones/{id}/adjuntos`).
fn es_subida(req: &Request) -> bool {
    req.method() == Method::POST
        && req
            .uri()
            .path()
            .strip_prefix("/api/chat/conversaciones/")
            .and_then(|resto| resto.strip_suffix("/adjuntos"))
            .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

fn demasiado_grande() -> Response {
    respuesta_json(StatusCode::PAYLOAD_TOO_LARGE, "Solicitud demasiado grande")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_own_host_and_configured_origins_only() {
        let lista = vec!["https://weigence.cl".to_string()];
        assert!(origen_aceptado(
            "http://127.0.0.1:5000",
            Some("127.0.0.1:5000"),
            &[]
        ));
        assert!(origen_aceptado(
            "https://weigence.cl/",
            Some("chat.interno:5000"),
            &lista
        ));
        assert!(!origen_aceptado(
            "https://evil.example",
            Some("127.0.0.1:5000"),
            &lista
        ));
        assert!(!origen_aceptado("null", Some("127.0.0.1:5000"), &lista));
        assert!(!origen_aceptado(
            "http://127.0.0.1:5000.evil.example",
            Some("127.0.0.1:5000"),
            &[]
        ));
    }

    #[test]
    fn origin_of_a_referer() {
        assert_eq!(
            origen_de_url("https://a.cl:8443/chat?x=1").as_deref(),
            Some("https://a.cl:8443")
        );
        assert_eq!(origen_de_url("no es url"), None);
    }

    #[test]
    fn committed_openapi_document_is_current() {
        let committed = include_str!("../../openapi/openapi.json");
        assert!(
            committed.trim() == especificacion().trim(),
            "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json`"
        );
    }
}
