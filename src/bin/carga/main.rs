//! `carga`: the load generator of `scripts/bench`. It speaks Engine.IO 4 / Socket.IO 5 over
//! WebSocket (and plain HTTP/1.1 for the REST scenario) to a running weigence-chat, measures
//! the server's and its own CPU and memory from `/proc`, and prints one JSON line of figures
//! per scenario on stdout (progress goes to stderr).
//!
//! ```text
//! carga <capacity|throughput|latency|fanout|rest|search|attachments> --url http://127.0.0.1:PORT --secret KEY
//!       --pg-url postgres://... --server-pid PID [--pg-pid PID] [--sources 8]
//!       [--handshake-timeout-secs 60] [--stop-after-failures N] [scenario options]
//! ```
//! `--stop-after-failures N` stops opening clients once N have failed (for a server measured
//! until it fails, such as the Python peer); the others are reported as not attempted.
//! Exit status 1 when the scenario recorded errors (lost connections, undelivered messages,
//! refused requests...), 2 on bad usage; performance never fails a run.

mod escenarios;
mod flota;
mod http;
mod medir;
mod propia;
mod sio;

use std::collections::HashMap;
use std::net::ToSocketAddrs;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Value, json};
use weigence_chat::session::SessionCodec;

use flota::Comun;
use medir::Procesos;
use sio::Destino;

/// `--name value` options of the command line.
pub struct Args {
    valores: HashMap<String, String>,
}

impl Args {
    /// Reads `--name value` pairs; anything else is an error.
    fn leer(args: impl Iterator<Item = String>) -> Result<Args, String> {
        let mut valores = HashMap::new();
        let mut args = args.peekable();
        while let Some(a) = args.next() {
            let nombre = a
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected argument {a:?}"))?;
            let valor = args
                .next()
                .ok_or_else(|| format!("--{nombre} needs a value"))?;
            valores.insert(nombre.to_owned(), valor);
        }
        Ok(Args { valores })
    }

    /// A text option.
    pub fn texto(&self, nombre: &str) -> Option<String> {
        self.valores.get(nombre).cloned()
    }

    /// A numeric option, or `defecto` when absent or unreadable.
    pub fn num<T: std::str::FromStr>(&self, nombre: &str, defecto: T) -> T {
        self.valores
            .get(nombre)
            .and_then(|v| v.parse().ok())
            .unwrap_or(defecto)
    }
}

/// Connects to the scenario's database and resolves the server's address.
async fn preparar(a: &Args) -> Result<Comun, String> {
    let url = a.texto("url").ok_or("--url is required")?;
    let host = url
        .strip_prefix("http://")
        .ok_or("--url must start with http://")?
        .trim_end_matches('/')
        .to_owned();
    let addr = host
        .to_socket_addrs()
        .map_err(|e| format!("bad --url: {e}"))?
        .find(|a| a.ip().is_loopback())
        .ok_or("the benchmark only runs against 127.0.0.0/8")?;
    let secreto = a.texto("secret").ok_or("--secret is required")?;
    let pg_url = a.texto("pg-url").ok_or("--pg-url is required")?;
    let (db, conexion) = tokio_postgres::connect(&pg_url, tokio_postgres::NoTls)
        .await
        .map_err(|e| format!("database: {e}"))?;
    tokio::spawn(async move {
        if let Err(e) = conexion.await {
            eprintln!("database connection: {e}");
        }
    });
    Ok(Comun {
        destino: Destino {
            addr,
            host,
            origenes: a.num("sources", 8),
        },
        codec: SessionCodec::new(&secreto, &[], Duration::from_secs(30 * 24 * 3600)),
        procesos: Procesos {
            servidor: a.num("server-pid", 0),
            postgres: a.num("pg-pid", 0),
        },
        db,
        plazo_apertura: a
            .texto("handshake-timeout-secs")
            .and_then(|s| s.parse().ok())
            .map_or(sio::LIMITE_APERTURA, Duration::from_secs),
        fallos_max: a.texto("stop-after-failures").and_then(|s| s.parse().ok()),
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut argumentos = std::env::args().skip(1);
    let escenario = argumentos.next().unwrap_or_default();
    let a = match Args::leer(argumentos) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("carga: {e}");
            return ExitCode::from(2);
        }
    };
    let comun = match preparar(&a).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("carga: {e}");
            return ExitCode::from(2);
        }
    };
    let figuras: Value = match escenario.as_str() {
        "capacity" => escenarios::capacidad(&comun, &a).await,
        "throughput" => escenarios::rendimiento(&comun, &a).await,
        "latency" => escenarios::latencia(&comun, &a).await,
        "fanout" => escenarios::difusion(&comun, &a).await,
        "rest" => escenarios::rest(&comun, &a).await,
        "search" => propia::busqueda(&comun, &a).await,
        "attachments" => propia::adjuntos(&comun, &a).await,
        otro => {
            eprintln!(
                "carga: unknown scenario {otro:?} (capacity, throughput, latency, fanout, rest)"
            );
            return ExitCode::from(2);
        }
    };
    let errores = figuras["errors"]["count"].as_u64().unwrap_or(0);
    println!("{}", json!(figuras));
    if errores == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
