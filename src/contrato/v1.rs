//! The v1 JSON shapes of CONTRACT.md §4, shared by the REST API and the Socket.IO events.
//! Strings the pages index are never null; conversation ids are strings; message ids keep
//! their column's JSON type.

use poem_openapi::Object;
use serde::Serialize;
use serde_json::Value;

pub use super::Nulable;
use crate::dominio::{Conversacion, Mensaje, Usuario};

/// A user as the chat lists it.
#[derive(Object, Serialize, Clone, Debug)]
pub struct UsuarioJson {
    /// `rut_usuario`.
    pub id: String,
    /// Name (`"Usuario"` when unknown).
    pub nombre: String,
    /// Always `""` (the table has no surname).
    pub apellido: String,
    /// Same as `nombre`.
    pub nombre_completo: String,
    /// `correo`.
    pub email: String,
    /// `rol`.
    pub rol: String,
    /// First two letters of the name, upper-cased.
    pub iniciales: String,
}

impl From<&Usuario> for UsuarioJson {
    fn from(u: &Usuario) -> Self {
        UsuarioJson {
            id: u.rut.clone(),
            nombre: u.nombre.clone(),
            apellido: String::new(),
            nombre_completo: u.nombre.clone(),
            email: u.correo.clone(),
            rol: u.rol.clone(),
            iniciales: u.iniciales(),
        }
    }
}

/// `GET /api/chat/usuarios`.
#[derive(Object, Serialize, Debug)]
pub struct ListaUsuarios {
    /// Every user except the caller, by name.
    pub usuarios: Vec<UsuarioJson>,
}

/// A message's author.
#[derive(Object, Serialize, Clone, Debug)]
pub struct AutorJson {
    /// `rut_usuario`.
    pub id: String,
    /// Name (`"Usuario"` when unknown).
    pub nombre: String,
    /// Always `""`.
    pub apellido: String,
    /// Same as `nombre`.
    pub nombre_completo: String,
    /// `correo`, `""` when unknown.
    pub email: String,
    /// `rol`, `""` when unknown.
    pub rol: String,
}

impl From<&Usuario> for AutorJson {
    fn from(u: &Usuario) -> Self {
        AutorJson {
            id: u.rut.clone(),
            nombre: u.nombre.clone(),
            apellido: String::new(),
            nombre_completo: u.nombre.clone(),
            email: u.correo.clone(),
            rol: u.rol.clone(),
        }
    }
}

/// A stored message, the same for every viewer: the `mensaje_recibido` event's payload.
#[derive(Object, Serialize, Clone, Debug)]
pub struct MensajeBase {
    /// Message id: a number for integer columns, a string for uuid columns.
    pub id: Value,
    /// Conversation id, as a string.
    pub conversacion_id: String,
    /// Author's rut.
    pub usuario_id: String,
    /// Text.
    pub contenido: String,
    /// Send time (ISO 8601).
    pub fecha_envio: String,
    /// Edited flag.
    pub editado: bool,
    /// Deleted flag.
    pub eliminado: bool,
    /// The author.
    pub usuario: AutorJson,
}

impl From<&Mensaje> for MensajeBase {
    fn from(m: &Mensaje) -> Self {
        MensajeBase {
            id: m.id.to_json(),
            conversacion_id: m.conversacion_id.to_string(),
            usuario_id: m.usuario_id.clone(),
            contenido: m.contenido.clone(),
            fecha_envio: m.fecha_envio.clone(),
            editado: m.editado,
            eliminado: m.eliminado,
            usuario: AutorJson::from(&m.autor),
        }
    }
}

/// A message as one viewer sees it (`M` in the contract).
#[derive(Object, Serialize, Clone, Debug)]
pub struct MensajeJson {
    /// The message.
    #[oai(flatten)]
    #[serde(flatten)]
    pub mensaje: MensajeBase,
    /// Whether the viewer wrote it (read by the floating widget).
    pub es_mio: bool,
    /// Same as `es_mio` (read by chat.js).
    pub es_propio: bool,
}

impl MensajeJson {
    /// The message as `viewer` sees it.
    pub fn para(m: &Mensaje, viewer: &str) -> Self {
        let mio = m.usuario_id == viewer;
        MensajeJson {
            mensaje: MensajeBase::from(m),
            es_mio: mio,
            es_propio: mio,
        }
    }
}

/// `GET /api/chat/mensajes/{id}`.
#[derive(Object, Serialize, Debug)]
pub struct ListaMensajes {
    /// Newest messages (at most 100), oldest first.
    pub mensajes: Vec<MensajeJson>,
}

/// `POST /api/chat/mensaje/enviar` answer.
#[derive(Object, Serialize, Debug)]
pub struct MensajeEnviado {
    /// The stored message.
    pub mensaje: MensajeJson,
}

/// A conversation's newest message, in the conversation list.
#[derive(Object, Serialize, Clone, Debug)]
pub struct UltimoMensajeJson {
    /// Message id.
    pub id: Value,
    /// Text.
    pub contenido: String,
    /// Send time.
    pub fecha_envio: String,
    /// Author's rut.
    pub usuario_id: String,
    /// Edited flag.
    pub editado: bool,
}

