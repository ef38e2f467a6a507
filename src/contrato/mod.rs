//! The wire shapes of each API generation, one module per generation, shared by the REST API
//! and the Socket.IO events so both transports speak the same JSON.

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde::Serialize;
use serde_json::Value;

pub mod v1;

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
