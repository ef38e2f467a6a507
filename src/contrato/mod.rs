//! The wire shapes of each API generation, one module per generation, shared by the REST API
//! and the Socket.IO events so both transports speak the same JSON.
//!
//! REST answers are serialized straight from these structs with serde (no intermediate
//! `serde_json::Value`). Their fields are declared in sorted key order: the order REST answers
//! have always had (poem-openapi's JSON values are sorted maps), so the bytes stay the same; a
//! unit test compares both serializations.

use std::borrow::Cow;

use poem_openapi::Object;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde::Serialize;
use serde_json::Value;

pub mod propia;
pub mod v1;
pub mod v2;

/// A value that is always present in the JSON, possibly `null` (OpenAPI `nullable`); plain
/// `Option` fields would be documented as optional and non-null.
#[derive(Clone, Debug, Serialize)]
#[serde(transparent)]
pub struct Nulable<T>(pub Option<T>);

impl<T: Type> Type for Nulable<T> {
    const IS_REQUIRED: bool = true;
    type RawValueType = T::RawValueType;
    type RawElementValueType = T::RawElementValueType;

    fn name() -> Cow<'static, str> {
        format!("nullable_{}", T::name()).into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            nullable: true,
            all_of: vec![T::schema_ref()],
            ..MetaSchema::ANY
        }))
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        self.0.as_ref().and_then(Type::as_raw_value)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        match &self.0 {
            Some(valor) => valor.raw_element_iter(),
            None => Box::new(std::iter::empty()),
        }
    }
}

impl<T: ParseFromJSON> ParseFromJSON for Nulable<T> {
    fn parse_from_json(valor: Option<Value>) -> ParseResult<Self> {
        match valor {
            None | Some(Value::Null) => Ok(Nulable(None)),
            otro => T::parse_from_json(otro)
                .map(|v| Nulable(Some(v)))
                .map_err(ParseError::propagate),
        }
    }
}

impl<T: ToJSON> ToJSON for Nulable<T> {
    fn to_json(&self) -> Option<Value> {
        Some(
            self.0
                .as_ref()
                .and_then(ToJSON::to_json)
                .unwrap_or(Value::Null),
        )
    }
}

/// `{"success": true}`, for both generations.
#[derive(Object, Serialize, Debug)]
pub struct Exito {
    /// Always true.
    pub success: bool,
}

/// Every error body, for both generations: `{"success": false, "error": "...", "msg": "..."}`
/// (v1 pages read `error`, the v2 widget reads `msg`; both carry the same Spanish text).
#[derive(Object, Serialize, Debug)]
pub struct CuerpoError {
    /// What went wrong, in Spanish.
    pub error: String,
    /// Same text (the v2 widget's key).
    pub msg: String,
    /// Always false.
    pub success: bool,
}

impl CuerpoError {
    /// An error body with `texto` under both keys.
    pub fn new(texto: impl Into<String>) -> Self {
        let texto = texto.into();
        CuerpoError {
            success: false,
            msg: texto.clone(),
            error: texto,
        }
    }
}

/// `GET /api/chat/conversaciones`, where the generations share a path: `conversaciones` for
/// v1 pages, `success` + `lista` for the v2 widget (each present when its generation is on).
#[derive(Object, Serialize, Debug)]
pub struct ConversacionesAmbas {
    /// v1 list.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversaciones: Option<Vec<v1::ConversacionJson>>,
    /// v2 list.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lista: Option<Vec<v2::ConversacionV2>>,
    /// Always true.
    pub success: bool,
}

/// `GET /api/chat/mensajes/{id}`, where the generations share a path: `mensajes` when the id
/// is a conversation of the caller (v1), `mensaje` when it is a message the caller may read
/// (v2); both when it is both.
#[derive(Object, Serialize, Debug)]
pub struct MensajesAmbas {
    /// v2: the message with that id.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mensaje: Option<v2::MensajeV2>,
    /// v1: the conversation's newest messages, oldest first.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mensajes: Option<Vec<v1::MensajeJson>>,
    /// Always true.
    pub success: bool,
}

