//! Counters and histograms in Prometheus' text format, written by hand (no client crate: the
//! format is a few lines, and the dependency tree stays lean). Hooks across the code call
//! [`contar`] and [`observar`] on one process-wide registry, so a hook in a file someone else
//! owns stays one line; gauges that describe live state (sockets, pool, process) are read at
//! scrape time by [`Recolector`]s instead.
//!
//! Label values are always from a closed set chosen by our code (route templates, event
//! names, reasons): never a user id, a cookie or message text.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;

/// What a metric family is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tipo {
    /// Only goes up.
    Contador,
    /// Distribution of durations, in seconds.
    Histograma,
}

/// A metric family: name, help text and type.
#[derive(Debug)]
pub struct Familia {
    /// Prometheus name.
    pub nombre: &'static str,
    /// `# HELP` text.
    pub ayuda: &'static str,
    /// `# TYPE`.
    pub tipo: Tipo,
}

/// HTTP responses by method, route template and status class.
pub static HTTP_RESPUESTAS: Familia = Familia {
    nombre: "weigence_chat_http_responses_total",
    ayuda: "HTTP responses by method, route template and status class.",
    tipo: Tipo::Contador,
};
/// HTTP latency by method and route template.
pub static HTTP_LATENCIA: Familia = Familia {
    nombre: "weigence_chat_http_request_duration_seconds",
    ayuda: "Time from request to response headers, by method and route template.",
    tipo: Tipo::Histograma,
};
/// Socket.IO handshakes, accepted or refused, by reason.
pub static HANDSHAKES: Familia = Familia {
    nombre: "weigence_chat_socketio_handshakes_total",
    ayuda: "Socket.IO handshakes by result (accepted, refused) and reason.",
    tipo: Tipo::Contador,
};
/// Socket.IO events received, by event and API generation.
pub static EVENTOS: Familia = Familia {
    nombre: "weigence_chat_socketio_events_total",
    ayuda: "Socket.IO events received from clients, by event and API generation.",
    tipo: Tipo::Contador,
};
/// Socket.IO events emitted to rooms, by event.
pub static EMISIONES: Familia = Familia {
    nombre: "weigence_chat_socketio_emits_total",
    ayuda: "Socket.IO events emitted to rooms (one per emit, whatever the number of receivers).",
    tipo: Tipo::Contador,
};
/// Messages accepted, by transport and API generation.
pub static MENSAJES: Familia = Familia {
    nombre: "weigence_chat_messages_total",
    ayuda: "Messages sent successfully (stored, or an idempotent retry answered), by transport and API generation.",
    tipo: Tipo::Contador,
};
/// Socket.IO send to acknowledgement.
pub static LATENCIA_ACK: Familia = Familia {
    nombre: "weigence_chat_send_ack_seconds",
    ayuda: "Time from receiving a Socket.IO message send to sending its acknowledgement.",
    tipo: Tipo::Histograma,
};
/// Storage errors by kind.
pub static ERRORES_ALMACEN: Familia = Familia {
    nombre: "weigence_chat_store_errors_total",
    ayuda: "Storage errors by kind (unavailable: the database could not be reached in time; other).",
    tipo: Tipo::Contador,
};
/// Rate-limit refusals by limit.
pub static LIMITES: Familia = Familia {
    nombre: "weigence_chat_rate_limited_total",
    ayuda: "Requests, events or handshakes refused by a rate limit, by limit.",
    tipo: Tipo::Contador,
};

/// Histogram bucket bounds, in seconds.
const LIMITES_CUBETAS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Label names and values of one series, in a fixed order.
type Etiquetas = Vec<(&'static str, String)>;

#[derive(Clone, Debug)]
enum Valor {
    Contador(u64),
    Histograma {
        cubetas: [u64; LIMITES_CUBETAS.len()],
        suma: f64,
        cuenta: u64,
    },
}

/// Every counter and histogram of the process, by family.
#[derive(Default)]
struct Registro {
    series: BTreeMap<&'static str, (&'static Familia, BTreeMap<Etiquetas, Valor>)>,
}

