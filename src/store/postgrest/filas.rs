//! PostgREST's JSON rows turned into domain values.

use serde_json::Value;

use crate::dominio::{IdKinds, Mensaje, Usuario};
use crate::store::{StoreError, StoreResult};

pub(super) use crate::store::grupos::{id, texto};

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
/// of its extras only the reply's id and the system flag (the quote and reactions come from
/// other requests).
pub(super) fn mensaje(fila: &Value, kinds: IdKinds) -> StoreResult<Mensaje> {
    crate::store::grupos::mensaje_json(fila, kinds)
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
    use crate::dominio::IdKind;
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
