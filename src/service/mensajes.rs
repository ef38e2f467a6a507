//! The life of a message beyond sending it: opening a chat by the other user's rut, reading
//! one message, replies, reactions, pins, deletes and read markers by message. One rule set for
//! every generation's routes and events.

use serde_json::Value;

use super::{Actor, ChatService, ErrorChat, Resultado, entrada};
use crate::dominio::{EstadoConversacion, Id, Mensaje, Reaccion};
use crate::store::grupos::ModoReaccion;

/// A reply to anything but a message of the same conversation.
pub(super) const CITA_AJENA: ErrorChat =
    ErrorChat::Invalido("reply_to debe ser un mensaje de la misma conversación");

/// Messages returned when a chat is opened (the newest, oldest first).
pub const MENSAJES_AL_ABRIR: i64 = 50;

/// A 1:1 chat as its opener sees it.
#[derive(Clone, Debug)]
pub struct ChatAbierto {
    /// The conversation (found or created).
    pub conversacion: Id,
    /// The newest messages, oldest first.
    pub mensajes: Vec<Mensaje>,
    /// Read markers and pin.
    pub estado: EstadoConversacion,
}

impl ChatService {
    /// Opens the actor's 1:1 chat with the user `rut`, creating it on first use (atomically,
    /// one per pair): its newest messages, both read markers and the pinned message.
    pub async fn abrir_chat(&self, actor: &Actor, rut: &str) -> Resultado<ChatAbierto> {
        self.limitar(actor)?;
        let otro = self
            .otro_usuario(actor, &Value::String(rut.to_owned()))
            .await?;
        let conversacion = self.uno_a_uno(actor, &otro).await?.id;
        let mensajes = self
            .store
            .mensajes(&conversacion, None, MENSAJES_AL_ABRIR)
            .await?;
        let estado = self
            .store
            .estado_conversacion(&conversacion, &actor.rut, &otro)
            .await?;
        Ok(ChatAbierto {
            conversacion,
            mensajes,
            estado,
        })
    }

    /// One message the actor may read (404 when missing or deleted, 403 when it belongs to a
    /// conversation the actor is not in).
    pub async fn mensaje(&self, actor: &Actor, id: &str) -> Resultado<Mensaje> {
        self.limitar(actor)?;
        self.mensaje_visible(actor, id, ErrorChat::SinAccesoMensaje)
            .await
    }

    /// Sets the actor's one reaction to a message (replacing their previous one), or removes
    /// it when `emoji` is `None`; returns the message's reactions afterwards.
    pub async fn reaccionar(
        &self,
        actor: &Actor,
        id: &str,
        emoji: Option<&Value>,
        quitar: bool,
    ) -> Resultado<(Mensaje, Vec<Reaccion>)> {
        self.limitar(actor)?;
        let emoji = if quitar {
            None
        } else {
            Some(entrada::emoji(emoji)?)
        };
        self.requiere_delta().await?;
        let mensaje = self
            .mensaje_visible(actor, id, ErrorChat::SinAcceso)
            .await?;
        let reacciones = if let Some(g) = self.grupos_si_hay().await? {
            // Reactions live in sql/grupos.sql's table: the v2 rule (one per user) is its
            // replace mode.
            let modo = match emoji {
                Some(_) => ModoReaccion::Reemplazar,
                None => ModoReaccion::Quitar,
            };
            g.reaccionar(&mensaje.id, &actor.rut, emoji, modo)
                .await?
                .map_err(|_| ErrorChat::SinAcceso)?
                .lista
        } else {
            self.store
                .reaccionar(&mensaje.id, &actor.rut, emoji)
                .await?
        };
        self.tiempo_real
            .reaccion(
                &mensaje.conversacion_id,
                &mensaje.id,
                &actor.rut,
                emoji,
                &reacciones,
            )
            .await;
        Ok((mensaje, reacciones))
    }

    /// Makes a message its conversation's pinned message (any participant may). With
    /// `sql/grupos.sql` it joins the conversation's pins (the newest is v2's one pin).
    pub async fn fijar(&self, actor: &Actor, id: &str) -> Resultado<()> {
        self.limitar(actor)?;
        self.requiere_delta().await?;
        let mensaje = self
            .mensaje_visible(actor, id, ErrorChat::SinAcceso)
            .await?;
        if let Some(g) = self.grupos_si_hay().await? {
            self.cambiar_fijado(&g, &mensaje.id, actor, true).await?;
            return Ok(());
        }
        self.store
            .fijar(&mensaje.conversacion_id, &mensaje.id)
            .await?;
        self.tiempo_real.mensaje_fijado(&mensaje).await;
        Ok(())
    }

    /// Unpins a message when it is its conversation's pinned one; otherwise nothing changes.
    pub async fn desfijar(&self, actor: &Actor, id: &str) -> Resultado<()> {
        self.limitar(actor)?;
        self.requiere_delta().await?;
        let mensaje = self
            .mensaje_visible(actor, id, ErrorChat::SinAcceso)
            .await?;
        if let Some(g) = self.grupos_si_hay().await? {
            self.cambiar_fijado(&g, &mensaje.id, actor, false).await?;
            return Ok(());
        }
        if self
            .store
            .desfijar(&mensaje.conversacion_id, &mensaje.id)
            .await?
        {
            self.tiempo_real
                .mensaje_desfijado(&mensaje.conversacion_id, &mensaje.id)
                .await;
        }
        Ok(())
    }

