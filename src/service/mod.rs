//! The chat's rules, shared by every transport: who is signed in, who may see and write what,
//! input validation, limits, find-or-create, read markers. Transports only translate.

pub mod adjuntos;
pub mod archivos;
pub mod busqueda;
pub mod entrada;
mod grupos;
pub mod limites;
mod mensajes;

pub use adjuntos::{Adjuntos, Subida};
pub use busqueda::PaginaBusqueda;
pub use grupos::Historial;
pub use mensajes::ChatAbierto;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::dominio::{Conversacion, Grupo, Id, Mensaje, Reaccion, Usuario};
use crate::operacion::metricas;
use crate::session::Session;
use crate::store::{ChatStore, ConversacionUnoAUno, Enviado, NuevoMensaje, StoreError};
use limites::Limitador;

/// Most messages returned by one history request.
pub const MAX_MENSAJES: i64 = 100;
/// bcrypt hash verified when no account matches, so both failures cost the same time.
const HASH_SEÑUELO: &str = "$2b$12$nHHYhShvCUVJT7siyoVJXOzpPB0tL4ETEZqqoTn/PZlV9HXTUYjBS";

/// A refused or failed operation, with the contract's Spanish message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorChat {
    /// No valid session.
    #[error("No autenticado")]
    NoAutenticado,
    /// Not a participant of the conversation (or the id cannot be one).
    #[error("No tienes acceso a esta conversación")]
    SinAcceso,
    /// The other user does not exist.
    #[error("Usuario no encontrado")]
    UsuarioNoEncontrado,
    /// Bad input; the text says what is wrong.
    #[error("{0}")]
    Invalido(&'static str),
    /// A message without text (blank or not a string).
    #[error("Faltan datos requeridos")]
    MensajeVacio,
    /// A send that names neither a conversation nor a recipient.
    #[error("Faltan datos requeridos")]
    FaltaDestino,
    /// The message does not exist (or was deleted).
    #[error("Mensaje no encontrado")]
    MensajeNoEncontrado,
    /// The message exists in a conversation the caller does not belong to.
    #[error("No tienes acceso a este mensaje")]
    SinAccesoMensaje,
    /// Only the author may do this to a message.
    #[error("Solo puedes eliminar tus propios mensajes")]
    SoloElAutor,
    /// The operation needs the v2 delta, which this database lacks.
    #[error("Función no disponible: falta aplicar sql/v2_delta.sql (scripts/migrate)")]
    SinMigracion,
    /// An optional feature whose schema this database lacks; names the `sql/` file to apply.
    #[error("Función no disponible: falta aplicar {0} (scripts/migrate)")]
    FaltaEsquema(&'static str),
    /// A file larger than the configured limit.
    #[error("Archivo demasiado grande")]
    ArchivoGrande,
    /// A file whose content is not an allowed type.
    #[error("Tipo de archivo no permitido")]
    TipoNoPermitido,
    /// The attachment does not exist (or its message was deleted).
    #[error("Adjunto no encontrado")]
    AdjuntoNoEncontrado,
    /// Only a group admin may do this.
    #[error("Solo un administrador del grupo puede hacer esto")]
    SoloAdmin,
    /// The user is already a member of the group.
    #[error("El usuario ya es miembro del grupo")]
    YaEsMiembro,
    /// The user is not a member of the group.
    #[error("El usuario no es miembro del grupo")]
    NoEsMiembro,
    /// The group's creator can be neither removed nor demoted by others.
    #[error("No se puede quitar ni degradar al creador del grupo")]
    EsCreador,
    /// The conversation is a 1:1 chat, not a group.
    #[error("La conversación no es un grupo")]
    NoEsGrupo,
    /// The conversation does not exist.
    #[error("Conversación no encontrada")]
    ConversacionNoEncontrada,
    /// Only the author may edit a message.
    #[error("Solo puedes editar tus propios mensajes")]
    SoloElAutorEdita,
    /// System messages are the group's history: never edited nor deleted.
    #[error("Los mensajes del sistema no se pueden cambiar")]
    MensajeDeSistema,
    /// The edit window has passed.
    #[error("Ya no se puede editar este mensaje")]
    FueraDePlazo,
    /// The conversation has as many pins as allowed.
    #[error("Demasiados mensajes fijados")]
    DemasiadosFijados,
    /// Message longer than the configured limit.
    #[error("Mensaje demasiado largo")]
    DemasiadoLargo,
    /// Rate limit hit; retry after the given time.
    #[error("Demasiadas solicitudes")]
    DemasiadasSolicitudes(Duration),
    /// The database cannot be reached.
    #[error("Servicio no disponible")]
    NoDisponible,
    /// A bug or unexpected database state (details are logged, never shown).
    #[error("Error interno del servidor")]
    Interno,
}

impl From<StoreError> for ErrorChat {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(causa) => {
                metricas::contar(&metricas::ERRORES_ALMACEN, &[("kind", "unavailable")]);
                tracing::warn!(%causa, "base de datos no disponible");
                ErrorChat::NoDisponible
            }
            StoreError::FaltaEsquema(archivo) => {
                tracing::warn!(
                    archivo,
                    "falta aplicar un archivo de sql/ (scripts/migrate)"
                );
                ErrorChat::FaltaEsquema(archivo)
            }
            StoreError::NoParticipa => ErrorChat::SinAcceso,
            StoreError::Other(causa) => {
                metricas::contar(&metricas::ERRORES_ALMACEN, &[("kind", "other")]);
                tracing::error!(%causa, "error de base de datos");
                ErrorChat::Interno
            }
        }
    }
}

