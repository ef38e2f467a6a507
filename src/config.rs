//! Settings read from the environment and an optional `.env` file, using the Flask app's
//! variable names (CONTRACT.md §1) plus our own clearly named ones.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

/// Which of the two table naming variants to use (CONTRACT.md §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableVariant {
    /// `chat_conversaciones`, `chat_participantes`, `chat_mensajes` (the live database).
    ChatPrefix,
    /// `conversaciones_chat`, `participantes_chat`, `mensajes_chat` (the original migration).
    ChatSuffix,
}

/// Which API generations the server speaks (both by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Generaciones {
    /// v1: the `/chat` page's routes and events (CONTRACT.md).
    pub v1: bool,
    /// v2: the floating widget's routes and events (CONTRACT-v2.md).
    pub v2: bool,
}

/// Every setting the service reads. Secrets are kept out of `Debug` output.
#[derive(Clone)]
pub struct Settings {
    /// Flask's `SECRET_KEY`: signs session cookies.
    pub secret_key: String,
    /// Flask's `SECRET_KEY_FALLBACKS`: older keys still accepted when verifying.
    pub secret_key_fallbacks: Vec<String>,
    /// Direct PostgreSQL connection string.
    pub database_url: Option<String>,
    /// Supabase project URL: with `supabase_key` and no `database_url`, the PostgREST store
    /// talks to `{supabase_url}/rest/v1`.
    pub supabase_url: Option<String>,
    /// Supabase API key (service_role JWT or `sb_secret_…`). Never logged.
    pub supabase_key: Option<String>,
    /// Whether to use named prepared statements (off for transaction-mode poolers).
    pub prepared_statements: bool,
    /// Maximum database connections in the pool.
    pub pool_size: usize,
    /// How long a request waits for a database connection or query before answering 503.
    pub database_timeout: Duration,
    /// Forces a table variant instead of detecting it from the catalog.
    pub table_variant: Option<TableVariant>,
    /// Name of the session cookie we set (`session` unless `SESSION_COOKIE_NAME` says).
    pub session_cookie_name: String,
    /// Names of the session cookie we read: the configured one, or when none is configured
    /// both generations' defaults (`session`, then `weigence_session`).
    pub session_cookie_names: Vec<String>,
    /// The API generations served (`API_GENERATIONS`).
    pub generaciones: Generaciones,
    /// Maximum age of a session cookie.
    pub session_lifetime: Duration,
    /// Adds `Secure` to the cookies we set.
    pub session_cookie_secure: bool,
    /// Bind address.
    pub host: String,
    /// Bind port (0 picks a free one).
    pub port: u16,
    /// Folder served under `/static`.
    pub static_dir: String,
    /// Extra origins allowed on state-changing requests (the service's own is always allowed).
    pub allowed_origins: Vec<String>,
    /// Longest accepted message, in characters.
    pub max_message_chars: usize,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Sustained API requests per user and minute.
    pub rate_limit_per_minute: u32,
    /// Requests a user may make in a burst above the sustained rate.
    pub rate_limit_burst: u32,
    /// Accept the legacy plaintext `"Contraseña"` column at login (and re-hash it).
    pub allow_plaintext_passwords: bool,
    /// Most Socket.IO connections one user may hold at once (all instances).
    pub max_sockets_per_user: usize,
    /// New Socket.IO sessions allowed per client address and minute.
    pub handshakes_per_minute: u32,
    /// Burst of new Socket.IO sessions per client address.
    pub handshake_burst: u32,
    /// Login attempts allowed per account (and per address, x6) and minute.
    pub login_attempts_per_minute: u32,
    /// How long after sending a message its author may edit it (`EDIT_WINDOW_SECONDS`).
    pub edit_window: Duration,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// Redis URL shared by several instances (rooms and emits span them); in-memory without it.
    pub redis_url: Option<String>,
    /// Channel prefix in Redis: instances with the same prefix form one cluster.
    pub redis_prefix: String,
    /// Engine.IO ping interval.
    pub ping_interval: Duration,
    /// Engine.IO ping timeout.
    pub ping_timeout: Duration,
    /// Where `/metrics` is served (a listener of its own, never the public port); off when `None`.
    pub metrics_addr: Option<String>,
    /// Bearer token `/metrics` requires, when set.
    pub metrics_token: Option<String>,
    /// Client addresses (IPs or CIDR blocks) allowed to read `/metrics`.
    pub metrics_allow: Vec<Red>,
    /// Log lines as text (default) or one JSON object per line.
    pub log_format: LogFormat,
    /// Folder of attachments (`UPLOAD_DIR`) when no S3 bucket is set.
    pub upload_dir: String,
    /// Largest attachment in bytes (`MAX_UPLOAD_BYTES`).
    pub max_upload_bytes: u64,
    /// Media types accepted as attachments (`UPLOAD_TYPES`).
    pub upload_types: Vec<String>,
    /// S3-compatible bucket for attachments (`S3_ENDPOINT`, `S3_BUCKET`, ...), instead of
    /// `UPLOAD_DIR`.
    pub s3: Option<crate::service::archivos::AjustesS3>,
}

