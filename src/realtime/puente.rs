//! Mounts socketioxide on poem's port. poem is not tower-based and keeps hyper's upgrade handle
//! to itself, so WebSocket upgrades are bridged by hand: validate the Engine.IO query, take the
//! upgrade, answer 101, and hand the upgraded stream to socketioxide. Everything else
//! (long-polling) goes through poem's tower compatibility layer.

use std::sync::Arc;

use base64::Engine as _;
use engineioxide::service::NotFoundService;
use poem::endpoint::TowerCompatExt;
use poem::http;
use poem::http::{Method, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};
use sha1::{Digest, Sha1};
use socketioxide::adapter::Adapter;
use socketioxide::service::SocketIoService;
use tower_service::Service;

use crate::operacion::metricas;
use crate::service::limites::Limitador;

/// Counts a handshake refused before Engine.IO sees it.
fn rechazado(motivo: &str) {
    metricas::contar(
        &metricas::HANDSHAKES,
        &[("result", "refused"), ("reason", motivo)],
    );
}

/// GUID of RFC 6455 for `Sec-WebSocket-Accept`.
const WS_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `/socket.io/` endpoint: origin check, then polling or WebSocket.
pub struct PuenteSocketIo<A: Adapter> {
    svc: SocketIoService<NotFoundService, A>,
    origenes: Arc<Vec<String>>,
    aperturas: Limitador,
    confiar_forwarded: bool,
}

impl<A: Adapter> PuenteSocketIo<A> {
    /// Wraps socketioxide's service. `origenes` are the allowed origins besides the own host;
    /// `aperturas` limits new Engine.IO sessions per client address.
    pub fn new(
        svc: SocketIoService<NotFoundService, A>,
        origenes: Arc<Vec<String>>,
        aperturas: Limitador,
        confiar_forwarded: bool,
    ) -> Self {
        PuenteSocketIo {
            svc,
            origenes,
            aperturas,
            confiar_forwarded,
        }
    }
}

/// A request that opens a new Engine.IO session (it carries no `sid`).
fn abre_sesion(query: &str) -> bool {
    !query.split('&').any(|par| par.starts_with("sid="))
}

fn rechazo(status: StatusCode, mensaje: &str) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(serde_json::json!({"code": 3, "message": mensaje}).to_string())
}

/// Checks the Engine.IO query of a WebSocket handshake (`EIO=4&transport=websocket[&sid=..]`).
fn consulta_valida(query: &str) -> bool {
    let mut eio = false;
    let mut transporte = false;
    for (clave, valor) in query.split('&').filter_map(|par| par.split_once('=')) {
        match clave {
            "EIO" => eio = valor == "4",
            "transport" => transporte = valor == "websocket",
            _ => {}
        }
    }
    eio && transporte
}

/// Copies headers into fresh allocations. hyper's header values are slices of the 16 KB
/// buffer it read the request into, and socketioxide keeps the handshake's headers for the
/// socket's whole life: a plain clone would pin that buffer per connection (BENCHMARKS.md).
fn copiar_cabeceras(origen: &http::HeaderMap) -> http::HeaderMap {
    let mut copia = http::HeaderMap::with_capacity(origen.len());
    for (nombre, valor) in origen {
        let nombre = http::HeaderName::from_bytes(nombre.as_str().as_bytes())
            .unwrap_or_else(|_| nombre.clone());
        let valor =
            http::HeaderValue::from_bytes(valor.as_bytes()).unwrap_or_else(|_| valor.clone());
        copia.append(nombre, valor);
    }
    copia
}

