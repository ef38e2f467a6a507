//! Storage behind one trait, so the service never sees SQL or a driver. `postgres` talks to
//! PostgreSQL directly; `postgrest` talks to Supabase's REST layer (PostgREST) when only
//! `SUPABASE_URL` and `SUPABASE_KEY` are configured. [`conectar`] picks one from the settings.

pub mod grupos;
pub mod postgres;
#[cfg(feature = "postgrest")]
pub mod postgrest;

use std::sync::Arc;

use async_trait::async_trait;

use crate::dominio::{
    Adjunto, Coincidencia, Conversacion, Credenciales, EstadoConversacion, Id, IdKinds, Mensaje,
    Reaccion, Usuario,
};

/// Names of the chat tables of a table variant (CONTRACT.md §6), for both stores.
#[derive(Clone, Copy, Debug)]
pub struct Tablas {
    /// Conversations.
    pub conversaciones: &'static str,
    /// Participants (with the read marker).
    pub participantes: &'static str,
    /// Messages.
    pub mensajes: &'static str,
    /// The v2 delta's reactions (optional, `sql/v2_delta.sql`).
    pub reacciones: &'static str,
    /// Attachments (optional, `sql/adjuntos.sql`).
    pub adjuntos: &'static str,
    /// Several reactions per user (optional, `sql/grupos.sql`); where it exists, reactions are
    /// read from it.
    pub reacciones_emoji: &'static str,
    /// Several pins per conversation (optional, `sql/grupos.sql`).
    pub fijados: &'static str,
}

impl Tablas {
    /// The names for `variant`.
    pub fn de(variant: crate::config::TableVariant) -> Tablas {
        use crate::config::TableVariant;
        match variant {
            TableVariant::ChatPrefix => Tablas {
                conversaciones: "chat_conversaciones",
                participantes: "chat_participantes",
                mensajes: "chat_mensajes",
                reacciones: "chat_reacciones",
                adjuntos: "chat_adjuntos",
                reacciones_emoji: "chat_reacciones_emoji",
                fijados: "chat_fijados",
            },
            TableVariant::ChatSuffix => Tablas {
                conversaciones: "conversaciones_chat",
                participantes: "participantes_chat",
                mensajes: "mensajes_chat",
                reacciones: "reacciones_chat",
                adjuntos: "adjuntos_chat",
                reacciones_emoji: "reacciones_emoji_chat",
                fijados: "fijados_chat",
            },
        }
    }
}

/// A storage failure, split by what the client should be told.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached in time (answer 503).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// An optional piece of schema is missing: the named `sql/` file adds it (answer 503).
    #[error("missing schema: apply {0}")]
    FaltaEsquema(&'static str),
    /// The author of a send stopped participating while it ran (a removal committed first):
    /// nothing was stored (answer 403).
    #[error("not a participant")]
    NoParticipa,
    /// Anything else: a bug or an unexpected schema (answer 500, log the cause).
    #[error("database error: {0}")]
    Other(String),
}

/// Why no store could be built at start-up.
#[derive(Debug, thiserror::Error)]
pub enum ConexionError {
    /// A setting is wrong (a refused key): exit 2 like any configuration error.
    #[error("{0}")]
    Configuracion(String),
    /// The database or its tables are not usable.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The store the settings select: `DATABASE_URL` wins; otherwise PostgREST at
/// `{SUPABASE_URL}/rest/v1` with `SUPABASE_KEY` (the settings guarantee one of them).
pub async fn conectar(
    settings: &crate::config::Settings,
) -> Result<Arc<dyn ChatStore>, ConexionError> {
    #[cfg(feature = "postgrest")]
    if settings.database_url.is_none() {
        let store = postgrest::PostgrestStore::connect(&postgrest::PostgrestOptions {
            url: settings.supabase_url.clone().unwrap_or_default(),
            key: settings.supabase_key.clone().unwrap_or_default(),
            timeout: settings.database_timeout,
            variant: settings.table_variant,
        })
        .await
        .map_err(|e| match e {
            postgrest::PostgrestStartError::Store(e) => ConexionError::Store(e),
            clave => ConexionError::Configuracion(clave.to_string()),
        })?;
        tracing::info!("almacenamiento: PostgREST (SUPABASE_URL)");
        return Ok(Arc::new(store));
    }
    let store = postgres::PostgresStore::connect(&postgres::PostgresOptions {
        url: settings.database_url.clone().unwrap_or_default(),
        pool_size: settings.pool_size,
        timeout: settings.database_timeout,
        prepared_statements: settings.prepared_statements,
        variant: settings.table_variant,
    })
    .await?;
    Ok(Arc::new(store))
}

/// Result of a storage call.
pub type StoreResult<T> = Result<T, StoreError>;

/// Outcome of a find-or-create for a 1:1 conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversacionUnoAUno {
    /// The conversation's id.
    pub id: Id,
    /// Whether this call created it.
    pub creada: bool,
}