    /// Deletes a message: its author, or an admin of its group, may. Gone from every read path,
    /// with its reactions and its pin, in one transaction. System messages stay.
    pub async fn eliminar(&self, actor: &Actor, id: &str) -> Resultado<()> {
        self.limitar(actor)?;
        let mensaje = self
            .mensaje_visible(actor, id, ErrorChat::SoloElAutor)
            .await?;
        if mensaje.extras.sistema {
            return Err(ErrorChat::MensajeDeSistema);
        }
        if mensaje.usuario_id != actor.rut
            && !self.es_admin_de(actor, &mensaje.conversacion_id).await?
        {
            return Err(ErrorChat::SoloElAutor);
        }
        if self.store.eliminar_mensaje(&mensaje.id).await? {
            tracing::info!(mensaje = %mensaje.id, usuario = %actor.rut, "mensaje eliminado");
            self.tiempo_real
                .mensaje_eliminado(&mensaje.conversacion_id, &mensaje.id)
                .await;
        }
        Ok(())
    }

    /// Moves the actor's read marker forward to `ultimo`, which must be a message of that
    /// conversation; returns the conversation and the new marker when it moved.
    pub async fn marcar_visto(
        &self,
        actor: &Actor,
        conversacion: Option<&Value>,
        ultimo: Option<&Value>,
    ) -> Resultado<(Id, Option<Id>)> {
        self.limitar(actor)?;
        let kinds = self.store.id_kinds().await?;
        let conversacion = conversacion
            .and_then(|v| Id::from_json(v, kinds.conversacion))
            .ok_or(ErrorChat::SinAcceso)?;
        let ultimo = ultimo
            .and_then(|v| Id::from_json(v, kinds.mensaje))
            .ok_or(ErrorChat::Invalido("ultimo_id inválido"))?;
        let encontrado = self.store.mensaje(&ultimo, &actor.rut).await?;
        match encontrado {
            Some(e) if e.participa && e.mensaje.conversacion_id == conversacion => {}
            Some(e) if !e.participa => return Err(ErrorChat::SinAcceso),
            _ => return Err(ErrorChat::Invalido("ultimo_id inválido")),
        }
        let marca = self
            .store
            .marcar_leido(&conversacion, &actor.rut, Some(&ultimo))
            .await?;
        if let Some(nueva) = &marca {
            self.tiempo_real
                .mensaje_visto(&conversacion, &actor.rut, nueva)
                .await;
        }
        Ok((conversacion, marca))
    }

    /// Users online anywhere (a live socket or a recent heartbeat), without counting against
    /// the caller's rate limit (for lists that show online dots).
    pub async fn en_linea(&self) -> Vec<String> {
        let mut ruts = self.tiempo_real.en_linea().await;
        ruts.extend(self.latidos.vigentes(std::time::Instant::now()));
        ruts.sort();
        ruts.dedup();
        ruts
    }

    /// The other user of a 1:1 chat: a well-formed rut (400), not the actor's (400), of an
    /// existing user (404).
    pub(super) async fn otro_usuario(&self, actor: &Actor, rut: &Value) -> Resultado<String> {
        let otro = entrada::rut(rut).ok_or(ErrorChat::Invalido("Destinatario inválido"))?;
        if otro == actor.rut {
            return Err(ErrorChat::Invalido("No puedes chatear contigo mismo"));
        }
        if self.store.usuario(&otro).await?.is_none() {
            return Err(ErrorChat::UsuarioNoEncontrado);
        }
        Ok(otro)
    }

    /// A conversation's id and members, when the actor is one of them (403 otherwise).
    pub(super) async fn miembros(
        &self,
        actor: &Actor,
        conversacion: Option<&Value>,
    ) -> Resultado<(Id, Vec<String>)> {
        let tipo = self.store.id_kinds().await?.conversacion;
        let id = conversacion
            .and_then(|v| Id::from_json(v, tipo))
            .ok_or(ErrorChat::SinAcceso)?;
        let miembros = self.store.participantes(&id).await?;
        if miembros.contains(&actor.rut) {
            Ok((id, miembros))
        } else {
            Err(ErrorChat::SinAcceso)
        }
    }

    /// The message id a send replies to, when it names one: it needs the v2 delta (503) and
    /// must be a message id (400). That it is a message of the same conversation is checked by
    /// the store as it inserts ([`CITA_AJENA`]).
    pub(super) async fn cita_pedida(&self, responde_a: Option<&Value>) -> Resultado<Option<Id>> {
        let Some(valor) = responde_a.filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        self.requiere_delta().await?;
        Id::from_json(valor, self.store.id_kinds().await?.mensaje)
            .map(Some)
            .ok_or(CITA_AJENA)
    }

    /// A message by its id as a path segment: 404 when it cannot be an id or does not exist,
    /// `sin_acceso` when the actor is not in its conversation.
    async fn mensaje_visible(
        &self,
        actor: &Actor,
        id: &str,
        sin_acceso: ErrorChat,
    ) -> Resultado<Mensaje> {
        let tipo = self.store.id_kinds().await?.mensaje;
        let id = Id::parse(id, tipo).ok_or(ErrorChat::MensajeNoEncontrado)?;
        match self.store.mensaje(&id, &actor.rut).await? {
            None => Err(ErrorChat::MensajeNoEncontrado),
            Some(e) if !e.participa => Err(sin_acceso),
            Some(e) => Ok(e.mensaje),
        }
    }

    async fn requiere_delta(&self) -> Resultado<()> {
        if self.store.delta_v2().await? {
            Ok(())
        } else {
            Err(ErrorChat::SinMigracion)
        }
    }
}
