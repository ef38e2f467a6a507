//! PostgreSQL store on deadpool-postgres + tokio-postgres. The table variant, id types and
//! optional columns are read from the catalog at start-up and baked into the SQL text once.

mod lotes;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{
    GenericClient, Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime,
};
use tokio::sync::OnceCell;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{NoTls, Row, SimpleQueryMessage};

use super::grupos::{self, Argumento, Llamada};
use super::{
    Busqueda, ChatStore, ConversacionUnoAUno, Enviado, EstadoPool, Insercion, MensajeEncontrado,
    NuevoAdjunto, NuevoMensaje, StoreError, StoreResult, Tablas,
};
use crate::config::TableVariant;
use crate::dominio::{
    Adjunto, Cita, Coincidencia, Conversacion, Credenciales, EstadoConversacion, ExtrasMensaje, Id,
    IdKind, IdKinds, Mensaje, Reaccion, Usuario,
};

/// How to connect.
#[derive(Clone, Debug)]
pub struct PostgresOptions {
    /// libpq-style connection string or URL.
    pub url: String,
    /// Maximum pooled connections.
    pub pool_size: usize,
    /// Bound on waiting for a connection and on each query.
    pub timeout: Duration,
    /// Named, cached prepared statements (off for transaction-mode poolers).
    pub prepared_statements: bool,
    /// Forced table variant; detected when `None`.
    pub variant: Option<TableVariant>,
}

/// The chat store backed by PostgreSQL.
pub struct PostgresStore {
    pool: Pool,
    timeout: Duration,
    prepared: bool,
    variant: Option<TableVariant>,
    /// Filled by the first successful look at the catalog (at start-up, or later when the
    /// database was down then).
    preparado: OnceCell<Preparado>,
}

/// What the catalog taught us: id types and the SQL for these tables.
struct Preparado {
    kinds: IdKinds,
    sql: Consultas,
    /// Messages have the optional `client_id` column with its unique index.
    idempotente: bool,
    /// The v2 delta is complete (reactions, pins, replies).
    delta_v2: bool,
    /// Messages have `reply_to`, so inserts take it.
    respuestas: bool,
    /// The attachments table of `sql/adjuntos.sql` exists.
    adjuntos: bool,
    /// Participants have the `silenciado` column of `sql/busqueda.sql`.
    silencios: bool,
    /// `sql/grupos.sql` is applied.
    grupos: bool,
    /// The group-committed sends (see [`Escritor`]).
    envios: lotes::Lotes<EnvioPendiente, StoreResult<Enviado>>,
}

/// Most sends written by one statement.
const MAX_LOTE: usize = 256;

/// Send batches in flight at once, each on its own pooled connection: a quarter of the pool,
/// so reads keep connections of their own (with the default pool of 16, 4 gave the best
/// throughput of 1, 2, 4, 8 and 16; BENCHMARKS.md, tuning log).
fn lotes_en_vuelo(pool_size: usize) -> usize {
    (pool_size / 4).max(1)
}

impl PostgresStore {
    /// Connects, inspects the catalog and prepares the SQL for the tables found.
    pub async fn connect(options: &PostgresOptions) -> StoreResult<Self> {
        let mut config: tokio_postgres::Config = options
            .url
            .parse()
            .map_err(|e| StoreError::Other(format!("invalid DATABASE_URL: {e}")))?;
        // jit=off: the conversation list's custom plan costs more than jit_above_cost once a user
        // has a few hundred conversations, and PostgreSQL then spends ~20 ms compiling it on
        // every call (the query itself runs in ~8 ms). JIT never pays off for these short
        // statements (BENCHMARKS.md, tuning log).
        // Transaction-mode poolers (PgBouncer, Supabase's port 6543) refuse startup `options`:
        // there the server's own settings apply (Supabase's default time zone is UTC).
        if options.prepared_statements {
            config.options("-c TimeZone=UTC -c jit=off");
        }
        config.connect_timeout(options.timeout);
        if config.get_application_name().is_none() {
            config.application_name("weigence-chat");
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(1))
            .wait_timeout(Some(options.timeout))
            .create_timeout(Some(options.timeout))
            .recycle_timeout(Some(options.timeout))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Other(e.to_string()))?;
        let store = PostgresStore {
            pool,
            timeout: options.timeout,
            prepared: options.prepared_statements,
            variant: options.variant,
            preparado: OnceCell::new(),
        };
        match store.preparado().await {
            Ok(_) => Ok(store),
            // Start anyway: /healthz says 503 and every call retries until the database is back.
            Err(StoreError::Unavailable(causa)) => {
                tracing::warn!(%causa, "base de datos no disponible al arrancar; se reintentará");
                Ok(store)
            }
            Err(e) => Err(e),
        }
    }

    /// Reads the catalog and validates it exactly as start-up does (for `weigence-chat doctor`):
    /// `Err(StoreError::Other(why))` when the server could not start on these tables.
    pub async fn resumen_esquema(&self) -> StoreResult<ResumenEsquema> {
        let e = self.leer_esquema(self.variant).await?;
        let ausentes = |tabla: &str, cols: &HashSet<String>, opcionales: &[&str]| {
            opcionales
                .iter()
                .filter(|c| !cols.contains(**c))
                .map(|c| format!("{tabla}.{c}"))
                .collect::<Vec<_>>()
        };
        let mut opcionales_ausentes = ausentes(
            e.tablas.conversaciones,
            &e.conversaciones,
            &[
                "nombre",
                "es_grupal",
                "creado_por",
                "ultima_actualizacion",
                "ultimo_mensaje_id",
                "ultimo_mensaje_timestamp",
            ],
        );
        opcionales_ausentes.extend(ausentes(
            e.tablas.mensajes,
            &e.mensajes,
            &["editado", "eliminado"],
        ));
        opcionales_ausentes.extend(ausentes(
            "usuarios",
            &e.usuarios,
            &["nombre", "correo", "rol", "password_hash"],
        ));
        Ok(ResumenEsquema {
            tablas: [
                e.tablas.conversaciones,
                e.tablas.participantes,
                e.tablas.mensajes,
            ],
            id_conversacion: e.tipo_id_conversacion,
            id_mensaje: e.tipo_id_mensaje,
            marca_es_fecha: e.marca_es_fecha,
            idempotente: e.idempotente,
            opcionales_ausentes,
            faltan_v2: [
                (!e.reacciones).then(|| format!("table {}", e.tablas.reacciones)),
                (!e.conversaciones.contains("mensaje_fijado_id"))
                    .then(|| format!("{}.mensaje_fijado_id", e.tablas.conversaciones)),
                (!e.mensajes.contains("reply_to"))
                    .then(|| format!("{}.reply_to", e.tablas.mensajes)),
            ]
            .into_iter()
            .flatten()
            .collect(),
            acentos: e.unaccent,
            indice_busqueda: e.indice_busqueda,
            adjuntos: (e.adjuntos, e.tablas.adjuntos),
            silencios: e.participantes.contains("silenciado"),
            grupos: e.grupos,
        })
    }

    /// The schema-dependent SQL, reading the catalog on first use.
    async fn preparado(&self) -> StoreResult<&Preparado> {
        self.preparado
            .get_or_try_init(|| async {
                let esquema = self.leer_esquema(self.variant).await?;
                tracing::info!(
                    tablas = esquema.tablas.conversaciones,
                    id_conversacion = %esquema.tipo_id_conversacion,
                    id_mensaje = %esquema.tipo_id_mensaje,
                    idempotencia = esquema.idempotente,
                    delta_v2 = esquema.delta_v2(),
                    "esquema de chat detectado"
                );
                match (esquema.unaccent, esquema.indice_busqueda) {
                    (true, true) => tracing::info!("búsqueda de mensajes con índice"),
                    (true, false) => tracing::warn!(
                        "búsqueda de mensajes sin índice (más lenta): aplicar sql/busqueda_indice.sql con scripts/migrate"
                    ),
                    (false, _) => tracing::warn!(
                        "búsqueda de mensajes sin índice ni plegado de acentos: aplicar sql/busqueda.sql y sql/busqueda_indice.sql con scripts/migrate"
                    ),
                }
                if !esquema.adjuntos {
                    tracing::warn!(
                        "sin tabla de adjuntos: las subidas responden 503 hasta aplicar sql/adjuntos.sql con scripts/migrate"
                    );
                }
                if !esquema.delta_v2() {
                    tracing::warn!(
                        "sin el delta v2 (reacciones, fijados, respuestas): esas funciones responden 503 hasta aplicar sql/v2_delta.sql con scripts/migrate"
                    );
                }
                if !esquema.grupos {
                    tracing::warn!(
                        "sin grupos ni ciclo de vida de mensajes: esas funciones responden 503 hasta aplicar sql/grupos.sql con scripts/migrate"
                    );
                }
                let sql = Consultas::new(&esquema);
                let escritor = Arc::new(Escritor {
                    pool: self.pool.clone(),
                    timeout: self.timeout,
                    prepared: self.prepared,
                    sql: sql.enviar.clone(),
                    kinds: esquema.kinds(),
                });
                let envios = lotes::Lotes::new(
                    lotes_en_vuelo(self.pool.status().max_size),
                    MAX_LOTE,
                    move |lote| escritor.clone().escribir(lote),
                );
                Ok(Preparado {
                    kinds: esquema.kinds(),
                    sql,
                    envios,
                    idempotente: esquema.idempotente,
                    delta_v2: esquema.delta_v2(),
                    respuestas: esquema.mensajes.contains("reply_to"),
                    adjuntos: esquema.adjuntos,
                    silencios: esquema.participantes.contains("silenciado"),
                    grupos: esquema.grupos,
                })
            })
            .await
    }

    async fn cliente(&self) -> StoreResult<Object> {
        conexion(&self.pool).await
    }

    /// Runs one statement with typed parameters: one round trip without prepared statements,
    /// a cached prepared statement otherwise.
    async fn filas(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> StoreResult<Vec<Row>> {
        let trabajo = async {
            let client = self.cliente().await?;
            let resultado = if self.prepared {
                let tipos: Vec<Type> = params.iter().map(|(_, t)| t.clone()).collect();
                let valores: Vec<&(dyn ToSql + Sync)> = params.iter().map(|(v, _)| *v).collect();
                match client.prepare_typed_cached(sql, &tipos).await {
                    Ok(stmt) => client.query(&stmt, &valores).await,
                    Err(e) => Err(e),
                }
            } else {
                client.query_typed(sql, params).await
            };
            resultado.map_err(clasificar)
        };
        tokio::time::timeout(self.timeout, trabajo)
            .await
            .map_err(|_| StoreError::Unavailable("query timed out".into()))?
    }

    async fn leer_esquema(&self, forzada: Option<TableVariant>) -> StoreResult<Esquema> {
        let nombres: Vec<&str> = [TableVariant::ChatPrefix, TableVariant::ChatSuffix]
            .iter()
            .flat_map(|v| {
                let t = Tablas::de(*v);
                [
                    t.conversaciones,
                    t.participantes,
                    t.mensajes,
                    t.reacciones,
                    t.adjuntos,
                    t.reacciones_emoji,
                    t.fijados,
                ]
            })
            .chain(["usuarios"])
            .collect();
        let nombres: Vec<String> = nombres.into_iter().map(str::to_owned).collect();
        let filas = self
            .filas(
                "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = ANY($1)",
                &[(&nombres, Type::TEXT_ARRAY)],
            )
            .await?;
        let mut columnas: HashMap<String, HashMap<String, String>> = HashMap::new();
        for fila in filas {
            columnas
                .entry(fila.get(0))
                .or_default()
                .insert(fila.get(1), fila.get(2));
        }
        let unicos = self
            .filas(
                "SELECT c.relname::text FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey) \
                 WHERE n.nspname = current_schema() AND i.indisunique AND a.attname = 'client_id'",
                &[],
            )
            .await?;
        let con_client_id: HashSet<String> = unicos.iter().map(|f| f.get(0)).collect();
        let mut esquema = Esquema::desde_catalogo(forzada, &columnas, &con_client_id)
            .map_err(StoreError::Other)?;
        // The accent-folding wrapper of sql/busqueda.sql, and an index whose expression is the
        // one the search uses (sql/busqueda_indice.sql).
        let busqueda = self
            .filas(
                "SELECT to_regprocedure('weigence_unaccent(text)') IS NOT NULL, \
                   EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1 \
                             AND indexdef LIKE '%to_tsvector%weigence_unaccent%contenido%'), \
                   to_regprocedure('weigence_grupo(text, text)') IS NOT NULL",
                &[(&esquema.tablas.mensajes, TEXT)],
            )
            .await?;
        if let Some(fila) = busqueda.first() {
            esquema.unaccent = fila.get(0);
            esquema.indice_busqueda = esquema.unaccent && fila.get::<_, bool>(1);
            esquema.grupos = esquema.grupos && fila.get::<_, bool>(2);
        }
        Ok(esquema)
    }
}

