//! The PostgreSQL side of `doctor`: one direct connection for reachability, latency and the
//! optional pieces (simple-protocol statements only, so it works through transaction-mode
//! poolers too), and the store's own start-up validation for the chat tables.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

use super::{Comprobacion, DiagnosticoAlmacen, Nivel, Pieza, ms};
use crate::config::Settings;
use crate::store::postgres::{PostgresOptions, PostgresStore, ResumenEsquema};

/// The command that adds every optional piece.
const MIGRAR: &str = "scripts/migrate \"$DATABASE_URL\"";

/// How many `SELECT 1` round trips the latency figure is the median of.
const IDAS_Y_VUELTAS: usize = 5;

/// Checks a PostgreSQL database with the server's connection settings.
pub struct DiagnosticoPostgres {
    opciones: PostgresOptions,
    generaciones: crate::config::Generaciones,
}

impl DiagnosticoPostgres {
    /// From the server's settings (one pooled connection is enough).
    pub fn desde(settings: &Settings) -> Self {
        DiagnosticoPostgres {
            generaciones: settings.generaciones,
            opciones: PostgresOptions {
                url: settings.database_url.clone().unwrap_or_default(),
                pool_size: 1,
                timeout: settings.database_timeout,
                prepared_statements: settings.prepared_statements,
                variant: settings.table_variant,
            },
        }
    }

    async fn conectar(&self) -> Result<(Client, Duration), String> {
        let mut config: tokio_postgres::Config = self
            .opciones
            .url
            .parse()
            .map_err(|e| format!("invalid DATABASE_URL: {e}"))?;
        config.connect_timeout(self.opciones.timeout);
        config.application_name("weigence-chat doctor");
        let inicio = Instant::now();
        let (cliente, conexion) =
            tokio::time::timeout(self.opciones.timeout, config.connect(NoTls))
                .await
                .map_err(|_| format!("no answer within {} ms", self.opciones.timeout.as_millis()))?
                .map_err(|e| match e.as_db_error() {
                    Some(db) => format!("{}: {}", db.code().code(), db.message()),
                    None => e.to_string(),
                })?;
        let conectar = inicio.elapsed();
        tokio::spawn(async move {
            let _ = conexion.await;
        });
        Ok((cliente, conectar))
    }
}

/// Rows of a simple-protocol query, as text columns.
async fn filas(cliente: &Client, sql: &str) -> Result<Vec<Vec<String>>, String> {
    let mensajes = cliente.simple_query(sql).await.map_err(|e| e.to_string())?;
    Ok(mensajes
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(fila) => Some(
                (0..fila.len())
                    .map(|i| fila.get(i).unwrap_or_default().to_owned())
                    .collect(),
            ),
            _ => None,
        })
        .collect())
}

#[async_trait]
impl DiagnosticoAlmacen for DiagnosticoPostgres {
    fn nombre(&self) -> &'static str {
        "postgres"
    }

    async fn comprobar(&self) -> Vec<Comprobacion> {
        let (cliente, conectar) = match self.conectar().await {
            Ok(c) => c,
            Err(e) => {
                return vec![Comprobacion::nueva("database", Nivel::Fatal, format!("unreachable: {e}"))
                    .con_comando("check DATABASE_URL, the network and that PostgreSQL accepts connections")];
            }
        };
        let mut idas = Vec::with_capacity(IDAS_Y_VUELTAS);
        for _ in 0..IDAS_Y_VUELTAS {
            let inicio = Instant::now();
            if let Err(e) = cliente.simple_query("SELECT 1").await {
                return vec![Comprobacion::nueva(
                    "database",
                    Nivel::Fatal,
                    format!("connected but cannot query: {e}"),
                )];
            }
            idas.push(inicio.elapsed());
        }
        idas.sort();
        let version = filas(&cliente, "SHOW server_version")
            .await
            .ok()
            .and_then(|f| f.into_iter().next())
            .and_then(|f| f.into_iter().next())
            .unwrap_or_else(|| "?".into());
        let mut salida = vec![Comprobacion::nueva(
            "database",
            Nivel::Ok,
            format!(
                "reachable: PostgreSQL {version}, connect {:.1} ms, round trip {:.2} ms (median of {IDAS_Y_VUELTAS})",
                ms(conectar),
                ms(idas[IDAS_Y_VUELTAS / 2])
            ),
        )];
        let resumen = match PostgresStore::connect(&self.opciones).await {
            Ok(store) => store.resumen_esquema().await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let resumen = match resumen {
            Ok(r) => r,
            Err(e) => {
                salida.push(
                    Comprobacion::nueva("chat tables", Nivel::Fatal, e)
                        .con_comando("psql \"$DATABASE_URL\" -f sql/usuarios.sql -f sql/chat_tables_live.sql (or point DATABASE_URL at the Weigence database)"),
                );
                return salida;
            }
        };
        salida.extend(comprobar_tablas(&resumen));
        match piezas(&cliente, &resumen).await {
            Ok(piezas) => salida.extend(piezas.iter().map(|p| p.comprobacion(self.generaciones))),
            Err(e) => salida.push(Comprobacion::nueva(
                "optional pieces",
                Nivel::Falta,
                format!("cannot read the catalog: {e}"),
            )),
        }
        salida
    }
}

