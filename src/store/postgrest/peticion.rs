//! The one way the PostgREST store talks HTTP: every request is bounded by the timeout,
//! counted, logged without its key or body, and its failure mapped the same way.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use postgrest::{Builder, Postgrest};
use reqwest011::RequestBuilder;
use serde_json::Value;

use crate::store::StoreError;

/// Why a request did not give the expected answer.
#[derive(Debug)]
pub(super) enum Fallo {
    /// No answer in time, no connection, or a gateway/PostgREST "database down" status.
    Caida(String),
    /// An error answer from PostgREST: status and its stable `code` (never the message).
    Rechazo {
        /// HTTP status.
        status: u16,
        /// PostgREST's or PostgreSQL's error code, when the body has one.
        codigo: Option<String>,
        /// The message, only for the log of a 500.
        mensaje: String,
    },
}

impl Fallo {
    /// Whether this is an error answer with `status` and one of `codigos`.
    pub(super) fn es(&self, status: u16, codigos: &[&str]) -> bool {
        matches!(self, Fallo::Rechazo { status: s, codigo: Some(c), .. }
            if *s == status && codigos.contains(&c.as_str()))
    }
}

impl From<Fallo> for StoreError {
    fn from(f: Fallo) -> StoreError {
        match f {
            Fallo::Caida(causa) => StoreError::Unavailable(causa),
            Fallo::Rechazo {
                status,
                codigo,
                mensaje,
            } => StoreError::Other(format!(
                "PostgREST {status} {}: {mensaje}",
                codigo.as_deref().unwrap_or("-")
            )),
        }
    }
}

/// How the store authenticates: Supabase's gateway wants `apikey` always; a JWT key also goes
/// in `Authorization: Bearer` (PostgREST reads only that), while an `sb_…` key is swapped for a
/// JWT by the gateway and must not be sent as a bearer token of its own.
pub(super) fn cliente_api(base: &str, clave: &str) -> Postgrest {
    let api = Postgrest::new(base).insert_header("apikey", clave);
    if es_jwt(clave) {
        api.insert_header("Authorization", format!("Bearer {clave}"))
    } else {
        api
    }
}

/// A JWT has three base64url parts separated by dots.
fn es_jwt(clave: &str) -> bool {
    let partes: Vec<&str> = clave.split('.').collect();
    partes.len() == 3
        && partes.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Sends the requests of the store.
pub(super) struct Cliente {
    api: Postgrest,
    base: String,
    timeout: Duration,
    peticiones: AtomicU64,
}

impl Cliente {
    /// A client for `{base}` (…/rest/v1) with `clave`, each request bounded by `timeout`.
    pub(super) fn new(base: &str, clave: &str, timeout: Duration) -> Cliente {
        Cliente {
            api: cliente_api(base, clave),
            base: base.to_owned(),
            timeout,
            peticiones: AtomicU64::new(0),
        }
    }

    /// The `…/rest/v1` URL it talks to.
    pub(super) fn base(&self) -> &str {
        &self.base
    }

    /// A request on a table.
    pub(super) fn tabla(&self, tabla: &str) -> Builder {
        self.api.from(tabla)
    }

    /// A call of a SQL function with named arguments.
    pub(super) fn funcion(&self, nombre: &str, argumentos: &Value) -> Builder {
        self.api.rpc(nombre, argumentos.to_string())
    }

    /// Requests sent so far (for the log and the tests' request counts).
    pub(super) fn enviadas(&self) -> u64 {
        self.peticiones.load(Ordering::Relaxed)
    }

    /// Sends one request; `operacion` names the store call in the log. Answers the JSON body
    /// (`Null` when empty) of a 2xx, or why not.
    pub(super) async fn json(
        &self,
        operacion: &'static str,
        peticion: RequestBuilder,
    ) -> Result<Value, Fallo> {
        let n = self.peticiones.fetch_add(1, Ordering::Relaxed) + 1;
        let peticion = peticion.timeout(self.timeout);
        let trabajo = async {
            let respuesta = peticion
                .send()
                .await
                .map_err(|e| Fallo::Caida(sin_url(&e)))?;
            let status = respuesta.status().as_u16();
            let texto = respuesta
                .text()
                .await
                .map_err(|e| Fallo::Caida(sin_url(&e)))?;
            Ok::<_, Fallo>((status, texto))
        };
        let (status, texto) = tokio::time::timeout(self.timeout, trabajo)
            .await
            .map_err(|_| Fallo::Caida("PostgREST did not answer in time".into()))??;
        tracing::debug!(operacion, status, peticion = n, "petición PostgREST");
        if (200..300).contains(&status) {
            if texto.trim().is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_str(&texto).map_err(|e| Fallo::Rechazo {
                status,
                codigo: None,
                mensaje: format!("invalid JSON from PostgREST: {e}"),
            });
        }
        let cuerpo: Value = serde_json::from_str(&texto).unwrap_or(Value::Null);
        let codigo = cuerpo["code"].as_str().map(str::to_owned);
        // 502/503/504: the gateway cannot reach PostgREST, or PostgREST cannot reach
        // PostgreSQL (PGRST000/001/002 are 503, a pool timeout PGRST003 is 504).
        // An empty code: PostgreSQL errors always carry a SQLSTATE and PostgREST's own a PGRSTxxx,
        // so this is libpq failing on the client side (PostgREST 12 answers 400 when its
        // connection to PostgreSQL breaks during the query).
        if matches!(status, 502..=504) || codigo.as_deref() == Some("") {
            return Err(Fallo::Caida(format!(
                "PostgREST {status} {}",
                codigo.as_deref().unwrap_or("-")
            )));
        }
        let mensaje = match cuerpo["message"].as_str() {
            Some(m) => m.to_owned(),
            // Not PostgREST's error shape: keep the start of the body for the log of the 500.
            None => texto.chars().take(200).collect(),
        };
        Err(Fallo::Rechazo {
            status,
            codigo,
            mensaje,
        })
    }
}

/// A transport error without its URL (which holds filter values such as ruts).
fn sin_url(e: &reqwest011::Error) -> String {
    let tipo = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "transport error"
    };
    format!(
        "PostgREST {tipo}: {}",
        std::error::Error::source(e)
            .map(|s| s.to_string())
            .unwrap_or_default()
    )
}

/// A value for `in.(…)` or a logic tree (`or=(…)`): double-quoted, with `"` and `\` escaped,
/// so commas and parentheses in it cannot change the filter.
pub(super) fn citar(valor: &str) -> String {
    format!("\"{}\"", valor.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `in.("a","b")` for a list of values.
pub(super) fn en(valores: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    let lista: Vec<String> = valores.into_iter().map(|v| citar(v.as_ref())).collect();
    format!("in.({})", lista.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_keys_are_told_from_sb_keys() {
        assert!(es_jwt(
            "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2ln-_x"
        ));
        assert!(!es_jwt("sb_secret_abc123"));
        assert!(!es_jwt("a.b"));
        assert!(!es_jwt("a..c"));
    }

    #[test]
    fn quoted_values_cannot_break_out_of_a_filter() {
        assert_eq!(citar(r#"a,b)"c\"#), r#""a,b)\"c\\""#);
        assert_eq!(en(["1", "x,y"]), r#"in.("1","x,y")"#);
    }
}
