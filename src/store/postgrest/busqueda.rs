//! Message search (through the optional function of `sql/busqueda_postgrest.sql`) and the
//! per-conversation mute flags on the participants table.

use serde_json::json;

use super::esquema::FN_BUSCAR;
use super::{PostgrestStore, filas};
use crate::dominio::{Coincidencia, Id, Usuario};
use crate::store::{Busqueda, StoreError, StoreResult};

impl PostgrestStore {
    /// One request: the search function runs the Postgres store's query. Without it search
    /// answers [`StoreError::FaltaEsquema`] naming `sql/busqueda_postgrest.sql` (PostgREST's
    /// filters cannot rank or highlight), and naming `sql/busqueda.sql` when the function lacks
    /// the `weigence_unaccent` of that file.
    pub(super) async fn buscar_mensajes(&self, b: Busqueda<'_>) -> StoreResult<Vec<Coincidencia>> {
        let e = self.esquema().await?;
        if !e.fn_buscar {
            return Err(StoreError::FaltaEsquema("sql/busqueda_postgrest.sql"));
        }
        let peticion = self
            .cliente
            .funcion(
                FN_BUSCAR,
                &json!({
                    "p_rut": b.rut,
                    "p_q": b.consulta,
                    "p_conversacion": b.conversacion.map(Id::as_str),
                    "p_desde": b.desde,
                    "p_limite": b.limite,
                }),
            )
            .build();
        let r = match self.cliente.json("buscar", peticion).await {
            Ok(r) => r,
            // The function is there but `weigence_unaccent` is not (404 `42883`, undefined
            // function): sql/busqueda.sql was not applied.
            Err(f) if f.es(404, &["42883"]) => {
                return Err(StoreError::FaltaEsquema("sql/busqueda.sql"));
            }
            Err(f) => return Err(f.into()),
        };
        filas::filas(&r)?
            .iter()
            .map(|f| {
                let texto_id = |campo: &str| filas::texto(&f[campo]).unwrap_or_default();
                let id = |campo: &str, kind| {
                    let t = texto_id(campo);
                    Id::parse(&t, kind).ok_or_else(|| {
                        StoreError::Other(format!("unexpected id {t:?} from PostgREST"))
                    })
                };
                let autor = Usuario::from_columns(
                    texto_id("usuario_id"),
                    filas::texto(&f["usuario_nombre"]),
                    None,
                    None,
                );
                Ok(Coincidencia {
                    mensaje_id: id("mensaje_id", e.kinds.mensaje)?,
                    conversacion_id: id("conversacion_id", e.kinds.conversacion)?,
                    usuario_id: autor.rut,
                    usuario_nombre: autor.nombre,
                    fecha_envio: texto_id("fecha_envio"),
                    rango: f["rango"].as_f64().unwrap_or(0.0),
                    fragmento: texto_id("fragmento"),
                })
            })
            .collect()
    }

    /// One request for the list, one more first for a change (a PATCH of the caller's
    /// participant row: a non-participant changes nothing).
    pub(super) async fn cambiar_silencios(
        &self,
        rut: &str,
        cambio: Option<(&Id, bool)>,
    ) -> StoreResult<Vec<Id>> {
        let e = self.esquema().await?;
        let t = e.tablas;
        if !e.silencios {
            return match cambio {
                Some(_) => Err(StoreError::FaltaEsquema("sql/busqueda.sql")),
                None => Ok(Vec::new()),
            };
        }
        if let Some((conversacion, silenciado)) = cambio {
            let peticion = self
                .cliente
                .tabla(t.participantes)
                .eq("conversacion_id", conversacion.as_str())
                .eq("usuario_id", rut)
                .update(json!({ "silenciado": silenciado }).to_string())
                .build();
            self.cliente.json("silencios", peticion).await?;
        }
        let peticion = self
            .cliente
            .tabla(t.participantes)
            .select("conversacion_id")
            .eq("usuario_id", rut)
            .is("silenciado", "true")
            .order("conversacion_id")
            .build();
        let r = self.cliente.json("silencios", peticion).await?;
        filas::filas(&r)?
            .iter()
            .map(|f| filas::id(&f["conversacion_id"], e.kinds.conversacion))
            .collect()
    }
}
