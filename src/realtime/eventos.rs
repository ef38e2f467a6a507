//! The connect middleware and the v1 Socket.IO events (the v2 ones are in `eventos_v2`).
//! Authentication is one connect middleware; every event goes through the same
//! [`ChatService`](crate::service::ChatService) calls as REST, so the rules live once.

use std::sync::Arc;

use serde_json::{Value, json};
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Extension, SocketRef, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide_core::adapter::DefinedAdapter;
use tracing::Instrument;

use super::{Contexto, difundir, sala_usuario};
use crate::contrato::propia::EntregadoRespuesta;
use crate::contrato::v1::MensajeJson;
use crate::operacion::metricas::{self, EVENTOS, HANDSHAKES, LATENCIA_ACK, LIMITES, MENSAJES};
use crate::operacion::{V1, span_socket};
use crate::service::{Actor, Envio, ErrorChat};

/// Registers namespace `/`: cookie check on connect, then the v1 events. With a remote
/// adapter the result is the adapter's initialisation, which the caller awaits.
pub fn registrar<A: Adapter + DefinedAdapter>(io: &SocketIo<A>, ctx: Arc<Contexto>) -> A::InitRes {
    let para_middleware = ctx.clone();
    // socketioxide sends CONNECT before it spawns the connect handler, so a client's first
    // event can beat that handler: the events are registered by the middleware instead.
    let autenticar = move |s: SocketRef<A>, io: SocketIo<A>| {
        let ctx = para_middleware.clone();
        async move {
            let actor = autenticar(&ctx, &s, &io).await?;
            preparar(&ctx, &s, actor);
            Ok::<(), Rechazo>(())
        }
    };
    let al_conectar =
        move |s: SocketRef<A>,
              io: SocketIo<A>,
              Extension(actor): Extension<Actor>,
              Extension(SpanSocket(span)): Extension<SpanSocket>| {
            let ctx = ctx.clone();
            async move { conectar(ctx, s, io, actor, span).await }
        };
    io.ns("/", al_conectar.with(autenticar))
}

/// Why a handshake is refused; sent as CONNECT_ERROR `{"message": ...}`.
#[derive(Debug, thiserror::Error)]
pub enum Rechazo {
    /// No valid session cookie.
    #[error("No autenticado")]
    NoAutenticado,
    /// The user already has the maximum number of sockets.
    #[error("Demasiadas conexiones")]
    DemasiadasConexiones,
}

/// Connect middleware: the Flask session from the handshake's cookie, and the per-user cap
/// on open sockets (counted across instances).
async fn autenticar<A: Adapter>(
    ctx: &Contexto,
    s: &SocketRef<A>,
    io: &SocketIo<A>,
) -> Result<Actor, Rechazo> {
    let sesion = ctx
        .codec
        .desde_cabeceras(&s.req_parts().headers, &ctx.cookies);
    let actor = ctx.servicio.actor(sesion.as_ref()).map_err(|_| {
        metricas::contar(
            &HANDSHAKES,
            &[("result", "refused"), ("reason", "unauthenticated")],
        );
        Rechazo::NoAutenticado
    })?;
    match io.to(sala_usuario(&actor.rut)).fetch_sockets().await {
        Ok(abiertos) if abiertos.len() >= ctx.max_sockets_por_usuario => {
            tracing::warn!(usuario = %actor.rut, "límite de sockets por usuario");
            metricas::contar(
                &HANDSHAKES,
                &[("result", "refused"), ("reason", "too_many_sockets")],
            );
            metricas::contar(&LIMITES, &[("limit", "sockets_per_user")]);
            return Err(Rechazo::DemasiadasConexiones);
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "no se pudo contar los sockets del usuario"),
    }
    Ok(actor)
}

/// The span every line of a socket's handlers is logged in (it carries the handshake's request id).
#[derive(Clone)]
pub(super) struct SpanSocket(pub(super) tracing::Span);

/// Before CONNECT is sent: the socket's user room and every event handler of the enabled
/// generations, so nothing the client sends once connected can find them missing. The handlers
/// capture nothing (they read the context and the span from the socket's extensions), so
/// registering them allocates nothing per socket beyond socketioxide's handler table.
fn preparar<A: Adapter>(ctx: &Arc<Contexto>, s: &SocketRef<A>, actor: Actor) {
    let span = span_socket(&s.req_parts().headers, &s.id);
    s.join(sala_usuario(&actor.rut));
    if ctx.generaciones.v2 {
        super::eventos_v2::registrar(s);
    }
    if ctx.generaciones.v1 {
        registrar_v1(s);
    }
    s.on_disconnect(
        |s: SocketRef<A>,
         io: SocketIo<A>,
         Extension(a): Extension<Actor>,
         Extension(c): Extension<Arc<Contexto>>,
         Extension(SpanSocket(sp)): Extension<SpanSocket>| async move {
            anunciar_presencia(&c, &io, &a.rut, &s, false)
                .instrument(sp)
                .await
        },
    );
    s.extensions.insert(actor);
    s.extensions.insert(ctx.clone());
    s.extensions.insert(SpanSocket(span));
}

