//! The chat store over PostgREST (Supabase's REST layer), for deployments that have only
//! `SUPABASE_URL` and `SUPABASE_KEY`. Built on the `postgrest` crate; every request goes
//! through [`peticion::Cliente`] (timeout, error mapping, counting). Each operation costs a
//! constant number of requests, whatever the number of conversations or messages. Sends
//! (replies included), 1:1 creation, the read marker and v2 deletes are atomic when the
//! optional functions of `sql/postgrest_functions.sql` are installed, best-effort otherwise; a
//! message with an attachment too, with the function of `sql/adjuntos.sql`. Search needs the
//! function of `sql/busqueda_postgrest.sql` (without it: [`StoreError::FaltaEsquema`]).

mod adjuntos;
mod busqueda;
mod conversaciones;
mod esquema;
mod filas;
mod mensajes;
mod peticion;
mod usuarios;
mod v2;

use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::OnceCell;

use super::grupos::Llamada;
use super::{
    Busqueda, ChatStore, ConversacionUnoAUno, Enviado, EstadoPool, MensajeEncontrado, NuevoAdjunto,
    NuevoMensaje, StoreError, StoreResult,
};
use crate::config::TableVariant;
use crate::dominio::{
    Adjunto, Coincidencia, Conversacion, Credenciales, EstadoConversacion, Id, IdKinds, Mensaje,
    Reaccion, Usuario,
};
use esquema::Esquema;
use peticion::{Cliente, Fallo};

/// How to reach PostgREST.
#[derive(Clone)]
pub struct PostgrestOptions {
    /// `SUPABASE_URL` (the project URL; the store talks to `{url}/rest/v1`).
    pub url: String,
    /// `SUPABASE_KEY`: a service-role JWT or an `sb_secret_…` key.
    pub key: String,
    /// Bound on each request.
    pub timeout: Duration,
    /// Forced table variant; detected when `None`.
    pub variant: Option<TableVariant>,
}

impl std::fmt::Debug for PostgrestOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgrestOptions")
            .field("url", &self.url)
            .field("timeout", &self.timeout)
            .field("variant", &self.variant)
            .finish_non_exhaustive()
    }
}

/// Why the store could not start.
#[derive(Debug, thiserror::Error)]
pub enum PostgrestStartError {
    /// The gateway or PostgREST refused the key (401/403): a configuration error.
    #[error(
        "SUPABASE_KEY was refused by {0} (HTTP {1}): use the project's service_role or sb_secret key"
    )]
    Clave(String, u16),
    /// The tables are unusable or another storage error.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The schema as `doctor` reports it, read through PostgREST.