static REGISTRO: LazyLock<Mutex<Registro>> = LazyLock::new(Mutex::default);

fn con_serie(
    familia: &'static Familia,
    etiquetas: &[(&'static str, &str)],
    f: impl FnOnce(&mut Valor),
) {
    let clave: Etiquetas = etiquetas
        .iter()
        .map(|(k, v)| (*k, (*v).to_owned()))
        .collect();
    let mut registro = REGISTRO.lock().unwrap_or_else(|e| e.into_inner());
    let (_, series) = registro
        .series
        .entry(familia.nombre)
        .or_insert_with(|| (familia, BTreeMap::new()));
    let valor = series.entry(clave).or_insert_with(|| match familia.tipo {
        Tipo::Contador => Valor::Contador(0),
        Tipo::Histograma => Valor::Histograma {
            cubetas: [0; LIMITES_CUBETAS.len()],
            suma: 0.0,
            cuenta: 0,
        },
    });
    f(valor);
}

/// Adds one to a counter.
pub fn contar(familia: &'static Familia, etiquetas: &[(&'static str, &str)]) {
    con_serie(familia, etiquetas, |v| {
        if let Valor::Contador(n) = v {
            *n += 1;
        }
    });
}

/// Makes a counter series exist at zero, so rates work from the first scrape.
fn declarar(familia: &'static Familia, etiquetas: &[(&'static str, &str)]) {
    con_serie(familia, etiquetas, |_| {});
}

/// Declares at zero the series that alerts and rates rely on, so they exist from the first
/// scrape (a series that appears later starts its rate one scrape late).
pub fn declarar_series() {
    for transporte in ["rest", "socketio"] {
        declarar(
            &MENSAJES,
            &[("transport", transporte), ("generacion", super::V1)],
        );
    }
    for tipo in ["unavailable", "other"] {
        declarar(&ERRORES_ALMACEN, &[("kind", tipo)]);
    }
    declarar(&HANDSHAKES, &[("result", "accepted"), ("reason", "ok")]);
}

/// Records one duration in a histogram.
pub fn observar(familia: &'static Familia, etiquetas: &[(&'static str, &str)], duracion: Duration) {
    let segundos = duracion.as_secs_f64();
    con_serie(familia, etiquetas, |v| {
        if let Valor::Histograma {
            cubetas,
            suma,
            cuenta,
        } = v
        {
            for (cubeta, limite) in cubetas.iter_mut().zip(LIMITES_CUBETAS) {
                if segundos <= limite {
                    *cubeta += 1;
                }
            }
            *suma += segundos;
            *cuenta += 1;
        }
    });
}

/// Escapes a label value as the text format requires.
fn escapar(valor: &str) -> String {
    valor
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `{a="x",b="y"}` (empty when there are no labels).
fn etiquetas_texto(etiquetas: &[(&str, String)]) -> String {
    if etiquetas.is_empty() {
        return String::new();
    }
    let partes: Vec<String> = etiquetas
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escapar(v)))
        .collect();
    format!("{{{}}}", partes.join(","))
}

fn numero(valor: f64) -> String {
    if valor.is_finite() {
        format!("{valor}")
    } else if valor > 0.0 {
        "+Inf".into()
    } else {
        "NaN".into()
    }
}

/// A gauge family computed at scrape time, appended to `salida` in the text format.
pub fn escribir_indicador(
    salida: &mut String,
    nombre: &str,
    ayuda: &str,
    series: &[(Vec<(&str, String)>, f64)],
) {
    let _ = writeln!(salida, "# HELP {nombre} {ayuda}\n# TYPE {nombre} gauge");
    for (etiquetas, valor) in series {
        let _ = writeln!(
            salida,
            "{nombre}{} {}",
            etiquetas_texto(etiquetas),
            numero(*valor)
        );
    }
}

