//! `weigence-chat doctor`: checks a deployment with the server's own settings before the switch
//! and says, as a table or JSON, what is fine, what optional piece is missing (with the command
//! that adds it) and what would stop the server. Exit code 0: the server would start and serve
//! everything; 1: something optional is missing or misconfigured; 2: it cannot start.
//!
//! Store checks go through [`DiagnosticoAlmacen`], one implementation per store ([`postgres`],
//! and `postgrest` when only `SUPABASE_URL` and `SUPABASE_KEY` are set, chosen as the server
//! chooses its store); Redis, the cookie and the origins are checked here.

pub mod postgres;
#[cfg(feature = "postgrest")]
pub mod postgrest;

use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::config::{ConfigError, Generaciones, Settings};
use crate::session::SessionCodec;

/// How a check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Nivel {
    /// Fine.
    Ok,
    /// Worth knowing; changes nothing.
    Info,
    /// Something optional is missing or misconfigured (exit 1).
    Falta,
    /// The server cannot start (exit 2).
    Fatal,
}

impl Nivel {
    /// Name in the table and the JSON.
    pub fn nombre(self) -> &'static str {
        match self {
            Nivel::Ok => "ok",
            Nivel::Info => "info",
            Nivel::Falta => "missing",
            Nivel::Fatal => "fatal",
        }
    }
}

/// One line of the report.
#[derive(Clone, Debug)]
pub struct Comprobacion {
    /// What was checked.
    pub nombre: String,
    /// Outcome.
    pub nivel: Nivel,
    /// What was found.
    pub detalle: String,
    /// The command (or setting) that fixes it, when something is missing.
    pub comando: Option<String>,
}

impl Comprobacion {
    /// A check without a fix.
    pub fn nueva(nombre: impl Into<String>, nivel: Nivel, detalle: impl Into<String>) -> Self {
        Comprobacion {
            nombre: nombre.into(),
            nivel,
            detalle: detalle.into(),
            comando: None,
        }
    }

    /// The same check with the command that fixes it.
    pub fn con_comando(mut self, comando: impl Into<String>) -> Self {
        self.comando = Some(comando.into());
        self
    }
}

/// A duration in milliseconds, for the latency lines of the store checks.
fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// An optional piece of the schema: present or not, and which API generation uses it.
#[derive(Clone, Debug)]
pub struct Pieza {
    /// Name in the report.
    pub nombre: &'static str,
    /// What uses it: an API generation (`"v1"`, `"v2"`, reported only when served), or our own
    /// API (`"propia"`: search, attachments, mute; always served).
    pub generacion: &'static str,
    /// Whether the database has it.
    pub presente: bool,
    /// What it is for, or what was found.
    pub detalle: String,
    /// The command that adds it.
    pub comando: &'static str,
}

impl Pieza {
    /// The v2 delta (sql/v2_delta.sql): present when nothing of it is `faltan`; `comando` adds it.
    pub fn delta_v2(tablas: [&str; 3], faltan: &[String], comando: &'static str) -> Pieza {
        let [conv, _, msg] = tablas;
        Pieza {
            nombre: "v2 delta",
            generacion: "v2",
            presente: faltan.is_empty(),
            detalle: if faltan.is_empty() {
                format!("reactions, {conv}.mensaje_fijado_id, {msg}.reply_to (sql/v2_delta.sql)")
            } else {
                format!("lacks {} (sql/v2_delta.sql)", faltan.join(", "))
            },
            comando,
        }
    }

    /// Groups and the life of a message (sql/grupos.sql); `comando` adds it.
    pub fn grupos(presente: bool, comando: &'static str) -> Pieza {
        Pieza {
            nombre: "groups and message life",
            generacion: "propia",
            presente,
            detalle: "sql/grupos.sql: groups, edits, several reactions per user, several pins, \
                      delivery states, system messages (those routes answer 503 without it)"
                .to_owned(),
            comando,
        }
    }