/// A conversation (`C` in the contract), as one participant sees it.
#[derive(Object, Serialize, Clone, Debug)]
pub struct ConversacionJson {
    /// Conversation id, as a string.
    pub id: String,
    /// Group name; null for 1:1.
    pub nombre: Nulable<String>,
    /// Group flag.
    pub es_grupal: bool,
    /// The other participants.
    pub participantes: Vec<UsuarioJson>,
    /// Newest message, or null.
    pub ultimo_mensaje: Nulable<UltimoMensajeJson>,
    /// Unread messages from others.
    pub no_leidos: i64,
    /// Same as `no_leidos`.
    pub mensajes_no_leidos: i64,
    /// Creation time.
    pub fecha_creacion: Nulable<String>,
    /// Time of the last message.
    pub ultimo_mensaje_timestamp: Nulable<String>,
    /// Time of the last activity.
    pub ultima_actualizacion: Nulable<String>,
}

impl From<&Conversacion> for ConversacionJson {
    fn from(c: &Conversacion) -> Self {
        let ultimo = c.ultimo_mensaje.as_ref();
        ConversacionJson {
            id: c.id.to_string(),
            nombre: Nulable(c.nombre.clone()),
            es_grupal: c.es_grupal,
            participantes: c.participantes.iter().map(UsuarioJson::from).collect(),
            ultimo_mensaje: Nulable(ultimo.map(|m| UltimoMensajeJson {
                id: m.id.to_json(),
                contenido: m.contenido.clone(),
                fecha_envio: m.fecha_envio.clone(),
                usuario_id: m.usuario_id.clone(),
                editado: m.editado,
            })),
            no_leidos: c.no_leidos,
            mensajes_no_leidos: c.no_leidos,
            fecha_creacion: Nulable(c.fecha_creacion.clone()),
            ultimo_mensaje_timestamp: Nulable(
                c.ultimo_mensaje_timestamp
                    .clone()
                    .or_else(|| ultimo.map(|m| m.fecha_envio.clone())),
            ),
            ultima_actualizacion: Nulable(
                c.ultima_actualizacion
                    .clone()
                    .or_else(|| ultimo.map(|m| m.fecha_envio.clone()))
                    .or_else(|| c.fecha_creacion.clone()),
            ),
        }
    }
}

/// `GET /api/chat/conversaciones`.
#[derive(Object, Serialize, Debug)]
pub struct ListaConversaciones {
    /// The caller's conversations, most recent activity first.
    pub conversaciones: Vec<ConversacionJson>,
}

/// `POST /api/chat/conversacion/crear` body: `participantes` (`[me, other]` or `[other]`)
/// or `usuario_id` (the other user).
#[derive(Object, Debug)]
pub struct CrearConversacionBody {
    /// List of ruts (strings or numbers).
    pub participantes: Option<Value>,
    /// The other user's rut (older form).
    pub usuario_id: Option<Value>,
}

/// The created or found conversation.
#[derive(Object, Serialize, Debug)]
pub struct ConversacionBreve {
    /// Conversation id, as a string.
    pub id: String,
    /// Always null for 1:1.
    pub nombre: Nulable<String>,
    /// Always false for 1:1.
    pub es_grupal: bool,
    /// Whether this call created it.
    pub creado: bool,
}

/// `POST /api/chat/conversacion/crear` answer.
#[derive(Object, Serialize, Debug)]
pub struct ConversacionCreadaJson {
    /// Always true.
    pub success: bool,
    /// Conversation id, as a string.
    pub conversacion_id: String,
    /// The conversation.
    pub conversacion: ConversacionBreve,
    /// Human-readable outcome.
    pub mensaje: String,
}

/// `POST /api/chat/mensaje/enviar` body.
#[derive(Object, Debug)]
pub struct EnviarBody {
    /// Conversation id (string or number).
    pub conversacion_id: Option<Value>,
    /// Message text.
    pub contenido: Option<Value>,
    /// Client-generated key that makes a retried send return the first message.
    pub client_id: Option<Value>,
}

/// `POST /api/chat/mensaje/marcar-leido` body.
#[derive(Object, Debug)]
pub struct MarcarLeidoBody {
    /// Conversation id (string or number).
    pub conversacion_id: Option<Value>,
    /// Read up to this message; the newest when absent or not in the conversation.
    pub mensaje_id: Option<Value>,
}

/// `{"success": true}`.
#[derive(Object, Serialize, Debug)]
pub struct Exito {
    /// Always true.
    pub success: bool,
}

/// Every error body: `{"success": false, "error": "<Spanish message>"}`.
#[derive(Object, Serialize, Debug)]
pub struct CuerpoError {
    /// Always false.
    pub success: bool,
    /// What went wrong, in Spanish.
    pub error: String,
}

/// `POST /api/usuarios/heartbeat` answer.
#[derive(Object, Serialize, Debug)]
pub struct Latido {
    /// Always true.
    pub success: bool,
    /// The caller's rut.
    pub usuario_id: String,
    /// Server time of the heartbeat (RFC 3339).
    pub timestamp: String,
}

/// `GET /api/usuarios/conectados` answer.
#[derive(Object, Serialize, Debug)]
pub struct Conectados {
    /// Always true.
    pub success: bool,
    /// Ruts of the users online (a live socket, or a heartbeat in the last 45 s).
    pub conectados: Vec<String>,
    /// Number of users online.
    pub total: usize,
}
