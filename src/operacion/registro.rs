//! Logging to stderr: tracing's text format by default, or with `LOG_FORMAT=json` one JSON
//! object per line whose keys are the event's fields plus those of every span it happened in
//! (so `request_id`, set on each HTTP request's and each socket's span, is on every line logged
//! while serving it). Callers never log cookies, secrets or message text.

use std::io::Write as _;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogFormat;

/// Installs the global subscriber: `RUST_LOG` filter (default `info`), format from the settings.
pub fn iniciar(formato: LogFormat) {
    let filtro = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    match formato {
        LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filtro)
            .with_writer(std::io::stderr)
            .init(),
        LogFormat::Json => tracing_subscriber::registry()
            .with(filtro)
            .with(CapaJson)
            .init(),
    }
}

/// Field values of a span or an event, as JSON.
#[derive(Default)]
struct Campos(Map<String, Value>);

impl Visit for Campos {
    fn record_str(&mut self, campo: &Field, valor: &str) {
        self.0.insert(campo.name().to_owned(), Value::from(valor));
    }
    fn record_i64(&mut self, campo: &Field, valor: i64) {
        self.0.insert(campo.name().to_owned(), Value::from(valor));
    }
    fn record_u64(&mut self, campo: &Field, valor: u64) {
        self.0.insert(campo.name().to_owned(), Value::from(valor));
    }
    fn record_f64(&mut self, campo: &Field, valor: f64) {
        self.0.insert(campo.name().to_owned(), Value::from(valor));
    }
    fn record_bool(&mut self, campo: &Field, valor: bool) {
        self.0.insert(campo.name().to_owned(), Value::from(valor));
    }
    fn record_debug(&mut self, campo: &Field, valor: &dyn std::fmt::Debug) {
        self.0
            .insert(campo.name().to_owned(), Value::from(format!("{valor:?}")));
    }
}

/// Writes every event as one JSON line: `time`, `level`, `target`, the fields of the spans it
/// is in (outermost first) and its own fields (`message` included).
struct CapaJson;

impl<S> Layer<S> for CapaJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, atributos: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut campos = Campos::default();
        atributos.record(&mut campos);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(campos);
        }
    }

    fn on_record(&self, id: &Id, valores: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            let mut extensiones = span.extensions_mut();
            if let Some(campos) = extensiones.get_mut::<Campos>() {
                valores.record(campos);
            }
        }
    }

    fn on_event(&self, evento: &Event<'_>, ctx: Context<'_, S>) {
        let mut texto = componer(evento, &ctx).to_string();
        texto.push('\n');
        // One write per line, so lines from concurrent tasks never interleave.
        let _ = std::io::stderr().lock().write_all(texto.as_bytes());
    }
}

/// The JSON object of one event.
fn componer<S>(evento: &Event<'_>, ctx: &Context<'_, S>) -> Value
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let mut linea = Map::new();
    linea.insert(
        "time".into(),
        Value::from(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
    );
    linea.insert(
        "level".into(),
        Value::from(evento.metadata().level().as_str()),
    );
    linea.insert("target".into(), Value::from(evento.metadata().target()));
    if let Some(ambito) = ctx.event_scope(evento) {
        for span in ambito.from_root() {
            if let Some(campos) = span.extensions().get::<Campos>() {
                linea.extend(campos.0.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
    }
    let mut propios = Campos::default();
    evento.record(&mut propios);
    linea.extend(propios.0);
    Value::Object(linea)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Records what [`CapaJson`] would write, instead of writing it to stderr.
    struct Captura(Arc<Mutex<Vec<Value>>>);

    impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Captura {
        fn on_new_span(&self, a: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
            CapaJson.on_new_span(a, id, ctx)
        }
        fn on_event(&self, evento: &Event<'_>, ctx: Context<'_, S>) {
            self.0.lock().unwrap().push(componer(evento, &ctx));
        }
    }

    #[test]
    fn json_lines_carry_span_fields_and_event_fields() {
        let lineas = Arc::new(Mutex::new(Vec::new()));
        let suscriptor = tracing_subscriber::registry().with(Captura(lineas.clone()));
        tracing::subscriber::with_default(suscriptor, || {
            let span = tracing::info_span!("peticion", request_id = "abc");
            let _dentro = span.enter();
            tracing::warn!(status = 404u16, ruta = %"/x", "hecho");
        });
        let lineas = lineas.lock().unwrap();
        assert_eq!(lineas[0]["request_id"], "abc");
        assert_eq!(lineas[0]["status"], 404);
        assert_eq!(lineas[0]["ruta"], "/x");
        assert_eq!(lineas[0]["message"], "hecho");
        assert_eq!(lineas[0]["level"], "WARN");
        assert!(lineas[0]["time"].as_str().is_some_and(|t| t.ends_with('Z')));
    }
}