fn es_websocket(req: &Request) -> bool {
    req.method() == Method::GET
        && req
            .headers()
            .get(header::UPGRADE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// `Sec-WebSocket-Accept` for a client key.
fn clave_aceptada(clave: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(clave.as_bytes());
    sha.update(WS_GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

impl<A: Adapter> Endpoint for PuenteSocketIo<A> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok());
        for origen in req.headers().get_all(header::ORIGIN) {
            let origen = origen.to_str().unwrap_or("null");
            if !crate::http::origen_aceptado(origen, host, &self.origenes) {
                tracing::warn!(%origen, "handshake de Socket.IO de un origen no permitido");
                rechazado("origin");
                return Ok(rechazo(StatusCode::FORBIDDEN, "Origen no permitido"));
            }
        }
        if abre_sesion(req.uri().query().unwrap_or_default()) {
            let clave = crate::http::ip_cliente(&req, self.confiar_forwarded)
                .map(|ip| ip.to_string())
                .unwrap_or_default();
            if let Err(espera) = self.aperturas.permitir(&clave, std::time::Instant::now()) {
                tracing::warn!(origen = %clave, "límite de aperturas de Socket.IO por dirección");
                rechazado("rate_limit");
                metricas::contar(&metricas::LIMITES, &[("limit", "handshakes")]);
                let mut r = rechazo(StatusCode::TOO_MANY_REQUESTS, "Demasiadas solicitudes");
                let segundos = espera.as_secs_f64().ceil().max(1.0) as u64;
                r.headers_mut().insert(header::RETRY_AFTER, segundos.into());
                return Ok(r);
            }
        }
        if !es_websocket(&req) {
            return self
                .svc
                .clone()
                .compat()
                .call(req)
                .await
                .map(IntoResponse::into_response);
        }
        if !consulta_valida(req.uri().query().unwrap_or_default()) {
            rechazado("bad_request");
            return Ok(rechazo(StatusCode::BAD_REQUEST, "Bad request"));
        }
        let Some(clave) = req
            .headers()
            .get("sec-websocket-key")
            .and_then(|v| v.to_str().ok())
        else {
            return Ok(rechazo(StatusCode::BAD_REQUEST, "Bad handshake"));
        };
        let aceptada = clave_aceptada(clave);
        let Ok(mejora) = req.take_upgrade() else {
            return Ok(rechazo(StatusCode::BAD_REQUEST, "Bad handshake"));
        };
        let mut cabecera = http::Request::builder()
            .method(Method::GET)
            .uri(req.uri().clone())
            .version(req.version());
        if let Some(h) = cabecera.headers_mut() {
            *h = copiar_cabeceras(req.headers());
        }
        let original = cabecera
            .body(())
            .map_err(|e| poem::Error::new(e, StatusCode::BAD_REQUEST))?;
        let mut svc = self.svc.clone();
        tokio::spawn(async move {
            match mejora.await {
                Ok(flujo) => {
                    if let Err(e) = Service::<(poem::Upgraded, http::Request<()>)>::call(
                        &mut svc,
                        (flujo, original),
                    )
                    .await
                    {
                        tracing::debug!(error = %e, "conexión WebSocket rechazada por Engine.IO");
                    }
                }
                Err(e) => tracing::debug!(error = %e, "falló la mejora a WebSocket"),
            }
        });
        Ok(Response::builder()
            .status(StatusCode::SWITCHING_PROTOCOLS)
            .header(header::UPGRADE, "websocket")
            .header(header::CONNECTION, "Upgrade")
            .header("sec-websocket-accept", aceptada)
            .finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_key_matches_rfc_6455_example() {
        assert_eq!(
            clave_aceptada("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn copied_headers_keep_every_value() {
        let mut h = http::HeaderMap::new();
        h.append("cookie", "a=1".parse().unwrap());
        h.append("cookie", "b=2".parse().unwrap());
        h.append("x-propia", "valor".parse().unwrap());
        assert_eq!(copiar_cabeceras(&h), h);
    }

    #[test]
    fn new_sessions_are_requests_without_sid() {
        assert!(abre_sesion("EIO=4&transport=polling&t=x"));
        assert!(!abre_sesion("EIO=4&transport=polling&sid=abc"));
        assert!(!abre_sesion("sid=abc&EIO=4&transport=websocket"));
    }

    #[test]
    fn only_engine_io_4_websocket_handshakes_are_valid() {
        assert!(consulta_valida("EIO=4&transport=websocket"));
        assert!(consulta_valida("EIO=4&transport=websocket&sid=abc&t=1"));
        assert!(!consulta_valida("EIO=3&transport=websocket"));
        assert!(!consulta_valida("EIO=4&transport=polling"));
        assert!(!consulta_valida("transport=websocket"));
        assert!(!consulta_valida(""));
    }
}
