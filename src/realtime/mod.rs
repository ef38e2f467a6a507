//! Socket.IO on the HTTP port, v1 (CONTRACT.md §5) and v2 (CONTRACT-v2.md §2) events side by
//! side: the socketioxide server, its events, the bridge that mounts it in poem, and the
//! [`TiempoReal`] implementation through which the service's events (from REST and Socket.IO
//! alike) reach the rooms in each generation's shapes.

pub mod eventos;
pub mod eventos_v2;
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

use crate::config::Generaciones;
use crate::contrato::propia::{
    FijadosEvento, GrupoEvento, MensajeEditadoEvento, ReaccionesEvento, RemovidoEvento,
};
use crate::contrato::v1::{ConversacionJson, MarcaEvento, MensajeBase};
use crate::contrato::v2::{self, FijadoEvento, MensajeEvento, MensajeV2, ReaccionEvento};
use crate::dominio::{Conversacion, Grupo, Id, Mensaje, Reaccion};
use crate::operacion::metricas;
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
        // Client frames are small (an event with a short message is ~100-200 bytes, a ping 1)
        // and a larger frame gets its full length reserved when its header is read, so 256
        // bytes costs a second read only for long messages and saves ~3.8 KB per idle
        // connection against the default (BENCHMARKS.md, tuning log).
        .ws_read_buffer_size(WS_READ_BUFFER)
}

/// Initial read buffer of each WebSocket connection, in bytes.
const WS_READ_BUFFER: usize = 256;

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
    metricas::contar(&metricas::EMISIONES, &[("event", evento)]);
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

/// Turns the service's events into Socket.IO emits, in the shapes of each generation served.
pub struct EmisorSocketIo<A: Adapter> {
    io: SocketIo<A>,
    generaciones: Generaciones,
}

impl<A: Adapter> EmisorSocketIo<A> {
    /// Emits through `io` the events of `generaciones`.
    pub fn new(io: SocketIo<A>, generaciones: Generaciones) -> Self {
        EmisorSocketIo { io, generaciones }
    }

    async fn emitir<T: Serialize + ?Sized + Sync>(&self, sala: String, evento: &str, datos: &T) {
        difundir(self.io.to(sala), evento, datos).await;
    }
}

#[async_trait]
impl<A: Adapter> TiempoReal for EmisorSocketIo<A> {
    async fn mensaje_nuevo(&self, mensaje: &Mensaje, miembros: &[String]) {
        let sala = mensaje.conversacion_id.to_string();
        if self.generaciones.v1 {
            self.emitir(
                sala.clone(),
                "mensaje_recibido",
                &MensajeBase::from(mensaje),
            )
            .await;
        }
        if self.generaciones.v2 {
            // The room, and every member's own room: a widget that has not opened this chat
            // still hears of it (and refreshes its badge). A socket in several of these rooms
            // gets it once.
            let mut salas: Vec<String> = miembros.iter().map(|m| sala_usuario(m)).collect();
            salas.push(sala);
            difundir(
                self.io.to(salas),
                "mensaje_nuevo",
                &MensajeV2::para(mensaje, None),
            )
            .await;
        }
    }

    async fn reaccion(
        &self,
        conversacion: &Id,
        mensaje: &Id,
        usuario: &str,
        emoji: Option<&str>,
        reacciones: &[Reaccion],
    ) {
        if self.generaciones.v1 {
            let datos = ReaccionesEvento::de(conversacion, mensaje, reacciones);
            self.emitir(conversacion.to_string(), "reacciones_actualizadas", &datos)
                .await;
        }
        if !self.generaciones.v2 {
            return;
        }
        let evento = if emoji.is_some() {
            "reaccion_agregada"
        } else {
            "reaccion_eliminada"
        };
        let datos = ReaccionEvento {
            mensaje_id: mensaje.to_json(),
            conversacion_id: conversacion.to_string(),
            usuario_id: usuario.to_owned(),
            emoji: emoji.map(str::to_owned),
            reacciones: v2::resumen(reacciones),
        };
        self.emitir(conversacion.to_string(), evento, &datos).await;
    }