/// `POST /api/usuarios/heartbeat` answer: v1 keys plus the v2 page's.
#[derive(Object, Serialize, Debug)]
pub struct Latido {
    /// The caller's rut (v2).
    pub rut: String,
    /// Always true.
    pub success: bool,
    /// Server time of the heartbeat, RFC 3339 (v1).
    pub timestamp: String,
    /// Users online now (v2).
    pub total_conectados: usize,
    /// The caller's name (v2).
    pub usuario: String,
    /// The caller's rut (v1).
    pub usuario_id: String,
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use poem_openapi::types::ToJSON;
    use serde::Serialize;
    use serde_json::json;

    use super::*;
    use crate::dominio::{
        Adjunto, Cita, Coincidencia, Conversacion, ExtrasMensaje, Id, IdKind, Mensaje, Reaccion,
        Usuario,
    };
    use crate::service::PaginaBusqueda;

    fn id(texto: &str) -> Id {
        Id::parse(texto, IdKind::Integer).unwrap()
    }

    fn usuario(rut: &str, nombre: Option<&str>) -> Usuario {
        Usuario::from_columns(
            rut.into(),
            nombre.map(Into::into),
            Some(format!("{rut}@x.cl")),
            Some("vendedor".into()),
        )
    }

    fn mensaje(extras: ExtrasMensaje) -> Mensaje {
        Mensaje {
            id: id("42"),
            conversacion_id: id("7"),
            usuario_id: "1-9".into(),
            contenido: "hola \"tú\" <b>\n".into(),
            fecha_envio: "2026-01-02T03:04:05.123456+00:00".into(),
            editado: false,
            eliminado: false,
            autor: usuario("1-9", Some("Ana")),
            extras,
        }
    }

    fn con_extras() -> Mensaje {
        mensaje(ExtrasMensaje {
            responde_a: Some(id("41")),
            cita: Some(Cita {
                contenido: "antes".into(),
                usuario_id: "2-7".into(),
                usuario_nombre: "Bruno".into(),
            }),
            reacciones: vec![
                Reaccion {
                    usuario_id: "2-7".into(),
                    emoji: "👍".into(),
                },
                Reaccion {
                    usuario_id: "1-9".into(),
                    emoji: "😂".into(),
                },
            ],
            sistema: false,
        })
    }

    fn conversacion(ultimo: Option<Mensaje>) -> Conversacion {
        Conversacion {
            id: id("7"),
            nombre: None,
            es_grupal: false,
            participantes: vec![usuario("2-7", None)],
            ultimo_mensaje: ultimo,
            no_leidos: 3,
            fecha_creacion: Some("2026-01-01T00:00:00+00:00".into()),
            ultimo_mensaje_timestamp: None,
            ultima_actualizacion: Some("2026-01-01T00:00:01+00:00".into()),
        }
    }

    /// Serializing straight with serde gives the bytes poem-openapi's `Json` gave (through a
    /// `serde_json::Value` tree), key order included.
    fn mismos_bytes<T: ToJSON + Serialize>(valor: &T) {
        let directo = serde_json::to_string(valor).unwrap();
        let por_arbol = serde_json::to_string(&valor.to_json()).unwrap();
        assert_eq!(directo, por_arbol);
    }

