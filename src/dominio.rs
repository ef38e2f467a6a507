//! Domain types, at the bottom of the house: used by the service, both stores and the
//! transports. No SQL, no HTTP.

use serde_json::Value;

/// The SQL type family of an id column, detected from the catalog at start-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdKind {
    /// `bigint`, `integer` or `smallint`: JSON numbers in responses.
    Integer,
    /// `uuid`: JSON strings in responses.
    Uuid,
}

/// An opaque row id in canonical text form (decimal integer or lower-case uuid).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Id {
    text: String,
    kind: IdKind,
}

impl Id {
    /// Parses an id from a JSON string or number; `None` when it cannot be an id of `kind`.
    pub fn from_json(raw: &Value, kind: IdKind) -> Option<Id> {
        match raw {
            Value::String(s) => Id::parse(s, kind),
            Value::Number(n) if kind == IdKind::Integer => n.as_i64().map(|v| Id {
                text: v.to_string(),
                kind,
            }),
            _ => None,
        }
    }

    /// Parses an id from text (a URL segment, a query parameter, a database value).
    pub fn parse(raw: &str, kind: IdKind) -> Option<Id> {
        let raw = raw.trim();
        let text = match kind {
            IdKind::Integer => raw.parse::<i64>().ok()?.to_string(),
            IdKind::Uuid => canonical_uuid(raw)?,
        };
        Some(Id { text, kind })
    }

    /// The canonical text form, as sent to the database and used for room names.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The id with its column's JSON type: a number for integer ids, a string for uuids.
    pub fn to_json(&self) -> Value {
        match self.kind {
            IdKind::Integer => self
                .text
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::from(self.text.clone())),
            IdKind::Uuid => Value::from(self.text.clone()),
        }
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

fn canonical_uuid(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let hyphens_ok = bytes.len() == 36 && [8, 13, 18, 23].iter().all(|&i| bytes[i] == b'-');
    let hex_ok = bytes
        .iter()
        .enumerate()
        .all(|(i, b)| [8, 13, 18, 23].contains(&i) || b.is_ascii_hexdigit());
    (hyphens_ok && hex_ok).then(|| raw.to_ascii_lowercase())
}

/// The id types of the conversation and message tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdKinds {
    /// Type of the conversations' `id`.
    pub conversacion: IdKind,
    /// Type of the messages' `id`.
    pub mensaje: IdKind,
}

/// A row of `usuarios` as the chat shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Usuario {
    /// `rut_usuario`, the user's id everywhere in the chat.
    pub rut: String,
    /// Display name; `"Usuario"` when the row is missing or the name is empty.
    pub nombre: String,
    /// `correo`, `""` when missing.
    pub correo: String,
    /// `rol`, `""` when missing.
    pub rol: String,
}

impl Usuario {
    /// Builds a user from nullable columns, applying the contract's never-null defaults.
    pub fn from_columns(
        rut: String,
        nombre: Option<String>,
        correo: Option<String>,
        rol: Option<String>,
    ) -> Self {
        let nombre = nombre
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "Usuario".into());
        Usuario {
            rut,
            nombre,
            correo: correo.unwrap_or_default(),
            rol: rol.unwrap_or_default(),
        }
    }

    /// First two characters of the name, upper-cased (`"U"` when there is no name).
    pub fn iniciales(&self) -> String {
        let initials: String = self
            .nombre
            .trim()
            .chars()
            .take(2)
            .collect::<String>()
            .to_uppercase();
        if initials.is_empty() {
            "U".into()
        } else {
            initials
        }
    }
}

/// A stored message with its author.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mensaje {
    /// Message id.
    pub id: Id,
    /// Conversation id.
    pub conversacion_id: Id,
    /// Author's rut.
    pub usuario_id: String,
    /// Text as stored.
    pub contenido: String,
    /// Send time, ISO 8601 as PostgREST renders it.
    pub fecha_envio: String,
    /// Whether it was edited.
    pub editado: bool,
    /// Whether it was deleted.
    pub eliminado: bool,
    /// The author (a placeholder "Usuario" when the user row is gone).
    pub autor: Usuario,
    /// Replies and reactions (empty where the schema has no v2 delta).
    pub extras: ExtrasMensaje,
}

/// What a message carries besides its text: the message it replies to and its reactions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExtrasMensaje {
    /// Id of the message it replies to (`reply_to`).
    pub responde_a: Option<Id>,
    /// The quoted message, when it still exists and is not deleted.
    pub cita: Option<Cita>,
    /// Its reactions, oldest first.
    pub reacciones: Vec<Reaccion>,
    /// Whether it is a system message ("Ana agregó a Luis"), stored by `sql/grupos.sql`'s
    /// functions with `tipo = 'sistema'`.
    pub sistema: bool,
}

/// The message a reply quotes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cita {
    /// Its text.
    pub contenido: String,
    /// Its author's rut.
    pub usuario_id: String,
    /// Its author's name (`"Usuario"` when unknown).
    pub usuario_nombre: String,
}

/// One user's reaction to a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reaccion {
    /// Who reacted.
    pub usuario_id: String,
    /// The emoji.
    pub emoji: String,
}

/// A conversation's read markers and pin, as one participant opens it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EstadoConversacion {
    /// The newest message the viewer has read.
    pub visto_por_mi: Option<Id>,
    /// The newest message the other participant has read.
    pub visto_por_otro: Option<Id>,
    /// The pinned message, when it exists and is not deleted.
    pub fijado: Option<Mensaje>,
}

