//! Messages: history pages (deleted ones left out, with replies' quotes and reactions), sends
//! and the read marker.

use serde_json::{Value, json};

use super::peticion::citar;
use super::{PostgrestStore, filas};
use crate::dominio::{Id, Mensaje};
use crate::store::{Enviado, Insercion, NuevoMensaje, StoreError, StoreResult};

impl PostgrestStore {
    /// One request for the newest page; one more first when paging back from `antes`; with the
    /// v2 delta up to two more, together, for the quotes and reactions.
    pub(super) async fn leer_mensajes(
        &self,
        conversacion: &Id,
        antes: Option<&Id>,
        limite: i64,
    ) -> StoreResult<Vec<Mensaje>> {
        let e = self.esquema().await?;
        let t = e.tablas;
        let mut peticion = self
            .cliente
            .tabla(t.mensajes)
            .select(e.columnas_mensaje())
            .eq("conversacion_id", conversacion.as_str())
            .order("fecha_envio.desc,id.desc");
        if e.tiene(t.mensajes, "eliminado") {
            peticion = peticion.not("is", "eliminado", "true");
        }
        if let Some(antes) = antes {
            // Where `antes` is; a message of another conversation (or none) gives no page, as
            // in the Postgres store.
            let ancla = self
                .cliente
                .tabla(t.mensajes)
                .select("fecha_envio")
                .eq("id", antes.as_str())
                .eq("conversacion_id", conversacion.as_str())
                .build();
            let respuesta = self.cliente.json("mensajes", ancla).await?;
            let Some(fecha) = filas::filas(&respuesta)?
                .first()
                .and_then(|f| f["fecha_envio"].as_str().map(str::to_owned))
            else {
                return Ok(Vec::new());
            };
            let f = citar(&fecha);
            peticion = peticion.or(format!(
                "fecha_envio.lt.{f},and(fecha_envio.eq.{f},id.lt.{})",
                citar(antes.as_str())
            ));
        }
        let peticion = peticion
            .build()
            .query(&[("limit", limite.max(0).to_string())]);
        let respuesta = self.cliente.json("mensajes", peticion).await?;
        let mut lista = filas::filas(&respuesta)?
            .iter()
            .map(|m| filas::mensaje(m, e.kinds))
            .collect::<StoreResult<Vec<_>>>()?;
        lista.reverse();
        self.completar_extras(e, &mut lista, true).await?;
        Ok(lista)
    }

    /// A send with its checks: the participants (one request, skipped when the caller knows
    /// them), the replied message (one request, with a reply), then [`Self::guardar_mensaje`].
    pub(super) async fn enviar_mensaje(&self, nuevo: NuevoMensaje<'_>) -> StoreResult<Enviado> {
        let participantes = match nuevo.participantes {
            Some(conocidos) => conocidos.to_vec(),
            None => self.leer_participantes(nuevo.conversacion).await?,
        };
        if !participantes.iter().any(|p| p == nuevo.autor) {
            return Ok(Enviado::NoParticipa);
        }
        if let Some(cita) = nuevo.responde_a {
            match self.leer_mensaje(cita, nuevo.autor).await? {
                Some(e) if &e.mensaje.conversacion_id == nuevo.conversacion => {}
                _ => return Ok(Enviado::CitaAjena),
            }
        }
        match self.guardar_mensaje(nuevo).await {
            Ok(insercion) => Ok(Enviado::Guardado {
                insercion,
                participantes,
            }),
            Err(StoreError::NoParticipa) => Ok(Enviado::NoParticipa),
            Err(e) => Err(e),
        }
    }

    /// With the SQL function: one request and one transaction (participant check, idempotent
    /// insert, conversation update). Without it (or, for a reply, without its v2 version): the
    /// insert, then the conversation update (a crash between them leaves the conversation's
    /// last-message columns behind); a repeated client key (409 `23505` on the `client_id`
    /// index) returns the first message. A reply, or a repeated send, then gets its extras (up
    /// to two more requests, together).
    pub(super) async fn guardar_mensaje(&self, nuevo: NuevoMensaje<'_>) -> StoreResult<Insercion> {
        let e = self.esquema().await?;
        let mut insercion = self.insertar(nuevo).await?;
        if insercion.mensaje.extras.responde_a.is_some() || !insercion.nuevo {
            let nuevo = insercion.nuevo;
            self.completar_extras(e, std::slice::from_mut(&mut insercion.mensaje), !nuevo)
                .await?;
        }
        Ok(insercion)
    }

