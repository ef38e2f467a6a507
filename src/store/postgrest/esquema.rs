//! What the store learns at start-up through PostgREST itself (it cannot read the catalog):
//! which table variant exists, the id types, the optional columns and whether the SQL
//! functions of `sql/postgrest_functions.sql` are installed. Every answer is read from status
//! codes and PostgREST's stable error codes, never from message texts.

use std::collections::HashSet;

use futures_util::future::join_all;
use serde_json::json;

use super::peticion::{Cliente, Fallo};
use crate::config::TableVariant;
use crate::dominio::{IdKind, IdKinds};
use crate::store::{StoreError, StoreResult, Tablas};

/// A missing table: 404 with `42P01` (PostgREST ≤ 12) or `PGRST205` (13 and later).
const TABLA_AUSENTE: [&str; 2] = ["42P01", "PGRST205"];
/// A missing column in `select`: `42703`; `PGRST204` from newer versions for some paths.
const COLUMNA_AUSENTE: [&str; 2] = ["42703", "PGRST204"];
/// A value that is not valid for the column's type (a uuid probe on an integer column).
const VALOR_INVALIDO: [&str; 3] = ["22P02", "22007", "22008"];
/// An unknown function (or unknown argument names): 404 `PGRST202`.
const FUNCION_AUSENTE: [&str; 1] = ["PGRST202"];

/// Optional columns the store reads or writes when they exist.
const OPCIONALES_CONV: [&str; 7] = [
    "nombre",
    "es_grupal",
    "creado_por",
    "ultima_actualizacion",
    "ultimo_mensaje_id",
    "ultimo_mensaje_timestamp",
    "mensaje_fijado_id",
];
const OPCIONALES_MSG: [&str; 5] = ["editado", "eliminado", "client_id", "reply_to", "tipo"];
/// The columns of the v2 delta's reactions table the store uses.
const COLUMNAS_REACCION: &str = "mensaje_id,usuario_id,emoji,fecha_creacion";
/// The columns of the attachments table the store reads (`sql/adjuntos.sql`).
pub(super) const COLUMNAS_ADJUNTO: &str =
    "id,mensaje_id,conversacion_id,nombre,tipo,tamano,clave,miniatura";
/// Search for the PostgREST store (`sql/busqueda_postgrest.sql`).
pub(super) const FN_BUSCAR: &str = "weigence_buscar_mensajes";
/// A message and its attachment in one transaction (`sql/adjuntos.sql`).
pub(super) const FN_ADJUNTO: &str = "weigence_enviar_con_adjunto";
const OPCIONALES_USR: [&str; 5] = ["nombre", "correo", "rol", "password_hash", "Contraseña"];

/// The schema as seen through PostgREST.
#[derive(Debug)]
pub(super) struct Esquema {
    /// Table names of the variant found.
    pub tablas: Tablas,
    /// Id types of conversations and messages.
    pub kinds: IdKinds,
    /// The read marker holds a timestamp (else a message id).
    pub marca_es_fecha: bool,
    /// Optional columns present, as `table.column`.
    columnas: HashSet<String>,
    /// The four SQL functions of `sql/postgrest_functions.sql` are installed.
    pub funciones: bool,
    /// The v2 functions of that file are installed too: the send function takes `p_reply_to`
    /// and `<messages>_eliminar` exists.
    pub funciones_v2: bool,
    /// The v2 delta's reactions table exists with the columns the chat uses.
    pub reacciones: bool,
    /// The attachments table of `sql/adjuntos.sql` exists with the columns the chat uses.
    pub adjuntos: bool,
    /// Participants have the `silenciado` column of `sql/busqueda.sql`.
    pub silencios: bool,
    /// The search function of `sql/busqueda_postgrest.sql` is installed.
    pub fn_buscar: bool,
    /// The message-with-attachment function of `sql/adjuntos.sql` is installed.
    pub fn_adjunto: bool,
    /// `sql/grupos.sql` is applied (its reactions table, message kinds and functions); then
    /// `tablas.reacciones` names its reactions table.
    pub grupos: bool,
}

impl Esquema {
    /// Whether `tabla` has the optional column `columna`.
    pub fn tiene(&self, tabla: &str, columna: &str) -> bool {
        self.columnas.contains(&format!("{tabla}.{columna}"))
    }

    /// Name of the send function for these tables.
    pub fn fn_enviar(&self) -> String {
        format!("{}_enviar", self.tablas.mensajes)
    }