/// Result of a service call.
pub type Resultado<T> = Result<T, ErrorChat>;

/// The signed-in user on whose behalf an operation runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// The user's `rut_usuario`.
    pub rut: String,
    /// Display name from the session (`usuario_nombre`), `"Usuario"` when absent.
    pub nombre: String,
}

/// The result of `crear_conversacion`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversacionCreada {
    /// The 1:1 conversation's id.
    pub id: Id,
    /// Whether this call created it (otherwise it already existed).
    pub creada: bool,
    /// The other participant.
    pub otro: String,
}

/// Where the service announces what happened, so every transport's clients hear about it
/// (Socket.IO rooms in this server), and where it learns who is online.
#[async_trait::async_trait]
pub trait TiempoReal: Send + Sync {
    /// A message was stored: tell the conversation's room and its members.
    async fn mensaje_nuevo(&self, mensaje: &Mensaje, miembros: &[String]);
    /// `usuario` set (`Some`) or removed (`None`) a reaction to `mensaje`; `reacciones` is the
    /// message's new list.
    async fn reaccion(
        &self,
        conversacion: &Id,
        mensaje: &Id,
        usuario: &str,
        emoji: Option<&str>,
        reacciones: &[Reaccion],
    );
    /// A message was edited.
    async fn mensaje_editado(&self, mensaje: &Mensaje);
    /// A conversation's pins changed; `fijados` in pin order.
    async fn fijados(&self, conversacion: &Id, fijados: &[Id]);
    /// A group's name, members or admins changed: tell the room and every member.
    async fn grupo_actualizado(&self, grupo: &Grupo);
    /// `usuario` is no longer a member: every socket of theirs leaves the conversation's room,
    /// on every instance, and then they hear of it.
    async fn removido(&self, conversacion: &Id, usuario: &str);
    /// `usuario`'s delivered marker in `conversacion` moved to `ultimo`.
    async fn mensaje_entregado(&self, conversacion: &Id, usuario: &str, ultimo: &Id);
    /// A message became its conversation's pinned message.
    async fn mensaje_fijado(&self, mensaje: &Mensaje);
    /// A conversation's pinned message was unpinned.
    async fn mensaje_desfijado(&self, conversacion: &Id, mensaje: &Id);
    /// A message was deleted.
    async fn mensaje_eliminado(&self, conversacion: &Id, mensaje: &Id);
    /// A conversation was created: tell `para` (the other participant).
    async fn conversacion_nueva(&self, para: &str, conversacion: &Conversacion);
    /// `usuario`'s read marker in `conversacion` moved to `ultimo`.
    async fn mensaje_visto(&self, conversacion: &Id, usuario: &str, ultimo: &Id);
    /// Users with at least one live socket anywhere in the cluster.
    async fn en_linea(&self) -> Vec<String>;
}

/// What a send names: a conversation (by id) or a recipient (by rut, which wins), the text,
/// an optional client key and an optional message it replies to. Fields are raw JSON values
/// from the request or event.
#[derive(Clone, Copy, Debug, Default)]
pub struct Envio<'a> {
    /// `conversacion_id`.
    pub conversacion: Option<&'a Value>,
    /// `destinatario_id` / `rut_destino`: the other user of a 1:1 chat.
    pub destinatario: Option<&'a Value>,
    /// `contenido`.
    pub contenido: Option<&'a Value>,
    /// `client_id` or the `Idempotency-Key` header.
    pub clave: Option<&'a Value>,
    /// `reply_to`.
    pub responde_a: Option<&'a Value>,
}

