//! Flask's signed session cookie (itsdangerous `URLSafeTimedSerializer`, salt
//! `cookie-session`, HMAC-SHA1 with `hmac` key derivation, tagged JSON payload), so users keep
//! the cookie the Flask app gave them and the Flask app accepts the cookies we give.

pub mod tagged;

use std::io::Read;
use std::time::Duration;

use base64::Engine;
use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use flate2::Compression;
use flate2::read::{ZlibDecoder, ZlibEncoder};
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;

const SALT: &[u8] = b"cookie-session";
/// Longest cookie value we look at; browsers cap cookies near 4 KB.
const MAX_COOKIE_LEN: usize = 8 * 1024;
/// Largest decompressed payload we accept (guards against zlib bombs).
const MAX_PAYLOAD_LEN: u64 = 64 * 1024;

const B64_ENCODE: GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
const B64_DECODE: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The decoded contents of a Flask session: the raw (still tagged) key/value pairs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Session {
    entries: Map<String, Value>,
}

impl Session {
    /// The signed-in user's `rut_usuario`, when the session is authenticated.
    pub fn usuario_id(&self) -> Option<String> {
        match self.get("usuario_id") {
            Some(Value::String(rut)) if !rut.trim().is_empty() => Some(rut),
            _ => None,
        }
    }

    /// Reads a key, untagged into plain JSON.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.entries.get(key).map(tagged::untag)
    }

    /// Sets a key to a plain JSON value (tagged for Flask as needed).
    pub fn set(&mut self, key: &str, value: Value) {
        self.entries.insert(key.to_owned(), tagged::tag(&value));
    }

    /// Whether the session asks for a persistent cookie (Flask's `_permanent`).
    pub fn is_permanent(&self) -> bool {
        matches!(self.get("_permanent"), Some(Value::Bool(true)))
    }
}

/// Why a cookie was not accepted. Every case means "not signed in".
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CookieError {
    /// Not of the `[.]payload.timestamp.signature` form, or not decodable.
    #[error("malformed session cookie")]
    Malformed,
    /// No configured key produced this signature.
    #[error("bad session cookie signature")]
    BadSignature,
    /// Older than the session lifetime, or dated in the future.
    #[error("expired session cookie")]
    Expired,
}

/// Signs and verifies Flask session cookies.
#[derive(Clone)]
pub struct SessionCodec {
    /// Derived signing keys: the current key first, then the fallbacks.
    keys: Vec<Vec<u8>>,
    max_age: Duration,
}

impl SessionCodec {
    /// Builds a codec from `SECRET_KEY`, `SECRET_KEY_FALLBACKS` and the session lifetime.
    pub fn new(secret_key: &str, fallbacks: &[String], max_age: Duration) -> Self {
        let keys = std::iter::once(secret_key)
            .chain(fallbacks.iter().map(String::as_str))
            .map(derive_key)
            .collect();
        SessionCodec { keys, max_age }
    }

    /// The session lifetime (cookie max age).
    pub fn max_age(&self) -> Duration {
        self.max_age
    }

    /// The first valid session among the cookies named `nombres` (in that order) of these
    /// request headers, if any.
    pub fn desde_cabeceras(
        &self,
        cabeceras: &http::HeaderMap,
        nombres: &[String],
    ) -> Option<Session> {
        let ahora = chrono::Utc::now().timestamp();
        nombres.iter().find_map(|nombre| {
            cookie_en(cabeceras, nombre).and_then(|valor| self.decode(valor, ahora).ok())
        })
    }

    /// Verifies a cookie value at time `now` (Unix seconds) and decodes its payload.
    pub fn decode(&self, cookie: &str, now: i64) -> Result<Session, CookieError> {
        if cookie.len() > MAX_COOKIE_LEN {
            return Err(CookieError::Malformed);
        }
        let (signed, signature) = cookie.rsplit_once('.').ok_or(CookieError::Malformed)?;
        let (payload, timestamp) = signed.rsplit_once('.').ok_or(CookieError::Malformed)?;
        let signature = B64_DECODE
            .decode(signature)
            .map_err(|_| CookieError::Malformed)?;
        let valid = self.keys.iter().any(|key| {
            let mut mac = HmacSha1::new_from_slice(key).expect("HMAC takes any key length");
            mac.update(signed.as_bytes());
            mac.verify_slice(&signature).is_ok()
        });
        if !valid {
            return Err(CookieError::BadSignature);
        }
        let timestamp = decode_timestamp(timestamp)?;
        let age = now - timestamp;
        if age < 0 || age as u64 > self.max_age.as_secs() {
            return Err(CookieError::Expired);
        }
        let entries = decode_payload(payload)?;
        Ok(Session { entries })
    }