/// How log lines are written to stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (tracing's default format).
    Text,
    /// One JSON object per line.
    Json,
}

/// An IP network (`10.0.0.0/8`, `::1/128`; a bare address is a /32 or /128).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Red {
    direccion: IpAddr,
    prefijo: u8,
}

impl Red {
    /// Whether `ip` belongs to this network (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contiene(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.direccion, ip) {
            (IpAddr::V4(red), IpAddr::V4(ip)) => {
                let mascara = u32::MAX
                    .checked_shl(32 - u32::from(self.prefijo))
                    .unwrap_or(0);
                u32::from(red) & mascara == u32::from(ip) & mascara
            }
            (IpAddr::V6(red), IpAddr::V6(ip)) => {
                let mascara = u128::MAX
                    .checked_shl(128 - u32::from(self.prefijo))
                    .unwrap_or(0);
                u128::from(red) & mascara == u128::from(ip) & mascara
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for Red {
    type Err = String;

    fn from_str(texto: &str) -> Result<Self, Self::Err> {
        let (ip, prefijo) = match texto.split_once('/') {
            Some((ip, p)) => (ip, Some(p)),
            None => (texto, None),
        };
        let direccion: IpAddr = ip
            .parse()
            .map_err(|_| format!("{texto:?} is not an IP address or CIDR block"))?;
        let maximo = if direccion.is_ipv4() { 32 } else { 128 };
        let prefijo = match prefijo {
            None => maximo,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= maximo)
                .ok_or_else(|| format!("{texto:?} has an invalid prefix length"))?,
        };
        Ok(Red { direccion, prefijo })
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("static_dir", &self.static_dir)
            .field("allowed_origins", &self.allowed_origins)
            .field("table_variant", &self.table_variant)
            .field("prepared_statements", &self.prepared_statements)
            .field("pool_size", &self.pool_size)
            .field("redis", &self.redis_url.is_some())
            .field("metrics_addr", &self.metrics_addr)
            .field("log_format", &self.log_format)
            .finish_non_exhaustive()
    }
}

/// A setting that is missing or cannot be parsed.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(String);

impl Settings {
    /// Reads the process environment, falling back to `.env` in the working directory.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut vars: HashMap<String, String> = HashMap::new();
        if Path::new(".env").exists() {
            let iter = dotenvy::from_path_iter(".env")
                .map_err(|e| ConfigError(format!("cannot read .env: {e}")))?;
            for item in iter {
                let (k, v) = item.map_err(|e| ConfigError(format!("invalid line in .env: {e}")))?;
                vars.insert(k, v);
            }
        }
        vars.extend(std::env::vars());
        Self::from_lookup(|name| vars.get(name).cloned())
    }

