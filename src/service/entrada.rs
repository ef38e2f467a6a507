//! Parsing of request and event payloads into what the service needs ("parse, don't
//! validate"): pure functions, shared by REST and Socket.IO, fuzzed in `tests/propiedades.rs`.

use serde_json::Value;

use super::{ErrorChat, Resultado};

/// Longest accepted `rut_usuario`.
const MAX_RUT: usize = 64;

/// The text of a message to send: `contenido` must be a non-blank string of at most
/// `max_caracteres` characters (trimmed), and a destination (conversation or recipient) must
/// be named.
pub fn contenido<'a>(
    destino: Option<&Value>,
    contenido: Option<&'a Value>,
    max_caracteres: usize,
) -> Resultado<&'a str> {
    let texto = match contenido {
        Some(Value::String(texto)) if !texto.trim().is_empty() => texto.trim(),
        _ => return Err(ErrorChat::MensajeVacio),
    };
    if destino.is_none_or(Value::is_null) {
        return Err(ErrorChat::FaltaDestino);
    }
    if texto.chars().count() > max_caracteres {
        return Err(ErrorChat::DemasiadoLargo);
    }
    if texto.contains('\0') {
        return Err(ErrorChat::Invalido("Datos inválidos"));
    }
    Ok(texto)
}

/// Longest accepted client key.
const MAX_CLAVE: usize = 128;

/// A client key from a JSON string or number: 1 to 128 printable characters.
pub fn clave_cliente(valor: Option<&Value>) -> Resultado<Option<String>> {
    let texto = match valor {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err(ErrorChat::Invalido("Datos inválidos")),
    };
    let valida = !texto.is_empty()
        && texto.chars().count() <= MAX_CLAVE
        && !texto.chars().any(char::is_control);
    if valida {
        Ok(Some(texto))
    } else {
        Err(ErrorChat::Invalido("Datos inválidos"))
    }
}

/// Reads the other participant from the accepted request forms (CONTRACT.md §4).
pub fn otro_participante(
    yo: &str,
    participantes: Option<&Value>,
    usuario_id: Option<&Value>,
) -> Resultado<String> {
    const DOS: ErrorChat = ErrorChat::Invalido("Se requieren dos participantes");
    let ruts: Vec<String> = match (participantes, usuario_id) {
        (Some(Value::Array(lista)), _) => lista
            .iter()
            .map(|v| rut_de(v).ok_or(DOS))
            .collect::<Result<_, _>>()?,
        (Some(Value::Null) | None, Some(v)) if !v.is_null() => vec![rut_de(v).ok_or(DOS)?],
        (Some(Value::Null) | None, _) => return Err(ErrorChat::Invalido("Faltan IDs de usuario")),
        (Some(_), _) => return Err(DOS),
    };
    match ruts.as_slice() {
        [otro] if otro == yo => Err(ErrorChat::Invalido(
            "No puedes crear una conversación contigo mismo",
        )),
        [otro] => Ok(otro.clone()),
        [a, b] if a == yo && b == yo => Err(ErrorChat::Invalido(
            "No puedes crear una conversación contigo mismo",
        )),
        [a, b] if a == yo => Ok(b.clone()),
        [a, b] if b == yo => Ok(a.clone()),
        [_, _] => Err(ErrorChat::SinAcceso),
        _ => Err(DOS),
    }
}

/// A rut from a JSON string or number (a path segment or a `destinatario_id`).
pub fn rut(valor: &Value) -> Option<String> {
    rut_de(valor)
}

/// Longest reaction, in characters (the column is `VARCHAR(10)`).
const MAX_EMOJI: usize = 10;