    #[test]
    fn the_conversation_list_serializes_to_the_exact_json() {
        let en_linea: HashSet<String> = ["2-7".to_owned()].into();
        let lista = [
            conversacion(Some(mensaje(ExtrasMensaje::default()))),
            conversacion(None),
        ];
        let ambas = ConversacionesAmbas {
            success: true,
            conversaciones: Some(lista.iter().map(v1::ConversacionJson::from).collect()),
            lista: Some(
                lista
                    .iter()
                    .filter_map(|c| v2::ConversacionV2::de(c, &en_linea))
                    .collect(),
            ),
        };
        mismos_bytes(&ambas);
        let texto = serde_json::to_string(&ambas).unwrap();
        let esperado = concat!(
            r#"{"conversaciones":[{"es_grupal":false,"fecha_creacion":"2026-01-01T00:00:00+00:00","#,
            r#""id":"7","mensajes_no_leidos":3,"no_leidos":3,"nombre":null,"participantes":[{"#,
            r#""apellido":"","email":"2-7@x.cl","id":"2-7","iniciales":"US","nombre":"Usuario","#,
            r#""nombre_completo":"Usuario","rol":"vendedor"}],"#,
            r#""ultima_actualizacion":"2026-01-01T00:00:01+00:00","ultimo_mensaje":{"#,
            r#""contenido":"hola \"tú\" <b>\n","editado":false,"#,
            r#""fecha_envio":"2026-01-02T03:04:05.123456+00:00","id":42,"tipo":"texto","usuario_id":"1-9"},"#,
            r#""ultimo_mensaje_timestamp":"2026-01-02T03:04:05.123456+00:00"},"#,
            r#"{"es_grupal":false,"fecha_creacion":"2026-01-01T00:00:00+00:00","id":"7","#,
            r#""mensajes_no_leidos":3,"no_leidos":3,"nombre":null,"participantes":[{"#,
            r#""apellido":"","email":"2-7@x.cl","id":"2-7","iniciales":"US","nombre":"Usuario","#,
            r#""nombre_completo":"Usuario","rol":"vendedor"}],"#,
            r#""ultima_actualizacion":"2026-01-01T00:00:01+00:00","ultimo_mensaje":null,"#,
            r#""ultimo_mensaje_timestamp":null}],"#,
            r#""lista":[{"conversacion_id":7,"fecha":"2026-01-02T03:04:05.123456+00:00","#,
            r#""is_online":true,"ultimo_mensaje":"hola \"tú\" <b>\n","unread":3,"#,
            r#""usuario":{"nombre":"Usuario","rol":"vendedor","rut_usuario":"2-7"}},"#,
            r#"{"conversacion_id":7,"fecha":null,"is_online":true,"ultimo_mensaje":"","unread":3,"#,
            r#""usuario":{"nombre":"Usuario","rol":"vendedor","rut_usuario":"2-7"}}],"#,
            r#""success":true}"#
        );
        assert_eq!(texto, esperado);
        let solo_v2 = ConversacionesAmbas {
            success: true,
            conversaciones: None,
            lista: Some(Vec::new()),
        };
        assert_eq!(
            serde_json::to_string(&solo_v2).unwrap(),
            r#"{"lista":[],"success":true}"#
        );
        mismos_bytes(&solo_v2);
    }

