//! Flask's tagged JSON (`flask.json.tag`): values that plain JSON cannot carry are wrapped in
//! one-key objects such as `{" t": [..]}`. We keep session values tagged (so unknown keys
//! survive a round trip byte for byte in meaning) and untag only what we read.

use base64::Engine;
use serde_json::{Map, Value};

/// Converts a tagged value into plain JSON: tuples become arrays, bytes become their UTF-8
/// text when valid (base64 otherwise), markup, uuids and dates become strings, escaped dicts
/// become objects. Unknown or malformed tags are returned unchanged; this never fails.
pub fn untag(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(untag).collect()),
        Value::Object(map) if map.len() == 1 => {
            let (key, inner) = map.iter().next().expect("one entry");
            match (key.as_str(), inner) {
                (" t", Value::Array(items)) => Value::Array(items.iter().map(untag).collect()),
                (" b", Value::String(b64)) => base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .map(Value::String)
                    .unwrap_or_else(|| value.clone()),
                (" m" | " u" | " d", Value::String(_)) => inner.clone(),
                (" di", Value::Object(dict)) if dict.len() == 1 => {
                    let (escaped, inner) = dict.iter().next().expect("one entry");
                    let key = escaped.strip_suffix("__").unwrap_or(escaped);
                    Value::Object(Map::from_iter([(key.to_owned(), untag(inner))]))
                }
                _ => untag_object(map),
            }
        }
        Value::Object(map) => untag_object(map),
        other => other.clone(),
    }
}

fn untag_object(map: &Map<String, Value>) -> Value {
    Value::Object(map.iter().map(|(k, v)| (k.clone(), untag(v))).collect())
}

/// Tags a plain value for Flask: an object whose only key collides with a tag name is
/// escaped as `{" di": {"<key>__": ..}}`, exactly as Flask does, so Flask reads back what we
/// meant.
pub fn tag(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(tag).collect()),
        Value::Object(map) => {
            let tagged: Map<String, Value> = map.iter().map(|(k, v)| (k.clone(), tag(v))).collect();
            match tagged.iter().next() {
                Some((key, inner)) if tagged.len() == 1 && TAGS.contains(&key.as_str()) => {
                    let escaped = Map::from_iter([(format!("{key}__"), inner.clone())]);
                    Value::Object(Map::from_iter([(" di".to_owned(), Value::Object(escaped))]))
                }
                _ => Value::Object(tagged),
            }
        }
        other => other.clone(),
    }
}

const TAGS: [&str; 6] = [" t", " b", " m", " u", " d", " di"];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn untags_every_flask_tag() {
        let tagged = json!({
            "tupla": {" t": [1, {" u": "4c1f0a5e-0000-4000-8000-000000000000"}]},
            "bytes": {" b": "aG9sYQ=="},
            "markup": {" m": "<b>x</b>"},
            "fecha": {" d": "Wed, 21 Oct 2015 07:28:00 GMT"},
            "escapado": {" di": {" t__": "no es tupla"}},
        });
        assert_eq!(
            untag(&tagged),
            json!({
                "tupla": [1, "4c1f0a5e-0000-4000-8000-000000000000"],
                "bytes": "hola",
                "markup": "<b>x</b>",
                "fecha": "Wed, 21 Oct 2015 07:28:00 GMT",
                "escapado": {" t": "no es tupla"},
            })
        );
    }

    #[test]
    fn malformed_tags_do_not_crash() {
        let odd = json!({" b": "%%%not base64", " t": 3});
        assert_eq!(untag(&odd), odd);
        assert_eq!(untag(&json!({" b": "%%"})), json!({" b": "%%"}));
        assert_eq!(untag(&json!({" t": 3})), json!({" t": 3}));
    }

    #[test]
    fn tag_escapes_dicts_that_look_like_tags() {
        // Exactly what Flask 3.1 writes for {" t": [1]}.
        assert_eq!(tag(&json!({" t": [1]})), json!({" di": {" t__": [1]}}));
        assert_eq!(untag(&tag(&json!({" t": [1]}))), json!({" t": [1]}));
        assert_eq!(tag(&json!({"a": 1})), json!({"a": 1}));
    }
}
