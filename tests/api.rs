//! Every v1 route of CONTRACT.md §4 against the real binary, once per store and table variant.

mod common;

use common::{ANA, BRUNO, CARLA, TestApp, Variante, respuesta};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

en_ambos_almacenes!(
    usuarios_lists_everyone_but_the_caller_by_name,
    every_api_route_answers_401_without_a_valid_session,
    crear_creates_once_then_finds_the_same_conversation,
    crear_refuses_bad_bodies_strangers_and_unknown_users,
    twenty_concurrent_crear_calls_make_one_conversation,
    non_participants_get_403_on_every_conversation_route,
    enviar_stores_the_message_and_updates_the_conversation,
    enviar_refuses_bad_bodies_and_long_messages,
    mensajes_returns_the_newest_100_in_order_and_pages_back,
    unread_counts_follow_the_read_marker_which_only_moves_forward,
    conversaciones_lists_most_recent_activity_first,
    a_group_lists_every_other_member_by_rut_and_a_lost_marker_counts_everything,
    sql_metacharacters_are_stored_verbatim,
);

fn error(body: &Value) -> &str {
    assert_eq!(body["success"], json!(false), "{body}");
    body["error"].as_str().unwrap_or_default()
}

async fn usuarios_lists_everyone_but_the_caller_by_name(v: Variante) {
    let app = TestApp::nueva(v).await;
    let (status, body) = app.get("/api/chat/usuarios", Some(BRUNO)).await;
    assert_eq!(status, StatusCode::OK);
    let usuarios = body["usuarios"].as_array().unwrap();
    let ids: Vec<&str> = usuarios.iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        ["11111111-1", "33333333-3", "44444444-4"],
        "by name: Ana, Carla, Diego"
    );
    assert_eq!(
        usuarios[0],
        json!({"id": ANA, "nombre": "Ana Pérez", "apellido": "", "nombre_completo": "Ana Pérez",
               "email": "ana@weigence.cl", "rol": "administrador", "iniciales": "AN"})
    );
}

async fn every_api_route_answers_401_without_a_valid_session(v: Variante) {
    let app = TestApp::nueva(v).await;
    let id = app.conversacion(ANA, BRUNO).await;
    let ahora = chrono::Utc::now().timestamp();
    let caducada = app.cookie_en(ANA, ahora - 31 * 24 * 3600);
    let futura = app.cookie_en(ANA, ahora + 3600);
    let mut alterada = app.cookie(ANA);
    alterada.insert(
        12,
        if alterada.as_bytes()[12] == b'A' {
            'B'
        } else {
            'A'
        },
    );
    let ajena = {
        let otro = weigence_chat::session::SessionCodec::new(
            "otra-clave",
            &[],
            std::time::Duration::from_secs(60),
        );
        let mut s = weigence_chat::session::Session::default();
        s.set("usuario_id", json!(ANA));
        format!("session={}", otro.encode(&s, ahora))
    };
    let rutas: Vec<(Method, String, Value)> = vec![
        (Method::GET, "/api/chat/usuarios".into(), Value::Null),
        (Method::GET, "/api/chat/conversaciones".into(), Value::Null),
        (
            Method::POST,
            "/api/chat/conversacion/crear".into(),
            json!({"participantes": [ANA, BRUNO]}),
        ),
        (Method::GET, format!("/api/chat/mensajes/{id}"), Value::Null),
        (
            Method::GET,
            format!("/api/chat/mensajes?conversacion_id={id}"),
            Value::Null,
        ),
        (
            Method::POST,
            "/api/chat/mensaje/enviar".into(),
            json!({"conversacion_id": id, "contenido": "x"}),
        ),
        (
            Method::POST,
            "/api/chat/mensaje/marcar-leido".into(),
            json!({"conversacion_id": id}),
        ),
    ];
    for (metodo, ruta, body) in &rutas {
        for cookie in [
            None,
            Some(&caducada),
            Some(&futura),
            Some(&alterada),
            Some(&ajena),
            Some(&"session=basura".to_owned()),
        ] {
            let mut req = app.req(metodo.clone(), ruta, None);
            if let Some(c) = cookie {
                req = req.header("cookie", c.as_str());
            }
            if !body.is_null() {
                req = req.json(body);
            }
            let r = respuesta(req.send().await.unwrap()).await;
            assert_eq!(
                r.status,
                StatusCode::UNAUTHORIZED,
                "{metodo} {ruta} with {cookie:?}"
            );
            assert_eq!(error(&r.body), "No autenticado");
        }
    }
    let mensajes = app
        .contar(&format!("SELECT count(*) FROM {}", v.tablas().2))
        .await;
    assert_eq!(mensajes, 0, "nothing was stored without a session");
}