/// Outcome of storing a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Insercion {
    /// The stored message (or the earlier one with the same client key).
    pub mensaje: Mensaje,
    /// Whether this call stored it.
    pub nuevo: bool,
}

/// Outcome of a send: stored, or refused with nothing stored.
// The large variant is the usual outcome: boxing it would only add an allocation per send.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Enviado {
    /// Stored (or the earlier message with the same client key), with the conversation's
    /// participants at that moment (who hears of it).
    Guardado {
        /// The message and whether this call stored it.
        insercion: Insercion,
        /// Ruts of the conversation's participants.
        participantes: Vec<String>,
    },
    /// The author does not participate in the conversation (or it does not exist).
    NoParticipa,
    /// The replied message is not a message of the same conversation (or was deleted).
    CitaAjena,
}

/// A message to store.
#[derive(Clone, Copy, Debug)]
pub struct NuevoMensaje<'a> {
    /// Its conversation.
    pub conversacion: &'a Id,
    /// Its author's rut.
    pub autor: &'a str,
    /// Its text, already validated.
    pub contenido: &'a str,
    /// Client key that makes retries return the first message.
    pub clave: Option<&'a str>,
    /// The message it replies to (checked by [`ChatStore::insertar_mensaje`]; already checked
    /// to be of the same conversation for [`ChatStore::insertar_con_adjunto`]).
    pub responde_a: Option<&'a Id>,
    /// The conversation's participants when the caller already knows them (it has just found
    /// or created this 1:1 conversation): a store may skip its own membership check.
    pub participantes: Option<&'a [String]>,
}

/// A full-text search over the messages one user may read.
#[derive(Clone, Copy, Debug)]
pub struct Busqueda<'a> {
    /// Who searches: only conversations they participate in now.
    pub rut: &'a str,
    /// The words, as typed (any text is safe: it is parsed as web search syntax).
    pub consulta: &'a str,
    /// Only this conversation, when given.
    pub conversacion: Option<&'a Id>,
    /// Results to skip.
    pub desde: i64,
    /// Most results to return.
    pub limite: i64,
}

/// An attachment to store with the message that carries it.
#[derive(Clone, Copy, Debug)]
pub struct NuevoAdjunto<'a> {
    /// Sanitized file name.
    pub nombre: &'a str,
    /// Media type decided from the bytes.
    pub tipo: &'a str,
    /// Size in bytes.
    pub tamano: i64,
    /// Where the bytes already are in the object storage.
    pub clave: &'a str,
    /// Where its thumbnail already is, when it has one.
    pub miniatura: Option<&'a str>,
}

/// A message found by id, and whether the asking user participates in its conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MensajeEncontrado {
    /// The message (never a deleted one).
    pub mensaje: Mensaje,
    /// Whether the asking user is a participant of its conversation.
    pub participa: bool,
}

/// Occupancy of a store's connection pool (for metrics).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EstadoPool {
    /// Connections open.
    pub abiertas: usize,
    /// Open connections not in use.
    pub libres: usize,
    /// Most connections allowed.
    pub maximo: usize,
    /// Requests waiting for a connection.
    pub esperando: usize,
}

/// Every storage operation the chat needs. Each call costs a constant number of round trips,
/// whatever the number of conversations or messages.
#[async_trait]
pub trait ChatStore: Send + Sync {
    /// The id types of the conversation and message tables.
    async fn id_kinds(&self) -> StoreResult<IdKinds>;

    /// Its connection pool's occupancy, when it keeps one of its own (PostgreSQL does;
    /// PostgREST's HTTP client exposes none).
    fn estado_pool(&self) -> Option<EstadoPool>;

    /// Answers when the database is reachable.
    async fn ping(&self) -> StoreResult<()>;

    /// Users whose `rut_usuario`, `correo` or `nombre` equals `login` (a few at most).
    async fn credenciales(&self, login: &str) -> StoreResult<Vec<Credenciales>>;

    /// Replaces a user's password hash (used when re-hashing a legacy plaintext password).
    async fn guardar_hash(&self, rut: &str, hash: &str) -> StoreResult<()>;

    /// One user by rut.
    async fn usuario(&self, rut: &str) -> StoreResult<Option<Usuario>>;

    /// Every user except `rut`, ordered by name.
    async fn usuarios_excepto(&self, rut: &str) -> StoreResult<Vec<Usuario>>;

    /// Whether `rut` participates in `conversacion`.
    async fn es_participante(&self, conversacion: &Id, rut: &str) -> StoreResult<bool>;

    /// The conversations of `rut` as `rut` sees them, most recent activity first; only
    /// `solo` when given.
    async fn conversaciones(&self, rut: &str, solo: Option<&Id>) -> StoreResult<Vec<Conversacion>>;

    /// Every user who shares a conversation with `rut`.
    async fn contactos(&self, rut: &str) -> StoreResult<Vec<String>>;

    /// Finds or atomically creates the 1:1 conversation of exactly `a` and `b`.
    async fn conversacion_uno_a_uno(&self, a: &str, b: &str) -> StoreResult<ConversacionUnoAUno>;