fn comprobar_tablas(r: &ResumenEsquema) -> Vec<Comprobacion> {
    let [conv, part, msg] = r.tablas;
    let mut salida = vec![
        Comprobacion::nueva(
            "chat tables",
            Nivel::Ok,
            format!("{conv}, {part}, {msg} and usuarios, every required column"),
        ),
        Comprobacion::nueva(
            "id types",
            Nivel::Ok,
            format!(
                "conversations {}, messages {}; read marker holds a {}",
                r.id_conversacion,
                r.id_mensaje,
                if r.marca_es_fecha {
                    "timestamp"
                } else {
                    "message id"
                }
            ),
        ),
    ];
    salida.push(if r.opcionales_ausentes.is_empty() {
        Comprobacion::nueva("optional columns", Nivel::Ok, "all present")
    } else {
        Comprobacion::nueva(
            "optional columns",
            Nivel::Info,
            format!(
                "absent (the service works without them): {}",
                r.opcionales_ausentes.join(", ")
            ),
        )
    });
    salida
}

/// An index of the current schema: its table, key columns in order, definition.
struct Indice {
    tabla: String,
    columnas: Vec<String>,
    definicion: String,
}

async fn indices(cliente: &Client) -> Result<Vec<Indice>, String> {
    let sql = "SELECT t.relname, \
                 coalesce(array_to_string(ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n) \
                   JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.n), ','), ''), \
                 pg_get_indexdef(i.indexrelid) \
               FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid \
               JOIN pg_namespace n ON n.oid = t.relnamespace \
               WHERE n.nspname = current_schema()";
    Ok(filas(cliente, sql)
        .await?
        .into_iter()
        .map(|f| Indice {
            tabla: f[0].clone(),
            columnas: f[1]
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect(),
            definicion: f[2].clone(),
        })
        .collect())
}

async fn piezas(cliente: &Client, r: &ResumenEsquema) -> Result<Vec<Pieza>, String> {
    let [_, part, msg] = r.tablas;
    let indices = indices(cliente).await?;
    let con_prefijo = |tabla: &str, prefijo: &[&str]| {
        indices
            .iter()
            .find(|i| {
                i.tabla == tabla
                    && i.columnas.len() >= prefijo.len()
                    && i.columnas.iter().zip(prefijo).all(|(a, b)| a == b)
            })
            .map(|i| i.definicion.clone())
    };
    let indice = |nombre, tabla: &str, prefijo: &[&str], para: &str| {
        let encontrado = con_prefijo(tabla, prefijo);
        Pieza {
            nombre,
            generacion: "v1",
            presente: encontrado.is_some(),
            detalle: encontrado
                .unwrap_or_else(|| format!("an index on {tabla} ({}) {para}", prefijo.join(", "))),
            comando: MIGRAR,
        }
    };
    Ok(vec![
        indice(
            "index: message history",
            msg,
            &["conversacion_id", "fecha_envio"],
            "for history pages and last messages",
        ),
        indice(
            "index: conversations by user",
            part,
            &["usuario_id"],
            "for the conversation list",
        ),
        indice(
            "index: participants by conversation",
            part,
            &["conversacion_id"],
            "for participant checks",
        ),
        indice(
            "index: users by name",
            "usuarios",
            &["nombre"],
            "for login by name",
        ),
        Pieza {
            nombre: "client_id",
            generacion: "v1",
            presente: r.idempotente,
            detalle: if r.idempotente {
                format!(
                    "{msg}.client_id with its unique index: retries are de-duplicated across restarts and instances"
                )
            } else {
                format!(
                    "{msg}.client_id with a unique index, so retried sends are de-duplicated across restarts and instances (in memory only without it)"
                )
            },
            comando: MIGRAR,
        },
        Pieza::delta_v2(r.tablas, &r.faltan_v2, MIGRAR),
        Pieza::grupos(r.grupos, MIGRAR),
        Pieza {
            nombre: "search: accent folding and mute",
            generacion: "propia",
            presente: r.acentos && r.silencios,
            detalle:
                "weigence_unaccent() and the participants' silenciado column (sql/busqueda.sql): \
                      search that finds «canción» from «cancion», per-conversation mute"
                    .to_owned(),
            comando: MIGRAR,
        },
        Pieza {
            nombre: "search index",
            generacion: "propia",
            presente: r.indice_busqueda,
            detalle: format!(
                "the full-text index on {msg}.contenido (sql/busqueda_indice.sql, built CONCURRENTLY): \
                 search works without it, slower"
            ),
            comando: MIGRAR,
        },
        Pieza {
            nombre: "attachments table",
            generacion: "propia",
            presente: r.adjuntos.0,
            detalle: format!(
                "{} (sql/adjuntos.sql): uploads answer 503 without it",
                r.adjuntos.1
            ),
            comando: MIGRAR,
        },
    ])
}