#[derive(Clone, Debug)]
pub struct ResumenPostgrest {
    /// Conversations, participants and messages tables.
    pub tablas: [&'static str; 3],
    /// Id types.
    pub kinds: IdKinds,
    /// The read marker holds a timestamp (else a message id).
    pub marca_es_fecha: bool,
    /// Optional columns absent, as `table.column`.
    pub opcionales_ausentes: Vec<String>,
    /// Messages have the `client_id` column (retries de-duplicated).
    pub client_id: bool,
    /// The four v1 functions of `sql/postgrest_functions.sql` are installed.
    pub funciones: bool,
    /// Its v2 functions too (replies in the send function, the one-transaction delete).
    pub funciones_v2: bool,
    /// What the v2 delta lacks (empty when complete).
    pub faltan_v2: Vec<String>,
    /// The search function of `sql/busqueda_postgrest.sql` is installed.
    pub busqueda: bool,
    /// Participants have the mute column of `sql/busqueda.sql`.
    pub silencios: bool,
    /// The attachments table of `sql/adjuntos.sql` exists, and its one-transaction function.
    pub adjuntos: (bool, bool),
    /// `sql/grupos.sql` is applied.
    pub grupos: bool,
}

/// The chat store backed by PostgREST.
pub struct PostgrestStore {
    cliente: Cliente,
    variant: Option<TableVariant>,
    /// Filled by the first successful look at the schema (at start-up, or later when PostgREST
    /// was unreachable then).
    esquema: OnceCell<Esquema>,
}

impl PostgrestStore {
    /// Checks the key and reads the schema. When PostgREST cannot be reached it starts anyway
    /// (health says 503 and every call retries), like the Postgres store.
    pub async fn connect(options: &PostgrestOptions) -> Result<Self, PostgrestStartError> {
        let base = format!("{}/rest/v1", options.url.trim_end_matches('/'));
        let store = PostgrestStore {
            cliente: Cliente::new(&base, &options.key, options.timeout),
            variant: options.variant,
            esquema: OnceCell::new(),
        };
        match store.sondear().await {
            Err(PostgrestStartError::Store(StoreError::Unavailable(causa))) => {
                tracing::warn!(%causa, "PostgREST no disponible al arrancar; se reintentará");
                return Ok(store);
            }
            Err(clave @ PostgrestStartError::Clave(..)) => return Err(clave),
            _ => {}
        }
        match store.esquema().await {
            Ok(_) => Ok(store),
            Err(StoreError::Unavailable(causa)) => {
                tracing::warn!(%causa, "PostgREST no disponible al arrancar; se reintentará");
                Ok(store)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// One request that needs the key and nothing of the chat tables (`usuarios`, no rows):
    /// a refused key, PostgREST unreachable, or fine.
    pub async fn sondear(&self) -> Result<(), PostgrestStartError> {
        let sonda = self
            .cliente
            .tabla("usuarios")
            .select("rut_usuario")
            .build()
            .query(&[("limit", "0")]);
        match self.cliente.json("clave", sonda).await {
            Err(Fallo::Rechazo { status, .. }) if status == 401 || status == 403 => Err(
                PostgrestStartError::Clave(self.cliente.base().to_owned(), status),
            ),
            Err(f @ Fallo::Caida(_)) => Err(StoreError::from(f).into()),
            _ => Ok(()),
        }
    }

    /// The schema as `doctor` reports it.
    pub async fn resumen_esquema(&self) -> StoreResult<ResumenPostgrest> {
        let e = self.esquema().await?;
        let t = e.tablas;
        Ok(ResumenPostgrest {
            tablas: [t.conversaciones, t.participantes, t.mensajes],
            kinds: e.kinds,
            marca_es_fecha: e.marca_es_fecha,
            opcionales_ausentes: e.opcionales_ausentes(),
            client_id: e.tiene(t.mensajes, "client_id"),
            funciones: e.funciones,
            funciones_v2: e.funciones_v2,
            faltan_v2: e.faltan_v2(),
            busqueda: e.fn_buscar,
            silencios: e.silencios,
            adjuntos: (e.adjuntos, e.fn_adjunto),
            grupos: e.grupos,
        })
    }

    /// The schema, read through PostgREST on first use.
    async fn esquema(&self) -> StoreResult<&Esquema> {
        self.esquema
            .get_or_try_init(|| async {
                let e = Esquema::leer(&self.cliente, self.variant).await?;
                tracing::info!(
                    tablas = e.tablas.conversaciones,
                    id_conversacion = ?e.kinds.conversacion,
                    id_mensaje = ?e.kinds.mensaje,
                    funciones = e.funciones,
                    funciones_v2 = e.funciones_v2,
                    delta_v2 = e.delta_v2(),
                    peticiones = self.cliente.enviadas(),
                    "esquema de chat detectado vía PostgREST"
                );
                if !e.funciones {
                    tracing::warn!(
                        "funciones SQL opcionales ausentes: envíos, creación 1:1 y marca de lectura \
                         en modo de mejor esfuerzo (no atómicos); instálelas con sql/postgrest_functions.sql"
                    );
                } else if e.delta_v2() && !e.funciones_v2 {
                    tracing::warn!(
                        "funciones SQL de v2 ausentes: respuestas y eliminaciones en modo de mejor \
                         esfuerzo (no atómicos); vuelva a ejecutar sql/postgrest_functions.sql"
                    );
                }
                Ok(e)
            })
            .await
    }
}

#[async_trait]
impl ChatStore for PostgrestStore {
    async fn id_kinds(&self) -> StoreResult<IdKinds> {
        Ok(self.esquema().await?.kinds)
    }

    fn estado_pool(&self) -> Option<EstadoPool> {
        None
    }

    async fn ping(&self) -> StoreResult<()> {
        let e = self.esquema().await?;
        let peticion = self
            .cliente
            .tabla(e.tablas.conversaciones)
            .select("id")
            .build()
            .query(&[("limit", "0")]);
        self.cliente.json("ping", peticion).await?;
        Ok(())
    }

    async fn credenciales(&self, login: &str) -> StoreResult<Vec<Credenciales>> {
        self.leer_credenciales(login).await
    }

    async fn guardar_hash(&self, rut: &str, hash: &str) -> StoreResult<()> {
        self.escribir_hash(rut, hash).await
    }

    async fn usuario(&self, rut: &str) -> StoreResult<Option<Usuario>> {
        self.leer_usuario(rut).await
    }

    async fn usuarios_excepto(&self, rut: &str) -> StoreResult<Vec<Usuario>> {
        self.leer_usuarios_excepto(rut).await
    }

    async fn es_participante(&self, conversacion: &Id, rut: &str) -> StoreResult<bool> {
        self.leer_es_participante(conversacion, rut).await
    }

    async fn conversaciones(&self, rut: &str, solo: Option<&Id>) -> StoreResult<Vec<Conversacion>> {
        self.leer_conversaciones(rut, solo).await
    }

    async fn contactos(&self, rut: &str) -> StoreResult<Vec<String>> {
        self.leer_contactos(rut).await
    }

    async fn conversacion_uno_a_uno(&self, a: &str, b: &str) -> StoreResult<ConversacionUnoAUno> {
        self.buscar_o_crear_uno_a_uno(a, b).await
    }

    async fn mensajes(
        &self,
        conversacion: &Id,
        antes: Option<&Id>,
        limite: i64,
    ) -> StoreResult<Vec<Mensaje>> {
        self.leer_mensajes(conversacion, antes, limite).await
    }

    async fn insertar_mensaje(&self, nuevo: NuevoMensaje<'_>) -> StoreResult<Enviado> {
        self.enviar_mensaje(nuevo).await
    }

    async fn marcar_leido(
        &self,
        conversacion: &Id,
        rut: &str,
        hasta: Option<&Id>,
    ) -> StoreResult<Option<Id>> {
        self.mover_marca(conversacion, rut, hasta).await
    }

    async fn delta_v2(&self) -> StoreResult<bool> {
        self.leer_delta_v2().await
    }

    async fn participantes(&self, conversacion: &Id) -> StoreResult<Vec<String>> {
        self.leer_participantes(conversacion).await
    }

    async fn mensaje(&self, id: &Id, rut: &str) -> StoreResult<Option<MensajeEncontrado>> {
        self.leer_mensaje(id, rut).await
    }

    async fn estado_conversacion(
        &self,
        conversacion: &Id,
        yo: &str,
        otro: &str,
    ) -> StoreResult<EstadoConversacion> {
        self.leer_estado(conversacion, yo, otro).await
    }

    async fn reaccionar(
        &self,
        mensaje: &Id,
        rut: &str,
        emoji: Option<&str>,
    ) -> StoreResult<Vec<Reaccion>> {
        self.cambiar_reaccion(mensaje, rut, emoji).await
    }

    async fn fijar(&self, conversacion: &Id, mensaje: &Id) -> StoreResult<()> {
        self.poner_fijado(conversacion, mensaje).await
    }

    async fn desfijar(&self, conversacion: &Id, mensaje: &Id) -> StoreResult<bool> {
        self.quitar_fijado(conversacion, mensaje).await
    }

    async fn eliminar_mensaje(&self, mensaje: &Id) -> StoreResult<bool> {
        self.borrar_mensaje(mensaje).await
    }

    async fn buscar(&self, busqueda: Busqueda<'_>) -> StoreResult<Vec<Coincidencia>> {
        self.buscar_mensajes(busqueda).await
    }

    async fn insertar_con_adjunto(
        &self,
        mensaje: NuevoMensaje<'_>,
        adjunto: NuevoAdjunto<'_>,
    ) -> StoreResult<(Mensaje, Adjunto)> {
        self.guardar_con_adjunto(mensaje, adjunto).await
    }

    async fn adjunto(&self, id: i64, rut: &str) -> StoreResult<Option<(Adjunto, bool)>> {
        self.leer_adjunto(id, rut).await
    }

    async fn adjuntos(&self, conversacion: &Id) -> StoreResult<Vec<Adjunto>> {
        self.leer_adjuntos(conversacion).await
    }

    async fn silencios(&self, rut: &str, cambio: Option<(&Id, bool)>) -> StoreResult<Vec<Id>> {
        self.cambiar_silencios(rut, cambio).await
    }

    async fn grupos(&self) -> StoreResult<bool> {
        Ok(self.esquema().await?.grupos)
    }

    async fn funcion(&self, llamada: &Llamada) -> StoreResult<serde_json::Value> {
        let peticion = self
            .cliente
            .funcion(llamada.funcion, &llamada.cuerpo_json())
            .build();
        match self.cliente.json(llamada.funcion, peticion).await {
            Ok(r) => Ok(r),
            Err(f) if f.es(404, &["PGRST202", "42883"]) => {
                Err(StoreError::FaltaEsquema(crate::store::grupos::ARCHIVO))
            }
            Err(f) => Err(f.into()),
        }
    }
}