    /// Builds settings from any name → value lookup (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let secret_key =
            get("SECRET_KEY").ok_or_else(|| ConfigError("SECRET_KEY is required".into()))?;
        let database_url = get("DATABASE_URL");
        let supabase_url = get("SUPABASE_URL");
        let supabase_key = get("SUPABASE_KEY");
        if database_url.is_none() {
            validar_supabase(supabase_url.as_deref(), supabase_key.as_deref())?;
        }
        let prepared_default = !database_url.as_deref().is_some_and(|u| u.contains(":6543"));
        Ok(Settings {
            secret_key,
            secret_key_fallbacks: list(get("SECRET_KEY_FALLBACKS")),
            database_url,
            supabase_url,
            supabase_key,
            prepared_statements: parse_bool(
                &get,
                "DATABASE_PREPARED_STATEMENTS",
                prepared_default,
            )?,
            pool_size: parse_num(&get, "DATABASE_POOL_SIZE", 16)?,
            database_timeout: Duration::from_millis(parse_num(&get, "DATABASE_TIMEOUT_MS", 5000)?),
            table_variant: match get("CHAT_TABLES").as_deref() {
                None => None,
                Some("chat_*") => Some(TableVariant::ChatPrefix),
                Some("*_chat") => Some(TableVariant::ChatSuffix),
                Some(other) => {
                    return Err(ConfigError(format!(
                        "CHAT_TABLES must be \"chat_*\" or \"*_chat\", not {other:?}"
                    )));
                }
            },
            session_cookie_name: get("SESSION_COOKIE_NAME").unwrap_or_else(|| "session".into()),
            session_cookie_names: match get("SESSION_COOKIE_NAME") {
                Some(nombre) => vec![nombre],
                None => vec!["session".into(), "weigence_session".into()],
            },
            generaciones: generaciones(get("API_GENERATIONS"))?,
            session_lifetime: Duration::from_secs(parse_num(
                &get,
                "PERMANENT_SESSION_LIFETIME",
                30 * 24 * 3600,
            )?),
            session_cookie_secure: parse_bool(&get, "SESSION_COOKIE_SECURE", false)?,
            host: get("HOST").unwrap_or_else(|| "127.0.0.1".into()),
            port: parse_num(&get, "PORT", 5000)?,
            static_dir: get("STATIC_DIR").unwrap_or_else(|| "static".into()),
            allowed_origins: list(get("ALLOWED_ORIGINS"))
                .into_iter()
                .map(|o| o.trim_end_matches('/').to_owned())
                .collect(),
            max_message_chars: parse_num(&get, "MAX_MESSAGE_CHARS", 2000)?,
            max_body_bytes: parse_num(&get, "MAX_BODY_BYTES", 64 * 1024)?,
            rate_limit_per_minute: parse_num(&get, "RATE_LIMIT_PER_MINUTE", 600)?,
            rate_limit_burst: parse_num(&get, "RATE_LIMIT_BURST", 120)?,
            allow_plaintext_passwords: parse_bool(&get, "ALLOW_PLAINTEXT_PASSWORDS", false)?,
            max_sockets_per_user: parse_num(&get, "MAX_SOCKETS_PER_USER", 20)?,
            handshakes_per_minute: parse_num(&get, "HANDSHAKES_PER_MINUTE", 600)?,
            handshake_burst: parse_num(&get, "HANDSHAKE_BURST", 100)?,
            login_attempts_per_minute: parse_num(&get, "LOGIN_ATTEMPTS_PER_MINUTE", 10)?,
            edit_window: Duration::from_secs(parse_num(&get, "EDIT_WINDOW_SECONDS", 900)?),
            trust_forwarded_for: parse_bool(&get, "TRUST_FORWARDED_FOR", false)?,
            redis_url: get("REDIS_URL"),
            redis_prefix: get("REDIS_PREFIX").unwrap_or_else(|| "weigence-chat".into()),
            ping_interval: Duration::from_millis(parse_num(&get, "PING_INTERVAL_MS", 25_000)?),
            ping_timeout: Duration::from_millis(parse_num(&get, "PING_TIMEOUT_MS", 20_000)?),
            metrics_addr: get("METRICS_ADDR"),
            metrics_token: get("METRICS_TOKEN"),
            metrics_allow: match get("METRICS_ALLOW") {
                None => vec![
                    "127.0.0.0/8".parse().map_err(ConfigError)?,
                    "::1".parse().map_err(ConfigError)?,
                ],
                Some(v) => list(Some(v))
                    .iter()
                    .map(|r| {
                        r.parse()
                            .map_err(|e| ConfigError(format!("METRICS_ALLOW: {e}")))
                    })
                    .collect::<Result<_, _>>()?,
            },
            log_format: match get("LOG_FORMAT").map(|v| v.to_ascii_lowercase()).as_deref() {
                None | Some("text") => LogFormat::Text,
                Some("json") => LogFormat::Json,
                Some(otro) => {
                    return Err(ConfigError(format!(
                        "LOG_FORMAT must be \"text\" or \"json\", not {otro:?}"
                    )));
                }
            },
            upload_dir: get("UPLOAD_DIR").unwrap_or_else(|| "uploads".into()),
            max_upload_bytes: parse_num(
                &get,
                "MAX_UPLOAD_BYTES",
                crate::service::adjuntos::MAX_ADJUNTO_DEFECTO,
            )?,
            upload_types: match get("UPLOAD_TYPES") {
                None => crate::service::adjuntos::TIPOS_DEFECTO
                    .iter()
                    .map(|t| (*t).to_owned())
                    .collect(),
                Some(v) => list(Some(v.to_ascii_lowercase())),
            },
            s3: s3(&get)?,
        })
    }
}