/// A reaction: one emoji (a single pictograph, possibly with skin tone, variation selector,
/// keycap or zero-width-joiner sequence, or a flag), trimmed, at most 10 characters. Pages
/// render reactions unescaped, so anything else is refused.
pub fn emoji(valor: Option<&Value>) -> Resultado<&str> {
    let texto = match valor {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim(),
        _ => return Err(ErrorChat::Invalido("Emoji requerido")),
    };
    if texto.chars().count() <= MAX_EMOJI && es_un_emoji(texto) {
        Ok(texto)
    } else {
        Err(ErrorChat::Invalido("Emoji inválido"))
    }
}

/// Whether `texto` is exactly one emoji grapheme.
fn es_un_emoji(texto: &str) -> bool {
    let cs: Vec<char> = texto.chars().collect();
    // A flag: exactly two regional indicators.
    if cs.iter().all(|c| ('\u{1F1E6}'..='\u{1F1FF}').contains(c)) {
        return cs.len() == 2;
    }
    // A keycap: digit, # or *, optional VS16, U+20E3.
    if let [base, resto @ ..] = cs.as_slice()
        && (base.is_ascii_digit() || *base == '#' || *base == '*')
    {
        return matches!(resto, ['\u{20E3}'] | ['\u{FE0F}', '\u{20E3}']);
    }
    // Pictographs joined by ZWJ, each followed by modifiers (VS16, skin tones, tags).
    let mut espera_base = true;
    for c in cs {
        if espera_base {
            if !es_pictografo(c) {
                return false;
            }
            espera_base = false;
        } else if c == '\u{200D}' {
            espera_base = true;
        } else if !es_modificador(c) {
            return false;
        }
    }
    !espera_base
}

fn es_pictografo(c: char) -> bool {
    matches!(c,
        '\u{00A9}' | '\u{00AE}' | '\u{203C}' | '\u{2049}' | '\u{2122}' | '\u{2139}'
        | '\u{2194}'..='\u{21AA}' | '\u{231A}'..='\u{23FF}' | '\u{24C2}' | '\u{25AA}'..='\u{25FE}'
        | '\u{2600}'..='\u{27BF}' | '\u{2934}' | '\u{2935}' | '\u{2B05}'..='\u{2B55}'
        | '\u{3030}' | '\u{303D}' | '\u{3297}' | '\u{3299}' | '\u{1F000}'..='\u{1F1E5}'
        | '\u{1F200}'..='\u{1F3FA}' | '\u{1F400}'..='\u{1FAFF}')
}

fn es_modificador(c: char) -> bool {
    matches!(c, '\u{FE0F}' | '\u{1F3FB}'..='\u{1F3FF}' | '\u{E0020}'..='\u{E007F}')
}

