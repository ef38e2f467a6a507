//! Attachments: the metadata table of `sql/adjuntos.sql`, and a message stored with its
//! attachment (in one transaction through that file's function, best-effort without it).

use serde_json::{Value, json};

use super::esquema::{COLUMNAS_ADJUNTO, FN_ADJUNTO};
use super::peticion::en;
use super::{PostgrestStore, filas};
use crate::dominio::{Adjunto, Id, IdKinds, Mensaje};
use crate::store::{NuevoAdjunto, NuevoMensaje, StoreError, StoreResult};

impl PostgrestStore {
    /// With the function of `sql/adjuntos.sql` (and the send function of
    /// `sql/postgrest_functions.sql` it calls): one request, one transaction. Without it: the
    /// message is sent as any other (one or two requests), then the attachment row is inserted;
    /// when that insert fails the message is deleted again (one more request), which a crash in
    /// between would skip.
    pub(super) async fn guardar_con_adjunto(
        &self,
        nuevo: NuevoMensaje<'_>,
        adjunto: NuevoAdjunto<'_>,
    ) -> StoreResult<(Mensaje, Adjunto)> {
        let e = self.esquema().await?;
        let t = e.tablas;
        if !e.adjuntos {
            return Err(StoreError::FaltaEsquema("sql/adjuntos.sql"));
        }
        if e.fn_adjunto && e.funciones {
            let peticion = self
                .cliente
                .funcion(
                    FN_ADJUNTO,
                    &json!({
                        "p_conversacion_id": nuevo.conversacion.as_str(),
                        "p_usuario_id": nuevo.autor,
                        "p_contenido": nuevo.contenido,
                        "p_reply_to": nuevo.responde_a.map(Id::as_str),
                        "p_nombre": adjunto.nombre,
                        "p_tipo": adjunto.tipo,
                        "p_tamano": adjunto.tamano,
                        "p_clave": adjunto.clave,
                        "p_miniatura": adjunto.miniatura,
                    }),
                )
                .build();
            let r = self.cliente.json("insertar_con_adjunto", peticion).await?;
            return Ok((
                filas::mensaje(&r["mensaje"], e.kinds)?,
                adjunto_de(&r["adjunto"], e.kinds)?,
            ));
        }
        let mensaje = self
            .insertar(NuevoMensaje {
                clave: None,
                ..nuevo
            })
            .await?
            .mensaje;
        let fila = json!({
            "mensaje_id": mensaje.id.to_json(),
            "conversacion_id": nuevo.conversacion.to_json(),
            "nombre": adjunto.nombre,
            "tipo": adjunto.tipo,
            "tamano": adjunto.tamano,
            "clave": adjunto.clave,
            "miniatura": adjunto.miniatura,
        });
        let peticion = self
            .cliente
            .tabla(t.adjuntos)
            .select(COLUMNAS_ADJUNTO)
            .insert(fila.to_string())
            .build();
        let guardado = match self.cliente.json("insertar_con_adjunto", peticion).await {
            Ok(r) => filas::filas(&r)?
                .first()
                .ok_or_else(|| StoreError::Other("attachment insert returned no row".into()))
                .and_then(|f| adjunto_de(f, e.kinds)),
            Err(f) => Err(f.into()),
        };
        match guardado {
            Ok(a) => Ok((mensaje, a)),
            Err(error) => {
                let peticion = self
                    .cliente
                    .tabla(t.mensajes)
                    .eq("id", mensaje.id.as_str())
                    .delete()
                    .build();
                if let Err(f) = self.cliente.json("insertar_con_adjunto", peticion).await {
                    tracing::warn!(
                        error = %StoreError::from(f),
                        "no se pudo retirar el mensaje de un adjunto fallido"
                    );
                }
                Err(error)
            }
        }
    }