    /// Optional columns absent, as `table.column`.
    pub fn opcionales_ausentes(&self) -> Vec<String> {
        let t = self.tablas;
        OPCIONALES_CONV
            .iter()
            .map(|c| (t.conversaciones, *c))
            .chain(OPCIONALES_MSG.iter().map(|c| (t.mensajes, *c)))
            .chain(OPCIONALES_USR.iter().map(|c| ("usuarios", *c)))
            .filter(|(tabla, c)| !self.tiene(tabla, c))
            .map(|(tabla, c)| format!("{tabla}.{c}"))
            .collect()
    }

    /// What the v2 delta lacks (empty when it is complete).
    pub fn faltan_v2(&self) -> Vec<String> {
        let t = self.tablas;
        [
            (!self.reacciones).then(|| format!("table {}", t.reacciones)),
            (!self.tiene(t.conversaciones, "mensaje_fijado_id"))
                .then(|| format!("{}.mensaje_fijado_id", t.conversaciones)),
            (!self.tiene(t.mensajes, "reply_to")).then(|| format!("{}.reply_to", t.mensajes)),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// Name of the one-transaction delete function for these tables.
    pub fn fn_eliminar(&self) -> String {
        format!("{}_eliminar", self.tablas.mensajes)
    }

    /// Whether every piece of the v2 delta is there (`sql/v2_delta.sql`).
    pub fn delta_v2(&self) -> bool {
        self.faltan_v2().is_empty()
    }

    /// Name of the 1:1 find-or-create function for these tables.
    pub fn fn_uno_a_uno(&self) -> String {
        format!("{}_uno_a_uno", self.tablas.conversaciones)
    }

    /// Name of the read-marker function for these tables.
    pub fn fn_marcar_leido(&self) -> String {
        format!("{}_marcar_leido", self.tablas.participantes)
    }

    /// Name of the unread-count function for these tables.
    pub fn fn_no_leidos(&self) -> String {
        format!("{}_no_leidos", self.tablas.participantes)
    }

    /// `nombre,correo,rol` as far as `usuarios` has them (for `select`).
    pub fn columnas_usuario(&self) -> String {
        let cols: Vec<&str> = ["nombre", "correo", "rol"]
            .into_iter()
            .filter(|c| self.tiene("usuarios", c))
            .collect();
        if cols.is_empty() {
            "rut_usuario".into()
        } else {
            cols.join(",")
        }
    }

    /// The message columns plus the embedded author, for `select`.
    pub fn columnas_mensaje(&self) -> String {
        let mut cols = vec![
            "id",
            "conversacion_id",
            "usuario_id",
            "contenido",
            "fecha_envio",
        ];
        for c in ["editado", "eliminado", "reply_to", "tipo"] {
            if self.tiene(self.tablas.mensajes, c) {
                cols.push(c);
            }
        }
        format!("{},usuarios({})", cols.join(","), self.columnas_usuario())
    }

    /// Reads the schema: table variant (`forzada` when set), required and optional columns,
    /// id types, read-marker type and the SQL functions. Probes run concurrently.
    pub async fn leer(cliente: &Cliente, forzada: Option<TableVariant>) -> StoreResult<Esquema> {
        let variante = match forzada {
            Some(v) => v,
            None => {
                let [prefijo, sufijo] = [TableVariant::ChatPrefix, TableVariant::ChatSuffix]
                    .map(|v| existe_tabla(cliente, Tablas::de(v).conversaciones));
                let (prefijo, sufijo) = futures_util::join!(prefijo, sufijo);
                match (prefijo?, sufijo?) {
                    (true, _) => TableVariant::ChatPrefix,
                    (false, true) => TableVariant::ChatSuffix,
                    (false, false) => {
                        return Err(StoreError::Other(
                            "no chat tables found through PostgREST (expected chat_conversaciones or conversaciones_chat)".into(),
                        ));
                    }
                }
            }
        };
        let tablas = Tablas::de(variante);
        let requeridas: [(&str, &[&str]); 4] = [
            (tablas.conversaciones, &["id", "fecha_creacion"]),
            (
                tablas.participantes,
                &["conversacion_id", "usuario_id", "ultimo_mensaje_leido"],
            ),
            (
                tablas.mensajes,
                &[
                    "id",
                    "conversacion_id",
                    "usuario_id",
                    "contenido",
                    "fecha_envio",
                ],
            ),
            ("usuarios", &["rut_usuario"]),
        ];
        for resultado in join_all(
            requeridas
                .iter()
                .map(|(t, cols)| tiene_columna(cliente, t, cols.join(","))),
        )
        .await
        .into_iter()
        .zip(requeridas.iter())
        {
            let (presente, (tabla, cols)) = resultado;
            if !presente? {
                return Err(StoreError::Other(format!(
                    "table {tabla} is missing or lacks one of the columns {cols:?}"
                )));
            }
        }
        let opcionales: Vec<(&str, &str)> = OPCIONALES_CONV
            .iter()
            .map(|c| (tablas.conversaciones, *c))
            .chain(OPCIONALES_MSG.iter().map(|c| (tablas.mensajes, *c)))
            .chain(OPCIONALES_USR.iter().map(|c| ("usuarios", *c)))
            .collect();
        let sondas_columnas = join_all(
            opcionales
                .iter()
                .map(|(t, c)| tiene_columna(cliente, t, (*c).to_owned())),
        );
        let uuid_conv = es_uuid(cliente, tablas.conversaciones, "id");
        let uuid_msg = es_uuid(cliente, tablas.mensajes, "id");
        let marca = acepta_fecha(cliente, tablas.participantes, "ultimo_mensaje_leido");
        let nombres = [
            format!("{}_enviar", tablas.mensajes),
            format!("{}_uno_a_uno", tablas.conversaciones),
            format!("{}_marcar_leido", tablas.participantes),
            format!("{}_no_leidos", tablas.participantes),
            format!("{}_eliminar", tablas.mensajes),
        ];
        let funciones = join_all([
            existe_funcion(
                cliente,
                &nombres[0],
                json!({"p_conversacion_id": null, "p_usuario_id": null, "p_contenido": null, "p_client_id": null}),
            ),
            existe_funcion(cliente, &nombres[1], json!({"p_a": null, "p_b": null})),
            existe_funcion(
                cliente,
                &nombres[2],
                json!({"p_conversacion_id": null, "p_usuario_id": null, "p_hasta": null}),
            ),
            existe_funcion(
                cliente,
                &nombres[3],
                json!({"p_usuario_id": null, "p_solo": null}),
            ),
            existe_funcion(
                cliente,
                &nombres[0],
                json!({"p_conversacion_id": null, "p_usuario_id": null, "p_contenido": null, "p_client_id": null, "p_reply_to": null}),
            ),
            existe_funcion(cliente, &nombres[4], json!({"p_mensaje_id": null})),
        ]);
        let reacciones = tiene_columna(cliente, tablas.reacciones, COLUMNAS_REACCION.into());
        let extras = futures_util::future::try_join4(
            tiene_columna(cliente, tablas.adjuntos, COLUMNAS_ADJUNTO.into()),
            tiene_columna(cliente, tablas.participantes, "silenciado".into()),
            existe_rpc(
                cliente,
                FN_BUSCAR,
                json!({"p_rut": null, "p_q": "", "p_conversacion": null, "p_desde": 0, "p_limite": 0}),
            ),
            existe_rpc(
                cliente,
                FN_ADJUNTO,
                json!({"p_conversacion_id": null, "p_usuario_id": null, "p_contenido": null,
                       "p_reply_to": null, "p_nombre": null, "p_tipo": null, "p_tamano": null,
                       "p_clave": null, "p_miniatura": null}),
            ),
        );
        let grupos = futures_util::future::try_join(
            tiene_columna(cliente, tablas.reacciones_emoji, COLUMNAS_REACCION.into()),
            existe_rpc(
                cliente,
                "weigence_grupo",
                json!({"p_conv": null, "p_actor": null}),
            ),
        );
        let (columnas, uuid_conv, uuid_msg, marca, funciones, reacciones, extras, grupos) = futures_util::join!(
            sondas_columnas,
            uuid_conv,
            uuid_msg,
            marca,
            funciones,
            reacciones,
            extras,
            grupos
        );
        let (tabla_emoji, fn_grupos) = grupos?;
        let (adjuntos, silencios, fn_buscar, fn_adjunto) = extras?;
        let mut presentes = HashSet::new();
        for ((tabla, columna), hay) in opcionales.iter().zip(columnas) {
            if hay? {
                presentes.insert(format!("{tabla}.{columna}"));
            }
        }
        let kind = |uuid: bool| if uuid { IdKind::Uuid } else { IdKind::Integer };
        let funciones: Vec<bool> = funciones.into_iter().collect::<StoreResult<_>>()?;
        let grupos =
            tabla_emoji && fn_grupos && presentes.contains(&format!("{}.tipo", tablas.mensajes));
        Ok(Esquema {
            grupos,
            tablas: Tablas {
                reacciones: if grupos {
                    tablas.reacciones_emoji
                } else {
                    tablas.reacciones
                },
                ..tablas
            },
            kinds: IdKinds {
                conversacion: kind(uuid_conv?),
                mensaje: kind(uuid_msg?),
            },
            marca_es_fecha: marca?,
            columnas: presentes,
            funciones: funciones[..4].iter().all(|f| *f),
            funciones_v2: funciones.iter().all(|f| *f),
            reacciones: reacciones? || grupos,
            adjuntos,
            silencios,
            fn_buscar,
            fn_adjunto,
        })
    }
}

/// `GET /tabla?select=…&limit=0`: the table and columns exist (200) or not (404 / 400).
async fn tiene_columna(cliente: &Cliente, tabla: &str, columnas: String) -> StoreResult<bool> {
    let peticion = cliente
        .tabla(tabla)
        .select(columnas)
        .build()
        .query(&[("limit", "0")]);
    match cliente.json("esquema", peticion).await {
        Ok(_) => Ok(true),
        Err(f) if f.es(404, &TABLA_AUSENTE) || f.es(400, &COLUMNA_AUSENTE) => Ok(false),
        Err(f) => Err(f.into()),
    }
}

/// Calls an optional function with arguments that make it read or write nothing: 404
/// `PGRST202` means it is not installed, any other answer that it is (an error it raises, such as
/// a missing table or function it needs, shows up when it is used).
async fn existe_rpc(
    cliente: &Cliente,
    nombre: &str,
    argumentos: serde_json::Value,
) -> StoreResult<bool> {
    let peticion = cliente.funcion(nombre, &argumentos).build();
    match cliente.json("esquema", peticion).await {
        Ok(_) => Ok(true),
        Err(f) if f.es(404, &FUNCION_AUSENTE) => Ok(false),
        Err(Fallo::Rechazo { .. }) => Ok(true),
        Err(f) => Err(f.into()),
    }
}

async fn existe_tabla(cliente: &Cliente, tabla: &str) -> StoreResult<bool> {
    tiene_columna(cliente, tabla, "id".into()).await
}

/// Whether `columna` accepts a uuid literal (else it is an integer: 400 `22P02`).
async fn es_uuid(cliente: &Cliente, tabla: &str, columna: &str) -> StoreResult<bool> {
    acepta(
        cliente,
        tabla,
        columna,
        "00000000-0000-0000-0000-000000000000",
    )
    .await
}

/// Whether `columna` accepts a timestamp literal (the read marker: timestamp or message id).
async fn acepta_fecha(cliente: &Cliente, tabla: &str, columna: &str) -> StoreResult<bool> {
    acepta(cliente, tabla, columna, "1970-01-01T00:00:00").await
}

async fn acepta(cliente: &Cliente, tabla: &str, columna: &str, valor: &str) -> StoreResult<bool> {
    let peticion = cliente
        .tabla(tabla)
        .select(columna)
        .eq(columna, valor)
        .build()
        .query(&[("limit", "0")]);
    match cliente.json("esquema", peticion).await {
        Ok(_) => Ok(true),
        Err(f) if f.es(400, &VALOR_INVALIDO) => Ok(false),
        Err(f) => Err(f.into()),
    }
}

/// Calls the function with null arguments (each one refuses or ignores them without writing):
/// 404 `PGRST202` means it is not installed, any other answer that it is.
async fn existe_funcion(
    cliente: &Cliente,
    nombre: &str,
    argumentos: serde_json::Value,
) -> StoreResult<bool> {
    let peticion = cliente.funcion(nombre, &argumentos).build();
    match cliente.json("esquema", peticion).await {
        Ok(_) => Ok(true),
        Err(f) if f.es(404, &FUNCION_AUSENTE) => Ok(false),
        Err(Fallo::Rechazo { status, .. }) if status == 400 || status == 403 => Ok(true),
        Err(f) => Err(f.into()),
    }
}
