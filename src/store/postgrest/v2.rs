//! What Weigence's v2 generation added: replies' quotes and reactions on every message read,
//! one message by id, the conversation's read markers and pin, reactions, pins and deletes.
//! The v2 delta's tables have no foreign keys, so PostgREST cannot embed them: the extras of a
//! page of messages come from at most two more requests sent together. Every call costs a
//! constant number of requests, whatever the number of messages or reactions.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::peticion::en;
use super::{Esquema, PostgrestStore, filas};
use crate::dominio::{Cita, EstadoConversacion, Id, Mensaje, Reaccion};
use crate::store::{MensajeEncontrado, StoreResult};

impl PostgrestStore {
    /// Fills the reply quotes (a non-deleted message of the same conversation) and, with
    /// `con_reacciones`, the reactions (oldest first) of `mensajes`: one request for the quoted
    /// messages when any of them replies and one for the reactions, sent together. Nothing
    /// without the v2 delta or without messages.
    pub(super) async fn completar_extras(
        &self,
        e: &Esquema,
        mensajes: &mut [Mensaje],
        con_reacciones: bool,
    ) -> StoreResult<()> {
        if !e.delta_v2() || mensajes.is_empty() {
            return Ok(());
        }
        let t = e.tablas;
        // Several messages often quote the same one: ask for each once.
        let citadas: std::collections::BTreeSet<&str> = mensajes
            .iter()
            .filter_map(|m| m.extras.responde_a.as_ref().map(Id::as_str))
            .collect();
        let citas = async {
            if citadas.is_empty() {
                return Ok(Value::Array(Vec::new()));
            }
            let mut peticion = self.cliente.tabla(t.mensajes).select(format!(
                "id,conversacion_id,usuario_id,contenido,usuarios({})",
                e.columnas_usuario()
            ));
            if e.tiene(t.mensajes, "eliminado") {
                peticion = peticion.not("is", "eliminado", "true");
            }
            let peticion = peticion.build().query(&[("id", en(&citadas))]);
            self.cliente.json("extras", peticion).await
        };
        let ids: Vec<&str> = mensajes.iter().map(|m| m.id.as_str()).collect();
        let reacciones = async {
            if !con_reacciones {
                return Ok(Value::Array(Vec::new()));
            }
            let peticion = self
                .cliente
                .tabla(t.reacciones)
                .select("mensaje_id,usuario_id,emoji")
                .order("fecha_creacion.asc,usuario_id.asc")
                .build()
                .query(&[("mensaje_id", en(&ids))]);
            self.cliente.json("extras", peticion).await
        };
        let (citas, reacciones) = futures_util::join!(citas, reacciones);
        let (citas, reacciones) = (citas?, reacciones?);
        let mut por_id: HashMap<Id, (Id, Cita)> = HashMap::new();
        for c in filas::filas(&citas)? {
            let autor = filas::usuario(
                filas::texto(&c["usuario_id"]).unwrap_or_default(),
                &c["usuarios"],
            );
            por_id.insert(
                filas::id(&c["id"], e.kinds.mensaje)?,
                (
                    filas::id(&c["conversacion_id"], e.kinds.conversacion)?,
                    Cita {
                        contenido: filas::texto(&c["contenido"]).unwrap_or_default(),
                        usuario_id: autor.rut,
                        usuario_nombre: autor.nombre,
                    },
                ),
            );
        }
        let lista = reacciones_de(e, &reacciones)?;
        for m in mensajes.iter_mut() {
            m.extras.cita = m
                .extras
                .responde_a
                .as_ref()
                .and_then(|r| por_id.get(r))
                .filter(|(conversacion, _)| *conversacion == m.conversacion_id)
                .map(|(_, cita)| cita.clone());
            m.extras.reacciones = lista
                .iter()
                .filter(|(id, _)| *id == m.id)
                .map(|(_, r)| r.clone())
                .collect();
        }
        Ok(())
    }