    /// One request for the attachment, then two together: its message (not deleted) and the
    /// caller's participant row.
    pub(super) async fn leer_adjunto(
        &self,
        id: i64,
        rut: &str,
    ) -> StoreResult<Option<(Adjunto, bool)>> {
        let e = self.esquema().await?;
        let t = e.tablas;
        if !e.adjuntos {
            return Ok(None);
        }
        let peticion = self
            .cliente
            .tabla(t.adjuntos)
            .select(COLUMNAS_ADJUNTO)
            .eq("id", id.to_string())
            .build();
        let r = self.cliente.json("adjunto", peticion).await?;
        let Some(fila) = filas::filas(&r)?.first() else {
            return Ok(None);
        };
        let adjunto = adjunto_de(fila, e.kinds)?;
        let mut mensaje = self
            .cliente
            .tabla(t.mensajes)
            .select("id")
            .eq("id", adjunto.mensaje_id.as_str());
        if e.tiene(t.mensajes, "eliminado") {
            mensaje = mensaje.not("is", "eliminado", "true");
        }
        let participante = self
            .cliente
            .tabla(t.participantes)
            .select("usuario_id")
            .eq("conversacion_id", adjunto.conversacion_id.as_str())
            .eq("usuario_id", rut)
            .build();
        let (mensaje, participante) = futures_util::join!(
            self.cliente.json("adjunto", mensaje.build()),
            self.cliente.json("adjunto", participante)
        );
        if filas::filas(&mensaje?)?.is_empty() {
            return Ok(None);
        }
        let participa = !filas::filas(&participante?)?.is_empty();
        Ok(Some((adjunto, participa)))
    }

    /// One request for the conversation's attachments, one more for which of their messages
    /// are still there and not deleted.
    pub(super) async fn leer_adjuntos(&self, conversacion: &Id) -> StoreResult<Vec<Adjunto>> {
        let e = self.esquema().await?;
        let t = e.tablas;
        if !e.adjuntos {
            return Ok(Vec::new());
        }
        let peticion = self
            .cliente
            .tabla(t.adjuntos)
            .select(COLUMNAS_ADJUNTO)
            .eq("conversacion_id", conversacion.as_str())
            .order("id")
            .build();
        let r = self.cliente.json("adjuntos", peticion).await?;
        let lista = filas::filas(&r)?
            .iter()
            .map(|f| adjunto_de(f, e.kinds))
            .collect::<StoreResult<Vec<_>>>()?;
        if lista.is_empty() {
            return Ok(lista);
        }
        let mut visibles = self
            .cliente
            .tabla(t.mensajes)
            .select("id")
            .eq("conversacion_id", conversacion.as_str());
        if e.tiene(t.mensajes, "eliminado") {
            visibles = visibles.not("is", "eliminado", "true");
        }
        let visibles = visibles
            .build()
            .query(&[("id", en(lista.iter().map(|a| a.mensaje_id.as_str())))]);
        let r = self.cliente.json("adjuntos", visibles).await?;
        let vivos = filas::filas(&r)?
            .iter()
            .map(|f| filas::id(&f["id"], e.kinds.mensaje))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(lista
            .into_iter()
            .filter(|a| vivos.contains(&a.mensaje_id))
            .collect())
    }
}

/// An attachment row (as selected with [`COLUMNAS_ADJUNTO`] or returned by the function).
fn adjunto_de(fila: &Value, kinds: IdKinds) -> StoreResult<Adjunto> {
    let texto = |campo: &str| {
        filas::texto(&fila[campo])
            .ok_or_else(|| StoreError::Other(format!("attachment row without {campo}")))
    };
    Ok(Adjunto {
        id: fila["id"]
            .as_i64()
            .ok_or_else(|| StoreError::Other("attachment row without id".into()))?,
        mensaje_id: filas::id(&fila["mensaje_id"], kinds.mensaje)?,
        conversacion_id: filas::id(&fila["conversacion_id"], kinds.conversacion)?,
        nombre: texto("nombre")?,
        tipo: texto("tipo")?,
        tamano: fila["tamano"]
            .as_i64()
            .ok_or_else(|| StoreError::Other("attachment row without tamano".into()))?,
        clave: texto("clave")?,
        miniatura: filas::texto(&fila["miniatura"]),
    })
}