/// The registry's counters and histograms in the text format.
fn escribir_registro(salida: &mut String) {
    let registro = REGISTRO.lock().unwrap_or_else(|e| e.into_inner());
    for (familia, series) in registro.series.values() {
        let tipo = match familia.tipo {
            Tipo::Contador => "counter",
            Tipo::Histograma => "histogram",
        };
        let _ = writeln!(
            salida,
            "# HELP {} {}\n# TYPE {} {tipo}",
            familia.nombre, familia.ayuda, familia.nombre
        );
        for (etiquetas, valor) in series {
            match valor {
                Valor::Contador(n) => {
                    let _ = writeln!(
                        salida,
                        "{}{} {n}",
                        familia.nombre,
                        etiquetas_texto(etiquetas)
                    );
                }
                Valor::Histograma {
                    cubetas,
                    suma,
                    cuenta,
                } => {
                    for (n, limite) in cubetas.iter().zip(LIMITES_CUBETAS) {
                        let mut con_le = etiquetas.clone();
                        con_le.push(("le", numero(limite)));
                        let _ = writeln!(
                            salida,
                            "{}_bucket{} {n}",
                            familia.nombre,
                            etiquetas_texto(&con_le)
                        );
                    }
                    let mut inf = etiquetas.clone();
                    inf.push(("le", "+Inf".into()));
                    let _ = writeln!(
                        salida,
                        "{}_bucket{} {cuenta}",
                        familia.nombre,
                        etiquetas_texto(&inf)
                    );
                    let _ = writeln!(
                        salida,
                        "{}_sum{} {}",
                        familia.nombre,
                        etiquetas_texto(etiquetas),
                        numero(*suma)
                    );
                    let _ = writeln!(
                        salida,
                        "{}_count{} {cuenta}",
                        familia.nombre,
                        etiquetas_texto(etiquetas)
                    );
                }
            }
        }
    }
}

/// Reads live state at scrape time and appends gauge families to the text.
pub type Recolector = Box<dyn Fn() -> BoxFuture<'static, String> + Send + Sync>;

/// The whole exposition: registry, process figures and every collector's gauges.
pub async fn exposicion(recolectores: &[Recolector]) -> String {
    let mut salida = String::with_capacity(8 * 1024);
    escribir_registro(&mut salida);
    escribir_indicador(
        &mut salida,
        "weigence_chat_build_info",
        "Version of the running binary (value 1).",
        &[(vec![("version", env!("CARGO_PKG_VERSION").to_owned())], 1.0)],
    );
    super::proceso::escribir(&mut salida);
    for recolector in recolectores {
        salida.push_str(&recolector().await);
    }
    salida
}

#[cfg(test)]
mod tests {
    use super::*;

    static PRUEBA: Familia = Familia {
        nombre: "weigence_chat_test_total",
        ayuda: "Test counter.",
        tipo: Tipo::Contador,
    };
    static PRUEBA_H: Familia = Familia {
        nombre: "weigence_chat_test_seconds",
        ayuda: "Test histogram.",
        tipo: Tipo::Histograma,
    };

    #[tokio::test]
    async fn counters_and_histograms_render_in_the_text_format() {
        contar(&PRUEBA, &[("ruta", "/a\"b")]);
        contar(&PRUEBA, &[("ruta", "/a\"b")]);
        observar(&PRUEBA_H, &[], Duration::from_millis(3));
        let texto = exposicion(&[]).await;
        assert!(
            texto.contains("# TYPE weigence_chat_test_total counter"),
            "{texto}"
        );
        assert!(
            texto.contains("weigence_chat_test_total{ruta=\"/a\\\"b\"} 2"),
            "{texto}"
        );
        assert!(
            texto.contains("weigence_chat_test_seconds_bucket{le=\"0.0025\"} 0"),
            "{texto}"
        );
        assert!(
            texto.contains("weigence_chat_test_seconds_bucket{le=\"0.005\"} 1"),
            "{texto}"
        );
        assert!(
            texto.contains("weigence_chat_test_seconds_bucket{le=\"+Inf\"} 1"),
            "{texto}"
        );
        assert!(
            texto.contains("weigence_chat_test_seconds_count 1"),
            "{texto}"
        );
        assert!(texto.contains("process_open_fds "), "{texto}");
    }
}