    /// Whether the v2 delta is present, as read at start-up.
    pub(super) async fn leer_delta_v2(&self) -> StoreResult<bool> {
        Ok(self.esquema().await?.delta_v2())
    }

    /// One request.
    pub(super) async fn leer_participantes(&self, conversacion: &Id) -> StoreResult<Vec<String>> {
        let e = self.esquema().await?;
        let peticion = self
            .cliente
            .tabla(e.tablas.participantes)
            .select("usuario_id")
            .eq("conversacion_id", conversacion.as_str())
            .order("usuario_id.asc")
            .build();
        let r = self.cliente.json("participantes", peticion).await?;
        Ok(filas::filas(&r)?
            .iter()
            .filter_map(|f| filas::texto(&f["usuario_id"]))
            .collect())
    }

    /// One request for the message with `rut`'s participation embedded, then its extras.
    pub(super) async fn leer_mensaje(
        &self,
        id: &Id,
        rut: &str,
    ) -> StoreResult<Option<MensajeEncontrado>> {
        let e = self.esquema().await?;
        let t = e.tablas;
        let mut peticion = self
            .cliente
            .tabla(t.mensajes)
            .select(format!(
                "{},{}({}(usuario_id))",
                e.columnas_mensaje(),
                t.conversaciones,
                t.participantes
            ))
            .eq("id", id.as_str());
        if e.tiene(t.mensajes, "eliminado") {
            peticion = peticion.not("is", "eliminado", "true");
        }
        let peticion = peticion.build().query(&[(
            format!("{}.{}.usuario_id", t.conversaciones, t.participantes),
            format!("eq.{rut}"),
        )]);
        let r = self.cliente.json("mensaje", peticion).await?;
        let Some(fila) = filas::filas(&r)?.first() else {
            return Ok(None);
        };
        let participa = fila[t.conversaciones][t.participantes]
            .as_array()
            .is_some_and(|p| !p.is_empty());
        let mut lista = [filas::mensaje(fila, e.kinds)?];
        self.completar_extras(e, &mut lista, true).await?;
        let [mensaje] = lista;
        Ok(Some(MensajeEncontrado { mensaje, participa }))
    }

