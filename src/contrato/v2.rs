//! The v2 JSON shapes of CONTRACT-v2.md (Weigence's floating widget), shared by the REST API
//! and the Socket.IO events. Ids keep their column's JSON type (numbers for integer ids), as
//! the widget compares them with `===` after `String()`.

use std::collections::{BTreeMap, HashSet};

use poem_openapi::Object;
use serde::Serialize;
use serde_json::Value;

use super::Nulable;
use crate::dominio::{Conversacion, Id, Mensaje, Reaccion, Usuario};
use crate::service::ErrorChat;

/// The v2 text of an error (the widget shows `msg`); where it differs from v1's.
pub fn texto_error(e: &ErrorChat) -> String {
    match e {
        ErrorChat::MensajeVacio => "Mensaje vacio".into(),
        ErrorChat::FaltaDestino => "Falta destinatario".into(),
        ErrorChat::SinAcceso => "Sin acceso".into(),
        otro => otro.to_string(),
    }
}

/// A user in `GET /api/chat/users`.
#[derive(Object, Serialize, Clone, Debug)]
pub struct UsuarioV2 {
    /// `rut_usuario`.
    pub id: String,
    /// A live socket or a recent heartbeat.
    pub is_online: bool,
    /// Name (`"Usuario"` when unknown).
    pub nombre: String,
    /// `rol`.
    pub rol: String,
    /// Last activity; always null (presence is live, not recorded).
    pub ultima_actividad: Nulable<String>,
}

impl UsuarioV2 {
    /// The user with their online state.
    pub fn de(u: &Usuario, en_linea: &HashSet<String>) -> Self {
        UsuarioV2 {
            id: u.rut.clone(),
            nombre: u.nombre.clone(),
            rol: u.rol.clone(),
            is_online: en_linea.contains(&u.rut),
            ultima_actividad: Nulable(None),
        }
    }
}

/// `GET /api/chat/users`.
#[derive(Object, Serialize, Debug)]
pub struct ListaUsuariosV2 {
    /// Always true.
    pub success: bool,
    /// Every user except the caller, by name.
    pub usuarios: Vec<UsuarioV2>,
}

/// The other member of a conversation in the v2 list.
#[derive(Object, Serialize, Clone, Debug)]
pub struct OtroMiembro {
    /// Name.
    pub nombre: String,
    /// `rol`.
    pub rol: String,
    /// `rut_usuario`.
    pub rut_usuario: String,
}

/// A conversation in the v2 list (`lista`).
#[derive(Object, Serialize, Clone, Debug)]
pub struct ConversacionV2 {
    /// Conversation id (a number for integer ids).
    pub conversacion_id: Value,
    /// Send time of the newest message.
    pub fecha: Nulable<String>,
    /// Whether the other member is online.
    pub is_online: bool,
    /// Text of the newest message, `""` when none.
    pub ultimo_mensaje: String,
    /// Messages from others after the caller's read marker.
    pub unread: i64,
    /// The other member (the first, for groups).
    pub usuario: OtroMiembro,
}

impl ConversacionV2 {
    /// The conversation as a list item; `None` when it has no other member.
    pub fn de(c: &Conversacion, en_linea: &HashSet<String>) -> Option<Self> {
        let otro = c.participantes.first()?;
        Some(ConversacionV2 {
            conversacion_id: c.id.to_json(),
            usuario: OtroMiembro {
                rut_usuario: otro.rut.clone(),
                nombre: otro.nombre.clone(),
                rol: otro.rol.clone(),
            },
            ultimo_mensaje: c
                .ultimo_mensaje
                .as_ref()
                .map(|m| m.contenido.clone())
                .unwrap_or_default(),
            fecha: Nulable(c.ultimo_mensaje.as_ref().map(|m| m.fecha_envio.clone())),
            unread: c.no_leidos,
            is_online: en_linea.contains(&otro.rut),
        })
    }
}

/// A message's author in `M`.
#[derive(Object, Serialize, Clone, Debug)]
pub struct AutorV2 {
    /// `rut_usuario`.
    pub id: String,
    /// Name.
    pub nombre: String,
    /// `rol`.
    pub rol: String,
}

