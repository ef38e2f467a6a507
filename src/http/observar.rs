//! The outermost middleware of every route: a request id (kept from `X-Request-Id` when plain,
//! else generated) set on the request (so a Socket.IO handshake hands it to the socket's span)
//! and echoed in the response; one access log line; the HTTP metrics by route template.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use poem::http::HeaderValue;
use poem::{Endpoint, IntoResponse, Request, Response};
use tracing::Instrument;

use super::Estado;
use crate::operacion::metricas::{self, HTTP_LATENCIA, HTTP_RESPUESTAS};
use crate::operacion::{CABECERA_REQUEST_ID, request_id};

/// Route label of requests no route matched (a closed set of labels, whatever clients send).
const SIN_RUTA: &str = "unmatched";

/// poem-openapi names path parameters by position (`/api/chat/mensajes/:param0`); operators
/// read the OpenAPI names better (`/api/chat/mensajes/{id}`). Built once from the
/// OpenAPI document; other patterns are kept as poem reports them.
static PLANTILLAS: LazyLock<HashMap<String, String>> =
    LazyLock::new(|| plantillas(&super::especificacion()));

/// poem pattern → OpenAPI path, for every path of an OpenAPI document served under `/api`.
fn plantillas(especificacion: &str) -> HashMap<String, String> {
    let documento: serde_json::Value = serde_json::from_str(especificacion).unwrap_or_default();
    let Some(rutas) = documento["paths"].as_object() else {
        return HashMap::new();
    };
    rutas
        .keys()
        .map(|ruta| {
            let mut n = 0;
            let poem: Vec<String> = ruta
                .split('/')
                .map(|tramo| {
                    if tramo.starts_with('{') && tramo.ends_with('}') {
                        n += 1;
                        format!(":param{}", n - 1)
                    } else {
                        tramo.to_owned()
                    }
                })
                .collect();
            (format!("/api{}", poem.join("/")), format!("/api{ruta}"))
        })
        .collect()
}

/// `2xx`, `4xx`, … of a status.
fn clase(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// Middleware body; see the module documentation.
pub async fn observar<E: Endpoint>(ep: E, mut req: Request) -> poem::Result<Response> {
    let inicio = Instant::now();
    let id = request_id(
        req.headers()
            .get(CABECERA_REQUEST_ID)
            .and_then(|v| v.to_str().ok()),
    );
    let valor = HeaderValue::from_str(&id).expect("request ids are plain ASCII");
    req.headers_mut().insert(CABECERA_REQUEST_ID, valor.clone());
    let metodo = req.method().clone();
    let usuario = req
        .data::<Arc<Estado>>()
        .and_then(|estado| super::sesion::sesion_de(&req, estado))
        .and_then(|s| s.usuario_id());
    let span = tracing::info_span!("peticion", request_id = %id);
    let mut respuesta = match ep.call(req).instrument(span.clone()).await {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    };
    let latencia = inicio.elapsed();
    let ruta: Arc<str> = match respuesta.data::<poem::PathPattern>() {
        Some(p) => PLANTILLAS
            .get(&*p.0)
            .map_or_else(|| p.0.clone(), |r| r.as_str().into()),
        None => SIN_RUTA.into(),
    };
    let status = respuesta.status().as_u16();
    respuesta.headers_mut().insert(CABECERA_REQUEST_ID, valor);
    metricas::contar(
        &HTTP_RESPUESTAS,
        &[
            ("method", metodo.as_str()),
            ("route", &ruta),
            ("status_class", clase(status)),
        ],
    );
    metricas::observar(
        &HTTP_LATENCIA,
        &[("method", metodo.as_str()), ("route", &ruta)],
        latencia,
    );
    let latencia_ms = latencia.as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(target: "acceso", metodo = %metodo, ruta = %ruta, status, latencia_ms, usuario_id = usuario.as_deref(), "petición");
        } else {
            tracing::info!(target: "acceso", metodo = %metodo, ruta = %ruta, status, latencia_ms, usuario_id = usuario.as_deref(), "petición");
        }
    });
    Ok(respuesta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_paths_name_the_route_templates() {
        let mapa = plantillas(&crate::http::especificacion());
        assert_eq!(
            mapa.get("/api/chat/mensajes/:param0").map(String::as_str),
            Some("/api/chat/mensajes/{id}")
        );
        assert_eq!(
            mapa.get("/api/chat/usuarios").map(String::as_str),
            Some("/api/chat/usuarios")
        );
    }

    #[test]
    fn status_classes() {
        assert_eq!(clase(101), "1xx");
        assert_eq!(clase(204), "2xx");
        assert_eq!(clase(302), "3xx");
        assert_eq!(clase(429), "4xx");
        assert_eq!(clase(503), "5xx");
    }
}