    /// Up to `limite` messages of `conversacion` before `antes` (or the newest), ascending.
    async fn mensajes(
        &self,
        conversacion: &Id,
        antes: Option<&Id>,
        limite: i64,
    ) -> StoreResult<Vec<Mensaje>>;

    /// Stores a message when its author participates in the conversation (else
    /// [`Enviado::NoParticipa`]) and its reply, if any, is a message of the same conversation
    /// that is not deleted (else [`Enviado::CitaAjena`]), and updates the conversation's
    /// last-message columns atomically. With a client key, and where the schema can enforce it,
    /// a message the author already stored with that key is returned instead (`nuevo: false`).
    /// Answers once the message is committed.
    async fn insertar_mensaje(&self, nuevo: NuevoMensaje<'_>) -> StoreResult<Enviado>;

    /// Moves `rut`'s read marker forward to `hasta` when it belongs to the conversation, else
    /// to the newest message; returns the new marker when it moved.
    async fn marcar_leido(
        &self,
        conversacion: &Id,
        rut: &str,
        hasta: Option<&Id>,
    ) -> StoreResult<Option<Id>>;

    /// Whether the v2 delta is present: the reactions table, the conversations' pinned
    /// message and the messages' `reply_to` (`sql/v2_delta.sql`).
    async fn delta_v2(&self) -> StoreResult<bool>;

    /// The ruts of a conversation's participants (empty when it does not exist).
    async fn participantes(&self, conversacion: &Id) -> StoreResult<Vec<String>>;

    /// One message by id, unless missing or deleted, with whether `rut` participates in its
    /// conversation.
    async fn mensaje(&self, id: &Id, rut: &str) -> StoreResult<Option<MensajeEncontrado>>;

    /// The read markers of `yo` and `otro` in a conversation, and its pinned message.
    async fn estado_conversacion(
        &self,
        conversacion: &Id,
        yo: &str,
        otro: &str,
    ) -> StoreResult<EstadoConversacion>;

    /// Sets (`Some`) or removes (`None`) `rut`'s one reaction to a message, atomically, and
    /// returns the message's reactions afterwards, oldest first. Needs the v2 delta.
    async fn reaccionar(
        &self,
        mensaje: &Id,
        rut: &str,
        emoji: Option<&str>,
    ) -> StoreResult<Vec<Reaccion>>;

    /// Makes `mensaje` the conversation's pinned message. Needs the v2 delta.
    async fn fijar(&self, conversacion: &Id, mensaje: &Id) -> StoreResult<()>;

    /// Clears the conversation's pin when it is `mensaje`; whether it was. Needs the v2 delta.
    async fn desfijar(&self, conversacion: &Id, mensaje: &Id) -> StoreResult<bool>;

    /// Deletes a message in one transaction: marked `eliminado` where the column exists (else
    /// removed), its reactions removed and the conversation's pin cleared when it pointed to
    /// it. Whether it was there to delete.
    async fn eliminar_mensaje(&self, mensaje: &Id) -> StoreResult<bool>;

    /// Messages matching a search, best first (then newest), among those `rut` may read now:
    /// conversations they participate in, never deleted messages. Works without the search
    /// index (slower) and without `sql/busqueda.sql` (no accent folding).
    async fn buscar(&self, busqueda: Busqueda<'_>) -> StoreResult<Vec<Coincidencia>>;

    /// Stores a message and its attachment in one transaction (nothing is left when either
    /// fails). Needs `sql/adjuntos.sql` ([`StoreError::FaltaEsquema`] otherwise).
    async fn insertar_con_adjunto(
        &self,
        mensaje: NuevoMensaje<'_>,
        adjunto: NuevoAdjunto<'_>,
    ) -> StoreResult<(Mensaje, Adjunto)>;

    /// One attachment whose message is not deleted, with whether `rut` participates in its
    /// conversation now.
    async fn adjunto(&self, id: i64, rut: &str) -> StoreResult<Option<(Adjunto, bool)>>;

    /// The attachments of a conversation's messages that are not deleted, oldest first.
    async fn adjuntos(&self, conversacion: &Id) -> StoreResult<Vec<Adjunto>>;

    /// Mutes (`Some(true)`) or unmutes (`Some(false)`) a conversation for `rut`, then returns
    /// the conversations `rut` has muted. Needs `sql/busqueda.sql` to change anything.
    async fn silencios(&self, rut: &str, cambio: Option<(&Id, bool)>) -> StoreResult<Vec<Id>>;

    /// Whether `sql/grupos.sql` is applied: groups, edits, several reactions per user, several
    /// pins, delivery markers and system messages. With it, reactions are read from its table.
    async fn grupos(&self) -> StoreResult<bool>;

    /// Runs one function of `sql/grupos.sql` and answers its JSON result, in one round trip
    /// ([`StoreError::FaltaEsquema`] when the file is not applied). [`grupos::Grupos`] builds
    /// the calls and reads the answers for both stores.
    async fn funcion(&self, llamada: &grupos::Llamada) -> StoreResult<serde_json::Value>;
}
