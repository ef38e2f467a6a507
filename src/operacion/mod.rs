//! Running it in production: Prometheus metrics (served on a listener of their own,
//! `METRICS_ADDR`, never on the public port), JSON or text logs, and the request ids that tie
//! an HTTP request or a socket to its log lines.

pub mod metricas;
pub mod proceso;
pub mod registro;

use std::sync::Arc;
use std::time::Duration;

use poem::http::{StatusCode, header};
use poem::{Endpoint, Request, Response};
use rand::TryRngCore;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;

use crate::config::Red;
use crate::store::ChatStore;
use metricas::{Recolector, escribir_indicador};

/// `generacion` label of the v1 API's Socket.IO events and messages (each API generation
/// labels its own).
pub const V1: &str = "v1";
/// Metric label of the v2 generation's routes and events.
pub const V2: &str = "v2";

/// Header carrying the request id, accepted from the client or generated.
pub const CABECERA_REQUEST_ID: &str = "x-request-id";

/// A request id from the client is kept when it is short and plain (so it cannot forge log
/// lines or labels); otherwise a new one is generated.
pub fn request_id(recibido: Option<&str>) -> String {
    match recibido {
        Some(id)
            if (1..=128).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b)) =>
        {
            id.to_owned()
        }
        _ => {
            let mut bytes = [0u8; 12];
            // The OS generator cannot fail on Linux; zeros would still be a valid (if shared) id.
            let _ = rand::rngs::OsRng.try_fill_bytes(&mut bytes);
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        }
    }
}

/// The span of one socket: its handshake's request id and the socket id, so every line its
/// event handlers log can be found from the request id.
pub fn span_socket(
    cabeceras: &poem::http::HeaderMap,
    socket: &impl std::fmt::Display,
) -> tracing::Span {
    let id = cabeceras
        .get(CABECERA_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!("socket", request_id = %id, socket = %socket)
}

/// `GET /metrics` on the metrics listener: the client address must be allowed and, when a
/// token is configured, `Authorization: Bearer <token>` must carry it.
pub struct PuntoMetricas {
    token: Option<String>,
    permitidas: Vec<Red>,
    recolectores: Arc<Vec<Recolector>>,
}

impl PuntoMetricas {
    /// An endpoint guarded by `token` and `permitidas`, reading the given collectors.
    pub fn new(token: Option<String>, permitidas: Vec<Red>, recolectores: Vec<Recolector>) -> Self {
        PuntoMetricas {
            token,
            permitidas,
            recolectores: Arc::new(recolectores),
        }
    }
}

/// Compares two byte strings in time independent of where they differ.
fn iguales(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

fn texto(status: StatusCode, cuerpo: &str) -> Response {
    Response::builder()
        .status(status)
        .content_type("text/plain; charset=utf-8")
        .body(format!("{cuerpo}\n"))
}

impl Endpoint for PuntoMetricas {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        if req.uri().path() != "/metrics" {
            return Ok(texto(
                StatusCode::NOT_FOUND,
                "not found: the metrics listener serves /metrics only",
            ));
        }
        let ip = req.remote_addr().as_socket_addr().map(|a| a.ip());
        if !ip.is_some_and(|ip| self.permitidas.iter().any(|r| r.contiene(ip))) {
            tracing::warn!(cliente = ?ip, "lectura de métricas desde una dirección no permitida");
            return Ok(texto(
                StatusCode::FORBIDDEN,
                "forbidden: address not in METRICS_ALLOW",
            ));
        }
        if let Some(token) = &self.token {
            let enviado = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or_default();
            if !iguales(enviado.as_bytes(), token.as_bytes()) {
                return Ok(Response::builder()
                    .status(StatusCode::UNAUTHORIZED)
                    .header(header::WWW_AUTHENTICATE, "Bearer")
                    .content_type("text/plain; charset=utf-8")
                    .body("unauthorized: METRICS_TOKEN required\n"));
            }
        }
        Ok(Response::builder()
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .body(metricas::exposicion(&self.recolectores).await))
    }
}

/// Open Socket.IO connections of this instance, by transport.
pub fn recolector_sockets<A: Adapter>(io: SocketIo<A>) -> Recolector {
    Box::new(move || {
        let (mut polling, mut websocket) = (0u64, 0u64);
        for s in io.sockets() {
            match s.transport_type() {
                socketioxide::TransportType::Polling => polling += 1,
                socketioxide::TransportType::Websocket => websocket += 1,
            }
        }
        let mut salida = String::new();
        escribir_indicador(
            &mut salida,
            "weigence_chat_socketio_connections",
            "Open Socket.IO connections of this instance, by transport.",
            &[
                (vec![("transport", "polling".into())], polling as f64),
                (vec![("transport", "websocket".into())], websocket as f64),
            ],
        );
        Box::pin(std::future::ready(salida))
    })
}

/// The database pool: open connections, in use, idle, maximum, and requests waiting.
pub fn recolector_pool(store: Arc<dyn ChatStore>) -> Recolector {
    Box::new(move || {
        let mut salida = String::new();
        let Some(estado) = store.estado_pool() else {
            return Box::pin(std::future::ready(salida));
        };
        escribir_indicador(
            &mut salida,
            "weigence_chat_db_pool_connections",
            "Database pool connections by state (open = in_use + idle; max = DATABASE_POOL_SIZE).",
            &[
                (vec![("state", "open".into())], estado.abiertas as f64),
                (
                    vec![("state", "in_use".into())],
                    estado.abiertas.saturating_sub(estado.libres) as f64,
                ),
                (vec![("state", "idle".into())], estado.libres as f64),
                (vec![("state", "max".into())], estado.maximo as f64),
            ],
        );
        escribir_indicador(
            &mut salida,
            "weigence_chat_db_pool_waiting",
            "Requests waiting for a database connection.",
            &[(vec![], estado.esperando as f64)],
        );
        Box::pin(std::future::ready(salida))
    })
}

/// Whether the Redis of the adapter answers a PING (1) or not (0), checked at each scrape.
pub fn recolector_redis(cliente: redis::Client) -> Recolector {
    Box::new(move || {
        let cliente = cliente.clone();
        Box::pin(async move {
            let ping = async {
                let mut conexion = cliente.get_multiplexed_async_connection().await?;
                redis::cmd("PING")
                    .query_async::<String>(&mut conexion)
                    .await
            };
            let arriba = matches!(
                tokio::time::timeout(Duration::from_secs(2), ping).await,
                Ok(Ok(_))
            );
            let mut salida = String::new();
            escribir_indicador(
                &mut salida,
                "weigence_chat_redis_up",
                "Whether the Redis shared by the instances answers (1) or not (0).",
                &[(vec![], if arriba { 1.0 } else { 0.0 })],
            );
            salida
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_request_ids_are_kept_and_others_replaced() {
        assert_eq!(request_id(Some("abc-123_x.y:z")), "abc-123_x.y:z");
        for malo in [
            None,
            Some(""),
            Some("a b"),
            Some("x\"}\n{"),
            Some(&"a".repeat(129)[..]),
        ] {
            let id = request_id(malo);
            assert_eq!(id.len(), 24, "{malo:?}");
            assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        }
        assert_ne!(request_id(None), request_id(None));
    }

    #[test]
    fn token_comparison_needs_the_whole_token() {
        assert!(iguales(b"secreto", b"secreto"));
        assert!(!iguales(b"secreto", b"secret"));
        assert!(!iguales(b"secreto", b"secretO"));
    }
}