    /// The report line: ok when present; missing when a generation `servidas` serves uses it
    /// (`API_GENERATIONS`); info otherwise.
    pub fn comprobacion(&self, servidas: Generaciones) -> Comprobacion {
        let nombre = format!("optional: {}", self.nombre);
        if self.presente {
            return Comprobacion::nueva(nombre, Nivel::Ok, format!("present ({})", self.detalle));
        }
        let servida = match self.generacion {
            "v1" => servidas.v1,
            "v2" => servidas.v2,
            // Our own API (search, attachments, mute) is always served.
            _ => true,
        };
        let (nivel, detalle) = if servida {
            (Nivel::Falta, format!("absent: {}", self.detalle))
        } else {
            (
                Nivel::Info,
                format!(
                    "absent, used by {} (not served here): {}",
                    self.generacion, self.detalle
                ),
            )
        };
        Comprobacion::nueva(nombre, nivel, detalle).con_comando(self.comando)
    }
}

/// The store-specific checks: reachability and latency, table variant and id types, missing
/// tables or columns, optional pieces.
#[async_trait]
pub trait DiagnosticoAlmacen: Send + Sync {
    /// Store name in the report (`postgres`, `postgrest`).
    fn nombre(&self) -> &'static str;
    /// Every check of this store, in report order.
    async fn comprobar(&self) -> Vec<Comprobacion>;
}

/// The whole report.
#[derive(Clone, Debug)]
pub struct Informe {
    /// The store checked, when the settings name one.
    pub almacen: Option<&'static str>,
    /// Every check, in order.
    pub comprobaciones: Vec<Comprobacion>,
}

impl Informe {
    /// 0, 1 or 2 (see the module documentation).
    pub fn codigo_salida(&self) -> u8 {
        match self.comprobaciones.iter().map(|c| c.nivel).max() {
            Some(Nivel::Fatal) => 2,
            Some(Nivel::Falta) => 1,
            _ => 0,
        }
    }

    fn veredicto(&self) -> &'static str {
        match self.codigo_salida() {
            0 => "ready: the server would start and serve everything",
            1 => "usable: the server would start, but something optional is missing",
            _ => "not ready: the server cannot start",
        }
    }

    /// A table for people.
    pub fn tabla(&self) -> String {
        let ancho = self
            .comprobaciones
            .iter()
            .map(|c| c.nombre.chars().count())
            .max()
            .unwrap_or(5)
            .max(5);
        let mut salida = format!(
            "weigence-chat doctor (store: {})\n{:ancho$}  {:7}  DETAIL\n",
            self.almacen.unwrap_or("none"),
            "CHECK",
            "STATUS"
        );
        for c in &self.comprobaciones {
            salida.push_str(&format!(
                "{:ancho$}  {:7}  {}\n",
                c.nombre,
                c.nivel.nombre(),
                c.detalle
            ));
            if let Some(comando) = &c.comando {
                salida.push_str(&format!("{:ancho$}  {:7}  fix: {comando}\n", "", ""));
            }
        }
        salida.push_str(&format!(
            "exit {}: {}\n",
            self.codigo_salida(),
            self.veredicto()
        ));
        salida
    }

    /// The same as JSON.
    pub fn json(&self) -> Value {
        json!({
            "store": self.almacen,
            "exit_code": self.codigo_salida(),
            "verdict": self.veredicto(),
            "checks": self.comprobaciones.iter().map(|c| json!({
                "check": c.nombre,
                "status": c.nivel.nombre(),
                "detail": c.detalle,
                "command": c.comando,
            })).collect::<Vec<_>>(),
        })
    }
}

/// Runs every check with the server's settings (or reports why they cannot be read);
/// `cookie` is a session cookie to try `SECRET_KEY` on.
pub async fn examinar(settings: Result<Settings, ConfigError>, cookie: Option<&str>) -> Informe {
    let settings = match settings {
        Ok(s) => s,
        Err(e) => {
            return Informe {
                almacen: None,
                comprobaciones: vec![
                    Comprobacion::nueva("configuration", Nivel::Fatal, e.to_string()).con_comando(
                        "set it in the environment or in .env (README, Configuration)",
                    ),
                ],
            };
        }
    };
    let mut comprobaciones = vec![Comprobacion::nueva(
        "configuration",
        Nivel::Ok,
        "settings read (environment and .env)",
    )];
    let almacen = diagnostico_almacen(&settings);
    comprobaciones.extend(almacen.comprobar().await);
    comprobaciones
        .push(comprobar_redis(settings.redis_url.as_deref(), settings.database_timeout).await);
    if let Some(cookie) = cookie {
        comprobaciones.push(comprobar_cookie(&settings, cookie));
    }
    comprobaciones.push(comprobar_origenes(&settings.allowed_origins));
    comprobaciones.push(comprobar_metricas(&settings));
    Informe {
        almacen: Some(almacen.nombre()),
        comprobaciones,
    }
}