    /// Encodes and signs a session with the current key at time `now` (Unix seconds).
    pub fn encode(&self, session: &Session, now: i64) -> String {
        let json = serde_json::to_vec(&session.entries).expect("a JSON map always serializes");
        let compressed = compress(&json);
        let payload = if compressed.len() + 1 < json.len() {
            format!(".{}", B64_ENCODE.encode(compressed))
        } else {
            B64_ENCODE.encode(&json)
        };
        let timestamp = now.max(0).to_be_bytes();
        let first = timestamp
            .iter()
            .position(|b| *b != 0)
            .unwrap_or(timestamp.len());
        let signed = format!("{payload}.{}", B64_ENCODE.encode(&timestamp[first..]));
        let mut mac = HmacSha1::new_from_slice(&self.keys[0]).expect("HMAC takes any key length");
        mac.update(signed.as_bytes());
        format!(
            "{signed}.{}",
            B64_ENCODE.encode(mac.finalize().into_bytes())
        )
    }
}

/// The value of cookie `nombre` in a request's `Cookie` headers.
pub fn cookie_en<'a>(cabeceras: &'a http::HeaderMap, nombre: &str) -> Option<&'a str> {
    cabeceras
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|par| par.trim().split_once('='))
        .find(|(k, _)| *k == nombre)
        .map(|(_, v)| v.trim_matches('"'))
}

/// itsdangerous' `hmac` key derivation: HMAC(secret, salt).
fn derive_key(secret: &str) -> Vec<u8> {
    let mut mac = HmacSha1::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(SALT);
    mac.finalize().into_bytes().to_vec()
}

fn decode_timestamp(encoded: &str) -> Result<i64, CookieError> {
    let bytes = B64_DECODE
        .decode(encoded)
        .map_err(|_| CookieError::Malformed)?;
    if bytes.is_empty() || bytes.len() > 8 {
        return Err(CookieError::Malformed);
    }
    let value = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    i64::try_from(value).map_err(|_| CookieError::Malformed)
}

fn decode_payload(payload: &str) -> Result<Map<String, Value>, CookieError> {
    let (compressed, encoded) = match payload.strip_prefix('.') {
        Some(rest) => (true, rest),
        None => (false, payload),
    };
    let mut json = B64_DECODE
        .decode(encoded)
        .map_err(|_| CookieError::Malformed)?;
    if compressed {
        let mut inflated = Vec::new();
        ZlibDecoder::new(json.as_slice())
            .take(MAX_PAYLOAD_LEN + 1)
            .read_to_end(&mut inflated)
            .map_err(|_| CookieError::Malformed)?;
        if inflated.len() as u64 > MAX_PAYLOAD_LEN {
            return Err(CookieError::Malformed);
        }
        json = inflated;
    }
    serde_json::from_slice(&json).map_err(|_| CookieError::Malformed)
}

