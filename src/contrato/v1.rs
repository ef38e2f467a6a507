//! The v1 JSON shapes of CONTRACT.md §4, shared by the REST API and the Socket.IO events.
//! Strings the pages index are never null; conversation ids are strings; message ids keep
//! their column's JSON type.

use poem_openapi::Object;
use serde::Serialize;
use serde_json::Value;

pub use super::{CuerpoError, Exito, Nulable};
use crate::dominio::{Conversacion, Id, Mensaje, Usuario};

/// A user as the chat lists it.
#[derive(Object, Serialize, Clone, Debug)]
pub struct UsuarioJson {
    /// Always `""` (the table has no surname).
    pub apellido: String,
    /// `correo`.
    pub email: String,
    /// `rut_usuario`.
    pub id: String,
    /// First two letters of the name, upper-cased.
    pub iniciales: String,
    /// Name (`"Usuario"` when unknown).
    pub nombre: String,
    /// Same as `nombre`.
    pub nombre_completo: String,
    /// `rol`.
    pub rol: String,
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
    /// Always `""`.
    pub apellido: String,
    /// `correo`, `""` when unknown.
    pub email: String,
    /// `rut_usuario`.
    pub id: String,
    /// Name (`"Usuario"` when unknown).
    pub nombre: String,
    /// Same as `nombre`.
    pub nombre_completo: String,
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

/// The message a reply quotes.
#[derive(Object, Serialize, Clone, Debug)]
pub struct CitaJson {
    /// Its text.
    pub contenido: String,
    /// Its author's rut.
    pub usuario_id: String,
    /// Its author's name.
    pub usuario_nombre: String,
}

/// A message's kind on the wire.
fn tipo(m: &Mensaje) -> &'static str {
    if m.extras.sistema { "sistema" } else { "texto" }
}

/// A stored message, the same for every viewer: the `mensaje_recibido` event's payload.
#[derive(Object, Serialize, Clone, Debug)]
pub struct MensajeBase {
    /// The quoted message of a reply (null otherwise, or when it was deleted).
    pub cita: Nulable<CitaJson>,
    /// Text.
    pub contenido: String,
    /// Conversation id, as a string.
    pub conversacion_id: String,
    /// Edited flag.
    pub editado: bool,
    /// Deleted flag.
    pub eliminado: bool,
    /// Send time (ISO 8601).
    pub fecha_envio: String,
    /// Message id: a number for integer columns, a string for uuid columns.
    pub id: Value,
    /// Id of the message it replies to, or null.
    pub reply_to: Nulable<Value>,
    /// `"texto"`, or `"sistema"` for the group's own history ("Ana agregó a Luis").
    pub tipo: String,
    /// The author.
    pub usuario: AutorJson,
    /// Author's rut.
    pub usuario_id: String,
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
            cita: Nulable(m.extras.cita.as_ref().map(|c| CitaJson {
                contenido: c.contenido.clone(),
                usuario_id: c.usuario_id.clone(),
                usuario_nombre: c.usuario_nombre.clone(),
            })),
            reply_to: Nulable(m.extras.responde_a.as_ref().map(Id::to_json)),
            tipo: tipo(m).to_owned(),
        }
    }
}

/// A message as one viewer sees it (`M` in the contract).
#[derive(Object, Clone, Debug)]
pub struct MensajeJson {
    /// The message.
    #[oai(flatten)]
    pub mensaje: MensajeBase,
    /// Whether the viewer wrote it (read by the floating widget).
    pub es_mio: bool,
    /// Same as `es_mio` (read by chat.js).
    pub es_propio: bool,
}