/// Counts an event received from a client.
pub(super) fn recibido(evento: &str, generacion: &'static str) {
    metricas::contar(&EVENTOS, &[("event", evento), ("generacion", generacion)]);
}

/// Once connected: each enabled generation's greeting, then the presence announcement.
async fn conectar<A: Adapter>(
    ctx: Arc<Contexto>,
    s: SocketRef<A>,
    io: SocketIo<A>,
    actor: Actor,
    span: tracing::Span,
) {
    metricas::contar(&HANDSHAKES, &[("result", "accepted"), ("reason", "ok")]);
    span.in_scope(|| tracing::info!(usuario = %actor.rut, "socket conectado"));
    if ctx.generaciones.v2 {
        emitir(&s, "ws_connected", &json!({"usuario_id": actor.rut}));
    }
    if ctx.generaciones.v1 {
        emitir(
            &s,
            "conectado",
            &json!({"mensaje": "Conectado al chat en tiempo real"}),
        );
    }
    anunciar_presencia(&ctx, &io, &actor.rut, &s, true)
        .instrument(span)
        .await;
}

/// The v1 events of one socket; their handlers log inside the socket's span.
fn registrar_v1<A: Adapter>(s: &SocketRef<A>) {
    s.on(
        "unirse_conversacion",
        |s: SocketRef<A>,
         Extension(a): Extension<Actor>,
         Extension(c): Extension<Arc<Contexto>>,
         Extension(SpanSocket(sp)): Extension<SpanSocket>,
         TryData(d): TryData<Value>| {
            recibido("unirse_conversacion", V1);
            async move { unirse(&c, &s, &a, d.ok()).await }.instrument(sp)
        },
    );
    s.on(
        "salir_conversacion",
        |s: SocketRef<A>,
         Extension(c): Extension<Arc<Contexto>>,
         Extension(SpanSocket(sp)): Extension<SpanSocket>,
         TryData(d): TryData<Value>| {
            recibido("salir_conversacion", V1);
            async move { salir(&c, &s, d.ok()).await }.instrument(sp)
        },
    );
    s.on(
        "mensaje_enviar",
        |s: SocketRef<A>,
         Extension(a): Extension<Actor>,
         Extension(c): Extension<Arc<Contexto>>,
         Extension(SpanSocket(sp)): Extension<SpanSocket>,
         TryData(d): TryData<Value>,
         ack: AckSender<A>| {
            recibido("mensaje_enviar", V1);
            async move { enviar(&c, &s, &a, d.ok(), ack).await }.instrument(sp)
        },
    );
    s.on(
        "marcar_entregado",
        |Extension(a): Extension<Actor>,
         Extension(c): Extension<Arc<Contexto>>,
         Extension(SpanSocket(sp)): Extension<SpanSocket>,
         TryData(d): TryData<Value>,
         ack: AckSender<A>| {
            recibido("marcar_entregado", V1);
            async move { entregado(&c, &a, d.ok(), ack).await }.instrument(sp)
        },
    );
    s.on(
        "escribiendo",
        |s: SocketRef<A>,
         Extension(a): Extension<Actor>,
         Extension(c): Extension<Arc<Contexto>>,
         Extension(SpanSocket(sp)): Extension<SpanSocket>,
         TryData(d): TryData<Value>| {
            recibido("escribiendo", V1);
            async move { escribiendo(&c, &s, &a, d.ok()).await }.instrument(sp)
        },
    );
}

/// The `conversacion_id` field of an event payload (`None` unless the payload is an object).
pub(super) fn conversacion(datos: &Option<Value>) -> Option<&Value> {
    datos
        .as_ref()
        .and_then(Value::as_object)
        .and_then(|o| o.get("conversacion_id"))
}

async fn unirse<A: Adapter>(ctx: &Contexto, s: &SocketRef<A>, actor: &Actor, datos: Option<Value>) {
    match ctx.servicio.acceso(actor, conversacion(&datos)).await {
        Ok(id) => {
            s.join(id.to_string());
            let respuesta = json!({"conversacion_id": id.to_string(), "mensaje": "Te has unido a la conversación"});
            emitir(s, "unido_conversacion", &respuesta);
        }
        Err(e) => error(s, &e),
    }
}

async fn salir<A: Adapter>(ctx: &Contexto, s: &SocketRef<A>, datos: Option<Value>) {
    match ctx.servicio.id_conversacion(conversacion(&datos)).await {
        Ok(id) => s.leave(id.to_string()),
        Err(e) => error(s, &e),
    }
}