/// What the catalog says about the chat tables, as `doctor` reports it.
#[derive(Clone, Debug)]
pub struct ResumenEsquema {
    /// Conversations, participants and messages tables.
    pub tablas: [&'static str; 3],
    /// Type of the conversations' id.
    pub id_conversacion: &'static str,
    /// Type of the messages' id.
    pub id_mensaje: &'static str,
    /// The read marker holds a timestamp instead of a message id.
    pub marca_es_fecha: bool,
    /// Messages have the optional `client_id` column with its unique index.
    pub idempotente: bool,
    /// Optional columns the tables lack (`table.column`); the service works without them.
    pub opcionales_ausentes: Vec<String>,
    /// What of the v2 delta is missing (`sql/v2_delta.sql`): empty when complete.
    pub faltan_v2: Vec<String>,
    /// `weigence_unaccent` exists (`sql/busqueda.sql`): search folds accents.
    pub acentos: bool,
    /// The search index exists (`sql/busqueda_indice.sql`).
    pub indice_busqueda: bool,
    /// The attachments table exists (`sql/adjuntos.sql`), and its name.
    pub adjuntos: (bool, &'static str),
    /// Participants have the `silenciado` column (`sql/busqueda.sql`): per-conversation mute.
    pub silencios: bool,
    /// `sql/grupos.sql` is applied.
    pub grupos: bool,
}

/// A pooled connection. Failing to obtain one (refused, timed out, database closed to
/// connections, too many clients) always means "unavailable".
async fn conexion(pool: &Pool) -> StoreResult<Object> {
    pool.get().await.map_err(|e| match e {
        deadpool_postgres::PoolError::Backend(e) => StoreError::Unavailable(describir(&e)),
        other => StoreError::Unavailable(other.to_string()),
    })
}

/// Maps driver errors: lost connections and server shutdown are "unavailable".
fn clasificar(e: tokio_postgres::Error) -> StoreError {
    let caida = e.is_closed()
        || e.code()
            .is_some_and(|c| c.code().starts_with("08") || c.code().starts_with("57P"))
        || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
    if caida {
        StoreError::Unavailable(describir(&e))
    } else {
        StoreError::Other(describir(&e))
    }
}

/// The server's code and message when there is one (the driver's `Display` says only "db error").
fn describir(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
}

/// A send waiting for its batch (owned: it crosses to the batch's task).
struct EnvioPendiente {
    conversacion: String,
    autor: String,
    contenido: String,
    clave: Option<String>,
    responde_a: Option<String>,
}

/// Writes batches of sends with the group-commit statement (`Consultas::enviar`): one
/// statement, so one transaction, per batch, on a connection of the store's pool.
struct Escritor {
    pool: Pool,
    timeout: Duration,
    prepared: bool,
    sql: String,
    kinds: IdKinds,
}

impl Escritor {
    /// One result per send, in order. When the statement fails as a whole (not for lack of a
    /// database), every send is retried alone, so one bad send cannot fail the others.
    async fn escribir(self: Arc<Self>, envios: Vec<EnvioPendiente>) -> Vec<StoreResult<Enviado>> {
        match self.una_vez(&envios).await {
            Ok(resultados) => {
                let mut salida = Vec::with_capacity(envios.len());
                for (envio, resultado) in envios.iter().zip(resultados) {
                    salida.push(match resultado {
                        Some(hecho) => Ok(hecho),
                        None => self.solo(envio).await,
                    });
                }
                salida
            }
            Err(StoreError::Unavailable(causa)) => envios
                .iter()
                .map(|_| Err(StoreError::Unavailable(causa.clone())))
                .collect(),
            Err(e) if envios.len() == 1 => vec![Err(e)],
            Err(e) => {
                tracing::warn!(error = %e, envios = envios.len(), "lote de envíos fallido; se reintenta envío por envío");
                let mut salida = Vec::with_capacity(envios.len());
                for envio in &envios {
                    salida.push(self.solo(envio).await);
                }
                salida
            }
        }
    }

    /// One send alone. It may find no row: a concurrent send with the same client key that
    /// commits while the statement runs is neither inserted nor visible to it; the next attempt
    /// sees it.
    async fn solo(&self, envio: &EnvioPendiente) -> StoreResult<Enviado> {
        for _ in 0..3 {
            if let Some(hecho) = self
                .una_vez(std::slice::from_ref(envio))
                .await?
                .pop()
                .flatten()
            {
                return Ok(hecho);
            }
        }
        Err(StoreError::Other("insert returned no row".into()))
    }

    /// Runs the statement once: per send, its outcome, or `None` when it got no row.
    async fn una_vez(&self, envios: &[EnvioPendiente]) -> StoreResult<Vec<Option<Enviado>>> {
        let columna = |f: fn(&EnvioPendiente) -> Option<&str>| -> Vec<Option<&str>> {
            envios.iter().map(f).collect()
        };
        let conversaciones = columna(|e| Some(&e.conversacion));
        let autores = columna(|e| Some(&e.autor));
        let contenidos = columna(|e| Some(&e.contenido));
        let claves = columna(|e| e.clave.as_deref());
        let citas = columna(|e| e.responde_a.as_deref());
        let params: [(&(dyn ToSql + Sync), Type); 5] = [
            (&conversaciones, Type::TEXT_ARRAY),
            (&autores, Type::TEXT_ARRAY),
            (&contenidos, Type::TEXT_ARRAY),
            (&claves, Type::TEXT_ARRAY),
            (&citas, Type::TEXT_ARRAY),
        ];
        let trabajo = async {
            let client = conexion(&self.pool).await?;
            let resultado = if self.prepared {
                let tipos = [const { Type::TEXT_ARRAY }; 5];
                let valores: Vec<&(dyn ToSql + Sync)> = params.iter().map(|(v, _)| *v).collect();
                match client.prepare_typed_cached(&self.sql, &tipos).await {
                    Ok(stmt) => client.query(&stmt, &valores).await,
                    Err(e) => Err(e),
                }
            } else {
                client.query_typed(&self.sql, &params).await
            };
            resultado.map_err(clasificar)
        };
        let filas = tokio::time::timeout(self.timeout, trabajo)
            .await
            .map_err(|_| StoreError::Unavailable("query timed out".into()))??;
        let mut salida: Vec<Option<Enviado>> = envios.iter().map(|_| None).collect();
        for f in &filas {
            let n: i64 = f.get(0);
            let hueco = usize::try_from(n - 1)
                .ok()
                .and_then(|i| salida.get_mut(i))
                .ok_or_else(|| StoreError::Other(format!("send batch returned row {n}")))?;
            *hueco = Some(if !f.get::<_, bool>(1) {
                Enviado::NoParticipa
            } else if !f.get::<_, bool>(2) {
                Enviado::CitaAjena
            } else {
                let mensaje = mensaje_de(f, 4, self.kinds)?
                    .ok_or_else(|| StoreError::Other("insert returned no id".into()))?;
                Enviado::Guardado {
                    insercion: Insercion {
                        mensaje,
                        nuevo: f.get(4 + COLUMNAS_MENSAJE),
                    },
                    participantes: f.get::<_, Option<Vec<String>>>(3).unwrap_or_default(),
                }
            });
        }
        Ok(salida)
    }
}

/// What the catalog says about the chat tables.
#[derive(Debug)]
struct Esquema {
    tablas: Tablas,
    tipo_id_conversacion: &'static str,
    tipo_id_mensaje: &'static str,
    /// `ultimo_mensaje_leido` holds a timestamp instead of a message id.
    marca_es_fecha: bool,
    /// Messages have `client_id` with a unique index on (usuario_id, client_id).
    idempotente: bool,
    conversaciones: HashSet<String>,
    participantes: HashSet<String>,
    mensajes: HashSet<String>,
    usuarios: HashSet<String>,
    /// The reactions table exists with the columns the chat uses.
    reacciones: bool,
    /// The attachments table exists with the columns the chat uses.
    adjuntos: bool,
    /// `weigence_unaccent` exists (sql/busqueda.sql): search folds accents.
    unaccent: bool,
    /// The search index exists (sql/busqueda_indice.sql).
    indice_busqueda: bool,
    /// sql/grupos.sql is applied (its columns, its reactions and pins tables and its
    /// functions); then `tablas.reacciones` names its reactions table.
    grupos: bool,
}

impl Esquema {
    /// `con_client_id`: tables with a unique index on a `client_id` column.
    fn desde_catalogo(
        forzada: Option<TableVariant>,
        columnas: &HashMap<String, HashMap<String, String>>,
        con_client_id: &HashSet<String>,
    ) -> Result<Esquema, String> {
        let variante =
            match forzada {
                Some(v) => v,
                None if columnas.contains_key("chat_conversaciones") => TableVariant::ChatPrefix,
                None if columnas.contains_key("conversaciones_chat") => TableVariant::ChatSuffix,
                None => return Err(
                    "no chat tables found (expected chat_conversaciones or conversaciones_chat)"
                        .into(),
                ),
            };
        let tablas = Tablas::de(variante);
        let tabla =
            |nombre: &str, requeridas: &[&str]| -> Result<&HashMap<String, String>, String> {
                let cols = columnas
                    .get(nombre)
                    .ok_or_else(|| format!("table {nombre} not found"))?;
                let faltan: Vec<&str> = requeridas
                    .iter()
                    .copied()
                    .filter(|c| !cols.contains_key(*c))
                    .collect();
                if faltan.is_empty() {
                    Ok(cols)
                } else {
                    Err(format!("table {nombre} lacks columns {faltan:?}"))
                }
            };
        let conv = tabla(tablas.conversaciones, &["id", "fecha_creacion"])?;
        let part = tabla(
            tablas.participantes,
            &["conversacion_id", "usuario_id", "ultimo_mensaje_leido"],
        )?;
        let msg = tabla(
            tablas.mensajes,
            &[
                "id",
                "conversacion_id",
                "usuario_id",
                "contenido",
                "fecha_envio",
            ],
        )?;
        let usuarios = tabla("usuarios", &["rut_usuario"])?;
        let tipo_id = |tabla: &str, tipo: &str| -> Result<&'static str, String> {
            match tipo {
                "bigint" => Ok("bigint"),
                "integer" => Ok("integer"),
                "smallint" => Ok("smallint"),
                "uuid" => Ok("uuid"),
                otro => Err(format!("{tabla}.id has unsupported type {otro}")),
            }
        };
        let marca = &part["ultimo_mensaje_leido"];
        let grupos = columnas.get(tablas.reacciones_emoji).is_some()
            && columnas.get(tablas.fijados).is_some()
            && part.contains_key("es_admin")
            && part.contains_key("ultimo_mensaje_entregado")
            && msg.contains_key("tipo");
        let tablas = Tablas {
            reacciones: if grupos {
                tablas.reacciones_emoji
            } else {
                tablas.reacciones
            },
            ..tablas
        };
        Ok(Esquema {
            grupos,
            tablas,
            tipo_id_conversacion: tipo_id(tablas.conversaciones, &conv["id"])?,
            tipo_id_mensaje: tipo_id(tablas.mensajes, &msg["id"])?,
            marca_es_fecha: marca.starts_with("timestamp") || marca == "date",
            idempotente: msg.contains_key("client_id") && con_client_id.contains(tablas.mensajes),
            conversaciones: conv.keys().cloned().collect(),
            participantes: part.keys().cloned().collect(),
            mensajes: msg.keys().cloned().collect(),
            usuarios: usuarios.keys().cloned().collect(),
            reacciones: columnas.get(tablas.reacciones).is_some_and(|c| {
                ["mensaje_id", "usuario_id", "emoji", "fecha_creacion"]
                    .iter()
                    .all(|col| c.contains_key(*col))
            }),
            adjuntos: columnas.get(tablas.adjuntos).is_some_and(|c| {
                [
                    "id",
                    "mensaje_id",
                    "conversacion_id",
                    "nombre",
                    "tipo",
                    "tamano",
                    "clave",
                    "miniatura",
                ]
                .iter()
                .all(|col| c.contains_key(*col))
            }),
            unaccent: false,
            indice_busqueda: false,
        })
    }

    /// Whether every piece of the v2 delta is there.
    fn delta_v2(&self) -> bool {
        self.reacciones
            && self.conversaciones.contains("mensaje_fijado_id")
            && self.mensajes.contains("reply_to")
    }

    fn kinds(&self) -> IdKinds {
        let kind = |t: &str| {
            if t == "uuid" {
                IdKind::Uuid
            } else {
                IdKind::Integer
            }
        };
        IdKinds {
            conversacion: kind(self.tipo_id_conversacion),
            mensaje: kind(self.tipo_id_mensaje),
        }
    }
}

/// Column `col` of `alias` when the table has it, else `fallback`.
fn opcional(cols: &HashSet<String>, alias: &str, col: &str, fallback: &str) -> String {
    if cols.contains(col) {
        format!("{alias}.{col}")
    } else {
        fallback.to_owned()
    }
}

/// A timestamp expression rendered as PostgREST renders it (ISO 8601).
fn fecha(expr: &str) -> String {
    format!("(to_json({expr}) #>> '{{}}')")
}

/// The SQL text of every statement, built once from the detected schema.
struct Consultas {
    credenciales: String,
    guardar_hash: String,
    usuario: String,
    usuarios_excepto: String,
    es_participante: String,
    contactos: String,
    conversaciones: String,
    uno_a_uno: String,
    mensajes: String,
    insertar: String,
    enviar: String,
    marcar_leido: String,
    participantes: String,
    mensaje: String,
    estado: String,
    reaccionar: String,
    quitar_reaccion: String,
    fijar: String,
    desfijar: String,
    eliminar: String,
    buscar: String,
    insertar_adjunto: String,
    adjunto: String,
    adjuntos: String,
    silenciar: String,
    silenciadas: String,
}

impl Consultas {
    fn new(e: &Esquema) -> Consultas {
        let Tablas {
            conversaciones: conv,
            participantes: part,
            mensajes: msg,
            reacciones: reac,
            adjuntos: adj,
            ..
        } = e.tablas;
        let (cid, mid) = (e.tipo_id_conversacion, e.tipo_id_mensaje);
        let u = &e.usuarios;
        let usuario_cols = |a: &str| {
            format!(
                "{}::text, {}::text, {}::text",
                opcional(u, a, "nombre", "NULL"),
                opcional(u, a, "correo", "NULL"),
                opcional(u, a, "rol", "NULL")
            )
        };
        let orden_nombre = opcional(u, "u", "nombre", "u.rut_usuario");
        let editado = |a: &str| {
            format!(
                "coalesce({}, false)",
                opcional(&e.mensajes, a, "editado", "NULL::boolean")
            )
        };
        let eliminado = |a: &str| {
            format!(
                "coalesce({}, false)",
                opcional(&e.mensajes, a, "eliminado", "NULL::boolean")
            )
        };
        // A message is after the marker in (fecha_envio, id) order; a missing marker (never
        // read, or pointing at a deleted row) puts every message after it.
        let despues_de_marca = |m: &str, p: &str| {
            if e.marca_es_fecha {
                format!("({m}.fecha_envio > {p}.ultimo_mensaje_leido) IS NOT FALSE")
            } else {
                format!(
                    "(({m}.fecha_envio, {m}.id) > (SELECT r.fecha_envio, r.id FROM {msg} r WHERE r.id = {p}.ultimo_mensaje_leido)) IS NOT FALSE"
                )
            }
        };
        let con_respuestas = e.mensajes.contains("reply_to");
        // The reply's quote and the reactions, as JSON text (NULL where the delta is absent, and
        // where `con_extras` is false: the conversation list shows neither).
        let extras = |m: &str, con_extras: bool| {
            let respuesta = if con_respuestas {
                format!("{m}.reply_to::text")
            } else {
                "NULL::text".to_owned()
            };
            let cita = if con_respuestas && con_extras {
                format!(
                    "(SELECT json_build_object('contenido', r.contenido, 'usuario_id', r.usuario_id, 'nombre', {rn})::text \
                      FROM {msg} r LEFT JOIN usuarios ur ON ur.rut_usuario = r.usuario_id \
                      WHERE r.id = {m}.reply_to AND r.conversacion_id = {m}.conversacion_id AND NOT {elim_r})",
                    rn = opcional(u, "ur", "nombre", "NULL"),
                    elim_r = eliminado("r"),
                )
            } else {
                "NULL::text".to_owned()
            };
            let reacciones = if e.reacciones && con_extras {
                format!(
                    "(SELECT json_agg(json_build_object('usuario_id', x.usuario_id, 'emoji', x.emoji) \
                       ORDER BY x.fecha_creacion, x.usuario_id)::text FROM {reac} x WHERE x.mensaje_id = {m}.id)"
                )
            } else {
                "NULL::text".to_owned()
            };
            let sistema = if e.mensajes.contains("tipo") {
                format!("coalesce({m}.tipo = 'sistema', false)")
            } else {
                "false".to_owned()
            };
            format!("{respuesta}, {cita}, {reacciones}, {sistema}")
        };
        let columnas = |m: &str, usr: &str, con_extras: bool| {
            format!(
                "{m}.id::text, {m}.conversacion_id::text, {m}.usuario_id::text, coalesce({m}.contenido::text, ''), {}, {}, {}, {}, {}",
                fecha(&format!("{m}.fecha_envio")),
                editado(m),
                eliminado(m),
                usuario_cols(usr),
                extras(m, con_extras)
            )
        };
        let columnas_mensaje = |m: &str, usr: &str| columnas(m, usr, true);
        let c = &e.conversaciones;
        let actividad = format!(
            "coalesce(lm.fecha_envio::timestamptz, {}::timestamptz, c.fecha_creacion::timestamptz)",
            opcional(c, "c", "ultima_actualizacion", "NULL")
        );
        // The unread count scans the messages index from the read marker on (an index range,
        // not the whole conversation); the exact "after the marker" test then filters that range.
        let (marca, desde_marca) = if e.marca_es_fecha {
            (
                String::new(),
                "coalesce(p.ultimo_mensaje_leido, '-infinity')".to_owned(),
            )
        } else {
            (
                format!("LEFT JOIN {msg} r ON r.id = p.ultimo_mensaje_leido "),
                "coalesce(r.fecha_envio, '-infinity')".to_owned(),
            )
        };
        let despues_de_r = if e.marca_es_fecha {
            despues_de_marca("m", "p")
        } else {
            "((m.fecha_envio, m.id) > (r.fecha_envio, r.id)) IS NOT FALSE".to_owned()
        };
        // One row per conversation of $1, every part a LATERAL lookup by index (the same plan
        // for 2 or 500 conversations, so the statement is prepared once and its generic plan
        // kept): the other members as parallel arrays (in rut order, from the participants'
        // (conversacion_id, usuario_id) index, each user by primary key), the unread count, and
        // the newest visible message with its author.
        let conversaciones = format!(
            "SELECT c.id::text, {nombre}::text, coalesce({grupal}, false), {creacion}, {ult_ts}, {ult_act}, \
               o.ruts, o.nombres, o.correos, o.roles, nl.n, {ultimo} \
             FROM {part} p JOIN {conv} c ON c.id = p.conversacion_id {marca}\
             LEFT JOIN LATERAL (SELECT * FROM {msg} m WHERE m.conversacion_id = c.id AND NOT {elim_m} \
                                ORDER BY m.fecha_envio DESC, m.id DESC LIMIT 1) lm ON true \
             LEFT JOIN usuarios u ON u.rut_usuario = lm.usuario_id \
             CROSS JOIN LATERAL (SELECT array_agg(p2.usuario_id::text) AS ruts, array_agg({un}::text) AS nombres, \
                                        array_agg({uc}::text) AS correos, array_agg({ur}::text) AS roles \
                FROM (SELECT p2.usuario_id FROM {part} p2 WHERE p2.conversacion_id = c.id AND p2.usuario_id <> $1 \
                      ORDER BY p2.usuario_id) p2 \
                LEFT JOIN LATERAL (SELECT * FROM usuarios u2 WHERE u2.rut_usuario = p2.usuario_id LIMIT 1) u2 ON true) o \
             CROSS JOIN LATERAL (SELECT count(*) AS n FROM {msg} m \
                WHERE m.conversacion_id = c.id AND m.fecha_envio >= {desde_marca} AND m.usuario_id <> $1 \
                  AND NOT {elim_m} AND {despues_de_r}) nl \
             WHERE p.usuario_id = $1 AND ($2::text IS NULL OR c.id = $2::text::{cid}) \
             ORDER BY {actividad} DESC NULLS LAST, c.id DESC",
            nombre = opcional(c, "c", "nombre", "NULL"),
            grupal = opcional(c, "c", "es_grupal", "NULL::boolean"),
            creacion = fecha("c.fecha_creacion"),
            ult_ts = fecha(&opcional(
                c,
                "c",
                "ultimo_mensaje_timestamp",
                "NULL::timestamptz"
            )),
            ult_act = fecha(&opcional(
                c,
                "c",
                "ultima_actualizacion",
                "NULL::timestamptz"
            )),
            un = opcional(u, "u2", "nombre", "NULL"),
            uc = opcional(u, "u2", "correo", "NULL"),
            ur = opcional(u, "u2", "rol", "NULL"),
            elim_m = eliminado("m"),
            ultimo = columnas("lm", "u", false),
        );

        // Runs after `SELECT pg_advisory_xact_lock(..)` in the same implicit transaction, so its
        // snapshot sees any conversation a concurrent call for the same pair just committed.
        let mut columnas_nueva = vec!["fecha_creacion"];
        let mut valores_nueva = vec!["now()".to_owned()];
        for (col, valor) in [
            ("es_grupal", "false"),
            ("creado_por", "{a}"),
            ("ultima_actualizacion", "now()"),
        ] {
            if c.contains(col) {
                columnas_nueva.push(col);
                valores_nueva.push(valor.to_owned());
            }
        }
        let solo_uno_a_uno = if c.contains("es_grupal") {
            "AND coalesce(c.es_grupal, false) = false"
        } else {
            ""
        };
        let uno_a_uno = format!(
            "WITH existente AS ( \
               SELECT c.id FROM {part} pa JOIN {part} pb ON pb.conversacion_id = pa.conversacion_id AND pb.usuario_id = {{b}} \
               JOIN {conv} c ON c.id = pa.conversacion_id \
               WHERE pa.usuario_id = {{a}} {solo_uno_a_uno} \
                 AND (SELECT count(*) FROM {part} px WHERE px.conversacion_id = c.id) = 2 \
               ORDER BY c.id LIMIT 1), \
             nueva AS ( \
               INSERT INTO {conv} ({cols}) SELECT {vals} WHERE NOT EXISTS (SELECT 1 FROM existente) RETURNING id), \
             miembros AS ( \
               INSERT INTO {part} (conversacion_id, usuario_id) SELECT nueva.id, x FROM nueva, unnest(ARRAY[{{a}}, {{b}}]) x) \
             SELECT id::text, 'f' FROM existente UNION ALL SELECT id::text, 't' FROM nueva",
            cols = columnas_nueva.join(", "),
            vals = valores_nueva.join(", "),
        );

        let mensajes = format!(
            "SELECT * FROM (SELECT {cols}, m.fecha_envio AS orden_fecha, m.id AS orden_id \
               FROM {msg} m LEFT JOIN usuarios u ON u.rut_usuario = m.usuario_id \
               WHERE m.conversacion_id = $1::text::{cid} AND NOT {elim} \
                 AND ($2::text IS NULL OR (m.fecha_envio, m.id) < \
                      (SELECT a.fecha_envio, a.id FROM {msg} a WHERE a.id = $2::text::{mid} AND a.conversacion_id = $1::text::{cid})) \
               ORDER BY m.fecha_envio DESC, m.id DESC LIMIT $3) t \
             ORDER BY orden_fecha, orden_id",
            cols = columnas_mensaje("m", "u"),
            elim = eliminado("m"),
        );

        let mut devuelve = vec![
            "id",
            "conversacion_id",
            "usuario_id",
            "contenido",
            "fecha_envio",
        ];
        let mut columnas_insert = vec!["conversacion_id", "usuario_id", "contenido", "fecha_envio"];
        let mut valores_insert = vec![
            "$1::text::".to_owned() + cid,
            "$2".into(),
            "$3".into(),
            "clock_timestamp()".into(),
        ];
        for col in ["editado", "eliminado"] {
            if e.mensajes.contains(col) {
                devuelve.push(col);
                columnas_insert.push(col);
                valores_insert.push("false".into());
            }
        }
        if e.mensajes.contains("tipo") {
            devuelve.push("tipo");
        }
        // Optional parameters follow the three fixed ones in this order (see insertar_mensaje).
        let mut siguiente = 3;
        let mut parametro = || {
            siguiente += 1;
            format!("${siguiente}")
        };
        let clave = e.idempotente.then(&mut parametro);
        if let Some(clave) = &clave {
            columnas_insert.push("client_id");
            valores_insert.push(clave.clone());
        }
        if con_respuestas {
            devuelve.push("reply_to");
            columnas_insert.push("reply_to");
            valores_insert.push(format!("{}::text::{mid}", parametro()));
        }
        let toque: Vec<String> = [
            ("ultima_actualizacion", "n.fecha_envio"),
            ("ultimo_mensaje_id", "n.id"),
            ("ultimo_mensaje_timestamp", "n.fecha_envio"),
        ]
        .iter()
        .filter(|(col, _)| c.contains(*col))
        .map(|(col, v)| format!("{col} = {v}"))
        .collect();
        let cte_toque = if toque.is_empty() {
            String::new()
        } else {
            format!(
                ", toque AS (UPDATE {conv} c SET {} FROM nuevo n WHERE c.id = n.conversacion_id)",
                toque.join(", ")
            )
        };
        // With the optional client_id column (sql/client_id.sql), a retried send finds the
        // first message instead of inserting again; the last column says which happened.
        let (conflicto, previo) = match &clave {
            Some(clave) => (
                " ON CONFLICT (usuario_id, client_id) WHERE client_id IS NOT NULL DO NOTHING",
                format!(
                    " UNION ALL SELECT {}, false FROM {msg} m LEFT JOIN usuarios u ON u.rut_usuario = m.usuario_id \
                     WHERE {clave}::text IS NOT NULL AND m.usuario_id = $2 AND m.client_id = {clave} \
                       AND NOT EXISTS (SELECT 1 FROM nuevo)",
                    columnas_mensaje("m", "u")
                ),
            ),
            None => ("", String::new()),
        };
        let insertar = format!(
            "WITH nuevo AS (INSERT INTO {msg} ({cols}) VALUES ({vals}){conflicto} RETURNING {ret}){cte_toque} \
             SELECT {sel}, true FROM nuevo n LEFT JOIN usuarios u ON u.rut_usuario = n.usuario_id{previo}",
            cols = columnas_insert.join(", "),
            vals = valores_insert.join(", "),
            ret = devuelve.join(", "),
            sel = columnas_mensaje("n", "u"),
        );

        // Group commit (see `Escritor`): one row per send, in arrival order (`n`), from five
        // parallel arrays. Membership and the reply are checked in the same statement; a send
        // that fails them is not inserted and comes back with its reason. Each send locks its
        // author's participant row FOR SHARE before its update locks the conversation row, the
        // order sql/grupos.sql's membership changes take them in (participant rows, then the
        // conversation): a removal racing a send either waits for it to commit or commits first,
        // and then the send finds no participant row and is refused; never a deadlock. At most one send per
        // conversation and per client key (the batcher sees to it), so the inserted rows are
        // matched back by conversation and author, and each conversation is updated once.
        let mut cols_lote = vec!["conversacion_id", "usuario_id", "contenido", "fecha_envio"];
        let mut vals_lote = vec![
            "v.conversacion_id",
            "v.autor",
            "v.contenido",
            "clock_timestamp()",
        ];
        for col in ["editado", "eliminado"] {
            if e.mensajes.contains(col) {
                cols_lote.push(col);
                vals_lote.push("false");
            }
        }
        if e.idempotente {
            cols_lote.push("client_id");
            vals_lote.push("v.clave");
        }
        if con_respuestas {
            cols_lote.push("reply_to");
            vals_lote.push("v.reply_to");
        }
        let previo_lote = if e.idempotente {
            format!(
                " UNION ALL SELECT v.n, v.participa, v.cita_ok, v.miembros, {}, false \
                 FROM valida v JOIN {msg} m ON m.usuario_id = v.autor AND m.client_id = v.clave \
                 LEFT JOIN usuarios u ON u.rut_usuario = m.usuario_id \
                 WHERE v.participa AND v.cita_ok AND v.clave IS NOT NULL \
                   AND NOT EXISTS (SELECT 1 FROM nuevo x WHERE x.conversacion_id = v.conversacion_id AND x.usuario_id = v.autor)",
                columnas_mensaje("m", "u")
            )
        } else {
            String::new()
        };
        let enviar = format!(
            "WITH entrada AS MATERIALIZED ( \
               SELECT x.n, x.conv::{cid} AS conversacion_id, x.autor, x.contenido, x.clave, x.cita::{mid} AS reply_to, \
                 (SELECT array_agg(p.usuario_id::text ORDER BY p.usuario_id) FROM {part} p \
                   WHERE p.conversacion_id = x.conv::{cid}) AS miembros \
               FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) \
                 WITH ORDINALITY AS x(conv, autor, contenido, clave, cita, n)), \
             valida AS MATERIALIZED ( \
               SELECT e.*, EXISTS (SELECT 1 FROM {part} p WHERE p.conversacion_id = e.conversacion_id \
                   AND p.usuario_id = e.autor FOR SHARE) AS participa, \
                 (e.reply_to IS NULL OR EXISTS (SELECT 1 FROM {msg} r WHERE r.id = e.reply_to \
                    AND r.conversacion_id = e.conversacion_id AND NOT {elim_r})) AS cita_ok \
               FROM entrada e), \
             nuevo AS (INSERT INTO {msg} ({cols}) SELECT {vals} FROM valida v WHERE v.participa AND v.cita_ok \
               ORDER BY v.n{conflicto} RETURNING {ret}){cte_toque} \
             SELECT v.n, v.participa, v.cita_ok, v.miembros, {sel}, true FROM valida v \
               JOIN nuevo n ON n.conversacion_id = v.conversacion_id AND n.usuario_id = v.autor \
               LEFT JOIN usuarios u ON u.rut_usuario = n.usuario_id{previo_lote} \
             UNION ALL SELECT v.n, v.participa, v.cita_ok, v.miembros, {nulos}, NULL FROM valida v \
               WHERE NOT (v.participa AND v.cita_ok)",
            elim_r = eliminado("r"),
            cols = cols_lote.join(", "),
            vals = vals_lote.join(", "),
            ret = devuelve.join(", "),
            sel = columnas_mensaje("n", "u"),
            nulos = vec!["NULL"; COLUMNAS_MENSAJE].join(", "),
        );

        let valor_marca = if e.marca_es_fecha {
            "o.fecha_envio"
        } else {
            "o.id"
        };
        let marcar_leido = format!(
            "WITH objetivo AS ( \
               SELECT id, fecha_envio FROM ( \
                 (SELECT m.id, m.fecha_envio, 0 AS prioridad FROM {msg} m \
                    WHERE m.conversacion_id = $1::text::{cid} AND m.id = $3::text::{mid}) \
                 UNION ALL \
                 (SELECT m.id, m.fecha_envio, 1 FROM {msg} m WHERE m.conversacion_id = $1::text::{cid} \
                    ORDER BY m.fecha_envio DESC, m.id DESC LIMIT 1)) x \
               ORDER BY prioridad LIMIT 1) \
             UPDATE {part} p SET ultimo_mensaje_leido = {valor_marca} FROM objetivo o \
             WHERE p.conversacion_id = $1::text::{cid} AND p.usuario_id = $2 AND {despues} \
             RETURNING o.id::text",
            despues = despues_de_marca("o", "p"),
        );

        let password = opcional(u, "u", "password_hash", "NULL");
        let plano = if u.contains("Contraseña") {
            "u.\"Contraseña\""
        } else {
            "NULL"
        };
        let busqueda: Vec<String> = ["rut_usuario", "correo", "nombre"]
            .iter()
            .filter(|c| u.contains(**c))
            .map(|c| format!("u.{c} = $1"))
            .collect();
        let marca_de = |quien: &str| {
            if e.marca_es_fecha {
                format!(
                    "(SELECT m.id::text FROM {part} p JOIN {msg} m ON m.conversacion_id = p.conversacion_id \
                       AND m.fecha_envio <= p.ultimo_mensaje_leido \
                     WHERE p.conversacion_id = c.id AND p.usuario_id = {quien} ORDER BY m.fecha_envio DESC, m.id DESC LIMIT 1)"
                )
            } else {
                format!(
                    "(SELECT p.ultimo_mensaje_leido::text FROM {part} p WHERE p.conversacion_id = c.id AND p.usuario_id = {quien} LIMIT 1)"
                )
            }
        };
        let union_fijado = if c.contains("mensaje_fijado_id") {
            format!(
                "f.id = c.mensaje_fijado_id AND f.conversacion_id = c.id AND NOT {}",
                eliminado("f")
            )
        } else {
            "false".to_owned()
        };
        let estado = format!(
            "SELECT {}, {}, {} FROM {conv} c LEFT JOIN {msg} f ON {union_fijado} \
             LEFT JOIN usuarios u ON u.rut_usuario = f.usuario_id WHERE c.id = $1::text::{cid}",
            marca_de("$2"),
            marca_de("$3"),
            columnas_mensaje("f", "u"),
        );
        let reacciones_de_otros = format!(
            "SELECT usuario_id, emoji, fecha_creacion FROM {reac} WHERE mensaje_id = $1::text::{mid} AND usuario_id <> $2"
        );
        let reaccionar = format!(
            "WITH cambio AS ( \
               INSERT INTO {reac} (mensaje_id, usuario_id, emoji, fecha_creacion) VALUES ($1::text::{mid}, $2, $3, now()) \
               ON CONFLICT (mensaje_id, usuario_id) DO UPDATE SET emoji = EXCLUDED.emoji, fecha_creacion = EXCLUDED.fecha_creacion \
               RETURNING usuario_id, emoji, fecha_creacion) \
             SELECT usuario_id::text, emoji::text FROM ({reacciones_de_otros} UNION ALL SELECT * FROM cambio) t \
             ORDER BY fecha_creacion, usuario_id"
        );
        let quitar_reaccion = format!(
            "WITH quitada AS (DELETE FROM {reac} WHERE mensaje_id = $1::text::{mid} AND usuario_id = $2) \
             SELECT usuario_id::text, emoji::text FROM ({reacciones_de_otros}) t ORDER BY fecha_creacion, usuario_id"
        );
        let borrar = if e.mensajes.contains("eliminado") {
            format!(
                "UPDATE {msg} SET eliminado = true WHERE id = $1::text::{mid} AND NOT coalesce(eliminado, false)"
            )
        } else {
            format!("DELETE FROM {msg} WHERE id = $1::text::{mid}")
        };
        let mut eliminar = format!("WITH borrado AS ({borrar} RETURNING id, conversacion_id)");
        let fij = e.tablas.fijados;
        if e.grupos {
            eliminar.push_str(&format!(
                ", sin_pines AS (DELETE FROM {fij} f USING borrado b WHERE f.mensaje_id = b.id)"
            ));
        }
        if c.contains("mensaje_fijado_id") {
            // v2's one pin: the newest pin left (sql/grupos.sql), else none.
            let siguiente = if e.grupos {
                format!(
                    "(SELECT f.mensaje_id FROM {fij} f JOIN {msg} m ON m.id = f.mensaje_id \
                       WHERE f.conversacion_id = b.conversacion_id AND f.mensaje_id <> b.id AND NOT {} \
                       ORDER BY f.fecha_creacion DESC, f.id DESC LIMIT 1)",
                    eliminado("m")
                )
            } else {
                "NULL".to_owned()
            };
            eliminar.push_str(&format!(
                ", sin_fijar AS (UPDATE {conv} c SET mensaje_fijado_id = {siguiente} FROM borrado b \
                   WHERE c.id = b.conversacion_id AND c.mensaje_fijado_id = b.id)"
            ));
        }
        if e.reacciones {
            eliminar.push_str(&format!(
                ", sin_reacciones AS (DELETE FROM {reac} r USING borrado b WHERE r.mensaje_id = b.id)"
            ));
        }
        eliminar.push_str(" SELECT id::text FROM borrado");

        let buscar = {
            // Must stay the expression of sql/busqueda_indice.sql, or the index is not used.
            let (vector, consulta) = if e.unaccent {
                (
                    "to_tsvector('spanish'::regconfig, weigence_unaccent(coalesce(m.contenido, '')))",
                    "websearch_to_tsquery('spanish'::regconfig, weigence_unaccent($2))",
                )
            } else {
                (
                    "to_tsvector('spanish'::regconfig, coalesce(m.contenido, ''))",
                    "websearch_to_tsquery('spanish'::regconfig, $2)",
                )
            };
            format!(
                "SELECT m.id::text, m.conversacion_id::text, m.usuario_id::text, {nombre}::text, {fecha_m}, \
                   ts_rank({vector}, q.q)::float8 AS rango, \
                   ts_headline('spanish'::regconfig, coalesce(m.contenido::text, ''), q.q, \
                     'StartSel={ini}, StopSel={fin}, MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter=\" … \"') \
                 FROM (SELECT {consulta} AS q) q \
                 JOIN {part} p ON p.usuario_id = $1 AND ($3::text IS NULL OR p.conversacion_id = $3::text::{cid}) \
                 JOIN {msg} m ON m.conversacion_id = p.conversacion_id \
                 LEFT JOIN usuarios u ON u.rut_usuario = m.usuario_id \
                 WHERE NOT {elim} AND {vector} @@ q.q \
                 ORDER BY rango DESC, m.fecha_envio DESC, m.id DESC OFFSET $4 LIMIT $5",
                nombre = opcional(u, "u", "nombre", "NULL"),
                fecha_m = fecha("m.fecha_envio"),
                elim = eliminado("m"),
                ini = crate::dominio::INICIO_RESALTADO,
                fin = crate::dominio::FIN_RESALTADO,
            )
        };
        let columnas_adjunto = |a: &str| {
            format!(
                "{a}.id, {a}.mensaje_id::text, {a}.conversacion_id::text, {a}.nombre, {a}.tipo, {a}.tamano, {a}.clave, {a}.miniatura"
            )
        };
        let adjunto_visible = format!(
            "JOIN {msg} m ON m.id = a.mensaje_id AND NOT {}",
            eliminado("m")
        );

        Consultas {
            buscar,
            insertar_adjunto: format!(
                "INSERT INTO {adj} (mensaje_id, conversacion_id, nombre, tipo, tamano, clave, miniatura) \
                 VALUES ($1::text::{mid}, $2::text::{cid}, $3, $4, $5, $6, $7) RETURNING {}",
                columnas_adjunto(adj)
            ),
            adjunto: format!(
                "SELECT {}, EXISTS (SELECT 1 FROM {part} p WHERE p.conversacion_id = a.conversacion_id AND p.usuario_id = $2) \
                 FROM {adj} a {adjunto_visible} WHERE a.id = $1",
                columnas_adjunto("a")
            ),
            adjuntos: format!(
                "SELECT {} FROM {adj} a {adjunto_visible} WHERE a.conversacion_id = $1::text::{cid} ORDER BY a.id",
                columnas_adjunto("a")
            ),
            silenciar: format!(
                "UPDATE {part} SET silenciado = $3 WHERE conversacion_id = $1::text::{cid} AND usuario_id = $2"
            ),
            silenciadas: if e.participantes.contains("silenciado") {
                format!(
                    "SELECT conversacion_id::text FROM {part} WHERE usuario_id = $1 AND silenciado ORDER BY conversacion_id"
                )
            } else {
                String::new()
            },
            participantes: format!(
                "SELECT usuario_id::text FROM {part} WHERE conversacion_id = $1::text::{cid} ORDER BY usuario_id"
            ),
            mensaje: format!(
                "SELECT {}, EXISTS (SELECT 1 FROM {part} p WHERE p.conversacion_id = m.conversacion_id AND p.usuario_id = $2) \
                 FROM {msg} m LEFT JOIN usuarios u ON u.rut_usuario = m.usuario_id \
                 WHERE m.id = $1::text::{mid} AND NOT {}",
                columnas_mensaje("m", "u"),
                eliminado("m"),
            ),
            estado,
            reaccionar,
            quitar_reaccion,
            fijar: format!(
                "UPDATE {conv} SET mensaje_fijado_id = $2::text::{mid} WHERE id = $1::text::{cid}"
            ),
            desfijar: format!(
                "UPDATE {conv} SET mensaje_fijado_id = NULL WHERE id = $1::text::{cid} \
                 AND mensaje_fijado_id = $2::text::{mid} RETURNING id::text"
            ),
            eliminar,
            credenciales: format!(
                "SELECT u.rut_usuario::text, {}, {password}::text, {plano}::text FROM usuarios u WHERE {} LIMIT 5",
                usuario_cols("u"),
                busqueda.join(" OR ")
            ),
            guardar_hash: if u.contains("password_hash") {
                "UPDATE usuarios SET password_hash = $2 WHERE rut_usuario = $1".into()
            } else {
                String::new()
            },
            usuario: format!(
                "SELECT u.rut_usuario::text, {} FROM usuarios u WHERE u.rut_usuario = $1",
                usuario_cols("u")
            ),
            usuarios_excepto: format!(
                "SELECT u.rut_usuario::text, {} FROM usuarios u WHERE u.rut_usuario <> $1 ORDER BY {orden_nombre}, u.rut_usuario",
                usuario_cols("u")
            ),
            es_participante: format!(
                "SELECT 1 FROM {part} WHERE conversacion_id = $1::text::{cid} AND usuario_id = $2 LIMIT 1"
            ),
            contactos: format!(
                "SELECT DISTINCT o.usuario_id::text FROM {part} p JOIN {part} o ON o.conversacion_id = p.conversacion_id \
                 WHERE p.usuario_id = $1 AND o.usuario_id <> $1"
            ),
            conversaciones,
            uno_a_uno,
            mensajes,
            insertar,
            enviar,
            marcar_leido,
        }
    }
}

/// Reads a user from three text columns starting at `i`, after the rut at `i - 1`.
fn usuario_de(fila: &Row, i: usize) -> Usuario {
    Usuario::from_columns(
        fila.get(i - 1),
        fila.get(i),
        fila.get(i + 1),
        fila.get(i + 2),
    )
}

/// Reads the message columns written by `columnas_mensaje`, starting at `i`.
fn mensaje_de(fila: &Row, i: usize, kinds: IdKinds) -> StoreResult<Option<Mensaje>> {
    let Some(id) = fila.get::<_, Option<String>>(i) else {
        return Ok(None);
    };
    let id_de = |texto: &str, kind| {
        Id::parse(texto, kind)
            .ok_or_else(|| StoreError::Other(format!("unexpected id {texto:?} in the database")))
    };
    let autor: String = fila.get(i + 2);
    Ok(Some(Mensaje {
        id: id_de(&id, kinds.mensaje)?,
        conversacion_id: id_de(fila.get(i + 1), kinds.conversacion)?,
        contenido: fila.get(i + 3),
        fecha_envio: fila.get::<_, Option<String>>(i + 4).unwrap_or_default(),
        editado: fila.get(i + 5),
        eliminado: fila.get(i + 6),
        autor: Usuario::from_columns(
            autor.clone(),
            fila.get(i + 7),
            fila.get(i + 8),
            fila.get(i + 9),
        ),
        usuario_id: autor,
        extras: extras_de(fila, i + 10, kinds)?,
    }))
}

/// Number of columns `columnas_mensaje` writes.
const COLUMNAS_MENSAJE: usize = 14;

/// Reads the reply, reaction and kind columns (reply id, quote JSON, reactions JSON, system
/// flag) at `i`.
fn extras_de(fila: &Row, i: usize, kinds: IdKinds) -> StoreResult<ExtrasMensaje> {
    let json = |texto: Option<String>| -> StoreResult<Option<serde_json::Value>> {
        texto
            .map(|t| serde_json::from_str(&t))
            .transpose()
            .map_err(|e| StoreError::Other(format!("message extras json: {e}")))
    };
    let responde_a = fila
        .get::<_, Option<String>>(i)
        .and_then(|t| Id::parse(&t, kinds.mensaje));
    let cita = json(fila.get(i + 1))?.map(|c| {
        let texto = |clave: &str| c[clave].as_str().map(str::to_owned);
        let autor = Usuario::from_columns(
            texto("usuario_id").unwrap_or_default(),
            texto("nombre"),
            None,
            None,
        );
        Cita {
            contenido: texto("contenido").unwrap_or_default(),
            usuario_id: autor.rut,
            usuario_nombre: autor.nombre,
        }
    });
    let reacciones = match json(fila.get(i + 2))? {
        Some(serde_json::Value::Array(lista)) => lista
            .iter()
            .filter_map(|r| {
                Some(Reaccion {
                    usuario_id: r["usuario_id"].as_str()?.to_owned(),
                    emoji: r["emoji"].as_str()?.to_owned(),
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok(ExtrasMensaje {
        responde_a,
        cita,
        reacciones,
        sistema: fila.get(i + 3),
    })
}

const TEXT: Type = Type::TEXT;

#[async_trait]
impl ChatStore for PostgresStore {
    async fn id_kinds(&self) -> StoreResult<IdKinds> {
        Ok(self.preparado().await?.kinds)
    }

    fn estado_pool(&self) -> Option<EstadoPool> {
        let estado = self.pool.status();
        Some(EstadoPool {
            abiertas: estado.size,
            libres: estado.available,
            maximo: estado.max_size,
            esperando: estado.waiting,
        })
    }

    async fn ping(&self) -> StoreResult<()> {
        self.preparado().await?;
        self.filas("SELECT 1", &[]).await.map(|_| ())
    }

    async fn credenciales(&self, login: &str) -> StoreResult<Vec<Credenciales>> {
        let p = self.preparado().await?;
        let filas = self.filas(&p.sql.credenciales, &[(&login, TEXT)]).await?;
        Ok(filas
            .iter()
            .map(|f| Credenciales {
                usuario: usuario_de(f, 1),
                password_hash: f.get(4),
                password_plano: f.get(5),
            })
            .collect())
    }

    async fn guardar_hash(&self, rut: &str, hash: &str) -> StoreResult<()> {
        let p = self.preparado().await?;
        if p.sql.guardar_hash.is_empty() {
            return Ok(());
        }
        self.filas(&p.sql.guardar_hash, &[(&rut, TEXT), (&hash, TEXT)])
            .await
            .map(|_| ())
    }

    async fn usuario(&self, rut: &str) -> StoreResult<Option<Usuario>> {
        let p = self.preparado().await?;
        let filas = self.filas(&p.sql.usuario, &[(&rut, TEXT)]).await?;
        Ok(filas.first().map(|f| usuario_de(f, 1)))
    }

    async fn usuarios_excepto(&self, rut: &str) -> StoreResult<Vec<Usuario>> {
        let p = self.preparado().await?;
        let filas = self.filas(&p.sql.usuarios_excepto, &[(&rut, TEXT)]).await?;
        Ok(filas.iter().map(|f| usuario_de(f, 1)).collect())
    }

    async fn es_participante(&self, conversacion: &Id, rut: &str) -> StoreResult<bool> {
        let p = self.preparado().await?;
        let filas = self
            .filas(
                &p.sql.es_participante,
                &[(&conversacion.as_str(), TEXT), (&rut, TEXT)],
            )
            .await?;
        Ok(!filas.is_empty())
    }

    async fn contactos(&self, rut: &str) -> StoreResult<Vec<String>> {
        let p = self.preparado().await?;
        let filas = self.filas(&p.sql.contactos, &[(&rut, TEXT)]).await?;
        Ok(filas.iter().map(|f| f.get(0)).collect())
    }

    async fn conversaciones(&self, rut: &str, solo: Option<&Id>) -> StoreResult<Vec<Conversacion>> {
        let p = self.preparado().await?;
        let solo = solo.map(Id::as_str);
        let filas = self
            .filas(&p.sql.conversaciones, &[(&rut, TEXT), (&solo, TEXT)])
            .await?;
        let mut lista = Vec::with_capacity(filas.len());
        for f in &filas {
            let id: String = f.get(0);
            let texto = |i: usize| {
                f.get::<_, Option<Vec<Option<String>>>>(i)
                    .unwrap_or_default()
            };
            let (ruts, nombres, correos, roles) = (texto(6), texto(7), texto(8), texto(9));
            let participantes = ruts
                .into_iter()
                .zip(nombres)
                .zip(correos.into_iter().zip(roles))
                .map(|((rut, nombre), (correo, rol))| {
                    Usuario::from_columns(rut.unwrap_or_default(), nombre, correo, rol)
                })
                .collect();
            lista.push(Conversacion {
                id: Id::parse(&id, p.kinds.conversacion).ok_or_else(|| {
                    StoreError::Other(format!("unexpected conversation id {id:?}"))
                })?,
                nombre: f.get(1),
                es_grupal: f.get(2),
                fecha_creacion: f.get(3),
                ultimo_mensaje_timestamp: f.get(4),
                ultima_actualizacion: f.get(5),
                participantes,
                no_leidos: f.get(10),
                ultimo_mensaje: mensaje_de(f, 11, p.kinds)?,
            });
        }
        Ok(lista)
    }

    async fn conversacion_uno_a_uno(&self, a: &str, b: &str) -> StoreResult<ConversacionUnoAUno> {
        let p = self.preparado().await?;
        let (menor, mayor) = if a <= b { (a, b) } else { (b, a) };
        let consulta = p
            .sql
            .uno_a_uno
            .replace("{a}", &postgres_protocol::escape::escape_literal(a))
            .replace("{b}", &postgres_protocol::escape::escape_literal(b));
        // One simple-protocol request = one implicit transaction: the pair's advisory lock is
        // held until the find-or-create statement after it has committed.
        let lote = format!(
            "SELECT pg_advisory_xact_lock({}, {}); {consulta}",
            LOCK_NAMESPACE,
            pair_lock_key(menor, mayor)
        );
        let trabajo = async {
            let client = self.cliente().await?;
            client.simple_query(&lote).await.map_err(clasificar)
        };
        let mensajes = tokio::time::timeout(self.timeout, trabajo)
            .await
            .map_err(|_| StoreError::Unavailable("query timed out".into()))??;
        let fila = mensajes
            .iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(r) if r.len() == 2 => Some(r),
                _ => None,
            })
            .next()
            .ok_or_else(|| StoreError::Other("find-or-create returned no row".into()))?;
        let id = fila.get(0).unwrap_or_default();
        Ok(ConversacionUnoAUno {
            id: Id::parse(id, p.kinds.conversacion)
                .ok_or_else(|| StoreError::Other(format!("unexpected conversation id {id:?}")))?,
            creada: fila.get(1) == Some("t"),
        })
    }

    async fn mensajes(
        &self,
        conversacion: &Id,
        antes: Option<&Id>,
        limite: i64,
    ) -> StoreResult<Vec<Mensaje>> {
        let p = self.preparado().await?;
        let antes = antes.map(Id::as_str);
        let filas = self
            .filas(
                &p.sql.mensajes,
                &[
                    (&conversacion.as_str(), TEXT),
                    (&antes, TEXT),
                    (&limite, Type::INT8),
                ],
            )
            .await?;
        filas
            .iter()
            .filter_map(|f| mensaje_de(f, 0, p.kinds).transpose())
            .collect()
    }

    async fn insertar_mensaje(&self, nuevo: NuevoMensaje<'_>) -> StoreResult<Enviado> {
        let p = self.preparado().await?;
        let conversacion = nuevo.conversacion.as_str();
        // Two sends of one conversation, or with one client key, never share a batch nor run
        // at once: ids follow arrival order, and each row is matched back unambiguously.
        let mut claves = vec![format!("c{conversacion}")];
        if let Some(clave) = nuevo.clave.filter(|_| p.idempotente) {
            claves.push(format!("k{}\0{clave}", nuevo.autor));
        }
        let respuesta = p.envios.encolar(
            EnvioPendiente {
                conversacion: conversacion.to_owned(),
                autor: nuevo.autor.to_owned(),
                contenido: nuevo.contenido.to_owned(),
                clave: nuevo.clave.filter(|_| p.idempotente).map(str::to_owned),
                responde_a: nuevo.responde_a.map(|r| r.as_str().to_owned()),
            },
            claves,
        );
        match tokio::time::timeout(self.timeout, respuesta).await {
            Ok(Ok(resultado)) => resultado,
            Ok(Err(_)) => Err(StoreError::Other("send batch failed".into())),
            Err(_) => Err(StoreError::Unavailable("send timed out".into())),
        }
    }

    async fn marcar_leido(
        &self,
        conversacion: &Id,
        rut: &str,
        hasta: Option<&Id>,
    ) -> StoreResult<Option<Id>> {
        let p = self.preparado().await?;
        let hasta = hasta.map(Id::as_str);
        let filas = self
            .filas(
                &p.sql.marcar_leido,
                &[(&conversacion.as_str(), TEXT), (&rut, TEXT), (&hasta, TEXT)],
            )
            .await?;
        Ok(filas
            .first()
            .and_then(|f| Id::parse(f.get(0), p.kinds.mensaje)))
    }

    async fn delta_v2(&self) -> StoreResult<bool> {
        Ok(self.preparado().await?.delta_v2)
    }

    async fn grupos(&self) -> StoreResult<bool> {
        Ok(self.preparado().await?.grupos)
    }

    async fn funcion(&self, llamada: &Llamada) -> StoreResult<serde_json::Value> {
        let mut argumentos = Vec::with_capacity(llamada.argumentos.len());
        let mut valores: Vec<(Box<dyn ToSql + Sync + Send>, Type)> = Vec::new();
        for (i, (nombre, valor)) in llamada.argumentos.iter().enumerate() {
            let (v, tipo): (Box<dyn ToSql + Sync + Send>, Type) = match valor {
                Argumento::Texto(t) => (Box::new(t.clone()), Type::TEXT),
                Argumento::Textos(ts) => (Box::new(ts.clone()), Type::TEXT_ARRAY),
                Argumento::Entero(n) => (Box::new(*n), Type::INT4),
                Argumento::Logico(b) => (Box::new(*b), Type::BOOL),
            };
            argumentos.push(format!("{nombre} => ${}", i + 1));
            valores.push((v, tipo));
        }
        // Function and parameter names are this crate's constants, never input.
        let sql = format!(
            "SELECT {}({})::text",
            llamada.funcion,
            argumentos.join(", ")
        );
        let params: Vec<(&(dyn ToSql + Sync), Type)> = valores
            .iter()
            .map(|(v, t)| (v.as_ref() as &(dyn ToSql + Sync), t.clone()))
            .collect();
        let filas = match self.filas(&sql, &params).await {
            Err(StoreError::Other(causa)) if causa.starts_with("42883") => {
                return Err(StoreError::FaltaEsquema(grupos::ARCHIVO));
            }
            otro => otro?,
        };
        let texto: Option<String> = filas.first().and_then(|f| f.get(0));
        serde_json::from_str(texto.as_deref().unwrap_or("null"))
            .map_err(|e| StoreError::Other(format!("{}: {e}", llamada.funcion)))
    }

    async fn participantes(&self, conversacion: &Id) -> StoreResult<Vec<String>> {
        let p = self.preparado().await?;
        let filas = self
            .filas(&p.sql.participantes, &[(&conversacion.as_str(), TEXT)])
            .await?;
        Ok(filas.iter().map(|f| f.get(0)).collect())
    }

    async fn mensaje(&self, id: &Id, rut: &str) -> StoreResult<Option<MensajeEncontrado>> {
        let p = self.preparado().await?;
        let filas = self
            .filas(&p.sql.mensaje, &[(&id.as_str(), TEXT), (&rut, TEXT)])
            .await?;
        let Some(f) = filas.first() else {
            return Ok(None);
        };
        Ok(mensaje_de(f, 0, p.kinds)?.map(|mensaje| MensajeEncontrado {
            mensaje,
            participa: f.get(COLUMNAS_MENSAJE),
        }))
    }

    async fn estado_conversacion(
        &self,
        conversacion: &Id,
        yo: &str,
        otro: &str,
    ) -> StoreResult<EstadoConversacion> {
        let p = self.preparado().await?;
        let filas = self
            .filas(
                &p.sql.estado,
                &[(&conversacion.as_str(), TEXT), (&yo, TEXT), (&otro, TEXT)],
            )
            .await?;
        let Some(f) = filas.first() else {
            return Ok(EstadoConversacion::default());
        };
        let marca = |i: usize| {
            f.get::<_, Option<String>>(i)
                .and_then(|t| Id::parse(&t, p.kinds.mensaje))
        };
        Ok(EstadoConversacion {
            visto_por_mi: marca(0),
            visto_por_otro: marca(1),
            fijado: mensaje_de(f, 2, p.kinds)?,
        })
    }

    async fn reaccionar(
        &self,
        mensaje: &Id,
        rut: &str,
        emoji: Option<&str>,
    ) -> StoreResult<Vec<Reaccion>> {
        let p = self.preparado().await?;
        let filas = match emoji {
            Some(emoji) => {
                self.filas(
                    &p.sql.reaccionar,
                    &[(&mensaje.as_str(), TEXT), (&rut, TEXT), (&emoji, TEXT)],
                )
                .await?
            }
            None => {
                self.filas(
                    &p.sql.quitar_reaccion,
                    &[(&mensaje.as_str(), TEXT), (&rut, TEXT)],
                )
                .await?
            }
        };
        Ok(filas
            .iter()
            .map(|f| Reaccion {
                usuario_id: f.get(0),
                emoji: f.get(1),
            })
            .collect())
    }

    async fn fijar(&self, conversacion: &Id, mensaje: &Id) -> StoreResult<()> {
        let p = self.preparado().await?;
        self.filas(
            &p.sql.fijar,
            &[(&conversacion.as_str(), TEXT), (&mensaje.as_str(), TEXT)],
        )
        .await
        .map(|_| ())
    }

    async fn desfijar(&self, conversacion: &Id, mensaje: &Id) -> StoreResult<bool> {
        let p = self.preparado().await?;
        let filas = self
            .filas(
                &p.sql.desfijar,
                &[(&conversacion.as_str(), TEXT), (&mensaje.as_str(), TEXT)],
            )
            .await?;
        Ok(!filas.is_empty())
    }

    async fn eliminar_mensaje(&self, mensaje: &Id) -> StoreResult<bool> {
        let p = self.preparado().await?;
        let filas = self
            .filas(&p.sql.eliminar, &[(&mensaje.as_str(), TEXT)])
            .await?;
        Ok(!filas.is_empty())
    }

    async fn buscar(&self, b: Busqueda<'_>) -> StoreResult<Vec<Coincidencia>> {
        let p = self.preparado().await?;
        let solo = b.conversacion.map(Id::as_str);
        let filas = self
            .filas(
                &p.sql.buscar,
                &[
                    (&b.rut, TEXT),
                    (&b.consulta, TEXT),
                    (&solo, TEXT),
                    (&b.desde, Type::INT8),
                    (&b.limite, Type::INT8),
                ],
            )
            .await?;
        filas
            .iter()
            .map(|f| {
                let autor = Usuario::from_columns(f.get(2), f.get(3), None, None);
                Ok(Coincidencia {
                    mensaje_id: id_de(f.get(0), p.kinds.mensaje)?,
                    conversacion_id: id_de(f.get(1), p.kinds.conversacion)?,
                    usuario_id: autor.rut,
                    usuario_nombre: autor.nombre,
                    fecha_envio: f.get::<_, Option<String>>(4).unwrap_or_default(),
                    rango: f.get(5),
                    fragmento: f.get(6),
                })
            })
            .collect()
    }

    async fn insertar_con_adjunto(
        &self,
        nuevo: NuevoMensaje<'_>,
        adjunto: NuevoAdjunto<'_>,
    ) -> StoreResult<(Mensaje, Adjunto)> {
        let p = self.preparado().await?;
        if !p.adjuntos {
            return Err(StoreError::FaltaEsquema("sql/adjuntos.sql"));
        }
        let conversacion = nuevo.conversacion.as_str();
        let responde_a = nuevo.responde_a.map(Id::as_str);
        let sin_clave: Option<&str> = None;
        let mut params: Vec<(&(dyn ToSql + Sync), Type)> = vec![
            (&conversacion, TEXT),
            (&nuevo.autor, TEXT),
            (&nuevo.contenido, TEXT),
        ];
        if p.idempotente {
            params.push((&sin_clave, TEXT));
        }
        if p.respuestas {
            params.push((&responde_a, TEXT));
        }
        let trabajo = async {
            let mut cliente = self.cliente().await?;
            let tx = cliente.transaction().await.map_err(clasificar)?;
            let tipos: Vec<Type> = params.iter().map(|(_, t)| t.clone()).collect();
            let valores: Vec<&(dyn ToSql + Sync)> = params.iter().map(|(v, _)| *v).collect();
            let stmt = tx
                .prepare_typed(&p.sql.insertar, &tipos)
                .await
                .map_err(clasificar)?;
            let filas = tx.query(&stmt, &valores).await.map_err(clasificar)?;
            let mensaje = filas
                .first()
                .map(|f| mensaje_de(f, 0, p.kinds))
                .transpose()?
                .flatten()
                .ok_or_else(|| StoreError::Other("insert returned no row".into()))?;
            let fila = tx
                .query_typed(
                    &p.sql.insertar_adjunto,
                    &[
                        (&mensaje.id.as_str(), TEXT),
                        (&conversacion, TEXT),
                        (&adjunto.nombre, TEXT),
                        (&adjunto.tipo, TEXT),
                        (&adjunto.tamano, Type::INT8),
                        (&adjunto.clave, TEXT),
                        (&adjunto.miniatura, TEXT),
                    ],
                )
                .await
                .map_err(clasificar)?;
            let guardado = fila
                .first()
                .map(|f| adjunto_de(f, p.kinds))
                .transpose()?
                .ok_or_else(|| StoreError::Other("attachment insert returned no row".into()))?;
            tx.commit().await.map_err(clasificar)?;
            Ok((mensaje, guardado))
        };
        tokio::time::timeout(self.timeout, trabajo)
            .await
            .map_err(|_| StoreError::Unavailable("query timed out".into()))?
    }

    async fn adjunto(&self, id: i64, rut: &str) -> StoreResult<Option<(Adjunto, bool)>> {
        let p = self.preparado().await?;
        if !p.adjuntos {
            return Ok(None);
        }
        let filas = self
            .filas(&p.sql.adjunto, &[(&id, Type::INT8), (&rut, TEXT)])
            .await?;
        filas
            .first()
            .map(|f| Ok((adjunto_de(f, p.kinds)?, f.get(8))))
            .transpose()
    }

    async fn adjuntos(&self, conversacion: &Id) -> StoreResult<Vec<Adjunto>> {
        let p = self.preparado().await?;
        if !p.adjuntos {
            return Ok(Vec::new());
        }
        let filas = self
            .filas(&p.sql.adjuntos, &[(&conversacion.as_str(), TEXT)])
            .await?;
        filas.iter().map(|f| adjunto_de(f, p.kinds)).collect()
    }

    async fn silencios(&self, rut: &str, cambio: Option<(&Id, bool)>) -> StoreResult<Vec<Id>> {
        let p = self.preparado().await?;
        if !p.silencios {
            return match cambio {
                Some(_) => Err(StoreError::FaltaEsquema("sql/busqueda.sql")),
                None => Ok(Vec::new()),
            };
        }
        if let Some((conversacion, silenciado)) = cambio {
            self.filas(
                &p.sql.silenciar,
                &[
                    (&conversacion.as_str(), TEXT),
                    (&rut, TEXT),
                    (&silenciado, Type::BOOL),
                ],
            )
            .await?;
        }
        let filas = self.filas(&p.sql.silenciadas, &[(&rut, TEXT)]).await?;
        filas
            .iter()
            .map(|f| id_de(f.get(0), p.kinds.conversacion))
            .collect()
    }
}

/// Parses an id the database returned.
fn id_de(texto: &str, kind: IdKind) -> StoreResult<Id> {
    Id::parse(texto, kind)
        .ok_or_else(|| StoreError::Other(format!("unexpected id {texto:?} in the database")))
}

/// Reads the attachment columns written by `columnas_adjunto`.
fn adjunto_de(fila: &Row, kinds: IdKinds) -> StoreResult<Adjunto> {
    Ok(Adjunto {
        id: fila.get(0),
        mensaje_id: id_de(fila.get(1), kinds.mensaje)?,
        conversacion_id: id_de(fila.get(2), kinds.conversacion)?,
        nombre: fila.get(3),
        tipo: fila.get(4),
        tamano: fila.get(5),
        clave: fila.get(6),
        miniatura: fila.get(7),
    })
}

/// First key of the pair lock: a fixed namespace ("WCHT") so our locks do not collide with
/// other users of advisory locks.
const LOCK_NAMESPACE: i32 = 0x5743_4854;

/// Second key of the pair lock: FNV-1a of the ordered pair, stable across instances and
/// releases (a collision only serializes two unrelated creations).
fn pair_lock_key(menor: &str, mayor: &str) -> i32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in menor.bytes().chain([0]).chain(mayor.bytes()) {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogo(tipo_id: &str, extra_conv: &[&str]) -> HashMap<String, HashMap<String, String>> {
        let tabla = |cols: &[(&str, &str)]| {
            cols.iter()
                .map(|(c, t)| (c.to_string(), t.to_string()))
                .collect()
        };
        let mut conv: Vec<(&str, &str)> = vec![
            ("id", tipo_id),
            ("fecha_creacion", "timestamp with time zone"),
        ];
        conv.extend(extra_conv.iter().map(|c| (*c, "text")));
        HashMap::from([
            ("chat_conversaciones".to_string(), tabla(&conv)),
            (
                "chat_participantes".to_string(),
                tabla(&[
                    ("conversacion_id", tipo_id),
                    ("usuario_id", "text"),
                    ("ultimo_mensaje_leido", tipo_id),
                ]),
            ),
            (
                "chat_mensajes".to_string(),
                tabla(&[
                    ("id", tipo_id),
                    ("conversacion_id", tipo_id),
                    ("usuario_id", "text"),
                    ("contenido", "text"),
                    ("fecha_envio", "timestamp"),
                ]),
            ),
            (
                "usuarios".to_string(),
                tabla(&[("rut_usuario", "character varying")]),
            ),
        ])
    }

    #[test]
    fn detects_id_types_and_optional_columns() {
        let e =
            Esquema::desde_catalogo(None, &catalogo("uuid", &["nombre"]), &HashSet::new()).unwrap();
        assert_eq!(
            e.kinds(),
            IdKinds {
                conversacion: IdKind::Uuid,
                mensaje: IdKind::Uuid
            }
        );
        let sql = Consultas::new(&e);
        assert!(sql.conversaciones.contains("c.nombre"));
        assert!(
            !sql.conversaciones.contains("c.es_grupal"),
            "absent columns are not referenced"
        );
        assert!(
            !sql.insertar.contains("toque"),
            "no conversation columns to keep current"
        );

        let e = Esquema::desde_catalogo(
            None,
            &catalogo("bigint", &["ultima_actualizacion"]),
            &HashSet::new(),
        )
        .unwrap();
        assert_eq!(e.kinds().conversacion, IdKind::Integer);
        assert!(
            Consultas::new(&e)
                .insertar
                .contains("ultima_actualizacion = n.fecha_envio")
        );
    }

    #[test]
    fn idempotent_inserts_need_the_client_id_column_and_its_unique_index() {
        let mut cat = catalogo("bigint", &[]);
        cat.get_mut("chat_mensajes")
            .unwrap()
            .insert("client_id".into(), "text".into());
        let sin_indice = Esquema::desde_catalogo(None, &cat, &HashSet::new()).unwrap();
        assert!(!sin_indice.idempotente);
        assert!(!Consultas::new(&sin_indice).insertar.contains("ON CONFLICT"));
        let con_indice =
            Esquema::desde_catalogo(None, &cat, &HashSet::from(["chat_mensajes".to_owned()]))
                .unwrap();
        assert!(con_indice.idempotente);
        let sql = Consultas::new(&con_indice).insertar;
        assert!(sql.contains(
            "ON CONFLICT (usuario_id, client_id) WHERE client_id IS NOT NULL DO NOTHING"
        ));
        assert!(sql.contains("m.client_id = $4"));
    }

    #[test]
    fn the_batch_statement_follows_the_optional_columns() {
        let e = Esquema::desde_catalogo(None, &catalogo("uuid", &[]), &HashSet::new()).unwrap();
        let sql = Consultas::new(&e).enviar;
        assert!(sql.contains("x.conv::uuid"));
        assert!(
            !sql.contains("ON CONFLICT"),
            "no client_id: no idempotent insert"
        );
        assert!(
            !sql.contains("client_id") && !sql.contains("v.reply_to"),
            "neither a client key nor a reply is inserted"
        );
        assert!(
            !sql.contains("toque"),
            "no conversation columns to keep current"
        );

        let mut cat = catalogo("bigint", &["ultimo_mensaje_id"]);
        let msg = cat.get_mut("chat_mensajes").unwrap();
        msg.insert("client_id".into(), "text".into());
        msg.insert("reply_to".into(), "bigint".into());
        let e = Esquema::desde_catalogo(None, &cat, &HashSet::from(["chat_mensajes".to_owned()]))
            .unwrap();
        let sql = Consultas::new(&e).enviar;
        assert!(sql.contains(
            "ON CONFLICT (usuario_id, client_id) WHERE client_id IS NOT NULL DO NOTHING"
        ));
        assert!(
            sql.contains("m.client_id = v.clave"),
            "a repeated key returns the first"
        );
        assert!(sql.contains("v.reply_to") && sql.contains("ultimo_mensaje_id = n.id"));
        assert!(sql.contains("ORDER BY v.n"), "ids in arrival order");
    }

    #[test]
    fn refuses_missing_tables_columns_and_odd_id_types() {
        assert!(Esquema::desde_catalogo(None, &HashMap::new(), &HashSet::new()).is_err());
        assert!(
            Esquema::desde_catalogo(
                Some(TableVariant::ChatSuffix),
                &catalogo("bigint", &[]),
                &HashSet::new()
            )
            .is_err()
        );
        assert!(Esquema::desde_catalogo(None, &catalogo("text", &[]), &HashSet::new()).is_err());
        let mut sin_contenido = catalogo("bigint", &[]);
        sin_contenido
            .get_mut("chat_mensajes")
            .unwrap()
            .remove("contenido");
        assert!(
            Esquema::desde_catalogo(None, &sin_contenido, &HashSet::new())
                .unwrap_err()
                .contains("contenido")
        );
    }

    #[test]
    fn pair_lock_key_is_stable_and_order_sensitive_only_by_design() {
        assert_eq!(pair_lock_key("1-9", "2-7"), pair_lock_key("1-9", "2-7"));
        assert_ne!(pair_lock_key("1-9", "2-7"), pair_lock_key("1-92", "-7"));
    }
}