/// The S3 bucket settings: none without `S3_BUCKET`; with it, `S3_ENDPOINT` and both keys
/// are required.
fn s3(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<crate::service::archivos::AjustesS3>, ConfigError> {
    let Some(bucket) = get("S3_BUCKET") else {
        return Ok(None);
    };
    if !cfg!(feature = "s3") {
        return Err(ConfigError(
            "S3_BUCKET is set but this build has no S3 support (cargo feature \"s3\")".into(),
        ));
    }
    let requerido = |nombre: &str| {
        get(nombre).ok_or_else(|| ConfigError(format!("{nombre} is required with S3_BUCKET")))
    };
    Ok(Some(crate::service::archivos::AjustesS3 {
        endpoint: requerido("S3_ENDPOINT")?,
        bucket,
        region: get("S3_REGION").unwrap_or_else(|| "us-east-1".into()),
        access_key: requerido("S3_ACCESS_KEY_ID")?,
        secret_key: requerido("S3_SECRET_ACCESS_KEY")?,
    }))
}

/// `API_GENERATIONS`: a comma-separated subset of `v1,v2` (default both).
fn generaciones(valor: Option<String>) -> Result<Generaciones, ConfigError> {
    let Some(valor) = valor else {
        return Ok(Generaciones { v1: true, v2: true });
    };
    let mut g = Generaciones {
        v1: false,
        v2: false,
    };
    for parte in list(Some(valor)) {
        match parte.to_ascii_lowercase().as_str() {
            "v1" => g.v1 = true,
            "v2" => g.v2 = true,
            otra => {
                return Err(ConfigError(format!(
                    "API_GENERATIONS must list v1 and/or v2, not {otra:?}"
                )));
            }
        }
    }
    if g.v1 || g.v2 {
        Ok(g)
    } else {
        Err(ConfigError("API_GENERATIONS must list v1 and/or v2".into()))
    }
}

/// Without `DATABASE_URL`, the PostgREST store needs both Supabase settings (and a build
/// with the `postgrest` feature).
fn validar_supabase(url: Option<&str>, key: Option<&str>) -> Result<(), ConfigError> {
    match (url, key) {
        (None, None) => Err(ConfigError(
            "DATABASE_URL is required (or SUPABASE_URL and SUPABASE_KEY for the PostgREST store)"
                .into(),
        )),
        (Some(_), None) => Err(ConfigError(
            "SUPABASE_KEY is required with SUPABASE_URL when DATABASE_URL is not set".into(),
        )),
        (None, Some(_)) => Err(ConfigError(
            "SUPABASE_URL is required with SUPABASE_KEY when DATABASE_URL is not set".into(),
        )),
        (Some(url), Some(_)) if !(url.starts_with("http://") || url.starts_with("https://")) => {
            Err(ConfigError(format!(
                "SUPABASE_URL must be an http(s) URL, not {url:?}"
            )))
        }
        (Some(_), Some(_)) if !cfg!(feature = "postgrest") => Err(ConfigError(
            "DATABASE_URL is required: this build has no PostgREST store (cargo feature \"postgrest\")"
                .into(),
        )),
        (Some(_), Some(_)) => Ok(()),
    }
}

fn list(value: Option<String>) -> Vec<String> {
    value
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn parse_num<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: T,
) -> Result<T, ConfigError> {
    match get(name) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| ConfigError(format!("{name} must be a non-negative integer, not {v:?}"))),
    }
}