async fn enviar<A: Adapter>(
    ctx: &Contexto,
    s: &SocketRef<A>,
    actor: &Actor,
    datos: Option<Value>,
    ack: AckSender<A>,
) {
    let inicio = std::time::Instant::now();
    let campo = |clave: &str| {
        datos
            .as_ref()
            .and_then(Value::as_object)
            .and_then(|o| o.get(clave))
    };
    let envio = Envio {
        conversacion: campo("conversacion_id"),
        contenido: campo("contenido"),
        clave: campo("client_id"),
        responde_a: campo("reply_to"),
        ..Envio::default()
    };
    match ctx.servicio.enviar(actor, envio).await {
        Ok(mensaje) => {
            metricas::contar(&MENSAJES, &[("transport", "socketio"), ("generacion", V1)]);
            if let Err(e) = ack.send(&MensajeJson::para(&mensaje, &actor.rut)) {
                tracing::debug!(error = %e, "no se pudo enviar el ack");
            }
            metricas::observar(&LATENCIA_ACK, &[("generacion", V1)], inicio.elapsed());
        }
        Err(e) => {
            let texto = texto_error(&e);
            if let Err(err) = ack.send(&json!({"success": false, "error": texto})) {
                tracing::debug!(error = %err, "no se pudo enviar el ack");
            }
            emitir(s, "error", &json!({"mensaje": texto}));
        }
    }
}

/// Our page says a message reached it: the delivered marker moves forward (ack `{success,
/// ultimo}`; the room hears `mensaje_entregado` when it moved).
async fn entregado<A: Adapter>(
    ctx: &Contexto,
    actor: &Actor,
    datos: Option<Value>,
    ack: AckSender<A>,
) {
    let mensaje = datos
        .as_ref()
        .and_then(Value::as_object)
        .and_then(|o| o.get("mensaje_id"));
    let enviado = match ctx
        .servicio
        .marcar_entregado(actor, conversacion(&datos), mensaje)
        .await
    {
        Ok((_, marca)) => ack.send(&EntregadoRespuesta::de(marca.as_ref())),
        Err(e) => ack.send(&json!({"success": false, "error": e.to_string()})),
    };
    if let Err(e) = enviado {
        tracing::debug!(error = %e, "no se pudo enviar el ack");
    }
}

async fn escribiendo<A: Adapter>(
    ctx: &Contexto,
    s: &SocketRef<A>,
    actor: &Actor,
    datos: Option<Value>,
) {
    match ctx.servicio.acceso(actor, conversacion(&datos)).await {
        Ok(id) => {
            let aviso = json!({"conversacion_id": id.to_string(), "usuario_id": actor.rut, "nombre": actor.nombre});
            let destino = s.to(id.to_string()).except(sala_usuario(&actor.rut));
            difundir(destino, "usuario_escribiendo", &aviso).await;
        }
        Err(e) => error(s, &e),
    }
}

/// Tells the user's contacts when their first socket connects or their last one closes.
async fn anunciar_presencia<A: Adapter>(
    ctx: &Contexto,
    io: &SocketIo<A>,
    rut: &str,
    s: &SocketRef<A>,
    conecta: bool,
) {
    let otros = match io.to(sala_usuario(rut)).fetch_sockets().await {
        Ok(sockets) => sockets.iter().filter(|o| o.data().id != s.id).count(),
        Err(e) => {
            tracing::warn!(error = %e, "no se pudo contar los sockets del usuario");
            return;
        }
    };
    if otros > 0 {
        return;
    }
    let contactos = match ctx.servicio.contactos(rut).await {
        Ok(c) if !c.is_empty() => c,
        Ok(_) => return,
        Err(e) => {
            tracing::warn!(error = %e, "no se pudo anunciar la presencia");
            return;
        }
    };
    let evento = if conecta {
        "usuario_conectado"
    } else {
        "usuario_desconectado"
    };
    let salas: Vec<String> = contactos.iter().map(|c| sala_usuario(c)).collect();
    difundir(io.to(salas), evento, &json!({"usuario_id": rut})).await;
}

/// Socket clients get `"Datos inválidos"` for every malformed payload (CONTRACT.md §5).
fn texto_error(e: &ErrorChat) -> String {
    match e {
        ErrorChat::Invalido(_)
        | ErrorChat::MensajeVacio
        | ErrorChat::FaltaDestino
        | ErrorChat::DemasiadoLargo => "Datos inválidos".into(),
        otro => otro.to_string(),
    }
}

fn error<A: Adapter>(s: &SocketRef<A>, e: &ErrorChat) {
    emitir(s, "error", &json!({"mensaje": texto_error(e)}));
}

/// Emits to one socket; a socket that closed meanwhile is normal.
pub(super) fn emitir<A: Adapter>(s: &SocketRef<A>, evento: &str, datos: &Value) {
    if let Err(e) = s.emit(evento, datos) {
        tracing::debug!(evento, error = %e, "no se pudo emitir al socket");
    }
}