/// Limits the service enforces.
#[derive(Clone, Debug)]
pub struct Limites {
    /// Longest message, in characters.
    pub max_caracteres: usize,
    /// Sustained requests per user and minute.
    pub por_minuto: u32,
    /// Burst above the sustained rate.
    pub rafaga: u32,
    /// Accept legacy plaintext passwords at login.
    pub permitir_password_plano: bool,
    /// Login attempts per account and minute (six times that per client address).
    pub intentos_login_por_minuto: u32,
    /// How long after sending a message its author may edit it.
    pub ventana_edicion: Duration,
}

/// Every chat operation, authorized and validated, over a [`ChatStore`].
pub struct ChatService {
    store: Arc<dyn ChatStore>,
    tiempo_real: Arc<dyn TiempoReal>,
    limitador: Limitador,
    limitador_login: Limitador,
    limitador_login_origen: Limitador,
    limites: Limites,
    latidos: Latidos,
    recientes: Recientes,
    turnos: Turnos,
    adjuntos: Option<Adjuntos>,
}

impl ChatService {
    /// Builds the service over a store, announcing events through `tiempo_real`.
    pub fn new(
        store: Arc<dyn ChatStore>,
        tiempo_real: Arc<dyn TiempoReal>,
        limites: Limites,
    ) -> Self {
        ChatService {
            limitador: Limitador::new(limites.por_minuto, limites.rafaga),
            limitador_login: Limitador::new(
                limites.intentos_login_por_minuto,
                limites.intentos_login_por_minuto.div_ceil(2),
            ),
            limitador_login_origen: Limitador::new(
                limites.intentos_login_por_minuto.saturating_mul(6),
                limites.intentos_login_por_minuto.saturating_mul(3),
            ),
            store,
            tiempo_real,
            limites,
            latidos: Latidos::default(),
            recientes: Recientes::default(),
            turnos: Turnos::default(),
            adjuntos: None,
        }
    }

    /// Enables attachments with this storage and these limits (without it, uploads and
    /// downloads answer 503).
    pub fn con_adjuntos(mut self, adjuntos: Adjuntos) -> Self {
        self.adjuntos = Some(adjuntos);
        self
    }

    /// The signed-in user of a session, or 401.
    pub fn actor(&self, sesion: Option<&Session>) -> Resultado<Actor> {
        let sesion = sesion.ok_or(ErrorChat::NoAutenticado)?;
        let rut = sesion.usuario_id().ok_or(ErrorChat::NoAutenticado)?;
        let nombre = match sesion.get("usuario_nombre") {
            Some(Value::String(n)) if !n.trim().is_empty() => n,
            _ => "Usuario".into(),
        };
        Ok(Actor { rut, nombre })
    }

    /// Whether the database answers.
    pub async fn saludable(&self) -> bool {
        self.store.ping().await.is_ok()
    }

    /// Everybody the actor can start a chat with.
    pub async fn usuarios(&self, actor: &Actor) -> Resultado<Vec<Usuario>> {
        self.limitar(actor)?;
        Ok(self.store.usuarios_excepto(&actor.rut).await?)
    }

    /// The actor's conversations, most recent activity first, with unread counts.
    pub async fn conversaciones(&self, actor: &Actor) -> Resultado<Vec<Conversacion>> {
        self.limitar(actor)?;
        Ok(self.store.conversaciones(&actor.rut, None).await?)
    }

    /// One conversation as `rut` sees it (for notifying the other participant).
    pub async fn conversacion_para(&self, id: &Id, rut: &str) -> Resultado<Option<Conversacion>> {
        Ok(self
            .store
            .conversaciones(rut, Some(id))
            .await?
            .into_iter()
            .next())
    }

    /// Finds or creates the actor's 1:1 conversation with the other user named in
    /// `participantes` (`[me, other]` or `[other]`) or in `usuario_id`.
    pub async fn crear_conversacion(
        &self,
        actor: &Actor,
        participantes: Option<&Value>,
        usuario_id: Option<&Value>,
    ) -> Resultado<ConversacionCreada> {
        self.limitar(actor)?;
        let otro = entrada::otro_participante(&actor.rut, participantes, usuario_id)?;
        if self.store.usuario(&otro).await?.is_none() {
            return Err(ErrorChat::UsuarioNoEncontrado);
        }
        let hecha = self.uno_a_uno(actor, &otro).await?;
        Ok(ConversacionCreada {
            id: hecha.id,
            creada: hecha.creada,
            otro,
        })
    }