/// A message as the widget reads it (`M`): the row, its author, the reply's quote and the
/// reactions.
#[derive(Object, Serialize, Clone, Debug)]
pub struct MensajeV2 {
    /// Text.
    pub contenido: String,
    /// Conversation id (a number for integer ids).
    pub conversacion_id: Value,
    /// Edited flag.
    pub editado: bool,
    /// Send time (ISO 8601).
    pub fecha_envio: String,
    /// Message id.
    pub id: Value,
    /// The viewer's own reactions (absent in room broadcasts, which have no single viewer).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mis_reacciones: Option<Vec<String>>,
    /// Every reaction: emoji → count.
    pub reacciones: BTreeMap<String, i64>,
    /// The viewer's own reaction, else the latest one, else null (the widget shows one).
    pub reaction: Nulable<String>,
    /// Id of the message it replies to, or null.
    pub reply_to: Nulable<Value>,
    /// Text of the quoted message (replies only; absent when it was deleted).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to_content: Option<String>,
    /// Author of the quoted message.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to_user_id: Option<String>,
    /// Name of the quoted message's author.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to_user_name: Option<String>,
    /// The author.
    pub usuario: AutorV2,
    /// Author's rut.
    pub usuario_id: String,
    /// The author's name (read by the widget).
    pub usuario_nombre: String,
}

impl MensajeV2 {
    /// The message as `viewer` sees it, or as everybody sees it (`None`, for broadcasts).
    pub fn para(m: &Mensaje, viewer: Option<&str>) -> Self {
        let cita = m.extras.cita.as_ref();
        let reacciones = &m.extras.reacciones;
        let mias: Option<Vec<String>> = viewer.map(|v| {
            reacciones
                .iter()
                .filter(|r| r.usuario_id == v)
                .map(|r| r.emoji.clone())
                .collect()
        });
        let reaction = mias
            .as_ref()
            .and_then(|m| m.last().cloned())
            .or_else(|| reacciones.last().map(|r| r.emoji.clone()));
        MensajeV2 {
            id: m.id.to_json(),
            conversacion_id: m.conversacion_id.to_json(),
            usuario_id: m.usuario_id.clone(),
            contenido: m.contenido.clone(),
            fecha_envio: m.fecha_envio.clone(),
            editado: m.editado,
            usuario: AutorV2 {
                id: m.autor.rut.clone(),
                nombre: m.autor.nombre.clone(),
                rol: m.autor.rol.clone(),
            },
            usuario_nombre: m.autor.nombre.clone(),
            reply_to: Nulable(m.extras.responde_a.as_ref().map(Id::to_json)),
            reply_to_content: cita.map(|c| c.contenido.clone()),
            reply_to_user_id: cita.map(|c| c.usuario_id.clone()),
            reply_to_user_name: cita.map(|c| c.usuario_nombre.clone()),
            reaction: Nulable(reaction),
            reacciones: resumen(reacciones),
            mis_reacciones: mias,
        }
    }
}

/// Reactions counted by emoji.
pub fn resumen(reacciones: &[Reaccion]) -> BTreeMap<String, i64> {
    let mut cuenta = BTreeMap::new();
    for r in reacciones {
        *cuenta.entry(r.emoji.clone()).or_insert(0) += 1;
    }
    cuenta
}

/// `GET /api/chat/history/{rut}`.
#[derive(Object, Serialize, Debug)]
pub struct Historial {
    /// The conversation (found or created).
    pub conversacion_id: Value,
    /// The caller's read marker (a message id).
    pub last_seen_me: Nulable<Value>,
    /// The other user's read marker (a message id).
    pub last_seen_other: Nulable<Value>,
    /// The pinned message.
    pub mensaje_fijado: Nulable<MensajeV2>,
    /// The newest 50 messages, oldest first.
    pub mensajes: Vec<MensajeV2>,
    /// Always true.
    pub success: bool,
}

/// `POST /api/chat/send` body: `contenido` and a destination (`destinatario_id` or
/// `rut_destino`, which win, or `conversacion_id`); optionally `reply_to` and `client_id`.
#[derive(Object, Debug)]
pub struct EnviarV2Body {
    /// Message text.
    pub contenido: Option<Value>,
    /// The other user's rut (the chat is found or created).
    pub destinatario_id: Option<Value>,
    /// Same as `destinatario_id`.
    pub rut_destino: Option<Value>,
    /// Conversation id, when no recipient is named.
    pub conversacion_id: Option<Value>,
    /// Id of a message of the same conversation this one replies to.
    pub reply_to: Option<Value>,
    /// Client-generated key that makes a retried send return the first message.
    pub client_id: Option<Value>,
}

/// `POST /api/chat/send` answer.
#[derive(Object, Serialize, Debug)]
pub struct EnviadoV2 {
    /// The conversation, as a string.
    pub conversacion_id: String,
    /// The stored message.
    pub mensaje: MensajeV2,
    /// Always true.
    pub success: bool,
}

/// `POST /api/chat/mensajes/{id}/reaccion` body.
#[derive(Object, Debug)]
pub struct ReaccionBody {
    /// One emoji.
    pub emoji: Option<Value>,
}

