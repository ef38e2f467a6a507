//! The wire shapes of each API generation, one module per generation, shared by the REST API
//! and the Socket.IO events so both transports speak the same JSON.

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
    /// Always false.
    pub success: bool,
    /// What went wrong, in Spanish.
    pub error: String,
    /// Same text (the v2 widget's key).
    pub msg: String,
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
    /// Always true.
    pub success: bool,
    /// v1 list.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversaciones: Option<Vec<v1::ConversacionJson>>,
    /// v2 list.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lista: Option<Vec<v2::ConversacionV2>>,
}

/// `GET /api/chat/mensajes/{id}`, where the generations share a path: `mensajes` when the id
/// is a conversation of the caller (v1), `mensaje` when it is a message the caller may read
/// (v2); both when it is both.
#[derive(Object, Serialize, Debug)]
pub struct MensajesAmbas {
    /// Always true.
    pub success: bool,
    /// v1: the conversation's newest messages, oldest first.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mensajes: Option<Vec<v1::MensajeJson>>,
    /// v2: the message with that id.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mensaje: Option<v2::MensajeV2>,
}

/// `POST /api/usuarios/heartbeat` answer: v1 keys plus the v2 page's.
#[derive(Object, Serialize, Debug)]
pub struct Latido {
    /// Always true.
    pub success: bool,
    /// The caller's rut (v1).
    pub usuario_id: String,
    /// Server time of the heartbeat, RFC 3339 (v1).
    pub timestamp: String,
    /// The caller's name (v2).
    pub usuario: String,
    /// The caller's rut (v2).
    pub rut: String,
    /// Users online now (v2).
    pub total_conectados: usize,
}