/// The flattened keys in the same sorted order as every other shape (see [`crate::contrato`]),
/// written by hand because serde's `flatten` would put the viewer's two flags last.
impl Serialize for MensajeJson {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let m = &self.mensaje;
        let mut e = s.serialize_struct("MensajeJson", 13)?;
        e.serialize_field("cita", &m.cita)?;
        e.serialize_field("contenido", &m.contenido)?;
        e.serialize_field("conversacion_id", &m.conversacion_id)?;
        e.serialize_field("editado", &m.editado)?;
        e.serialize_field("eliminado", &m.eliminado)?;
        e.serialize_field("es_mio", &self.es_mio)?;
        e.serialize_field("es_propio", &self.es_propio)?;
        e.serialize_field("fecha_envio", &m.fecha_envio)?;
        e.serialize_field("id", &m.id)?;
        e.serialize_field("reply_to", &m.reply_to)?;
        e.serialize_field("tipo", &m.tipo)?;
        e.serialize_field("usuario", &m.usuario)?;
        e.serialize_field("usuario_id", &m.usuario_id)?;
        e.end()
    }
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
    /// Text.
    pub contenido: String,
    /// Edited flag.
    pub editado: bool,
    /// Send time.
    pub fecha_envio: String,
    /// Message id.
    pub id: Value,
    /// `"texto"`, or `"sistema"` for the group's own history.
    pub tipo: String,
    /// Author's rut.
    pub usuario_id: String,
}

/// A conversation (`C` in the contract), as one participant sees it.
#[derive(Object, Serialize, Clone, Debug)]
pub struct ConversacionJson {
    /// Group flag.
    pub es_grupal: bool,
    /// Creation time.
    pub fecha_creacion: Nulable<String>,
    /// Conversation id, as a string.
    pub id: String,
    /// Same as `no_leidos`.
    pub mensajes_no_leidos: i64,
    /// Unread messages from others.
    pub no_leidos: i64,
    /// Group name; null for 1:1.
    pub nombre: Nulable<String>,
    /// The other participants.
    pub participantes: Vec<UsuarioJson>,
    /// Time of the last activity.
    pub ultima_actualizacion: Nulable<String>,
    /// Newest message, or null.
    pub ultimo_mensaje: Nulable<UltimoMensajeJson>,
    /// Time of the last message.
    pub ultimo_mensaje_timestamp: Nulable<String>,
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
                tipo: tipo(m).to_owned(),
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
    /// Whether this call created it.
    pub creado: bool,
    /// Always false for 1:1.
    pub es_grupal: bool,
    /// Conversation id, as a string.
    pub id: String,
    /// Always null for 1:1.
    pub nombre: Nulable<String>,
}

/// `POST /api/chat/conversacion/crear` answer.
#[derive(Object, Serialize, Debug)]
pub struct ConversacionCreadaJson {
    /// The conversation.
    pub conversacion: ConversacionBreve,
    /// Conversation id, as a string.
    pub conversacion_id: String,
    /// Human-readable outcome.
    pub mensaje: String,
    /// Always true.
    pub success: bool,
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
    /// Our API: the message this one replies to (same conversation only).
    pub reply_to: Option<Value>,
}

/// `POST /api/chat/mensaje/marcar-leido` body.
#[derive(Object, Debug)]
pub struct MarcarLeidoBody {
    /// Conversation id (string or number).
    pub conversacion_id: Option<Value>,
    /// Read up to this message; the newest when absent or not in the conversation.
    pub mensaje_id: Option<Value>,
}

/// `mensaje_visto` (and our `mensaje_entregado`): a user's read (delivered) marker in a
/// conversation moved forward to `ultimo_id`.
#[derive(Serialize, Debug)]
pub struct MarcaEvento {
    /// The conversation.
    pub conversacion_id: String,
    /// Whose marker moved.
    pub usuario_id: String,
    /// The newest message the marker covers.
    pub ultimo_id: Value,
}

impl MarcaEvento {
    /// The event for `usuario`'s marker in `conversacion` moved to `ultimo`.
    pub fn de(conversacion: &Id, usuario: &str, ultimo: &Id) -> Self {
        MarcaEvento {
            conversacion_id: conversacion.to_string(),
            usuario_id: usuario.to_owned(),
            ultimo_id: ultimo.to_json(),
        }
    }
}

/// `GET /api/usuarios/conectados` answer.
#[derive(Object, Serialize, Debug)]
pub struct Conectados {
    /// Ruts of the users online (a live socket, or a heartbeat in the last 45 s).
    pub conectados: Vec<String>,
    /// Always true.
    pub success: bool,
    /// Number of users online.
    pub total: usize,
}