/// A reaction set or removed.
#[derive(Object, Serialize, Debug)]
pub struct ReaccionHecha {
    /// The caller's reaction now, or null when removed.
    pub emoji: Nulable<String>,
    /// The message's reactions: emoji → count.
    pub reacciones: BTreeMap<String, i64>,
    /// Always true.
    pub success: bool,
}

/// `reaccion_agregada` / `reaccion_eliminada`: who changed what, and the new counts.
#[derive(Serialize, Debug)]
pub struct ReaccionEvento {
    /// The message.
    pub mensaje_id: Value,
    /// Its conversation, as a string.
    pub conversacion_id: String,
    /// Who reacted.
    pub usuario_id: String,
    /// Their emoji now (null when removed).
    pub emoji: Option<String>,
    /// Every reaction: emoji → count.
    pub reacciones: BTreeMap<String, i64>,
}

/// `mensaje_fijado`.
#[derive(Serialize, Debug)]
pub struct FijadoEvento {
    /// The pinned message.
    pub mensaje_id: Value,
    /// Its conversation, as a string.
    pub conversacion_id: String,
    /// Its author.
    pub usuario_id: String,
    /// Its author's name.
    pub usuario_nombre: String,
    /// Its text.
    pub contenido: String,
}

/// `mensaje_desfijado` and `mensaje_eliminado`.
#[derive(Serialize, Debug)]
pub struct MensajeEvento {
    /// The message.
    pub mensaje_id: Value,
    /// Its conversation, as a string.
    pub conversacion_id: String,
}

impl MensajeEvento {
    /// The event for message `mensaje` of `conversacion`.
    pub fn de(conversacion: &Id, mensaje: &Id) -> Self {
        MensajeEvento {
            mensaje_id: mensaje.to_json(),
            conversacion_id: conversacion.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dominio::{Cita, ExtrasMensaje, IdKind};

    fn mensaje(extras: ExtrasMensaje) -> Mensaje {
        Mensaje {
            id: Id::parse("7", IdKind::Integer).unwrap(),
            conversacion_id: Id::parse("3", IdKind::Integer).unwrap(),
            usuario_id: "1-9".into(),
            contenido: "hola".into(),
            fecha_envio: "2026-01-01T00:00:00+00:00".into(),
            editado: false,
            eliminado: false,
            autor: Usuario::from_columns("1-9".into(), Some("Ana".into()), None, None),
            extras,
        }
    }

    fn reaccion(u: &str, e: &str) -> Reaccion {
        Reaccion {
            usuario_id: u.into(),
            emoji: e.into(),
        }
    }

    #[test]
    fn a_reply_carries_its_quote_and_reactions_are_counted() {
        let m = mensaje(ExtrasMensaje {
            responde_a: Id::parse("5", IdKind::Integer),
            cita: Some(Cita {
                contenido: "antes".into(),
                usuario_id: "2-7".into(),
                usuario_nombre: "Bruno".into(),
            }),
            reacciones: vec![
                reaccion("2-7", "👍"),
                reaccion("1-9", "😂"),
                reaccion("3-5", "👍"),
            ],
            sistema: false,
        });
        let v = serde_json::to_value(MensajeV2::para(&m, Some("1-9"))).unwrap();
        assert_eq!(v["conversacion_id"], 3);
        assert_eq!(v["usuario_nombre"], "Ana");
        assert_eq!(v["reply_to"], 5);
        assert_eq!(v["reply_to_content"], "antes");
        assert_eq!(v["reply_to_user_name"], "Bruno");
        assert_eq!(v["reaction"], "😂", "the viewer's own reaction first");
        assert_eq!(v["reacciones"], serde_json::json!({"👍": 2, "😂": 1}));
        assert_eq!(v["mis_reacciones"], serde_json::json!(["😂"]));
        let todos = serde_json::to_value(MensajeV2::para(&m, None)).unwrap();
        assert_eq!(todos["reaction"], "👍", "else the latest");
        assert!(todos.get("mis_reacciones").is_none());
    }

    #[test]
    fn a_plain_message_has_null_reply_and_no_quote_keys() {
        let v = serde_json::to_value(MensajeV2::para(&mensaje(ExtrasMensaje::default()), None))
            .unwrap();
        assert_eq!(v["reply_to"], Value::Null);
        assert_eq!(v["reaction"], Value::Null);
        assert!(v.get("reply_to_content").is_none());
    }

    #[test]
    fn v2_error_texts() {
        assert_eq!(texto_error(&ErrorChat::MensajeVacio), "Mensaje vacio");
        assert_eq!(texto_error(&ErrorChat::FaltaDestino), "Falta destinatario");
        assert_eq!(texto_error(&ErrorChat::SinAcceso), "Sin acceso");
        assert_eq!(
            texto_error(&ErrorChat::MensajeNoEncontrado),
            "Mensaje no encontrado"
        );
    }
}
