//! PostgREST's JSON rows turned into domain values.

use serde_json::Value;

use crate::dominio::{ExtrasMensaje, Id, IdKind, IdKinds, Mensaje, Usuario};
use crate::store::{StoreError, StoreResult};

/// An id column's value (a JSON number or string) of `kind`.
pub(super) fn id(valor: &Value, kind: IdKind) -> StoreResult<Id> {
    Id::from_json(valor, kind)
        .ok_or_else(|| StoreError::Other(format!("unexpected id {valor} from PostgREST")))
}

/// A text column, `None` when null or absent.
pub(super) fn texto(valor: &Value) -> Option<String> {
    valor.as_str().map(str::to_owned)
}

/// A user from `rut` and an embedded or selected `usuarios` object (null when the row is gone).
pub(super) fn usuario(rut: String, fila: &Value) -> Usuario {
    Usuario::from_columns(
        rut,
        texto(&fila["nombre"]),
        texto(&fila["correo"]),
        texto(&fila["rol"]),
    )
}

/// A user row of `usuarios`.
pub(super) fn usuario_fila(fila: &Value) -> StoreResult<Usuario> {
    let rut = texto(&fila["rut_usuario"])
        .ok_or_else(|| StoreError::Other("user row without rut_usuario".into()))?;
    Ok(usuario(rut, fila))
}

/// A message row selected with `Esquema::columnas_mensaje` (or returned by the send function);
/// of its extras only the reply's id (the quote and reactions come from other requests).
pub(super) fn mensaje(fila: &Value, kinds: IdKinds) -> StoreResult<Mensaje> {
    let autor = texto(&fila["usuario_id"]).unwrap_or_default();
    Ok(Mensaje {
        id: id(&fila["id"], kinds.mensaje)?,
        conversacion_id: id(&fila["conversacion_id"], kinds.conversacion)?,
        contenido: texto(&fila["contenido"]).unwrap_or_default(),
        fecha_envio: texto(&fila["fecha_envio"]).unwrap_or_default(),
        editado: fila["editado"].as_bool().unwrap_or(false),
        eliminado: fila["eliminado"].as_bool().unwrap_or(false),
        autor: usuario(autor.clone(), &fila["usuarios"]),
        usuario_id: autor,
        extras: ExtrasMensaje {
            responde_a: Id::from_json(&fila["reply_to"], kinds.mensaje),
            ..ExtrasMensaje::default()
        },
    })
}

/// The rows of an array answer.
pub(super) fn filas(respuesta: &Value) -> StoreResult<&Vec<Value>> {
    respuesta
        .as_array()
        .ok_or_else(|| StoreError::Other("PostgREST answered something other than an array".into()))
}

/// A timestamp as PostgreSQL renders it (with or without an offset; without one it is UTC, as
/// in Supabase), in microseconds since the epoch, for ordering.
pub(super) fn instante(valor: &Value) -> Option<i64> {
    let t = valor.as_str()?;
    chrono::DateTime::parse_from_rfc3339(t)
        .map(|d| d.timestamp_micros())
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f")
                .map(|d| d.and_utc().timestamp_micros())
        })
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_with_and_without_offset_order_alike() {
        let con = instante(&json!("2026-12-01T20:20:18.080335+00:00")).unwrap();
        let sin = instante(&json!("2026-12-01T20:20:18.080335")).unwrap();
        assert_eq!(con, sin);
        assert!(instante(&json!("2026-12-01T22:20:18+02:00")).unwrap() < con);
        assert_eq!(instante(&json!(null)), None);
    }

    #[test]
    fn messages_default_missing_flags_and_authors() {
        let kinds = IdKinds {
            conversacion: IdKind::Integer,
            mensaje: IdKind::Integer,
        };
        let m = mensaje(
            &json!({"id": 7, "conversacion_id": 2, "usuario_id": "1-9", "contenido": "x",
                    "fecha_envio": "2026-01-01T00:00:00+00:00", "usuarios": null}),
            kinds,
        )
        .unwrap();
        assert_eq!((m.id.as_str(), m.editado, m.eliminado), ("7", false, false));
        assert_eq!(m.autor.nombre, "Usuario");
        assert_eq!(m.extras.responde_a, None);
        let respuesta = mensaje(
            &json!({"id": 8, "conversacion_id": 2, "usuario_id": "1-9", "reply_to": 7}),
            kinds,
        )
        .unwrap();
        assert_eq!(respuesta.extras.responde_a, Some(m.id));
        assert!(mensaje(&json!({"id": "x"}), kinds).is_err());
    }
}
