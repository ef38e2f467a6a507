//! Socket.IO v1 (CONTRACT.md §5) on the HTTP port: the socketioxide server, its events, the
//! bridge that mounts it in poem, and the [`TiempoReal`] implementation through which the
//! service's events (from REST and Socket.IO alike) reach the rooms.

pub mod eventos;
pub mod puente;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use serde_json::json;
use socketioxide::adapter::Adapter;
use socketioxide::operators::BroadcastOperators;
use socketioxide::{SocketIo, SocketIoBuilder};
use socketioxide_core::adapter::errors::{BroadcastError, SocketError};

use crate::contrato::v1::{ConversacionJson, MensajeBase};
use crate::dominio::{Conversacion, Id, Mensaje};
use crate::service::TiempoReal;

/// Room of every socket of one user.
pub fn sala_usuario(rut: &str) -> String {
    format!("usuario:{rut}")
}

/// Engine.IO settings.
#[derive(Clone, Debug)]
pub struct AjustesSocketIo {
    /// Ping interval.
    pub ping_interval: Duration,
    /// Ping timeout.
    pub ping_timeout: Duration,
    /// Largest accepted packet or WebSocket message, in bytes.
    pub max_payload: usize,
}

/// The Socket.IO server's settings (path `/socket.io`); the caller picks the adapter.
pub fn configurar(ajustes: &AjustesSocketIo) -> SocketIoBuilder {
    SocketIo::builder()
        .ping_interval(ajustes.ping_interval)
        .ping_timeout(ajustes.ping_timeout)
        .max_payload(ajustes.max_payload as u64)
        .ws_max_message_size(ajustes.max_payload)
        .ws_max_frame_size(ajustes.max_payload)
        // Each WebSocket keeps a read buffer of this size for its whole life (default 4 KiB).
        // Client frames are small (a message is at most MAX_MESSAGE_CHARS plus ~100 bytes) and
        // the buffer grows for a larger frame, so 1 KiB saves ~3 KB per idle connection at
        // no measurable cost in throughput (BENCHMARKS.md, tuning log).
        .ws_read_buffer_size(WS_READ_BUFFER)
}

/// Initial read buffer of each WebSocket connection, in bytes.
const WS_READ_BUFFER: usize = 1024;

/// socketioxide's Redis driver speaks RESP3: ask for it unless the URL already says.
pub fn url_resp3(url: &str) -> String {
    if url.contains("protocol=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&protocol=resp3")
    } else {
        format!("{url}?protocol=resp3")
    }
}

/// Emits to a selection of sockets. Sockets that closed meanwhile are normal; a full send
/// buffer (a client that stopped reading) or an adapter failure is worth a warning.
pub async fn difundir<A: Adapter, T: Serialize + ?Sized + Sync>(
    destino: BroadcastOperators<A>,
    evento: &str,
    datos: &T,
) {
    match destino.emit(evento, datos).await {
        Ok(()) => {}
        Err(BroadcastError::Socket(errores))
            if errores.iter().all(|e| matches!(e, SocketError::Closed)) =>
        {
            tracing::debug!(evento, "destinatarios ya desconectados");
        }
        Err(e) => tracing::warn!(evento, error = %e, "no se pudo emitir"),
    }
}

/// Turns the service's events into Socket.IO emits.
pub struct EmisorSocketIo<A: Adapter> {
    io: SocketIo<A>,
}

impl<A: Adapter> EmisorSocketIo<A> {
    /// Emits through `io`.
    pub fn new(io: SocketIo<A>) -> Self {
        EmisorSocketIo { io }
    }

    async fn emitir<T: Serialize + ?Sized + Sync>(&self, sala: String, evento: &str, datos: &T) {
        difundir(self.io.to(sala), evento, datos).await;
    }
}

#[async_trait]
impl<A: Adapter> TiempoReal for EmisorSocketIo<A> {
    async fn mensaje_nuevo(&self, mensaje: &Mensaje) {
        self.emitir(
            mensaje.conversacion_id.to_string(),
            "mensaje_recibido",
            &MensajeBase::from(mensaje),
        )
        .await;
    }

    async fn conversacion_nueva(&self, para: &str, conversacion: &Conversacion) {
        let datos = json!({"conversacion": ConversacionJson::from(conversacion)});
        self.emitir(sala_usuario(para), "nueva_conversacion", &datos)
            .await;
    }

    async fn mensaje_visto(&self, conversacion: &Id, usuario: &str, ultimo: &Id) {
        let datos = json!({"conversacion_id": conversacion.to_string(), "usuario_id": usuario, "ultimo_id": ultimo.to_json()});
        self.emitir(conversacion.to_string(), "mensaje_visto", &datos)
            .await;
    }

    async fn en_linea(&self) -> Vec<String> {
        match self.io.rooms().await {
            Ok(salas) => salas
                .iter()
                .filter_map(|s| s.strip_prefix("usuario:").map(str::to_owned))
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "no se pudo consultar la presencia");
                Vec::new()
            }
        }
    }
}

/// Shared handles for the event handlers.
pub struct Contexto {
    /// The chat's rules.
    pub servicio: Arc<crate::service::ChatService>,
    /// Flask cookie verifier.
    pub codec: crate::session::SessionCodec,
    /// Session cookie name.
    pub cookie: String,
    /// Most sockets one user may have open at once.
    pub max_sockets_por_usuario: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_urls_ask_for_resp3_once() {
        assert_eq!(url_resp3("redis://h:6379"), "redis://h:6379?protocol=resp3");
        assert_eq!(
            url_resp3("redis://h/0?x=1"),
            "redis://h/0?x=1&protocol=resp3"
        );
        assert_eq!(
            url_resp3("redis://h?protocol=resp3"),
            "redis://h?protocol=resp3"
        );
    }
}