/// A rut from a JSON string or number: trimmed, non-empty, bounded, no control characters.
fn rut_de(valor: &Value) -> Option<String> {
    let texto = match valor {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let valido =
        !texto.is_empty() && texto.len() <= MAX_RUT && !texto.chars().any(char::is_control);
    valido.then_some(texto)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn message_text_is_trimmed_bounded_and_required() {
        let conv = json!("1");
        assert_eq!(
            contenido(Some(&conv), Some(&json!("  hola ")), 10),
            Ok("hola")
        );
        assert_eq!(
            contenido(Some(&conv), Some(&json!("ñ".repeat(10))), 10).map(str::len),
            Ok(20)
        );
        assert_eq!(
            contenido(Some(&conv), Some(&json!("ñ".repeat(11))), 10),
            Err(ErrorChat::DemasiadoLargo)
        );
        for malo in [json!("  "), json!(5), json!(null), json!(["x"])] {
            assert_eq!(
                contenido(Some(&conv), Some(&malo), 10),
                Err(ErrorChat::MensajeVacio)
            );
        }
        assert_eq!(
            contenido(None, Some(&json!("x")), 10),
            Err(ErrorChat::FaltaDestino)
        );
        assert_eq!(
            contenido(Some(&conv), Some(&json!("a\u{0}b")), 10),
            Err(ErrorChat::Invalido("Datos inválidos"))
        );
    }

    #[test]
    fn client_keys_are_short_printable_strings_or_numbers() {
        assert_eq!(clave_cliente(None), Ok(None));
        assert_eq!(clave_cliente(Some(&json!(null))), Ok(None));
        assert_eq!(clave_cliente(Some(&json!(" abc "))), Ok(Some("abc".into())));
        assert_eq!(clave_cliente(Some(&json!(42))), Ok(Some("42".into())));
        for mala in [
            json!(""),
            json!("a\nb"),
            json!("x".repeat(129)),
            json!({"a": 1}),
            json!([1]),
        ] {
            assert!(clave_cliente(Some(&mala)).is_err(), "{mala}");
        }
    }

    fn otro(p: Value) -> Resultado<String> {
        otro_participante("1-9", p.get("participantes"), p.get("usuario_id"))
    }

    #[test]
    fn accepts_every_documented_creation_form() {
        assert_eq!(
            otro(json!({"participantes": ["1-9", "2-7"]})),
            Ok("2-7".into())
        );
        assert_eq!(
            otro(json!({"participantes": ["2-7", "1-9"]})),
            Ok("2-7".into())
        );
        assert_eq!(otro(json!({"participantes": ["2-7"]})), Ok("2-7".into()));
        assert_eq!(otro(json!({"usuario_id": " 2-7 "})), Ok("2-7".into()));
        assert_eq!(otro(json!({"usuario_id": 27})), Ok("27".into()));
    }

    #[test]
    fn refuses_bad_creation_bodies() {
        let dos = Err(ErrorChat::Invalido("Se requieren dos participantes"));
        assert_eq!(
            otro(json!({})),
            Err(ErrorChat::Invalido("Faltan IDs de usuario"))
        );
        assert_eq!(otro(json!({"participantes": []})), dos);
        assert_eq!(otro(json!({"participantes": ["a", "b", "1-9"]})), dos);
        assert_eq!(otro(json!({"participantes": "2-7"})), dos);
        assert_eq!(otro(json!({"participantes": [{"x": 1}]})), dos);
        assert_eq!(otro(json!({"participantes": [""]})), dos);
        assert_eq!(
            otro(json!({"participantes": ["2-7", "3-5"]})),
            Err(ErrorChat::SinAcceso)
        );
        assert!(matches!(
            otro(json!({"participantes": ["1-9"]})),
            Err(ErrorChat::Invalido(_))
        ));
        assert!(matches!(
            otro(json!({"participantes": ["1-9", "1-9"]})),
            Err(ErrorChat::Invalido(_))
        ));
        assert_eq!(otro(json!({"usuario_id": "a\u{0}b"})), dos);
    }

    #[test]
    fn reactions_are_one_emoji() {
        for bueno in [
            "❤️",
            "😂",
            "😮",
            "😔",
            "👍",
            "👍🏽",
            "🇨🇱",
            "1️⃣",
            "#⃣",
            "👩‍💻",
            "👨‍👩‍👧",
            "✅",
            " 🎉 ",
        ] {
            assert_eq!(emoji(Some(&json!(bueno))), Ok(bueno.trim()), "{bueno}");
        }
        for malo in [
            json!("a"),
            json!("<img src=x onerror=alert(1)>"),
            json!("😂😂"),
            json!("🇨"),
            json!("🇨🇱🇨"),
            json!("1"),
            json!("‍😂"),
            json!("😂‍"),
            json!("👍x"),
            json!("&#128077;"),
            json!("👨‍👩‍👧‍👦‍👨‍👩‍👧"),
        ] {
            assert_eq!(
                emoji(Some(&malo)),
                Err(ErrorChat::Invalido("Emoji inválido")),
                "{malo}"
            );
        }
        for vacio in [json!(""), json!("  "), json!(null), json!(5)] {
            assert_eq!(
                emoji(Some(&vacio)),
                Err(ErrorChat::Invalido("Emoji requerido"))
            );
        }
        assert_eq!(emoji(None), Err(ErrorChat::Invalido("Emoji requerido")));
    }
}