    /// The send itself, without the reply's quote and reactions (also the first half of an
    /// attachment's best-effort path).
    pub(super) async fn insertar(&self, nuevo: NuevoMensaje<'_>) -> StoreResult<Insercion> {
        let NuevoMensaje {
            conversacion,
            autor,
            contenido,
            clave,
            responde_a,
            ..
        } = nuevo;
        let e = self.esquema().await?;
        let t = e.tablas;
        if e.funciones_v2 || (e.funciones && responde_a.is_none()) {
            let mut argumentos = json!({
                "p_conversacion_id": conversacion.as_str(),
                "p_usuario_id": autor,
                "p_contenido": contenido,
                "p_client_id": clave,
            });
            if e.funciones_v2 {
                argumentos["p_reply_to"] = json!(responde_a.map(Id::as_str));
            }
            let peticion = self.cliente.funcion(&e.fn_enviar(), &argumentos).build();
            let r = match self.cliente.json("insertar_mensaje", peticion).await {
                Ok(r) => r,
                // The function's own participant check (a removal committed since ours).
                Err(f) if f.es(403, &["PT403"]) => return Err(StoreError::NoParticipa),
                Err(f) => return Err(f.into()),
            };
            return Ok(Insercion {
                mensaje: filas::mensaje(&r["mensaje"], e.kinds)?,
                nuevo: r["nuevo"].as_bool().unwrap_or(true),
            });
        }
        let mut fila = json!({
            "conversacion_id": conversacion.to_json(),
            "usuario_id": autor,
            "contenido": contenido,
        });
        let con_clave = clave.filter(|_| e.tiene(t.mensajes, "client_id"));
        if let Some(k) = con_clave {
            fila["client_id"] = json!(k);
        }
        if let Some(r) = responde_a.filter(|_| e.tiene(t.mensajes, "reply_to")) {
            fila["reply_to"] = r.to_json();
        }
        let peticion = self
            .cliente
            .tabla(t.mensajes)
            .select(e.columnas_mensaje())
            .insert(fila.to_string())
            .build();
        let mensaje = match self.cliente.json("insertar_mensaje", peticion).await {
            Ok(r) => filas::mensaje(
                filas::filas(&r)?
                    .first()
                    .ok_or_else(|| StoreError::Other("insert returned no message".into()))?,
                e.kinds,
            )?,
            Err(f) if con_clave.is_some() && f.es(409, &["23505"]) => {
                let peticion = self
                    .cliente
                    .tabla(t.mensajes)
                    .select(e.columnas_mensaje())
                    .eq("usuario_id", autor)
                    .eq("client_id", con_clave.unwrap_or_default())
                    .build();
                let r = self.cliente.json("insertar_mensaje", peticion).await?;
                let previo = filas::filas(&r)?
                    .first()
                    .ok_or_else(|| StoreError::Other("duplicate key but no message".into()))?;
                return Ok(Insercion {
                    mensaje: filas::mensaje(previo, e.kinds)?,
                    nuevo: false,
                });
            }
            Err(f) => return Err(f.into()),
        };
        let mut toque = serde_json::Map::new();
        for (col, valor) in [
            ("ultima_actualizacion", json!(mensaje.fecha_envio)),
            ("ultimo_mensaje_id", mensaje.id.to_json()),
            ("ultimo_mensaje_timestamp", json!(mensaje.fecha_envio)),
        ] {
            if e.tiene(t.conversaciones, col) {
                toque.insert(col.into(), valor);
            }
        }
        if !toque.is_empty() {
            let peticion = self
                .cliente
                .tabla(t.conversaciones)
                .eq("id", conversacion.as_str())
                .update(Value::Object(toque).to_string())
                .build();
            self.cliente.json("insertar_mensaje", peticion).await?;
        }
        Ok(Insercion {
            mensaje,
            nuevo: true,
        })
    }

    /// With the SQL function: one request, forward-only in (fecha_envio, id) order. Without
    /// it: find the target (one or two requests), then conditional updates (one or two) that move
    /// a timestamp marker only forward and an id marker only to a greater id.
    pub(super) async fn mover_marca(
        &self,
        conversacion: &Id,
        rut: &str,
        hasta: Option<&Id>,
    ) -> StoreResult<Option<Id>> {
        let e = self.esquema().await?;
        let t = e.tablas;
        if e.funciones {
            let peticion = self
                .cliente
                .funcion(
                    &e.fn_marcar_leido(),
                    &json!({
                        "p_conversacion_id": conversacion.as_str(),
                        "p_usuario_id": rut,
                        "p_hasta": hasta.map(Id::as_str),
                    }),
                )
                .build();
            let r = self.cliente.json("marcar_leido", peticion).await?;
            return Ok(r.as_str().and_then(|s| Id::parse(s, e.kinds.mensaje)));
        }
        let objetivo = |id: Option<&Id>| {
            let mut b = self
                .cliente
                .tabla(t.mensajes)
                .select("id,fecha_envio")
                .eq("conversacion_id", conversacion.as_str());
            if let Some(id) = id {
                b = b.eq("id", id.as_str());
            }
            b.order("fecha_envio.desc,id.desc")
                .build()
                .query(&[("limit", "1")])
        };
        let mut destino = None;
        if let Some(h) = hasta {
            let r = self.cliente.json("marcar_leido", objetivo(Some(h))).await?;
            destino = filas::filas(&r)?.first().cloned();
        }
        if destino.is_none() {
            let r = self.cliente.json("marcar_leido", objetivo(None)).await?;
            destino = filas::filas(&r)?.first().cloned();
        }
        let Some(destino) = destino else {
            return Ok(None);
        };
        let id = filas::id(&destino["id"], e.kinds.mensaje)?;
        let valor = if e.marca_es_fecha {
            destino["fecha_envio"].clone()
        } else {
            id.to_json()
        };
        let texto_valor = valor
            .as_str()
            .map_or_else(|| valor.to_string(), str::to_owned);
        // Two conditional updates instead of one with `or=(…is.null,…lt.…)`: PostgREST 12
        // answers 42703 for an `or` filter on the column a PATCH sets.
        for menor in [true, false] {
            let peticion = self
                .cliente
                .tabla(t.participantes)
                .select("usuario_id")
                .eq("conversacion_id", conversacion.as_str())
                .eq("usuario_id", rut);
            let peticion = if menor {
                peticion.lt("ultimo_mensaje_leido", &texto_valor)
            } else {
                peticion.is("ultimo_mensaje_leido", "null")
            };
            let peticion = peticion
                .update(json!({ "ultimo_mensaje_leido": valor }).to_string())
                .build();
            let r = self.cliente.json("marcar_leido", peticion).await?;
            if !filas::filas(&r)?.is_empty() {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }
}