fn parse_bool(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: bool,
) -> Result<bool, ConfigError> {
    match get(name).map(|v| v.to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => Ok(true),
        Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => Ok(false),
        Some(v) => Err(ConfigError(format!(
            "{name} must be true or false, not {v:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_match_the_contract() {
        let s = settings(&[("SECRET_KEY", "k"), ("DATABASE_URL", "postgres://x/db")]).unwrap();
        assert_eq!((s.host.as_str(), s.port), ("127.0.0.1", 5000));
        assert_eq!(s.session_cookie_name, "session");
        assert_eq!(s.max_message_chars, 2000);
        assert_eq!(s.session_lifetime, Duration::from_secs(2_592_000));
        assert!(s.prepared_statements);
        assert!(!s.allow_plaintext_passwords);
        assert_eq!(
            (s.ping_interval, s.ping_timeout),
            (Duration::from_secs(25), Duration::from_secs(20))
        );
    }

    #[test]
    fn database_url_wins_and_supabase_needs_url_and_key() {
        let s = settings(&[
            ("SECRET_KEY", "k"),
            ("DATABASE_URL", "postgres://x/db"),
            ("SUPABASE_URL", "https://p.supabase.co"),
        ])
        .unwrap();
        assert!(s.database_url.is_some());
        let solo_url = settings(&[
            ("SECRET_KEY", "k"),
            ("SUPABASE_URL", "https://p.supabase.co"),
        ]);
        assert!(solo_url.unwrap_err().to_string().contains("SUPABASE_KEY"));
        let solo_clave = settings(&[("SECRET_KEY", "k"), ("SUPABASE_KEY", "sb_secret_x")]);
        assert!(solo_clave.unwrap_err().to_string().contains("SUPABASE_URL"));
        assert!(settings(&[("SECRET_KEY", "k")]).is_err());
        assert!(
            settings(&[
                ("SECRET_KEY", "k"),
                ("SUPABASE_URL", "p.supabase.co"),
                ("SUPABASE_KEY", "sb_secret_x")
            ])
            .is_err()
        );
        let s = settings(&[
            ("SECRET_KEY", "k"),
            ("SUPABASE_URL", "https://p.supabase.co"),
            ("SUPABASE_KEY", "sb_secret_x"),
        ]);
        assert_eq!(s.is_ok(), cfg!(feature = "postgrest"));
        if let Ok(s) = s {
            assert!(
                !format!("{s:?}").contains("sb_secret_x"),
                "the key stays out of Debug"
            );
        }
    }

    #[test]
    fn missing_secret_key_is_refused() {
        let err = settings(&[("DATABASE_URL", "postgres://x/db")]).unwrap_err();
        assert!(err.to_string().contains("SECRET_KEY"));
    }

    #[test]
    fn bad_numbers_and_booleans_are_refused() {
        assert!(settings(&[("SECRET_KEY", "k"), ("DATABASE_URL", "u"), ("PORT", "http")]).is_err());
        assert!(
            settings(&[
                ("SECRET_KEY", "k"),
                ("DATABASE_URL", "u"),
                ("SESSION_COOKIE_SECURE", "maybe")
            ])
            .is_err()
        );
    }

    #[test]
    fn transaction_pooler_port_disables_prepared_statements() {
        let s = settings(&[
            ("SECRET_KEY", "k"),
            ("DATABASE_URL", "postgres://h:6543/db"),
        ])
        .unwrap();
        assert!(!s.prepared_statements);
    }

    #[test]
    fn lists_are_split_and_trimmed() {
        let s = settings(&[
            ("SECRET_KEY", "k"),
            ("DATABASE_URL", "u"),
            ("ALLOWED_ORIGINS", " https://a.cl/ , http://b:8000,"),
            ("SECRET_KEY_FALLBACKS", "old1,old2"),
        ])
        .unwrap();
        assert_eq!(s.allowed_origins, vec!["https://a.cl", "http://b:8000"]);
        assert_eq!(s.secret_key_fallbacks, vec!["old1", "old2"]);
    }

    #[test]
    fn both_generations_and_both_cookie_names_by_default() {
        let s = settings(&[("SECRET_KEY", "k"), ("DATABASE_URL", "u")]).unwrap();
        assert_eq!(s.generaciones, Generaciones { v1: true, v2: true });
        assert_eq!(s.session_cookie_names, vec!["session", "weigence_session"]);
        let s = settings(&[
            ("SECRET_KEY", "k"),
            ("DATABASE_URL", "u"),
            ("API_GENERATIONS", " V2 "),
            ("SESSION_COOKIE_NAME", "weigence_session"),
        ])
        .unwrap();
        assert_eq!(
            s.generaciones,
            Generaciones {
                v1: false,
                v2: true
            }
        );
        assert_eq!(s.session_cookie_names, vec!["weigence_session"]);
        for malo in ["v3", " , ", "v1,v4"] {
            assert!(
                settings(&[
                    ("SECRET_KEY", "k"),
                    ("DATABASE_URL", "u"),
                    ("API_GENERATIONS", malo)
                ])
                .is_err(),
                "{malo:?}"
            );
        }
    }

    #[test]
    fn metrics_are_off_and_loopback_only_by_default() {
        let s = settings(&[("SECRET_KEY", "k"), ("DATABASE_URL", "u")]).unwrap();
        assert_eq!(s.metrics_addr, None);
        assert_eq!(s.log_format, LogFormat::Text);
        assert!(
            s.metrics_allow
                .iter()
                .any(|r| r.contiene("127.0.0.1".parse().unwrap()))
        );
        assert!(
            s.metrics_allow
                .iter()
                .any(|r| r.contiene("::1".parse().unwrap()))
        );
        assert!(
            !s.metrics_allow
                .iter()
                .any(|r| r.contiene("10.1.2.3".parse().unwrap()))
        );
    }

    #[test]
    fn networks_match_their_addresses_only() {
        let red: Red = "10.0.0.0/8".parse().unwrap();
        assert!(red.contiene("10.200.3.4".parse().unwrap()));
        assert!(red.contiene("::ffff:10.0.0.1".parse().unwrap()));
        assert!(!red.contiene("11.0.0.1".parse().unwrap()));
        assert!(!red.contiene("::1".parse().unwrap()));
        let todas: Red = "0.0.0.0/0".parse().unwrap();
        assert!(todas.contiene("192.168.1.1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Red>().is_err());
        assert!("intranet".parse::<Red>().is_err());
        assert!(
            settings(&[
                ("SECRET_KEY", "k"),
                ("DATABASE_URL", "u"),
                ("METRICS_ALLOW", "10.0.0.0/8, nope")
            ])
            .is_err()
        );
        assert!(
            settings(&[
                ("SECRET_KEY", "k"),
                ("DATABASE_URL", "u"),
                ("LOG_FORMAT", "xml")
            ])
            .is_err()
        );
    }
}
