//! Property tests (proptest) for the hostile-input parsers: the Flask cookie decoder and the
//! payload parsing shared by REST and Socket.IO. `scripts/test` runs a bounded number of cases;
//! `scripts/fuzz` runs many more (set `PROPTEST_CASES`).

use std::time::Duration;

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use weigence_chat::dominio::{Id, IdKind};
use weigence_chat::service::entrada;
use weigence_chat::session::{Session, SessionCodec, tagged};

const AHORA: i64 = 1_764_000_000;

fn codec() -> SessionCodec {
    SessionCodec::new("clave", &["vieja".into()], Duration::from_secs(3600))
}

/// Any JSON value, nested a few levels, including one-key objects that look like Flask tags.
fn json_cualquiera() -> impl Strategy<Value = Value> {
    let hoja = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        prop_oneof![
            Just(" t"),
            Just(" b"),
            Just(" di"),
            Just(" u"),
            Just(" m"),
            Just(" d")
        ]
        .prop_map(Value::from),
    ];
    hoja.prop_recursive(4, 64, 8, |interior| {
        prop_oneof![
            prop::collection::vec(interior.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    ".{0,12}".boxed(),
                    prop_oneof![
                        Just(" t".to_owned()),
                        Just(" di".to_owned()),
                        Just(" b".to_owned())
                    ]
                    .boxed()
                ],
                interior,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn the_cookie_decoder_never_panics_on_arbitrary_text(cookie in ".{0,300}") {
        let _ = codec().decode(&cookie, AHORA);
    }

    #[test]
    fn the_cookie_decoder_never_panics_on_cookie_shaped_garbage(
        comprimido in any::<bool>(),
        payload in prop::collection::vec(any::<u8>(), 0..200),
        sello in prop::collection::vec(any::<u8>(), 0..10),
        firma in prop::collection::vec(any::<u8>(), 0..30),
    ) {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let cookie = format!("{}{}.{}.{}", if comprimido { "." } else { "" }, b64.encode(&payload), b64.encode(&sello), b64.encode(&firma));
        prop_assert!(codec().decode(&cookie, AHORA).is_err(), "a random signature never verifies");
    }

    #[test]
    fn sessions_round_trip_through_the_cookie(valores in prop::collection::btree_map("[a-z_]{1,12}", json_cualquiera(), 0..8)) {
        let mut sesion = Session::default();
        for (clave, valor) in &valores {
            sesion.set(clave, valor.clone());
        }
        let cookie = codec().encode(&sesion, AHORA);
        let leida = codec().decode(&cookie, AHORA + 10).expect("our own cookie verifies");
        for (clave, valor) in &valores {
            prop_assert_eq!(leida.get(clave), Some(valor.clone()));
        }
    }

    #[test]
    fn untagging_never_panics_and_tagging_is_reversible(valor in json_cualquiera()) {
        let _ = tagged::untag(&valor);
        let sin_objetos_marcados = !contiene_marca(&valor);
        if sin_objetos_marcados {
            prop_assert_eq!(tagged::untag(&tagged::tag(&valor)), valor);
        }
    }

    #[test]
    fn payload_parsing_never_panics(
        participantes in json_cualquiera(),
        usuario in json_cualquiera(),
        conversacion in json_cualquiera(),
        contenido in json_cualquiera(),
        clave in json_cualquiera(),
    ) {
        let _ = entrada::otro_participante("1-9", Some(&participantes), Some(&usuario));
        let _ = entrada::otro_participante("1-9", None, Some(&usuario));
        let _ = entrada::contenido(Some(&conversacion), Some(&contenido), 2000);
        let _ = entrada::clave_cliente(Some(&clave));
        for kind in [IdKind::Integer, IdKind::Uuid] {
            if let Some(id) = Id::from_json(&conversacion, kind) {
                prop_assert_eq!(Id::parse(id.as_str(), kind), Some(id.clone()), "canonical ids parse back");
                prop_assert!(id.as_str().chars().all(|c| c.is_ascii_alphanumeric() || c == '-'), "ids are SQL-inert");
            }
        }
    }

    #[test]
    fn accepted_message_text_is_bounded_and_trimmed(texto in ".{0,60}", max in 1usize..40) {
        let (conversacion, valor) = (json!("1"), Value::from(texto.clone()));
        if let Ok(limpio) = entrada::contenido(Some(&conversacion), Some(&valor), max) {
            prop_assert!(!limpio.is_empty() && limpio.chars().count() <= max && limpio == texto.trim());
            prop_assert!(!limpio.contains('\0'));
        }
    }
}

/// Whether a value holds a one-key object whose key is a Flask tag: those are Flask's own
/// encoding, so `tag(untag(x))` need not give them back unchanged.
fn contiene_marca(valor: &Value) -> bool {
    match valor {
        Value::Array(v) => v.iter().any(contiene_marca),
        Value::Object(m) => es_marca(m) || m.values().any(contiene_marca),
        _ => false,
    }
}

fn es_marca(m: &Map<String, Value>) -> bool {
    m.len() == 1
        && m.keys()
            .all(|k| [" t", " b", " m", " u", " d", " di"].contains(&k.as_str()))
}