    /// Two requests together (the two participants' markers, the conversation's pin); then,
    /// together, where timestamp markers point (one each) and the pinned message; then its
    /// extras.
    pub(super) async fn leer_estado(
        &self,
        conversacion: &Id,
        yo: &str,
        otro: &str,
    ) -> StoreResult<EstadoConversacion> {
        let e = self.esquema().await?;
        let t = e.tablas;
        let con_pin = e.tiene(t.conversaciones, "mensaje_fijado_id");
        let marcas = self
            .cliente
            .tabla(t.participantes)
            .select("usuario_id,ultimo_mensaje_leido")
            .eq("conversacion_id", conversacion.as_str())
            .build()
            .query(&[("usuario_id", en([yo, otro]))]);
        let conv = self
            .cliente
            .tabla(t.conversaciones)
            .select(if con_pin {
                "id,mensaje_fijado_id"
            } else {
                "id"
            })
            .eq("id", conversacion.as_str())
            .build();
        let (marcas, conv) = futures_util::join!(
            self.cliente.json("estado_conversacion", marcas),
            self.cliente.json("estado_conversacion", conv)
        );
        let (marcas, conv) = (marcas?, conv?);
        let Some(conv) = filas::filas(&conv)?.first() else {
            return Ok(EstadoConversacion::default());
        };
        let marca_de = |quien: &str| {
            filas::filas(&marcas).map(|lista| {
                lista
                    .iter()
                    .find(|f| f["usuario_id"].as_str() == Some(quien))
                    .map(|f| f["ultimo_mensaje_leido"].clone())
                    .filter(|v| !v.is_null())
            })
        };
        let (mia, suya) = (marca_de(yo)?, marca_de(otro)?);
        let marca = async |valor: Option<Value>| -> StoreResult<Option<Id>> {
            let Some(valor) = valor else {
                return Ok(None);
            };
            if !e.marca_es_fecha {
                return Ok(Id::from_json(&valor, e.kinds.mensaje));
            }
            // The newest message at or before the timestamp, as the Postgres store reads it.
            let peticion = self
                .cliente
                .tabla(t.mensajes)
                .select("id")
                .eq("conversacion_id", conversacion.as_str())
                .lte("fecha_envio", valor.as_str().unwrap_or_default())
                .order("fecha_envio.desc,id.desc")
                .build()
                .query(&[("limit", "1")]);
            let r = self.cliente.json("estado_conversacion", peticion).await?;
            Ok(filas::filas(&r)?
                .first()
                .and_then(|f| Id::from_json(&f["id"], e.kinds.mensaje)))
        };
        let fijado = async {
            let Some(id) = Id::from_json(&conv["mensaje_fijado_id"], e.kinds.mensaje) else {
                return Ok(None);
            };
            let mut peticion = self
                .cliente
                .tabla(t.mensajes)
                .select(e.columnas_mensaje())
                .eq("id", id.as_str())
                .eq("conversacion_id", conversacion.as_str());
            if e.tiene(t.mensajes, "eliminado") {
                peticion = peticion.not("is", "eliminado", "true");
            }
            let r = self
                .cliente
                .json("estado_conversacion", peticion.build())
                .await?;
            let Some(fila) = filas::filas(&r)?.first() else {
                return Ok(None);
            };
            let mut lista = [filas::mensaje(fila, e.kinds)?];
            self.completar_extras(e, &mut lista, true).await?;
            let [m] = lista;
            StoreResult::Ok(Some(m))
        };
        let (visto_por_mi, visto_por_otro, fijado) =
            futures_util::join!(marca(mia), marca(suya), fijado);
        Ok(EstadoConversacion {
            visto_por_mi: visto_por_mi?,
            visto_por_otro: visto_por_otro?,
            fijado: fijado?,
        })
    }

    /// Two requests: the atomic upsert (PostgREST's `merge-duplicates` on the unique pair) or
    /// the delete, then the message's reactions.
    pub(super) async fn cambiar_reaccion(
        &self,
        mensaje: &Id,
        rut: &str,
        emoji: Option<&str>,
    ) -> StoreResult<Vec<Reaccion>> {
        let e = self.esquema().await?;
        let t = e.tablas;
        let cambio = match emoji {
            // A changed reaction counts from now, as in the Postgres store (the time is the
            // server's: PostgREST cannot send `now()` in a body).
            Some(emoji) => self
                .cliente
                .tabla(t.reacciones)
                .select("usuario_id")
                .upsert(
                    json!({
                        "mensaje_id": mensaje.to_json(),
                        "usuario_id": rut,
                        "emoji": emoji,
                        "fecha_creacion": chrono::Utc::now()
                            .naive_utc()
                            .format("%Y-%m-%dT%H:%M:%S%.6f")
                            .to_string(),
                    })
                    .to_string(),
                )
                .on_conflict("mensaje_id,usuario_id")
                .build(),
            None => self
                .cliente
                .tabla(t.reacciones)
                .select("usuario_id")
                .eq("mensaje_id", mensaje.as_str())
                .eq("usuario_id", rut)
                .delete()
                .build(),
        };
        self.cliente.json("reaccionar", cambio).await?;
        let peticion = self
            .cliente
            .tabla(t.reacciones)
            .select("mensaje_id,usuario_id,emoji")
            .eq("mensaje_id", mensaje.as_str())
            .order("fecha_creacion.asc,usuario_id.asc")
            .build();
        let r = self.cliente.json("reaccionar", peticion).await?;
        Ok(reacciones_de(e, &r)?.into_iter().map(|(_, r)| r).collect())
    }