async fn crear_creates_once_then_finds_the_same_conversation(v: Variante) {
    let app = TestApp::nueva(v).await;
    let (status, primera) = app
        .post(
            "/api/chat/conversacion/crear",
            Some(ANA),
            json!({"participantes": [ANA, BRUNO]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = primera["conversacion_id"]
        .as_str()
        .expect("conversation ids are strings")
        .to_owned();
    assert_eq!(primera["success"], json!(true));
    assert_eq!(
        primera["conversacion"],
        json!({"id": id, "nombre": null, "es_grupal": false, "creado": true})
    );
    for (rut, body) in [
        (BRUNO, json!({"participantes": [BRUNO, ANA]})),
        (ANA, json!({"participantes": [BRUNO]})),
        (BRUNO, json!({"usuario_id": ANA})),
    ] {
        let (status, otra) = app
            .post("/api/chat/conversacion/crear", Some(rut), body)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(otra["conversacion_id"], json!(id));
        assert_eq!(otra["conversacion"]["creado"], json!(false));
    }
    let (status, con_carla) = app
        .post(
            "/api/chat/conversacion/crear",
            Some(ANA),
            json!({"usuario_id": CARLA}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(con_carla["conversacion_id"], json!(id));
}

async fn crear_refuses_bad_bodies_strangers_and_unknown_users(v: Variante) {
    let app = TestApp::nueva(v).await;
    let casos = [
        (json!({}), StatusCode::BAD_REQUEST, "Faltan IDs de usuario"),
        (
            json!({"participantes": []}),
            StatusCode::BAD_REQUEST,
            "Se requieren dos participantes",
        ),
        (
            json!({"participantes": "x"}),
            StatusCode::BAD_REQUEST,
            "Se requieren dos participantes",
        ),
        (
            json!({"participantes": [ANA, BRUNO, CARLA]}),
            StatusCode::BAD_REQUEST,
            "Se requieren dos participantes",
        ),
        (
            json!({"participantes": [ANA]}),
            StatusCode::BAD_REQUEST,
            "No puedes crear una conversación contigo mismo",
        ),
        (
            json!({"participantes": [BRUNO, CARLA]}),
            StatusCode::FORBIDDEN,
            "No tienes acceso a esta conversación",
        ),
        (
            json!({"participantes": [ANA, "99999999-9"]}),
            StatusCode::NOT_FOUND,
            "Usuario no encontrado",
        ),
        (
            json!({"usuario_id": "' OR 1=1 --"}),
            StatusCode::NOT_FOUND,
            "Usuario no encontrado",
        ),
    ];
    for (body, esperado, texto) in casos {
        let (status, respuesta) = app
            .post("/api/chat/conversacion/crear", Some(ANA), body.clone())
            .await;
        assert_eq!((status, error(&respuesta)), (esperado, texto), "{body}");
    }
    let r = respuesta(
        app.req(Method::POST, "/api/chat/conversacion/crear", Some(ANA))
            .header("content-type", "application/json")
            .body("{no json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    error(&r.body);
    let conversaciones = app
        .contar(&format!("SELECT count(*) FROM {}", v.tablas().0))
        .await;
    assert_eq!(conversaciones, 0);
}

async fn twenty_concurrent_crear_calls_make_one_conversation(v: Variante) {
    let app = TestApp::nueva(v).await;
    let llamadas = (0..20).map(|i| {
        let (yo, otro) = if i % 2 == 0 {
            (ANA, BRUNO)
        } else {
            (BRUNO, ANA)
        };
        app.post(
            "/api/chat/conversacion/crear",
            Some(yo),
            json!({"participantes": [yo, otro]}),
        )
    });
    let resultados = futures_util::future::join_all(llamadas).await;
    let creadas = resultados
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(creadas, 1, "exactly one call creates");
    let ids: std::collections::HashSet<&Value> = resultados
        .iter()
        .map(|(_, b)| &b["conversacion_id"])
        .collect();
    assert_eq!(ids.len(), 1, "every call answers the same conversation");
    let (conv, part, _) = v.tablas();
    assert_eq!(app.contar(&format!("SELECT count(*) FROM {conv}")).await, 1);
    assert_eq!(app.contar(&format!("SELECT count(*) FROM {part}")).await, 2);
}

async fn non_participants_get_403_on_every_conversation_route(v: Variante) {
    let app = TestApp::nueva(v).await;
    let id = app.conversacion(ANA, BRUNO).await;
    app.enviar(ANA, &id, "privado").await;
    let prohibido = |status: StatusCode, body: &Value| {
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(error(body), "No tienes acceso a esta conversación");
    };
    let (s, b) = app
        .get(&format!("/api/chat/mensajes/{id}"), Some(CARLA))
        .await;
    prohibido(s, &b);
    let (s, b) = app
        .get(
            &format!("/api/chat/mensajes?conversacion_id={id}"),
            Some(CARLA),
        )
        .await;
    prohibido(s, &b);
    let (s, b) = app
        .post(
            "/api/chat/mensaje/enviar",
            Some(CARLA),
            json!({"conversacion_id": id, "contenido": "intruso"}),
        )
        .await;
    prohibido(s, &b);
    let (s, b) = app
        .post(
            "/api/chat/mensaje/marcar-leido",
            Some(CARLA),
            json!({"conversacion_id": id}),
        )
        .await;
    prohibido(s, &b);
    for raro in [
        "no-es-un-id",
        "1;DROP TABLE usuarios",
        "00000000-0000-0000-0000-000000000000",
        "999999",
    ] {
        let (s, b) = app
            .get(
                &format!("/api/chat/mensajes/{}", urlencode(raro)),
                Some(ANA),
            )
            .await;
        prohibido(s, &b);
        let (s, b) = app
            .post(
                "/api/chat/mensaje/enviar",
                Some(ANA),
                json!({"conversacion_id": raro, "contenido": "x"}),
            )
            .await;
        prohibido(s, &b);
    }
    let (_, _, msg) = v.tablas();
    assert_eq!(
        app.contar(&format!("SELECT count(*) FROM {msg}")).await,
        1,
        "only the participant's message"
    );
    let (_, conversaciones) = app.get("/api/chat/conversaciones", Some(CARLA)).await;
    assert_eq!(conversaciones["conversaciones"], json!([]));
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn enviar_stores_the_message_and_updates_the_conversation(v: Variante) {
    let app = TestApp::nueva(v).await;
    let id = app.conversacion(ANA, BRUNO).await;
    let r = app
        .post_completo(
            "/api/chat/mensaje/enviar",
            Some(ANA),
            json!({"conversacion_id": id, "contenido": "  Hola, ¿cómo estás?  "}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let m = &r.body["mensaje"];
    assert_eq!(m["contenido"], json!("Hola, ¿cómo estás?"));
    assert_eq!(m["conversacion_id"], json!(id));
    assert_eq!(m["usuario_id"], json!(ANA));
    assert_eq!(
        (
            m["editado"].clone(),
            m["eliminado"].clone(),
            m["es_mio"].clone()
        ),
        (json!(false), json!(false), json!(true))
    );
    assert_eq!(m["usuario"]["nombre_completo"], json!("Ana Pérez"));
    match v {
        Variante::Live => assert!(m["id"].is_i64(), "integer ids stay numbers"),
        Variante::Migration => assert!(m["id"].is_string(), "uuid ids are strings"),
    }
    let (conv, _, _) = v.tablas();
    let fila = app
        .db
        .client
        .query_one(
            &format!("SELECT (to_json(ultima_actualizacion) #>> '{{}}') FROM {conv}"),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        fila.get::<_, Option<String>>(0).as_deref(),
        m["fecha_envio"].as_str(),
        "conversation touched"
    );
    if matches!(v, Variante::Live) {
        let ultimo: i64 = app
            .db
            .client
            .query_one("SELECT ultimo_mensaje_id FROM chat_conversaciones", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(json!(ultimo), m["id"]);
    }
    let numerica = app
        .post("/api/chat/mensaje/enviar", Some(BRUNO), json!({"conversacion_id": id.parse::<i64>().map(Value::from).unwrap_or(json!(id)), "contenido": "ok"}))
        .await;
    assert_eq!(
        numerica.0,
        StatusCode::CREATED,
        "numeric ids are accepted too: {}",
        numerica.1
    );
}

async fn enviar_refuses_bad_bodies_and_long_messages(v: Variante) {
    let app = TestApp::con(
        v,
        &[("MAX_MESSAGE_CHARS", "50"), ("MAX_BODY_BYTES", "4096")],
    )
    .await;
    let id = app.conversacion(ANA, BRUNO).await;
    let faltan = [
        json!({"conversacion_id": id}),
        json!({"contenido": "hola"}),
        json!({"conversacion_id": id, "contenido": "   "}),
        json!({"conversacion_id": id, "contenido": 5}),
        json!({"conversacion_id": id, "contenido": ["x"]}),
        json!({"conversacion_id": null, "contenido": "x"}),
    ];
    for body in faltan {
        let (s, b) = app
            .post("/api/chat/mensaje/enviar", Some(ANA), body.clone())
            .await;
        assert_eq!(
            (s, error(&b)),
            (StatusCode::BAD_REQUEST, "Faltan datos requeridos"),
            "{body}"
        );
    }
    let (s, b) = app
        .post(
            "/api/chat/mensaje/enviar",
            Some(ANA),
            json!({"conversacion_id": id, "contenido": "ñ".repeat(51)}),
        )
        .await;
    assert_eq!(
        (s, error(&b)),
        (StatusCode::PAYLOAD_TOO_LARGE, "Mensaje demasiado largo")
    );
    let (s, _) = app
        .post(
            "/api/chat/mensaje/enviar",
            Some(ANA),
            json!({"conversacion_id": id, "contenido": "ñ".repeat(50)}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::CREATED,
        "exactly the limit is fine (characters, not bytes)"
    );
    let (s, b) = app
        .post(
            "/api/chat/mensaje/enviar",
            Some(ANA),
            json!({"conversacion_id": id, "contenido": "x".repeat(5000)}),
        )
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "body cap");
    error(&b);
    let texto_plano = respuesta(
        app.req(Method::POST, "/api/chat/mensaje/enviar", Some(ANA))
            .header("content-type", "text/plain")
            .body(json!({"conversacion_id": id, "contenido": "x"}).to_string())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(texto_plano.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    error(&texto_plano.body);
    for cuerpo in [
        "[1,2]",
        "\"hola\"",
        "{\"conversacion_id\":",
        "{\"a\":{\"b\":{\"c\":[[[[[[[[[[[[]]]]]]]]]]]]}}}",
    ] {
        let r = respuesta(
            app.req(Method::POST, "/api/chat/mensaje/enviar", Some(ANA))
                .header("content-type", "application/json")
                .body(cuerpo)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{cuerpo}: {}", r.texto);
        error(&r.body);
    }
    let (_, _, msg) = v.tablas();
    assert_eq!(
        app.contar(&format!("SELECT count(*) FROM {msg}")).await,
        1,
        "only the valid message was stored"
    );
}

async fn mensajes_returns_the_newest_100_in_order_and_pages_back(v: Variante) {
    let app = TestApp::nueva(v).await;
    let id = app.conversacion(ANA, BRUNO).await;
    for i in 0..101 {
        let rut = if i % 3 == 0 { BRUNO } else { ANA };
        app.enviar(rut, &id, &format!("m{i:03}")).await;
    }
    let (s, body) = app
        .get(&format!("/api/chat/mensajes/{id}"), Some(ANA))
        .await;
    assert_eq!(s, StatusCode::OK);
    let mensajes = body["mensajes"].as_array().unwrap();
    let textos: Vec<&str> = mensajes
        .iter()
        .map(|m| m["contenido"].as_str().unwrap())
        .collect();
    let esperados: Vec<String> = (1..101).map(|i| format!("m{i:03}")).collect();
    assert_eq!(textos, esperados, "the newest 100, oldest first");
    let primero = &mensajes[0];
    assert_eq!(primero["es_mio"], primero["es_propio"]);
    assert_eq!(primero["usuario_id"], json!(ANA));
    assert_eq!(primero["es_propio"], json!(true));
    assert_eq!(mensajes[2]["es_propio"], json!(false), "m003 is Bruno's");
    let (_, via_query) = app
        .get(
            &format!("/api/chat/mensajes?conversacion_id={id}"),
            Some(BRUNO),
        )
        .await;
    assert_eq!(via_query["mensajes"].as_array().unwrap().len(), 100);
    let antes = primero["id"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| primero["id"].to_string());
    let (s, pagina) = app
        .get(
            &format!("/api/chat/mensajes/{id}?antes={antes}&limite=5"),
            Some(ANA),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let textos: Vec<&str> = pagina["mensajes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["contenido"].as_str().unwrap())
        .collect();
    assert_eq!(textos, ["m000"]);
    let (s, pocos) = app
        .get(&format!("/api/chat/mensajes/{id}?limite=3"), Some(ANA))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(pocos["mensajes"].as_array().unwrap().len(), 3);
    let (s, b) = app
        .get(&format!("/api/chat/mensajes/{id}?limite=muchos"), Some(ANA))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    error(&b);
    let (s, b) = app.get("/api/chat/mensajes", Some(ANA)).await;
    assert_eq!(
        (s, error(&b)),
        (StatusCode::BAD_REQUEST, "Falta conversacion_id")
    );
}

async fn no_leidos(app: &TestApp, rut: &str, id: &str) -> i64 {
    let (s, body) = app.get("/api/chat/conversaciones", Some(rut)).await;
    assert_eq!(s, StatusCode::OK);
    let c = body["conversaciones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == json!(id))
        .expect("listed");
    assert_eq!(c["no_leidos"], c["mensajes_no_leidos"]);
    c["no_leidos"].as_i64().unwrap()
}

async fn unread_counts_follow_the_read_marker_which_only_moves_forward(v: Variante) {
    let app = TestApp::nueva(v).await;
    let id = app.conversacion(ANA, BRUNO).await;
    let m: Vec<Value> = {
        let mut v = Vec::new();
        for i in 0..4 {
            v.push(app.enviar(ANA, &id, &format!("a{i}")).await);
        }
        v
    };
    app.enviar(BRUNO, &id, "respuesta de bruno").await;
    assert_eq!(
        no_leidos(&app, BRUNO, &id).await,
        4,
        "never read: every message from others"
    );
    assert_eq!(
        no_leidos(&app, ANA, &id).await,
        1,
        "own messages never count"
    );

    let (s, b) = app
        .post(
            "/api/chat/mensaje/marcar-leido",
            Some(BRUNO),
            json!({"conversacion_id": id, "mensaje_id": m[1]["id"]}),
        )
        .await;
    assert_eq!((s, b), (StatusCode::OK, json!({"success": true})));
    assert_eq!(
        no_leidos(&app, BRUNO, &id).await,
        2,
        "read up to the second message"
    );

    app.post(
        "/api/chat/mensaje/marcar-leido",
        Some(BRUNO),
        json!({"conversacion_id": id, "mensaje_id": m[0]["id"]}),
    )
    .await;
    assert_eq!(
        no_leidos(&app, BRUNO, &id).await,
        2,
        "the marker never moves back"
    );

    app.post(
        "/api/chat/mensaje/marcar-leido",
        Some(BRUNO),
        json!({"conversacion_id": id, "mensaje_id": "no-existe"}),
    )
    .await;
    assert_eq!(
        no_leidos(&app, BRUNO, &id).await,
        0,
        "an unknown mensaje_id reads up to the newest"
    );

    app.enviar(ANA, &id, "otro").await;
    assert_eq!(no_leidos(&app, BRUNO, &id).await, 1);
    app.post(
        "/api/chat/mensaje/marcar-leido",
        Some(BRUNO),
        json!({"conversacion_id": id}),
    )
    .await;
    assert_eq!(
        no_leidos(&app, BRUNO, &id).await,
        0,
        "without mensaje_id: up to the newest"
    );

    let (s, b) = app
        .post("/api/chat/mensaje/marcar-leido", Some(BRUNO), json!({}))
        .await;
    assert_eq!(
        (s, error(&b)),
        (StatusCode::BAD_REQUEST, "Falta conversacion_id")
    );
}

async fn conversaciones_lists_most_recent_activity_first(v: Variante) {
    let app = TestApp::nueva(v).await;
    let con_bruno = app.conversacion(ANA, BRUNO).await;
    let con_carla = app.conversacion(ANA, CARLA).await;
    let (_, lista) = app.get("/api/chat/conversaciones", Some(ANA)).await;
    let ids: Vec<&Value> = lista["conversaciones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["id"])
        .collect();
    assert_eq!(ids, [&json!(con_carla), &json!(con_bruno)], "newest first");
    assert_eq!(lista["conversaciones"][0]["ultimo_mensaje"], Value::Null);

    let m = app.enviar(BRUNO, &con_bruno, "último").await;
    let (_, lista) = app.get("/api/chat/conversaciones", Some(ANA)).await;
    let c = &lista["conversaciones"][0];
    assert_eq!(c["id"], json!(con_bruno), "activity moves it to the top");
    assert_eq!(c["nombre"], Value::Null);
    assert_eq!(c["es_grupal"], json!(false));
    assert_eq!(
        c["participantes"].as_array().unwrap().len(),
        1,
        "the caller is not listed"
    );
    assert_eq!(c["participantes"][0]["id"], json!(BRUNO));
    assert_eq!(c["participantes"][0]["iniciales"], json!("BR"));
    assert_eq!(c["ultimo_mensaje"]["id"], m["id"]);
    assert_eq!(c["ultimo_mensaje"]["contenido"], json!("último"));
    assert_eq!(c["ultimo_mensaje"]["usuario_id"], json!(BRUNO));
    for clave in [
        "fecha_creacion",
        "ultimo_mensaje_timestamp",
        "ultima_actualizacion",
    ] {
        assert!(c[clave].is_string(), "{clave}: {c}");
    }
}

async fn a_group_lists_every_other_member_by_rut_and_a_lost_marker_counts_everything(v: Variante) {
    let app = TestApp::nueva(v).await;
    let (conv, part, _) = v.tablas();
    let creadas = app
        .contar(&format!(
            "WITH g AS (INSERT INTO {conv} (nombre, es_grupal) VALUES ('Equipo', true) RETURNING id), \
                  m AS (INSERT INTO {part} (conversacion_id, usuario_id) \
                        SELECT g.id, x FROM g, unnest(ARRAY['44444444-4', '{BRUNO}', '{ANA}', '{CARLA}']) x) \
             SELECT count(*) FROM g"
        ))
        .await;
    assert_eq!(creadas, 1);
    let (_, lista) = app.get("/api/chat/conversaciones", Some(BRUNO)).await;
    let grupo = lista["conversaciones"][0].clone();
    let id = grupo["id"].as_str().unwrap().to_owned();
    assert_eq!(grupo["nombre"], json!("Equipo"));
    assert_eq!(grupo["es_grupal"], json!(true));
    let otros: Vec<&Value> = grupo["participantes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["id"])
        .collect();
    assert_eq!(
        otros,
        [&json!(ANA), &json!(CARLA), &json!("44444444-4")],
        "everyone but the caller, by rut"
    );
    assert_eq!(grupo["participantes"][2]["nombre"], json!("Diego Rojas"));

    for texto in ["uno", "dos", "tres"] {
        app.enviar(ANA, &id, texto).await;
    }
    app.enviar(CARLA, &id, "cuatro").await;
    app.enviar(BRUNO, &id, "mío").await;
    assert_eq!(
        no_leidos(&app, BRUNO, &id).await,
        4,
        "every member's messages"
    );
    app.post(
        "/api/chat/mensaje/marcar-leido",
        Some(BRUNO),
        json!({"conversacion_id": id}),
    )
    .await;
    assert_eq!(no_leidos(&app, BRUNO, &id).await, 0);
    // A marker that no longer names a message (a row deleted outside the service, or a date
    // before every message) counts every message from others again.
    let perdida = match v {
        Variante::Live => "-1",
        Variante::Migration => "'2000-01-01'",
    };
    app.contar(&format!(
        "WITH u AS (UPDATE {part} SET ultimo_mensaje_leido = {perdida} \
           WHERE usuario_id = '{BRUNO}' RETURNING 1) SELECT count(*) FROM u"
    ))
    .await;
    assert_eq!(no_leidos(&app, BRUNO, &id).await, 4);
    let (_, lista) = app.get("/api/chat/conversaciones", Some(BRUNO)).await;
    assert_eq!(
        lista["conversaciones"][0]["ultimo_mensaje"]["contenido"],
        json!("mío")
    );
}

async fn sql_metacharacters_are_stored_verbatim(v: Variante) {
    let app = TestApp::nueva(v).await;
    let raro = "O'Brien\"; DROP TABLE usuarios; -- \\ $1 %s";
    app.usuario("55555555-5", raro).await;
    let id = app.conversacion(ANA, "55555555-5").await;
    let m = app.enviar(ANA, &id, raro).await;
    assert_eq!(m["contenido"], json!(raro));
    let (_, lista) = app
        .get(&format!("/api/chat/mensajes/{id}"), Some("55555555-5"))
        .await;
    assert_eq!(lista["mensajes"][0]["contenido"], json!(raro));
    let (_, usuarios) = app.get("/api/chat/usuarios", Some(ANA)).await;
    assert!(
        usuarios["usuarios"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["nombre"] == json!(raro))
    );
}