    /// Finds or creates the 1:1 conversation of the actor and `otro` (an existing user), and
    /// tells `otro` when it is new.
    async fn uno_a_uno(&self, actor: &Actor, otro: &str) -> Resultado<ConversacionUnoAUno> {
        let hecha = self.store.conversacion_uno_a_uno(&actor.rut, otro).await?;
        if hecha.creada {
            tracing::info!(conversacion = %hecha.id, usuario = %actor.rut, "conversación creada");
            if let Some(vista) = self.conversacion_para(&hecha.id, otro).await? {
                self.tiempo_real.conversacion_nueva(otro, &vista).await;
            }
        }
        Ok(hecha)
    }

    /// The newest messages of a conversation (or those before `antes`), ascending.
    pub async fn mensajes(
        &self,
        actor: &Actor,
        conversacion: &Value,
        antes: Option<&str>,
        limite: Option<&str>,
    ) -> Resultado<Vec<Mensaje>> {
        self.limitar(actor)?;
        let conversacion = self.autorizar(actor, Some(conversacion)).await?;
        self.pagina(&conversacion, antes, limite).await
    }

    /// Up to `limite` (default and most [`MAX_MENSAJES`]) messages of a conversation before
    /// `antes` (or the newest), ascending; no access check.
    async fn pagina(
        &self,
        conversacion: &Id,
        antes: Option<&str>,
        limite: Option<&str>,
    ) -> Resultado<Vec<Mensaje>> {
        let limite = match limite {
            None => MAX_MENSAJES,
            Some(texto) => texto
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or(ErrorChat::Invalido("limite inválido"))?
                .min(MAX_MENSAJES),
        };
        let antes = match antes {
            None => None,
            Some(texto) => Some(
                Id::parse(texto, self.store.id_kinds().await?.mensaje)
                    .ok_or(ErrorChat::Invalido("antes inválido"))?,
            ),
        };
        Ok(self
            .store
            .mensajes(conversacion, antes.as_ref(), limite)
            .await?)
    }

    /// Stores a message from the actor in the conversation `envio` names (by id, or by the
    /// other user's rut, found or created); the conversation row is updated in the same
    /// transaction. A reply must quote a message of the same conversation. Membership and the
    /// reply are checked by the store in the same statement as the insert.
    ///
    /// `clave` (`client_id` or `Idempotency-Key`) makes retries safe: a send with a key this
    /// user already used returns the first message instead of storing another.
    pub async fn enviar(&self, actor: &Actor, envio: Envio<'_>) -> Resultado<Mensaje> {
        self.limitar(actor)?;
        let destinatario = envio.destinatario.filter(|v| !v.is_null());
        let contenido = entrada::contenido(
            destinatario.or(envio.conversacion),
            envio.contenido,
            self.limites.max_caracteres,
        )?;
        let clave = entrada::clave_cliente(envio.clave)?;
        if let Some(previo) = clave
            .as_deref()
            .and_then(|c| self.recientes.buscar(&actor.rut, c))
        {
            return Ok(previo);
        }
        let (conversacion, conocidos) = match destinatario {
            Some(rut) => {
                let otro = self.otro_usuario(actor, rut).await?;
                let id = self.uno_a_uno(actor, &otro).await?.id;
                (id, Some(vec![actor.rut.clone(), otro]))
            }
            None => {
                let tipo = self.store.id_kinds().await?.conversacion;
                let id = envio
                    .conversacion
                    .and_then(|v| Id::from_json(v, tipo))
                    .ok_or(ErrorChat::SinAcceso)?;
                (id, None)
            }
        };
        let responde_a = match self.cita_pedida(envio.responde_a).await {
            Ok(cita) => cita,
            // Refused before the store checks membership: a non-participant still hears 403
            // first (one more round trip, on this error path only).
            Err(e) => {
                if conocidos.is_none()
                    && !self
                        .store
                        .es_participante(&conversacion, &actor.rut)
                        .await?
                {
                    return Err(ErrorChat::SinAcceso);
                }
                return Err(e);
            }
        };
        // One send at a time per conversation (in this instance): ids, timestamps, commits and
        // emits then follow the same order, so every receiver sees the order GET mensajes shows.
        let _turno = self.turnos.tomar(conversacion.as_str()).await;
        // The store checks membership and the reply in the same statement as the insert.
        let enviado = self
            .store
            .insertar_mensaje(NuevoMensaje {
                conversacion: &conversacion,
                autor: &actor.rut,
                contenido,
                clave: clave.as_deref(),
                responde_a: responde_a.as_ref(),
                participantes: conocidos.as_deref(),
            })
            .await?;
        let (hecho, miembros) = match enviado {
            Enviado::Guardado {
                insercion,
                participantes,
            } => (insercion, participantes),
            Enviado::NoParticipa => return Err(ErrorChat::SinAcceso),
            Enviado::CitaAjena => return Err(mensajes::CITA_AJENA),
        };
        if let Some(clave) = &clave {
            self.recientes.guardar(&actor.rut, clave, &hecho.mensaje);
        }
        if hecho.nuevo {
            tracing::info!(mensaje = %hecho.mensaje.id, conversacion = %conversacion, usuario = %actor.rut, "mensaje enviado");
            self.tiempo_real
                .mensaje_nuevo(&hecho.mensaje, &miembros)
                .await;
        }
        Ok(hecho.mensaje)
    }

