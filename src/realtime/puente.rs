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

/// The handshake headers a socket still reads after the upgrade: the session cookie (connect
/// middleware) and the request id (its log span). socketioxide keeps the handshake's request for
/// the socket's whole life, so only these are kept, each in a fresh allocation: hyper's header
/// values are slices of the buffer it read the request into, which a plain clone would pin, and
/// the other headers (user agent, accept-*, sec-websocket-*) would cost ~1 KB per idle socket
/// for nothing (BENCHMARKS.md, tuning log).
const CABECERAS_DEL_SOCKET: [&str; 2] = ["cookie", crate::operacion::CABECERA_REQUEST_ID];

/// Copies the [`CABECERAS_DEL_SOCKET`] of `origen` into fresh allocations.
fn cabeceras_del_socket(origen: &http::HeaderMap) -> http::HeaderMap {
    let mut copia = http::HeaderMap::new();
    for nombre in CABECERAS_DEL_SOCKET {
        for valor in origen.get_all(nombre) {
            let valor =
                http::HeaderValue::from_bytes(valor.as_bytes()).unwrap_or_else(|_| valor.clone());
            copia.append(http::HeaderName::from_static(nombre), valor);
        }
    }
    copia
}

/// The URI in a fresh allocation, for the same reason as the headers (falls back to a clone).
fn uri_propia(uri: &http::Uri) -> http::Uri {
    http::Uri::try_from(uri.to_string()).unwrap_or_else(|_| uri.clone())
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
            .uri(uri_propia(req.uri()))
            .version(req.version());
        if let Some(h) = cabecera.headers_mut() {
            *h = cabeceras_del_socket(req.headers());
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
    fn sockets_keep_only_the_cookie_and_request_id_headers() {
        let mut h = http::HeaderMap::new();
        h.append("cookie", "a=1".parse().unwrap());
        h.append("cookie", "b=2".parse().unwrap());
        h.append("x-request-id", "r1".parse().unwrap());
        h.append("user-agent", "navegador".parse().unwrap());
        h.append("sec-websocket-key", "k".parse().unwrap());
        let copia = cabeceras_del_socket(&h);
        assert_eq!(copia.len(), 3);
        let galletas: Vec<_> = copia.get_all("cookie").iter().collect();
        assert_eq!(galletas, ["a=1", "b=2"]);
        assert_eq!(copia["x-request-id"], "r1");
        let uri: http::Uri = "/socket.io/?EIO=4&transport=websocket".parse().unwrap();
        assert_eq!(uri_propia(&uri), uri);
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