/// The store checks for the store the server would use: `DATABASE_URL` wins, else PostgREST.
fn diagnostico_almacen(settings: &Settings) -> Box<dyn DiagnosticoAlmacen> {
    #[cfg(feature = "postgrest")]
    if settings.database_url.is_none() {
        return Box::new(postgrest::DiagnosticoPostgrest::desde(settings));
    }
    Box::new(postgres::DiagnosticoPostgres::desde(settings))
}

async fn comprobar_redis(url: Option<&str>, espera: Duration) -> Comprobacion {
    let Some(url) = url else {
        return Comprobacion::nueva(
            "redis",
            Nivel::Info,
            "REDIS_URL not set: one instance, rooms in memory",
        );
    };
    let inicio = Instant::now();
    let ping = async {
        let cliente = redis::Client::open(url)?;
        let mut conexion = cliente.get_multiplexed_async_connection().await?;
        redis::cmd("PING")
            .query_async::<String>(&mut conexion)
            .await
    };
    match tokio::time::timeout(espera, ping).await {
        Ok(Ok(_)) => Comprobacion::nueva(
            "redis",
            Nivel::Ok,
            format!(
                "reachable, PING in {:.1} ms",
                inicio.elapsed().as_secs_f64() * 1000.0
            ),
        ),
        Ok(Err(e)) => Comprobacion::nueva("redis", Nivel::Fatal, format!("unreachable: {e}"))
            .con_comando("start Redis or fix REDIS_URL"),
        Err(_) => Comprobacion::nueva(
            "redis",
            Nivel::Fatal,
            format!("no answer within {} ms", espera.as_millis()),
        )
        .con_comando("start Redis or fix REDIS_URL"),
    }
}

/// The cookie's value from what the user pasted: the bare value, `session=<value>`, or a
/// whole `Cookie:` header.
fn valor_cookie<'a>(pegado: &'a str, nombre: &str) -> &'a str {
    let pegado = pegado.trim();
    let pegado = pegado
        .strip_prefix("Cookie:")
        .or_else(|| pegado.strip_prefix("cookie:"))
        .unwrap_or(pegado)
        .trim();
    pegado
        .split(';')
        .find_map(|par| {
            par.trim()
                .strip_prefix(nombre)
                .and_then(|r| r.strip_prefix('='))
        })
        .unwrap_or(pegado)
}

fn comprobar_cookie(settings: &Settings, pegado: &str) -> Comprobacion {
    let codec = SessionCodec::new(
        &settings.secret_key,
        &settings.secret_key_fallbacks,
        settings.session_lifetime,
    );
    let ahora = chrono::Utc::now().timestamp();
    let leida = settings
        .session_cookie_names
        .iter()
        .map(|nombre| codec.decode(valor_cookie(pegado, nombre), ahora))
        .reduce(|primera, otra| primera.or(otra))
        .expect("at least one cookie name");
    match leida {
        Ok(sesion) => match sesion.usuario_id() {
            Some(usuario) => Comprobacion::nueva(
                "session cookie",
                Nivel::Ok,
                format!("SECRET_KEY reads it: signed-in user {usuario}"),
            ),
            None => Comprobacion::nueva(
                "session cookie",
                Nivel::Falta,
                "SECRET_KEY reads it, but it holds no usuario_id (not a signed-in session)",
            )
            .con_comando("log in to the Flask app and paste that session cookie"),
        },
        Err(e) => Comprobacion::nueva(
            "session cookie",
            Nivel::Falta,
            format!("SECRET_KEY cannot read it: {e}"),
        )
        .con_comando("set SECRET_KEY (or SECRET_KEY_FALLBACKS) to the Flask app's SECRET_KEY"),
    }
}