    /// Moves the actor's read marker forward (to `mensaje` when it belongs to the
    /// conversation, else to the newest message); returns the conversation and the new
    /// marker when it moved.
    pub async fn marcar_leido(
        &self,
        actor: &Actor,
        conversacion: Option<&Value>,
        mensaje: Option<&Value>,
    ) -> Resultado<(Id, Option<Id>)> {
        self.limitar(actor)?;
        if conversacion.is_none_or(Value::is_null) {
            return Err(ErrorChat::Invalido("Falta conversacion_id"));
        }
        let conversacion = self.autorizar(actor, conversacion).await?;
        let tipo = self.store.id_kinds().await?.mensaje;
        let hasta = mensaje.and_then(|m| Id::from_json(m, tipo));
        let marca = self
            .store
            .marcar_leido(&conversacion, &actor.rut, hasta.as_ref())
            .await?;
        if let Some(ultimo) = &marca {
            self.tiempo_real
                .mensaje_visto(&conversacion, &actor.rut, ultimo)
                .await;
        }
        Ok((conversacion, marca))
    }

    /// Checks a login (rut, e-mail or name) and password; `None` for any failure, with the
    /// same cost whether or not the account exists.
    ///
    /// Attempts are rate-limited per account and per client address (429 past the limit).
    pub async fn login(
        &self,
        usuario: &str,
        password: &str,
        origen: Option<IpAddr>,
    ) -> Resultado<Option<Usuario>> {
        let usuario = usuario.trim();
        let ahora = Instant::now();
        if let Some(ip) = origen {
            self.limitador_login_origen
                .permitir(&ip.to_string(), ahora)
                .map_err(limitado("login"))?;
        }
        self.limitador_login
            .permitir(&usuario.to_lowercase(), ahora)
            .map_err(limitado("login"))?;
        if usuario.is_empty() || password.is_empty() || usuario.len() > 256 || password.len() > 256
        {
            return Ok(None);
        }
        let candidatos = self.store.credenciales(usuario).await?;
        let mut comprobo_hash = false;
        for candidato in candidatos {
            if let Some(hash) = candidato
                .password_hash
                .as_deref()
                .filter(|h| h.starts_with("$2"))
            {
                comprobo_hash = true;
                if verificar_bcrypt(password, hash).await {
                    return Ok(Some(candidato.usuario));
                }
            } else if self.limites.permitir_password_plano
                && candidato
                    .password_plano
                    .as_deref()
                    .is_some_and(|p| iguales(p.as_bytes(), password.as_bytes()))
            {
                self.rehash(&candidato.usuario.rut, password).await;
                return Ok(Some(candidato.usuario));
            }
        }
        if !comprobo_hash {
            verificar_bcrypt(password, HASH_SEÑUELO).await;
        }
        Ok(None)
    }