    #[test]
    fn a_v1_message_serializes_its_flattened_keys_in_order() {
        let m = v1::MensajeJson::para(&mensaje(ExtrasMensaje::default()), "2-7");
        mismos_bytes(&m);
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            json!({
                "cita": null, "contenido": "hola \"tú\" <b>\n", "conversacion_id": "7",
                "editado": false, "eliminado": false, "es_mio": false, "es_propio": false,
                "fecha_envio": "2026-01-02T03:04:05.123456+00:00", "id": 42,
                "reply_to": null, "tipo": "texto",
                "usuario": {"apellido": "", "email": "1-9@x.cl", "id": "1-9", "nombre": "Ana",
                            "nombre_completo": "Ana", "rol": "vendedor"},
                "usuario_id": "1-9",
            })
        );
        let uuid = Mensaje {
            id: Id::parse("5d0c1a9e-0000-4000-8000-000000000001", IdKind::Uuid).unwrap(),
            ..mensaje(ExtrasMensaje::default())
        };
        let v = serde_json::to_value(v1::MensajeJson::para(&uuid, "1-9")).unwrap();
        assert_eq!(v["id"], "5d0c1a9e-0000-4000-8000-000000000001");
        assert_eq!(v["es_propio"], true);
    }

    #[test]
    fn every_rest_answer_keeps_the_bytes_of_the_value_tree() {
        let m = con_extras();
        let para_mi = v2::MensajeV2::para(&m, Some("1-9"));
        mismos_bytes(&MensajesAmbas {
            success: true,
            mensajes: Some(vec![v1::MensajeJson::para(&m, "1-9")]),
            mensaje: Some(para_mi.clone()),
        });
        mismos_bytes(&MensajesAmbas {
            success: true,
            mensajes: None,
            mensaje: Some(v2::MensajeV2::para(
                &mensaje(ExtrasMensaje::default()),
                None,
            )),
        });
        mismos_bytes(&v2::Historial {
            success: true,
            conversacion_id: json!(7),
            mensajes: vec![para_mi.clone()],
            last_seen_me: Nulable(Some(json!(41))),
            last_seen_other: Nulable(None),
            mensaje_fijado: Nulable(Some(para_mi.clone())),
        });
        mismos_bytes(&v2::EnviadoV2 {
            success: true,
            conversacion_id: "7".into(),
            mensaje: para_mi,
        });
        mismos_bytes(&v2::ReaccionHecha {
            success: true,
            emoji: Nulable(Some("😂".into())),
            reacciones: v2::resumen(&m.extras.reacciones),
        });
        let en_linea: HashSet<String> = HashSet::new();
        mismos_bytes(&v2::ListaUsuariosV2 {
            success: true,
            usuarios: vec![v2::UsuarioV2::de(&usuario("2-7", Some("Bruno")), &en_linea)],
        });
        mismos_bytes(&v1::ListaUsuarios {
            usuarios: vec![v1::UsuarioJson::from(&usuario("2-7", Some("Bruno")))],
        });
        mismos_bytes(&v1::MensajeEnviado {
            mensaje: v1::MensajeJson::para(&m, "1-9"),
        });
        mismos_bytes(&v1::ConversacionCreadaJson {
            success: true,
            conversacion_id: "7".into(),
            conversacion: v1::ConversacionBreve {
                id: "7".into(),
                nombre: Nulable(None),
                es_grupal: false,
                creado: true,
            },
            mensaje: "Conversación creada".into(),
        });
        mismos_bytes(&v1::Conectados {
            success: true,
            conectados: vec!["1-9".into()],
            total: 1,
        });
        mismos_bytes(&Latido {
            success: true,
            usuario_id: "1-9".into(),
            timestamp: "2026-01-01T00:00:00.000Z".into(),
            usuario: "Ana".into(),
            rut: "1-9".into(),
            total_conectados: 2,
        });
        mismos_bytes(&Exito { success: true });
        mismos_bytes(&CuerpoError::new("Sin acceso"));
        let adjunto = Adjunto {
            id: 3,
            mensaje_id: id("42"),
            conversacion_id: id("7"),
            nombre: "foto.png".into(),
            tipo: "image/png".into(),
            tamano: 10,
            clave: "k".into(),
            miniatura: Some("m".into()),
        };
        mismos_bytes(&propia::AdjuntoSubido::para(&m, &adjunto, "1-9"));
        mismos_bytes(&propia::ListaAdjuntos {
            success: true,
            adjuntos: vec![propia::AdjuntoJson::from(&adjunto)],
        });
        mismos_bytes(&propia::Resultados::from(&PaginaBusqueda {
            resultados: vec![Coincidencia {
                mensaje_id: id("42"),
                conversacion_id: id("7"),
                usuario_id: "1-9".into(),
                usuario_nombre: "Ana".into(),
                fecha_envio: "2026-01-02T03:04:05+00:00".into(),
                rango: 0.0607927,
                fragmento: "una \u{E000}canción\u{E001}".into(),
            }],
            desde: 0,
            hay_mas: false,
        }));
        mismos_bytes(&propia::Silenciadas::de(&[id("7")]));
    }
}
