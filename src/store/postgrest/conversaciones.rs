//! Conversations and participants: membership, the list with last message and unread counts,
//! contacts, and the 1:1 find-or-create. A constant number of requests per call, whatever the
//! number of conversations or messages.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Value, json};

use super::peticion::{citar, en};
use super::{Esquema, PostgrestStore, filas};
use crate::dominio::{Conversacion, Id};
use crate::store::{ConversacionUnoAUno, StoreError, StoreResult};

impl PostgrestStore {
    pub(super) async fn leer_es_participante(
        &self,
        conversacion: &Id,
        rut: &str,
    ) -> StoreResult<bool> {
        let e = self.esquema().await?;
        let peticion = self
            .cliente
            .tabla(e.tablas.participantes)
            .select("usuario_id")
            .eq("conversacion_id", conversacion.as_str())
            .eq("usuario_id", rut)
            .build()
            .query(&[("limit", "1")]);
        let respuesta = self.cliente.json("es_participante", peticion).await?;
        Ok(!filas::filas(&respuesta)?.is_empty())
    }

    pub(super) async fn leer_contactos(&self, rut: &str) -> StoreResult<Vec<String>> {
        let e = self.esquema().await?;
        let t = e.tablas;
        let peticion = self
            .cliente
            .tabla(t.participantes)
            .select(format!(
                "{}({}(usuario_id))",
                t.conversaciones, t.participantes
            ))
            .eq("usuario_id", rut)
            .build();
        let respuesta = self.cliente.json("contactos", peticion).await?;
        let mut otros = BTreeSet::new();
        for fila in filas::filas(&respuesta)? {
            for p in fila[t.conversaciones][t.participantes]
                .as_array()
                .into_iter()
                .flatten()
            {
                if let Some(u) = p["usuario_id"].as_str().filter(|u| *u != rut) {
                    otros.insert(u.to_owned());
                }
            }
        }
        Ok(otros.into_iter().collect())
    }

