//! The v2 Socket.IO events (CONTRACT-v2.md §2, with the fixes of §7): `join`, `leave`,
//! `send`, `seen`. Each goes through the same service calls as REST; errors reach the caller as
//! `error {"msg"}`.

use std::sync::Arc;

use serde_json::{Value, json};
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Extension, SocketRef, TryData};

use tracing::Instrument;

use super::Contexto;
use super::eventos::{SpanSocket, conversacion, emitir, recibido};
use crate::contrato::v2::MensajeV2;
use crate::operacion::V2;
use crate::operacion::metricas::{self, LATENCIA_ACK, MENSAJES};
use crate::service::{Actor, Envio, ErrorChat};

/// Registers the v2 events of one socket; their handlers log inside the socket's span and,
/// like the v1 ones, capture nothing.
pub fn registrar<A: Adapter>(s: &SocketRef<A>) {
    s.on(
        "join",
        |s: SocketRef<A>,
         Extension(a): Extension<Actor>,
         Extension(c): Extension<Arc<Contexto>>,
         Extension(SpanSocket(sp)): Extension<SpanSocket>,
         TryData(d): TryData<Value>| {
            recibido("join", V2);
            async move { unirse(&c, &s, &a, d.ok()).await }.instrument(sp)
        },
    );
    s.on(
        "leave",
        |s: SocketRef<A>,
         Extension(c): Extension<Arc<Contexto>>,
         Extension(SpanSocket(sp)): Extension<SpanSocket>,
         TryData(d): TryData<Value>| {
            recibido("leave", V2);
            async move { salir(&c, &s, d.ok()).await }.instrument(sp)
        },
    );
    s.on(
        "send",
        |s: SocketRef<A>,
         Extension(a): Extension<Actor>,
         Extension(c): Extension<Arc<Contexto>>,
         Extension(SpanSocket(sp)): Extension<SpanSocket>,
         TryData(d): TryData<Value>,
         ack: AckSender<A>| {
            recibido("send", V2);
            async move { enviar(&c, &s, &a, d.ok(), ack).await }.instrument(sp)
        },
    );
    s.on(
        "seen",
        |s: SocketRef<A>,
         Extension(a): Extension<Actor>,
         Extension(c): Extension<Arc<Contexto>>,
         Extension(SpanSocket(sp)): Extension<SpanSocket>,
         TryData(d): TryData<Value>| {
            recibido("seen", V2);
            async move { visto(&c, &s, &a, d.ok()).await }.instrument(sp)
        },
    );
}

/// The conversation id of a payload, unless missing or falsy (`null`, `0`, `""`, `false`),
/// as the original tested it.
fn conversacion_presente(datos: &Option<Value>) -> Option<&Value> {
    conversacion(datos).filter(|v| match v {
        Value::Null | Value::Bool(false) => false,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        _ => true,
    })
}

async fn unirse<A: Adapter>(ctx: &Contexto, s: &SocketRef<A>, actor: &Actor, datos: Option<Value>) {
    let Some(id) = conversacion_presente(&datos) else {
        return error(s, "Datos insuficientes");
    };
    match ctx.servicio.acceso(actor, Some(id)).await {
        Ok(id) => {
            s.join(id.to_string());
            emitir(s, "joined", &json!({"conversacion_id": id.to_string()}));
        }
        Err(ErrorChat::SinAcceso) => error(s, "No perteneces a la conversacion"),
        Err(e) => error(s, &e.to_string()),
    }
}

async fn salir<A: Adapter>(ctx: &Contexto, s: &SocketRef<A>, datos: Option<Value>) {
    match ctx
        .servicio
        .id_conversacion(conversacion_presente(&datos))
        .await
    {
        Ok(id) => s.leave(id.to_string()),
        Err(_) => error(s, "Datos insuficientes"),
    }
}

async fn enviar<A: Adapter>(
    ctx: &Contexto,
    s: &SocketRef<A>,
    actor: &Actor,
    datos: Option<Value>,
    ack: AckSender<A>,
) {
    let campo = |clave: &str| {
        datos
            .as_ref()
            .and_then(Value::as_object)
            .and_then(|o| o.get(clave))
    };
    let contenido_en_blanco = matches!(campo("contenido"), Some(Value::String(t)) if !t.is_empty());
    let envio = Envio {
        conversacion: conversacion_presente(&datos),
        contenido: campo("contenido"),
        clave: campo("client_id"),
        responde_a: campo("reply_to"),
        ..Envio::default()
    };
    // The widget sends without an ack and hears `mensaje_nuevo`; clients that ask get one.
    let inicio = std::time::Instant::now();
    let respuesta = match ctx.servicio.enviar(actor, envio).await {
        Ok(mensaje) => {
            metricas::contar(&MENSAJES, &[("transport", "socketio"), ("generacion", V2)]);
            metricas::observar(&LATENCIA_ACK, &[("generacion", V2)], inicio.elapsed());
            json!(MensajeV2::para(&mensaje, Some(&actor.rut)))
        }
        Err(e) => {
            let texto = match e {
                // As the original: a missing field is "Faltan datos"; text that is only blanks
                // fails the send.
                ErrorChat::MensajeVacio if contenido_en_blanco => {
                    "No se pudo enviar el mensaje".to_owned()
                }
                ErrorChat::MensajeVacio | ErrorChat::FaltaDestino => "Faltan datos".to_owned(),
                ErrorChat::DemasiadoLargo
                | ErrorChat::DemasiadasSolicitudes(_)
                | ErrorChat::NoDisponible
                | ErrorChat::SinMigracion
                | ErrorChat::Invalido(_) => e.to_string(),
                _ => "No se pudo enviar el mensaje".to_owned(),
            };
            error(s, &texto);
            json!({"success": false, "msg": texto})
        }
    };
    if let Err(e) = ack.send(&respuesta) {
        tracing::debug!(error = %e, "sin ack que responder");
    }
}

async fn visto<A: Adapter>(ctx: &Contexto, s: &SocketRef<A>, actor: &Actor, datos: Option<Value>) {
    let ultimo = datos
        .as_ref()
        .and_then(Value::as_object)
        .and_then(|o| o.get("ultimo_id"))
        .filter(|v| !v.is_null());
    let (Some(id), Some(ultimo)) = (conversacion_presente(&datos), ultimo) else {
        return error(s, "Faltan datos");
    };
    if let Err(e) = ctx
        .servicio
        .marcar_visto(actor, Some(id), Some(ultimo))
        .await
    {
        let texto = match e {
            ErrorChat::DemasiadasSolicitudes(_) | ErrorChat::NoDisponible => e.to_string(),
            _ => "No se pudo marcar como leido".to_owned(),
        };
        error(s, &texto);
    }
}

/// `error {"msg"}` to the caller (v1 used `mensaje`).
fn error<A: Adapter>(s: &SocketRef<A>, texto: &str) {
    emitir(s, "error", &json!({"msg": texto}));
}
