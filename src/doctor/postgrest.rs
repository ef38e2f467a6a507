//! The PostgREST side of `doctor` (only `SUPABASE_URL` and `SUPABASE_KEY`): everything goes
//! through PostgREST, as the store itself sees the database: the key and reachability with a
//! latency figure, then the store's own schema detection (table variant, id types, columns,
//! the SQL functions of `sql/postgrest_functions.sql`, the v2 delta).

use std::time::Instant;

use async_trait::async_trait;

use super::{Comprobacion, DiagnosticoAlmacen, Nivel, Pieza, ms};
use crate::config::{Generaciones, Settings};
use crate::dominio::IdKind;
use crate::store::postgrest::{
    PostgrestOptions, PostgrestStartError, PostgrestStore, ResumenPostgrest,
};

/// How to install the SQL functions.
const FUNCIONES: &str =
    "paste sql/postgrest_functions.sql into Supabase's SQL editor (or psql -f it)";
/// How to add the v2 delta (the functions file again afterwards, for its v2 parts).
const DELTA_V2: &str = "paste sql/v2_delta.sql, then sql/postgrest_functions.sql, into Supabase's SQL editor (or psql -f them)";

/// How many probe requests the latency figure is the median of.
const IDAS_Y_VUELTAS: usize = 5;

/// Checks a Supabase project through its REST layer with the server's settings.
pub struct DiagnosticoPostgrest {
    opciones: PostgrestOptions,
    generaciones: Generaciones,
}

impl DiagnosticoPostgrest {
    /// From the server's settings.
    pub fn desde(settings: &Settings) -> Self {
        DiagnosticoPostgrest {
            generaciones: settings.generaciones,
            opciones: PostgrestOptions {
                url: settings.supabase_url.clone().unwrap_or_default(),
                key: settings.supabase_key.clone().unwrap_or_default(),
                timeout: settings.database_timeout,
                variant: settings.table_variant,
            },
        }
    }
}

#[async_trait]
impl DiagnosticoAlmacen for DiagnosticoPostgrest {
    fn nombre(&self) -> &'static str {
        "postgrest"
    }

    async fn comprobar(&self) -> Vec<Comprobacion> {
        let store = match PostgrestStore::connect(&self.opciones).await {
            Ok(s) => s,
            Err(PostgrestStartError::Clave(url, status)) => {
                return vec![
                    Comprobacion::nueva(
                        "postgrest",
                        Nivel::Fatal,
                        format!("SUPABASE_KEY refused by {url} (HTTP {status})"),
                    )
                    .con_comando("set SUPABASE_KEY to the project's service_role or sb_secret key"),
                ];
            }
            // The key was accepted; the schema was not.
            Err(PostgrestStartError::Store(e)) => {
                return vec![
                    Comprobacion::nueva("postgrest", Nivel::Ok, "reachable with SUPABASE_KEY"),
                    tablas_ausentes(e.to_string()),
                ];
            }
        };
        let mut idas = Vec::with_capacity(IDAS_Y_VUELTAS);
        for _ in 0..IDAS_Y_VUELTAS {
            let inicio = Instant::now();
            if let Err(e) = store.sondear().await {
                return vec![
                    Comprobacion::nueva("postgrest", Nivel::Fatal, format!("unreachable: {e}"))
                        .con_comando(
                            "check SUPABASE_URL, the network and that the project is running",
                        ),
                ];
            }
            idas.push(inicio.elapsed());
        }
        idas.sort();
        let mut salida = vec![Comprobacion::nueva(
            "postgrest",
            Nivel::Ok,
            format!(
                "reachable with SUPABASE_KEY: round trip {:.2} ms (median of {IDAS_Y_VUELTAS})",
                ms(idas[IDAS_Y_VUELTAS / 2])
            ),
        )];
        match store.resumen_esquema().await {
            Ok(r) => {
                salida.extend(comprobar_tablas(&r));
                salida.extend(piezas(&r).iter().map(|p| p.comprobacion(self.generaciones)));
            }
            Err(e) => salida.push(tablas_ausentes(e.to_string())),
        }
        salida
    }
}

fn tablas_ausentes(causa: String) -> Comprobacion {
    Comprobacion::nueva("chat tables", Nivel::Fatal, causa).con_comando(
        "create the chat tables (sql/usuarios.sql, sql/chat_tables_live.sql) in the project, or point SUPABASE_URL at the Weigence project",
    )
}

fn comprobar_tablas(r: &ResumenPostgrest) -> Vec<Comprobacion> {
    let [conv, part, msg] = r.tablas;
    let tipo = |k: IdKind| match k {
        IdKind::Integer => "integer",
        IdKind::Uuid => "uuid",
    };
    vec![
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
                tipo(r.kinds.conversacion),
                tipo(r.kinds.mensaje),
                if r.marca_es_fecha {
                    "timestamp"
                } else {
                    "message id"
                }
            ),
        ),
        if r.opcionales_ausentes.is_empty() {
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
        },
    ]
}

fn piezas(r: &ResumenPostgrest) -> Vec<Pieza> {
    let [conv, part, msg] = r.tablas;
    vec![
        Pieza {
            nombre: "SQL functions",
            generacion: "v1",
            presente: r.funciones,
            detalle: format!(
                "{msg}_enviar, {conv}_uno_a_uno, {part}_marcar_leido, {part}_no_leidos: atomic sends, 1:1 creation and read markers (best effort without them)"
            ),
            comando: FUNCIONES,
        },
        Pieza {
            nombre: "client_id",
            generacion: "v1",
            presente: r.client_id,
            detalle: format!(
                "{msg}.client_id, so retried sends are de-duplicated across restarts and instances"
            ),
            comando: FUNCIONES,
        },
        Pieza::delta_v2(r.tablas, &r.faltan_v2, DELTA_V2),
        Pieza::grupos(
            r.grupos,
            "paste sql/grupos.sql into Supabase's SQL editor",
        ),
        Pieza {
            nombre: "v2 SQL functions",
            generacion: "v2",
            presente: r.funciones_v2,
            detalle: format!(
                "{msg}_enviar with reply_to and {msg}_eliminar: atomic replies and deletes (best effort without them)"
            ),
            comando: FUNCIONES,
        },
        Pieza {
            nombre: "search",
            generacion: "propia",
            presente: r.busqueda && r.silencios,
            detalle: "weigence_buscar_mensajes (sql/busqueda_postgrest.sql, after sql/busqueda.sql) and the participants' mute column: search answers 503 without them".to_owned(),
            comando: "paste sql/busqueda.sql, then sql/busqueda_postgrest.sql, into Supabase's SQL editor",
        },
        Pieza {
            nombre: "attachments",
            generacion: "propia",
            presente: r.adjuntos.0 && r.adjuntos.1,
            detalle: if r.adjuntos.0 {
                "the attachments table and weigence_enviar_con_adjunto (one transaction; best effort without it)".to_owned()
            } else {
                "the attachments table (sql/adjuntos.sql): uploads answer 503 without it".to_owned()
            },
            comando: "paste sql/adjuntos.sql into Supabase's SQL editor",
        },
    ]
}