/// An allowed origin is `http(s)://host[:port]`, nothing more (browsers send exactly that).
fn origen_valido(origen: &str) -> bool {
    let resto = origen
        .strip_prefix("https://")
        .or_else(|| origen.strip_prefix("http://"));
    resto.is_some_and(|r| !r.is_empty() && !r.contains(['/', '?', '#', ' ', '@']))
}

fn comprobar_origenes(origenes: &[String]) -> Comprobacion {
    let malos: Vec<&String> = origenes.iter().filter(|o| !origen_valido(o)).collect();
    if !malos.is_empty() {
        return Comprobacion::nueva(
            "origins",
            Nivel::Falta,
            format!("ALLOWED_ORIGINS entries that no browser sends: {malos:?}"),
        )
        .con_comando("ALLOWED_ORIGINS=https://weigence.example,https://other.example (scheme://host[:port], no path)");
    }
    if origenes.is_empty() {
        Comprobacion::nueva(
            "origins",
            Nivel::Info,
            "only the service's own host (Origin must match Host: forward Host unchanged from the proxy)",
        )
    } else {
        Comprobacion::nueva(
            "origins",
            Nivel::Ok,
            format!("own host plus {}", origenes.join(", ")),
        )
    }
}

fn comprobar_metricas(settings: &Settings) -> Comprobacion {
    match &settings.metrics_addr {
        None => Comprobacion::nueva(
            "metrics",
            Nivel::Info,
            "METRICS_ADDR not set: /metrics is off",
        ),
        Some(dir) => Comprobacion::nueva(
            "metrics",
            Nivel::Ok,
            format!(
                "/metrics on {dir} ({} allowed address blocks, {})",
                settings.metrics_allow.len(),
                if settings.metrics_token.is_some() {
                    "bearer token required"
                } else {
                    "no token"
                }
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_check_decides_the_exit_code() {
        let informe = |niveles: &[Nivel]| Informe {
            almacen: Some("postgres"),
            comprobaciones: niveles
                .iter()
                .map(|n| Comprobacion::nueva("x", *n, ""))
                .collect(),
        };
        assert_eq!(informe(&[Nivel::Ok, Nivel::Info]).codigo_salida(), 0);
        assert_eq!(
            informe(&[Nivel::Ok, Nivel::Falta, Nivel::Info]).codigo_salida(),
            1
        );
        assert_eq!(informe(&[Nivel::Falta, Nivel::Fatal]).codigo_salida(), 2);
    }

    #[test]
    fn pieces_of_unserved_generations_do_not_count_and_our_own_api_always_does() {
        let pieza = |generacion| Pieza {
            nombre: "x",
            generacion,
            presente: false,
            detalle: String::new(),
            comando: "scripts/migrate",
        };
        let ambas = Generaciones { v1: true, v2: true };
        let solo_v1 = Generaciones {
            v1: true,
            v2: false,
        };
        assert_eq!(pieza("v1").comprobacion(ambas).nivel, Nivel::Falta);
        assert_eq!(pieza("v2").comprobacion(ambas).nivel, Nivel::Falta);
        assert_eq!(pieza("v2").comprobacion(solo_v1).nivel, Nivel::Info);
        assert_eq!(pieza("propia").comprobacion(solo_v1).nivel, Nivel::Falta);
        assert_eq!(
            pieza("v2").comprobacion(solo_v1).comando.as_deref(),
            Some("scripts/migrate")
        );
    }

    #[test]
    fn pasted_cookies_are_found_in_any_form() {
        assert_eq!(valor_cookie(" abc.def ", "session"), "abc.def");
        assert_eq!(valor_cookie("session=abc.def", "session"), "abc.def");
        assert_eq!(
            valor_cookie("Cookie: theme=dark; session=abc.def; x=1", "session"),
            "abc.def"
        );
    }

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        assert!(origen_valido("https://weigence.cl"));
        assert!(origen_valido("http://127.0.0.1:5000"));
        assert!(!origen_valido("weigence.cl"));
        assert!(!origen_valido("https://weigence.cl/chat"));
        assert!(!origen_valido("https://"));
        assert_eq!(
            comprobar_origenes(&["https://a.cl/x".into()]).nivel,
            Nivel::Falta
        );
        assert_eq!(comprobar_origenes(&[]).nivel, Nivel::Info);
    }
}