/// A member of a conversation, as its member list shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Miembro {
    /// `rut_usuario`.
    pub rut: String,
    /// Display name (`"Usuario"` when unknown).
    pub nombre: String,
    /// Whether they may rename the group and add or remove members.
    pub es_admin: bool,
}

/// A conversation's members and group data (`sql/grupos.sql`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grupo {
    /// The conversation's id.
    pub id: Id,
    /// The group's name (`None` for 1:1).
    pub nombre: Option<String>,
    /// Whether it is a group.
    pub es_grupal: bool,
    /// Who created it, when known.
    pub creado_por: Option<String>,
    /// Its members, in join order.
    pub miembros: Vec<Miembro>,
}

impl Grupo {
    /// Whether `rut` is an admin member.
    pub fn es_admin(&self, rut: &str) -> bool {
        self.miembros.iter().any(|m| m.rut == rut && m.es_admin)
    }
}

/// Who received and who read one message (its author excluded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entrega {
    /// The message.
    pub mensaje_id: Id,
    /// Members other than the author.
    pub destinatarios: i64,
    /// Those whose delivered (or read) marker reached it.
    pub entregado_a: Vec<String>,
    /// Those whose read marker reached it.
    pub leido_por: Vec<String>,
}

/// A conversation as one of its participants sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conversacion {
    /// Conversation id.
    pub id: Id,
    /// Group name; `None` for 1:1.
    pub nombre: Option<String>,
    /// Whether it is a group.
    pub es_grupal: bool,
    /// The other participants (the viewer excluded).
    pub participantes: Vec<Usuario>,
    /// The newest message, if any.
    pub ultimo_mensaje: Option<Mensaje>,
    /// Messages from others after the viewer's read marker.
    pub no_leidos: i64,
    /// Creation time.
    pub fecha_creacion: Option<String>,
    /// Time of the last message, as kept on the conversation row.
    pub ultimo_mensaje_timestamp: Option<String>,
    /// Time of the last activity, as kept on the conversation row.
    pub ultima_actualizacion: Option<String>,
}

/// A message found by a search, as its reader sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Coincidencia {
    /// The message.
    pub mensaje_id: Id,
    /// Its conversation.
    pub conversacion_id: Id,
    /// Its author's rut.
    pub usuario_id: String,
    /// Its author's name (`"Usuario"` when unknown).
    pub usuario_nombre: String,
    /// Send time, ISO 8601.
    pub fecha_envio: String,
    /// Relevance (higher first).
    pub rango: f64,
    /// A short excerpt of the text; the matched words are between [`INICIO_RESALTADO`] and
    /// [`FIN_RESALTADO`].
    pub fragmento: String,
}

/// Marks the start of a matched word in [`Coincidencia::fragmento`] (a private-use character,
/// so user text cannot forge it meaningfully).
pub const INICIO_RESALTADO: char = '\u{E000}';
/// Marks the end of a matched word in [`Coincidencia::fragmento`].
pub const FIN_RESALTADO: char = '\u{E001}';

/// A file or image a message carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Adjunto {
    /// The attachment's id.
    pub id: i64,
    /// The message that carries it.
    pub mensaje_id: Id,
    /// Its conversation.
    pub conversacion_id: Id,
    /// The file name to offer on download (already sanitized).
    pub nombre: String,
    /// The media type decided from its bytes.
    pub tipo: String,
    /// Size in bytes.
    pub tamano: i64,
    /// Where the bytes are in the object storage.
    pub clave: String,
    /// Where its thumbnail is (PNG), for images that could be decoded.
    pub miniatura: Option<String>,
}

/// A user's login record.
#[derive(Clone, Debug)]
pub struct Credenciales {
    /// The user.
    pub usuario: Usuario,
    /// bcrypt hash (`password_hash`).
    pub password_hash: Option<String>,
    /// Legacy plaintext `"Contraseña"` column, when the table has it.
    pub password_plano: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integer_ids_accept_numbers_and_numeric_strings() {
        let id = Id::from_json(&json!(42), IdKind::Integer).unwrap();
        assert_eq!(id, Id::from_json(&json!(" 42"), IdKind::Integer).unwrap());
        assert_eq!(id.as_str(), "42");
        assert_eq!(id.to_json(), json!(42));
        for bad in [
            json!("4x"),
            json!(1.5),
            json!(true),
            json!(null),
            json!([1]),
            json!(""),
        ] {
            assert_eq!(Id::from_json(&bad, IdKind::Integer), None, "{bad}");
        }
    }

    #[test]
    fn uuid_ids_are_canonical_lower_case_strings() {
        let raw = "4C1F0A5E-1111-4000-8000-00000000ABCD";
        let id = Id::from_json(&json!(raw), IdKind::Uuid).unwrap();
        assert_eq!(id.as_str(), raw.to_ascii_lowercase());
        assert_eq!(id.to_json(), json!(raw.to_ascii_lowercase()));
        for bad in [
            json!(5),
            json!("5"),
            json!("4c1f0a5e-1111-4000-8000-00000000abcg"),
            json!("' OR 1=1 --"),
        ] {
            assert_eq!(Id::from_json(&bad, IdKind::Uuid), None, "{bad}");
        }
    }

    #[test]
    fn users_never_have_null_strings() {
        let u = Usuario::from_columns("1-9".into(), None, None, None);
        assert_eq!(
            (u.nombre.as_str(), u.correo.as_str(), u.rol.as_str()),
            ("Usuario", "", "")
        );
        assert_eq!(
            Usuario::from_columns("1".into(), Some("ana".into()), None, None).iniciales(),
            "AN"
        );
        assert_eq!(
            Usuario::from_columns("1".into(), Some("é".into()), None, None).iniciales(),
            "É"
        );
    }
}