fn compress(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    ZlibEncoder::new(data, Compression::default())
        .read_to_end(&mut out)
        .expect("compressing from memory cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_764_000_000;

    fn codec() -> SessionCodec {
        SessionCodec::new("clave-secreta", &[], Duration::from_secs(30 * 24 * 3600))
    }

    fn session(pairs: Value) -> Session {
        let mut s = Session::default();
        for (k, v) in pairs.as_object().unwrap() {
            s.set(k, v.clone());
        }
        s
    }

    /// Made by Flask 3.1 / itsdangerous 2.2 with SECRET_KEY="clave-secreta" at time NOW for
    /// `{"usuario_id": "12345678-9", "usuario_logueado": true}`.
    const FLASK_COOKIE: &str = "eyJ1c3VhcmlvX2lkIjoiMTIzNDU2NzgtOSIsInVzdWFyaW9fbG9ndWVhZG8iOnRydWV9.aSSBAA.aorg9sotcEuTT_F-G-6E9Yhn49s";

    #[test]
    fn accepts_a_cookie_made_by_flask() {
        let s = codec().decode(FLASK_COOKIE, NOW + 10).unwrap();
        assert_eq!(s.usuario_id().as_deref(), Some("12345678-9"));
        assert_eq!(s.get("usuario_logueado"), Some(json!(true)));
    }

    #[test]
    fn round_trips_plain_and_compressed_payloads() {
        let small = session(json!({"usuario_id": "1-9"}));
        let cookie = codec().encode(&small, NOW);
        assert!(!cookie.starts_with('.'));
        assert_eq!(codec().decode(&cookie, NOW).unwrap(), small);

        let large = session(json!({"usuario_id": "1-9", "relleno": "a".repeat(500)}));
        let cookie = codec().encode(&large, NOW);
        assert!(
            cookie.starts_with('.'),
            "repetitive payloads are compressed like Flask does"
        );
        assert_eq!(codec().decode(&cookie, NOW).unwrap(), large);
    }

    #[test]
    fn refuses_tampered_wrongly_signed_expired_and_future_cookies() {
        let cookie = codec().encode(&session(json!({"usuario_id": "1-9"})), NOW);
        let tampered = cookie.replacen('e', "f", 1);
        assert_eq!(
            codec().decode(&tampered, NOW),
            Err(CookieError::BadSignature)
        );
        let other = SessionCodec::new("otra", &[], Duration::from_secs(60));
        assert_eq!(other.decode(&cookie, NOW), Err(CookieError::BadSignature));
        let max = 30 * 24 * 3600;
        assert!(codec().decode(&cookie, NOW + max).is_ok());
        assert_eq!(
            codec().decode(&cookie, NOW + max + 1),
            Err(CookieError::Expired)
        );
        assert_eq!(codec().decode(&cookie, NOW - 5), Err(CookieError::Expired));
    }

    #[test]
    fn accepts_cookies_signed_with_a_fallback_key() {
        let old = SessionCodec::new("vieja", &[], Duration::from_secs(60));
        let cookie = old.encode(&session(json!({"usuario_id": "1-9"})), NOW);
        let rotated = SessionCodec::new("nueva", &["vieja".into()], Duration::from_secs(60));
        assert!(rotated.decode(&cookie, NOW).is_ok());
        let reissued = rotated.encode(&rotated.decode(&cookie, NOW).unwrap(), NOW);
        assert!(
            SessionCodec::new("nueva", &[], Duration::from_secs(60))
                .decode(&reissued, NOW)
                .is_ok()
        );
    }

    #[test]
    fn reads_the_named_cookie_among_several_headers() {
        let mut h = http::HeaderMap::new();
        h.append(
            http::header::COOKIE,
            "theme=dark; session=abc.def.ghi".parse().unwrap(),
        );
        h.append(http::header::COOKIE, "otra=\"1\"".parse().unwrap());
        assert_eq!(cookie_en(&h, "session"), Some("abc.def.ghi"));
        assert_eq!(cookie_en(&h, "otra"), Some("1"));
        assert_eq!(cookie_en(&h, "falta"), None);
    }

    #[test]
    fn garbage_never_panics() {
        for junk in [
            "",
            ".",
            "..",
            "a.b.c",
            "...",
            ".!!.AA.AA",
            "e30.AAAAAAAAAAAA.xx",
            &"x".repeat(9000),
        ] {
            assert!(codec().decode(junk, NOW).is_err(), "{junk:?}");
        }
    }

    #[test]
    fn authenticated_means_a_non_empty_usuario_id_string() {
        assert_eq!(session(json!({"usuario_id": ""})).usuario_id(), None);
        assert_eq!(session(json!({"usuario_id": 5})).usuario_id(), None);
        assert_eq!(session(json!({"otro": "x"})).usuario_id(), None);
    }

    #[test]
    fn unknown_tagged_keys_survive_a_round_trip() {
        let mut raw = Map::new();
        raw.insert("_flashes".into(), json!([{" t": ["error", "x"]}]));
        raw.insert("usuario_id".into(), json!("1-9"));
        let s = Session {
            entries: raw.clone(),
        };
        let back = codec().decode(&codec().encode(&s, NOW), NOW).unwrap();
        assert_eq!(back.entries, raw);
    }
}