    async fn mensaje_editado(&self, mensaje: &Mensaje) {
        let datos = MensajeEditadoEvento::de(mensaje);
        self.emitir(
            mensaje.conversacion_id.to_string(),
            "mensaje_editado",
            &datos,
        )
        .await;
    }

    async fn fijados(&self, conversacion: &Id, fijados: &[Id]) {
        if self.generaciones.v1 {
            let datos = FijadosEvento::de(conversacion, fijados);
            self.emitir(conversacion.to_string(), "fijados_actualizados", &datos)
                .await;
        }
    }

    async fn grupo_actualizado(&self, grupo: &Grupo) {
        let mut salas: Vec<String> = grupo
            .miembros
            .iter()
            .map(|m| sala_usuario(&m.rut))
            .collect();
        salas.push(grupo.id.to_string());
        difundir(
            self.io.to(salas),
            "grupo_actualizado",
            &GrupoEvento::de(grupo),
        )
        .await;
    }

    async fn removido(&self, conversacion: &Id, usuario: &str) {
        // Through the adapter: with Redis, the sockets of every instance leave the room.
        if let Err(e) = self
            .io
            .to(sala_usuario(usuario))
            .leave(conversacion.to_string())
            .await
        {
            tracing::warn!(error = %e, "no se pudo sacar de la sala a un miembro quitado");
        }
        let datos = RemovidoEvento {
            conversacion_id: conversacion.to_string(),
        };
        self.emitir(sala_usuario(usuario), "removido_de_conversacion", &datos)
            .await;
    }

    async fn mensaje_entregado(&self, conversacion: &Id, usuario: &str, ultimo: &Id) {
        let datos = MarcaEvento::de(conversacion, usuario, ultimo);
        self.emitir(conversacion.to_string(), "mensaje_entregado", &datos)
            .await;
    }

    async fn mensaje_fijado(&self, mensaje: &Mensaje) {
        if !self.generaciones.v2 {
            return;
        }
        let datos = FijadoEvento {
            mensaje_id: mensaje.id.to_json(),
            conversacion_id: mensaje.conversacion_id.to_string(),
            usuario_id: mensaje.usuario_id.clone(),
            usuario_nombre: mensaje.autor.nombre.clone(),
            contenido: mensaje.contenido.clone(),
        };
        self.emitir(
            mensaje.conversacion_id.to_string(),
            "mensaje_fijado",
            &datos,
        )
        .await;
    }

    async fn mensaje_desfijado(&self, conversacion: &Id, mensaje: &Id) {
        if self.generaciones.v2 {
            let datos = MensajeEvento::de(conversacion, mensaje);
            self.emitir(conversacion.to_string(), "mensaje_desfijado", &datos)
                .await;
        }
    }

    async fn mensaje_eliminado(&self, conversacion: &Id, mensaje: &Id) {
        // The same event in both generations (v1's page has it from our own API).
        let datos = MensajeEvento::de(conversacion, mensaje);
        self.emitir(conversacion.to_string(), "mensaje_eliminado", &datos)
            .await;
    }

    async fn conversacion_nueva(&self, para: &str, conversacion: &Conversacion) {
        let datos = json!({"conversacion": ConversacionJson::from(conversacion)});
        self.emitir(sala_usuario(para), "nueva_conversacion", &datos)
            .await;
    }

    async fn mensaje_visto(&self, conversacion: &Id, usuario: &str, ultimo: &Id) {
        let datos = MarcaEvento::de(conversacion, usuario, ultimo);
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
    /// Session cookie names, in the order they are tried.
    pub cookies: Vec<String>,
    /// The generations whose events are served.
    pub generaciones: Generaciones,
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