    async fn rehash(&self, rut: &str, password: &str) {
        let password = password.to_owned();
        let hash =
            tokio::task::spawn_blocking(move || bcrypt::hash(password, bcrypt::DEFAULT_COST)).await;
        match hash {
            Ok(Ok(hash)) => {
                if let Err(e) = self.store.guardar_hash(rut, &hash).await {
                    tracing::warn!(usuario = rut, error = %e, "no se pudo guardar el nuevo hash");
                }
            }
            _ => tracing::warn!(usuario = rut, "no se pudo calcular el nuevo hash"),
        }
    }

    /// Checks that the actor may act in a conversation (join its room, type in it); returns
    /// its canonical id.
    pub async fn acceso(&self, actor: &Actor, conversacion: Option<&Value>) -> Resultado<Id> {
        self.limitar(actor)?;
        if conversacion.is_none_or(Value::is_null) {
            return Err(ErrorChat::Invalido("Datos inválidos"));
        }
        self.autorizar(actor, conversacion).await
    }

    /// Canonical form of a conversation id, without any access check (leaving a room).
    pub async fn id_conversacion(&self, conversacion: Option<&Value>) -> Resultado<Id> {
        let tipo = self.store.id_kinds().await?.conversacion;
        conversacion
            .and_then(|v| Id::from_json(v, tipo))
            .ok_or(ErrorChat::Invalido("Datos inválidos"))
    }

    /// Records that the actor's page is open (pages without a socket call this every 15 s).
    pub fn latido(&self, actor: &Actor) -> Resultado<()> {
        self.limitar(actor)?;
        self.latidos.registrar(&actor.rut, Instant::now());
        Ok(())
    }

    /// Users online: a live socket anywhere, or a heartbeat in the last [`VIGENCIA_LATIDO`].
    pub async fn conectados(&self, actor: &Actor) -> Resultado<Vec<String>> {
        self.limitar(actor)?;
        Ok(self.en_linea().await)
    }

    /// The users who share a conversation with `rut` (who hears about its presence).
    pub async fn contactos(&self, rut: &str) -> Resultado<Vec<String>> {
        Ok(self.store.contactos(rut).await?)
    }

    /// Parses a conversation id and checks that the actor participates (403 otherwise).
    async fn autorizar(&self, actor: &Actor, conversacion: Option<&Value>) -> Resultado<Id> {
        let tipo = self.store.id_kinds().await?.conversacion;
        let id = conversacion
            .and_then(|v| Id::from_json(v, tipo))
            .ok_or(ErrorChat::SinAcceso)?;
        if self.store.es_participante(&id, &actor.rut).await? {
            Ok(id)
        } else {
            Err(ErrorChat::SinAcceso)
        }
    }

    fn limitar(&self, actor: &Actor) -> Resultado<()> {
        self.limitador
            .permitir(&actor.rut, Instant::now())
            .map_err(limitado("api"))
    }
}

/// Counts a rate-limit refusal of `limite` and turns it into the error.
fn limitado(limite: &'static str) -> impl Fn(Duration) -> ErrorChat {
    move |espera| {
        metricas::contar(&metricas::LIMITES, &[("limit", limite)]);
        ErrorChat::DemasiadasSolicitudes(espera)
    }
}

/// How long a heartbeat keeps a user online (pages send one every 15 s).
pub const VIGENCIA_LATIDO: Duration = Duration::from_secs(45);

/// Last heartbeat per user, for pages that poll instead of holding a socket.
#[derive(Default)]
struct Latidos(std::sync::Mutex<std::collections::HashMap<String, Instant>>);

impl Latidos {
    fn registrar(&self, rut: &str, ahora: Instant) {
        let mut mapa = self.0.lock().unwrap_or_else(|e| e.into_inner());
        mapa.retain(|_, t| ahora.duration_since(*t) < VIGENCIA_LATIDO);
        mapa.insert(rut.to_owned(), ahora);
    }

    fn vigentes(&self, ahora: Instant) -> Vec<String> {
        let mapa = self.0.lock().unwrap_or_else(|e| e.into_inner());
        mapa.iter()
            .filter(|(_, t)| ahora.duration_since(**t) < VIGENCIA_LATIDO)
            .map(|(rut, _)| rut.clone())
            .collect()
    }
}

/// How long a client key is remembered in memory (the database column, when present, keeps
/// it for good).
const VIGENCIA_CLAVE: Duration = Duration::from_secs(15 * 60);
/// Most client keys remembered in memory.
const MAX_RECIENTES: usize = 20_000;

/// Messages stored recently with a client key, so a retry is answered without touching the
/// database and without a duplicate even when the table has no `client_id` column.
#[derive(Default)]
struct Recientes(std::sync::Mutex<std::collections::HashMap<(String, String), (Instant, Mensaje)>>);