    /// One request.
    pub(super) async fn poner_fijado(&self, conversacion: &Id, mensaje: &Id) -> StoreResult<()> {
        let e = self.esquema().await?;
        let peticion = self
            .cliente
            .tabla(e.tablas.conversaciones)
            .select("id")
            .eq("id", conversacion.as_str())
            .update(json!({ "mensaje_fijado_id": mensaje.to_json() }).to_string())
            .build();
        self.cliente.json("fijar", peticion).await?;
        Ok(())
    }

    /// One request: a conditional update that clears the pin only when it is `mensaje`.
    pub(super) async fn quitar_fijado(&self, conversacion: &Id, mensaje: &Id) -> StoreResult<bool> {
        let e = self.esquema().await?;
        let peticion = self
            .cliente
            .tabla(e.tablas.conversaciones)
            .select("id")
            .eq("id", conversacion.as_str())
            .eq("mensaje_fijado_id", mensaje.as_str())
            .update(json!({ "mensaje_fijado_id": null }).to_string())
            .build();
        let r = self.cliente.json("desfijar", peticion).await?;
        Ok(!filas::filas(&r)?.is_empty())
    }

    /// With the v2 functions: one request and one transaction. Without them, best effort in
    /// three requests: the message marked (or removed), then its reactions and the pin cleared
    /// together (a failure between them leaves reactions or a pin of a deleted message, which
    /// every read path already ignores).
    pub(super) async fn borrar_mensaje(&self, mensaje: &Id) -> StoreResult<bool> {
        let e = self.esquema().await?;
        let t = e.tablas;
        if e.funciones_v2 {
            let peticion = self
                .cliente
                .funcion(
                    &e.fn_eliminar(),
                    &json!({ "p_mensaje_id": mensaje.as_str() }),
                )
                .build();
            let r = self.cliente.json("eliminar_mensaje", peticion).await?;
            return Ok(r.as_bool().unwrap_or(false));
        }
        let borrado = self
            .cliente
            .tabla(t.mensajes)
            .select("id,conversacion_id")
            .eq("id", mensaje.as_str());
        let borrado = if e.tiene(t.mensajes, "eliminado") {
            borrado
                .not("is", "eliminado", "true")
                .update(json!({ "eliminado": true }).to_string())
        } else {
            borrado.delete()
        };
        let r = self
            .cliente
            .json("eliminar_mensaje", borrado.build())
            .await?;
        let Some(fila) = filas::filas(&r)?.first() else {
            return Ok(false);
        };
        let conversacion = filas::id(&fila["conversacion_id"], e.kinds.conversacion)?;
        let reacciones = async {
            if !e.reacciones {
                return Ok(Value::Null);
            }
            let peticion = self
                .cliente
                .tabla(t.reacciones)
                .eq("mensaje_id", mensaje.as_str())
                .delete()
                .build();
            self.cliente.json("eliminar_mensaje", peticion).await
        };
        let pin = async {
            if !e.tiene(t.conversaciones, "mensaje_fijado_id") {
                return Ok(Value::Null);
            }
            self.quitar_fijado(&conversacion, mensaje)
                .await
                .map(|_| Value::Null)
        };
        let (reacciones, pin) = futures_util::join!(reacciones, pin);
        reacciones?;
        pin?;
        Ok(true)
    }
}

/// Reactions rows (`mensaje_id,usuario_id,emoji`) in their order, with their message's id.
fn reacciones_de(e: &Esquema, respuesta: &Value) -> StoreResult<Vec<(Id, Reaccion)>> {
    filas::filas(respuesta)?
        .iter()
        .map(|r| {
            Ok((
                filas::id(&r["mensaje_id"], e.kinds.mensaje)?,
                Reaccion {
                    usuario_id: filas::texto(&r["usuario_id"]).unwrap_or_default(),
                    emoji: filas::texto(&r["emoji"]).unwrap_or_default(),
                },
            ))
        })
        .collect()
}