    /// One request for the conversations with their participants and last message; with the
    /// SQL functions one more, sent at the same time, for the unread counts. Without them (when
    /// there are conversations) one for the positions of id read markers and one for the
    /// unread messages, whose URL grows with the number of conversations.
    pub(super) async fn leer_conversaciones(
        &self,
        rut: &str,
        solo: Option<&Id>,
    ) -> StoreResult<Vec<Conversacion>> {
        let e = self.esquema().await?;
        let t = e.tablas;
        let mut cols_conv = vec!["id", "fecha_creacion"];
        for c in [
            "nombre",
            "es_grupal",
            "ultimo_mensaje_timestamp",
            "ultima_actualizacion",
        ] {
            if e.tiene(t.conversaciones, c) {
                cols_conv.push(c);
            }
        }
        let select = format!(
            "ultimo_mensaje_leido,{conv}({cols},{part}(usuario_id,usuarios({usr})),{msg}({mcols}))",
            conv = t.conversaciones,
            cols = cols_conv.join(","),
            part = t.participantes,
            usr = e.columnas_usuario(),
            msg = t.mensajes,
            mcols = e.columnas_mensaje(),
        );
        let mut peticion = self
            .cliente
            .tabla(t.participantes)
            .select(select)
            .eq("usuario_id", rut);
        if let Some(id) = solo {
            peticion = peticion.eq("conversacion_id", id.as_str());
        }
        let ruta_ultimo = format!("{}.{}", t.conversaciones, t.mensajes);
        let mut consulta = vec![
            (format!("{ruta_ultimo}.order"), "fecha_envio.desc,id.desc"),
            (format!("{ruta_ultimo}.limit"), "1"),
        ];
        // The last message is the newest one not deleted, as in the Postgres store.
        if e.tiene(t.mensajes, "eliminado") {
            consulta.push((format!("{ruta_ultimo}.eliminado"), "not.is.true"));
        }
        let peticion = peticion.build().query(&consulta);
        // With the functions the unread counts come from one more request, sent alongside.
        let (respuesta, por_funcion) = if e.funciones {
            let conteo = self
                .cliente
                .funcion(
                    &e.fn_no_leidos(),
                    &json!({"p_usuario_id": rut, "p_solo": solo.map(Id::as_str)}),
                )
                .build();
            let (lista, conteo) = futures_util::join!(
                self.cliente.json("conversaciones", peticion),
                self.cliente.json("conversaciones", conteo)
            );
            (lista?, Some(conteo?))
        } else {
            (self.cliente.json("conversaciones", peticion).await?, None)
        };
        let filas_part = filas::filas(&respuesta)?;

        let mut lista = Vec::with_capacity(filas_part.len());
        let mut marcas = Vec::with_capacity(filas_part.len());
        for fila in filas_part {
            let c = &fila[t.conversaciones];
            let id = filas::id(&c["id"], e.kinds.conversacion)?;
            let mut participantes: Vec<_> = c[t.participantes]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| {
                    let u = p["usuario_id"].as_str()?;
                    (u != rut).then(|| filas::usuario(u.to_owned(), &p["usuarios"]))
                })
                .collect();
            participantes.sort_by(|a, b| a.rut.cmp(&b.rut));
            let ultimo = c[t.mensajes]
                .as_array()
                .and_then(|m| m.first())
                .map(|m| filas::mensaje(m, e.kinds))
                .transpose()?;
            marcas.push((id.clone(), fila["ultimo_mensaje_leido"].clone()));
            lista.push(Conversacion {
                id,
                nombre: filas::texto(&c["nombre"]),
                es_grupal: c["es_grupal"].as_bool().unwrap_or(false),
                participantes,
                ultimo_mensaje: ultimo,
                no_leidos: 0,
                fecha_creacion: filas::texto(&c["fecha_creacion"]),
                ultimo_mensaje_timestamp: filas::texto(&c["ultimo_mensaje_timestamp"]),
                ultima_actualizacion: filas::texto(&c["ultima_actualizacion"]),
            });
        }
        match por_funcion {
            Some(conteo) => {
                for c in &mut lista {
                    c.no_leidos = conteo[c.id.as_str()].as_i64().unwrap_or(0);
                }
            }
            None => {
                let no_leidos = self.contar_no_leidos(e, rut, &marcas).await?;
                for c in &mut lista {
                    c.no_leidos = no_leidos.get(c.id.as_str()).copied().unwrap_or(0);
                }
            }
        }
        // Most recent activity first, as the Postgres store orders them.
        let actividad = |c: &Conversacion| {
            c.ultimo_mensaje
                .as_ref()
                .and_then(|m| filas::instante(&json!(m.fecha_envio)))
                .or_else(|| {
                    c.ultima_actualizacion
                        .as_ref()
                        .and_then(|t| filas::instante(&json!(t)))
                })
                .or_else(|| {
                    c.fecha_creacion
                        .as_ref()
                        .and_then(|t| filas::instante(&json!(t)))
                })
        };
        lista.sort_by(|a, b| {
            actividad(b)
                .cmp(&actividad(a))
                .then_with(|| comparar_ids(&b.id, &a.id))
        });
        Ok(lista)
    }

    /// Messages from others after `rut`'s read marker, per conversation: one request for the
    /// unread rows (only their conversation ids), plus one for where id markers point.
    async fn contar_no_leidos(
        &self,
        e: &Esquema,
        rut: &str,
        marcas: &[(Id, Value)],
    ) -> StoreResult<HashMap<String, i64>> {
        let mut cuenta = HashMap::new();
        if marcas.is_empty() {
            return Ok(cuenta);
        }
        let t = e.tablas;
        // Where each marker is in (fecha_envio, id) order; None: before everything.
        let mut posiciones: HashMap<String, (String, Option<String>)> = HashMap::new();
        if e.marca_es_fecha {
            for (conv, marca) in marcas {
                if let Some(fecha) = marca.as_str() {
                    posiciones.insert(conv.as_str().to_owned(), (fecha.to_owned(), None));
                }
            }
        } else {
            let ids: Vec<String> = marcas
                .iter()
                .filter_map(|(_, m)| Id::from_json(m, e.kinds.mensaje))
                .map(|id| id.as_str().to_owned())
                .collect();
            if !ids.is_empty() {
                let peticion = self
                    .cliente
                    .tabla(t.mensajes)
                    .select("id,conversacion_id,fecha_envio")
                    .build()
                    .query(&[("id", en(&ids))]);
                let respuesta = self.cliente.json("conversaciones", peticion).await?;
                let por_id: HashMap<String, &Value> = filas::filas(&respuesta)?
                    .iter()
                    .filter_map(|m| {
                        Some((Id::from_json(&m["id"], e.kinds.mensaje)?.to_string(), m))
                    })
                    .collect();
                for (conv, marca) in marcas {
                    let Some(m) = Id::from_json(marca, e.kinds.mensaje)
                        .and_then(|id| por_id.get(id.as_str()).copied())
                    else {
                        continue;
                    };
                    if let Some(fecha) = m["fecha_envio"].as_str() {
                        let id = Id::from_json(&m["id"], e.kinds.mensaje).map(|i| i.to_string());
                        posiciones.insert(conv.as_str().to_owned(), (fecha.to_owned(), id));
                    }
                }
            }
        }
        let condiciones: Vec<String> = marcas
            .iter()
            .map(|(conv, _)| {
                let c = citar(conv.as_str());
                match posiciones.get(conv.as_str()) {
                    None => format!("conversacion_id.eq.{c}"),
                    Some((fecha, None)) => {
                        format!("and(conversacion_id.eq.{c},fecha_envio.gt.{})", citar(fecha))
                    }
                    Some((fecha, Some(id))) => format!(
                        "and(conversacion_id.eq.{c},or(fecha_envio.gt.{f},and(fecha_envio.eq.{f},id.gt.{i})))",
                        f = citar(fecha),
                        i = citar(id)
                    ),
                }
            })
            .collect();
        let mut peticion = self
            .cliente
            .tabla(t.mensajes)
            .select("conversacion_id")
            .neq("usuario_id", rut)
            .or(condiciones.join(","));
        if e.tiene(t.mensajes, "eliminado") {
            peticion = peticion.not("is", "eliminado", "true");
        }
        let respuesta = self
            .cliente
            .json("conversaciones", peticion.build())
            .await?;
        for m in filas::filas(&respuesta)? {
            if let Some(conv) = Id::from_json(&m["conversacion_id"], e.kinds.conversacion) {
                *cuenta.entry(conv.to_string()).or_insert(0) += 1;
            }
        }
        Ok(cuenta)
    }

    /// With the SQL function: one request, atomic and unique per pair. Without it: one request
    /// to find it, two more to create it (two concurrent first calls can create two).
    pub(super) async fn buscar_o_crear_uno_a_uno(
        &self,
        a: &str,
        b: &str,
    ) -> StoreResult<ConversacionUnoAUno> {
        let e = self.esquema().await?;
        let t = e.tablas;
        if e.funciones {
            let peticion = self
                .cliente
                .funcion(&e.fn_uno_a_uno(), &json!({"p_a": a, "p_b": b}))
                .build();
            let r = self
                .cliente
                .json("conversacion_uno_a_uno", peticion)
                .await?;
            return Ok(ConversacionUnoAUno {
                id: filas::id(&r["id"], e.kinds.conversacion)?,
                creada: r["creada"].as_bool().unwrap_or(false),
            });
        }
        let grupal = if e.tiene(t.conversaciones, "es_grupal") {
            ",es_grupal"
        } else {
            ""
        };
        let peticion = self
            .cliente
            .tabla(t.participantes)
            .select(format!(
                "{conv}(id{grupal},{part}(usuario_id))",
                conv = t.conversaciones,
                part = t.participantes
            ))
            .eq("usuario_id", a)
            .build();
        let respuesta = self
            .cliente
            .json("conversacion_uno_a_uno", peticion)
            .await?;
        let mut existentes: Vec<Id> = Vec::new();
        for fila in filas::filas(&respuesta)? {
            let c = &fila[t.conversaciones];
            if c["es_grupal"].as_bool().unwrap_or(false) {
                continue;
            }
            let miembros: BTreeSet<&str> = c[t.participantes]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["usuario_id"].as_str())
                .collect();
            let cuantos = c[t.participantes].as_array().map_or(0, Vec::len);
            if cuantos == 2 && miembros.contains(a) && miembros.contains(b) {
                existentes.push(filas::id(&c["id"], e.kinds.conversacion)?);
            }
        }
        if let Some(id) = existentes.into_iter().min_by(comparar_ids) {
            return Ok(ConversacionUnoAUno { id, creada: false });
        }
        let mut nueva = serde_json::Map::new();
        for (col, valor) in [("es_grupal", json!(false)), ("creado_por", json!(a))] {
            if e.tiene(t.conversaciones, col) {
                nueva.insert(col.into(), valor);
            }
        }
        let peticion = self
            .cliente
            .tabla(t.conversaciones)
            .select("id")
            .insert(Value::Object(nueva).to_string())
            .build();
        let creada = self
            .cliente
            .json("conversacion_uno_a_uno", peticion)
            .await?;
        let id = filas::id(
            &filas::filas(&creada)?
                .first()
                .ok_or_else(|| StoreError::Other("insert returned no conversation".into()))?["id"],
            e.kinds.conversacion,
        )?;
        let miembros = json!([
            {"conversacion_id": id.to_json(), "usuario_id": a},
            {"conversacion_id": id.to_json(), "usuario_id": b},
        ]);
        let peticion = self
            .cliente
            .tabla(t.participantes)
            .select("usuario_id")
            .insert(miembros.to_string())
            .build();
        self.cliente
            .json("conversacion_uno_a_uno", peticion)
            .await?;
        Ok(ConversacionUnoAUno { id, creada: true })
    }
}

/// Ids in PostgreSQL's order: numerically for integers, by text for (lower-case) uuids.
fn comparar_ids(a: &Id, b: &Id) -> std::cmp::Ordering {
    match (a.to_json().as_i64(), b.to_json().as_i64()) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => a.as_str().cmp(b.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dominio::IdKind;

    #[test]
    fn ids_compare_like_postgresql() {
        let i = |s| Id::parse(s, IdKind::Integer).unwrap();
        assert_eq!(comparar_ids(&i("9"), &i("10")), std::cmp::Ordering::Less);
        let u = |s| Id::parse(s, IdKind::Uuid).unwrap();
        assert_eq!(
            comparar_ids(
                &u("0a000000-0000-4000-8000-000000000000"),
                &u("b0000000-0000-4000-8000-000000000000")
            ),
            std::cmp::Ordering::Less
        );
    }
}