impl Recientes {
    fn buscar(&self, rut: &str, clave: &str) -> Option<Mensaje> {
        let mapa = self.0.lock().unwrap_or_else(|e| e.into_inner());
        mapa.get(&(rut.to_owned(), clave.to_owned()))
            .filter(|(cuando, _)| cuando.elapsed() < VIGENCIA_CLAVE)
            .map(|(_, m)| m.clone())
    }

    fn guardar(&self, rut: &str, clave: &str, mensaje: &Mensaje) {
        let mut mapa = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if mapa.len() >= MAX_RECIENTES {
            mapa.retain(|_, (cuando, _)| cuando.elapsed() < VIGENCIA_CLAVE);
            if mapa.len() >= MAX_RECIENTES {
                mapa.clear();
            }
        }
        mapa.insert(
            (rut.to_owned(), clave.to_owned()),
            (Instant::now(), mensaje.clone()),
        );
    }
}

/// Turn locks kept before idle ones left by dropped callers are swept.
const MAX_TURNOS: usize = 4096;

/// One async lock per key, created on demand and dropped when nobody holds or waits for it.
#[derive(Default)]
struct Turnos(std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

impl Turnos {
    async fn tomar(&self, clave: &str) -> Turno<'_> {
        let cerrojo = {
            let mut mapa = self.0.lock().unwrap_or_else(|e| e.into_inner());
            // A caller dropped while waiting leaves its entry behind: swept now and then.
            if mapa.len() >= MAX_TURNOS {
                mapa.retain(|_, c| Arc::strong_count(c) > 1);
            }
            mapa.entry(clave.to_owned()).or_default().clone()
        };
        Turno {
            turnos: self,
            clave: clave.to_owned(),
            guarda: Some(cerrojo.lock_owned().await),
        }
    }
}

/// A held turn: on drop it releases the lock and removes it from the map when nobody else
/// holds or waits for it (constant work per send, whatever the number of conversations).
struct Turno<'a> {
    turnos: &'a Turnos,
    clave: String,
    guarda: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for Turno<'_> {
    fn drop(&mut self) {
        drop(self.guarda.take());
        let mut mapa = self.turnos.0.lock().unwrap_or_else(|e| e.into_inner());
        // Only the map's own reference left: nobody holds it or waits for it. A waiter (or a
        // caller about to wait) holds a clone taken under this same map lock.
        if mapa
            .get(&self.clave)
            .is_some_and(|c| Arc::strong_count(c) == 1)
        {
            mapa.remove(&self.clave);
        }
    }
}

async fn verificar_bcrypt(password: &str, hash: &str) -> bool {
    let (password, hash) = (password.to_owned(), hash.to_owned());
    tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
        .await
        .unwrap_or(false)
}

/// Constant-time equality for secrets of equal length.
fn iguales(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn turns_serialize_one_key_and_are_dropped_when_idle() {
        let turnos = Turnos::default();
        let primero = turnos.tomar("1").await;
        let otro = turnos.tomar("2").await;
        assert!(
            tokio::time::timeout(Duration::from_millis(20), turnos.tomar("1"))
                .await
                .is_err()
        );
        drop(primero);
        drop(otro);
        assert!(
            turnos.0.lock().unwrap().is_empty(),
            "idle locks are dropped"
        );
        let _de_nuevo = turnos.tomar("1").await;
        assert_eq!(turnos.0.lock().unwrap().len(), 1);
    }

    #[test]
    fn heartbeats_expire() {
        let latidos = Latidos::default();
        let t0 = Instant::now();
        latidos.registrar("1-9", t0);
        assert_eq!(
            latidos.vigentes(t0 + Duration::from_secs(44)),
            vec!["1-9".to_owned()]
        );
        assert!(latidos.vigentes(t0 + VIGENCIA_LATIDO).is_empty());
    }

    #[test]
    fn constant_time_equality() {
        assert!(iguales(b"abc", b"abc"));
        assert!(!iguales(b"abc", b"abd"));
        assert!(!iguales(b"abc", b"ab"));
    }

    #[tokio::test]
    async fn decoy_hash_is_a_valid_bcrypt_hash() {
        assert!(bcrypt::verify("x", HASH_SEÑUELO).is_ok());
        assert!(!verificar_bcrypt("x", HASH_SEÑUELO).await);
    }
}
