//! Login, logout, the chat page, health, origin checks, rate limits, start-up settings and
//! SQL round trips, against the real binary.

mod common;

use std::time::Duration;

use common::{ANA, BRUNO, TestApp, TestDb, Variante, arrancar, respuesta};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn login(app: &TestApp, usuario: &str, password: &str, remember: bool) -> common::Respuesta {
    let mut form = vec![("usuario", usuario), ("password", password)];
    if remember {
        form.push(("remember", "on"));
    }
    respuesta(
        app.req(Method::POST, "/", None)
            .form(&form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn cookie_de(r: &common::Respuesta) -> String {
    let set = r
        .headers
        .get("set-cookie")
        .expect("set-cookie")
        .to_str()
        .unwrap();
    set.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn login_with_bcrypt_by_rut_email_or_name_redirects_to_chat() {
    let app = TestApp::nueva(Variante::Live).await;
    for usuario in [ANA, "ana@weigence.cl", "Ana Pérez"] {
        let r = login(&app, usuario, "demo1234", false).await;
        assert_eq!(r.status, StatusCode::FOUND, "{usuario}");
        assert_eq!(r.headers["location"], "/chat");
        let set = r.headers["set-cookie"].to_str().unwrap();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"),
            "{set}"
        );
        assert!(
            !set.contains("Expires"),
            "not permanent without remember: {set}"
        );
        let chat = respuesta(
            app.req(Method::GET, "/chat", None)
                .header("cookie", cookie_de(&r))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(chat.status, StatusCode::OK);
        assert!(chat.texto.contains(&format!("data-usuario-id=\"{ANA}\"")));
        assert!(chat.texto.contains("<meta name=\"csrf-token\" content=\""));
        assert!(chat.texto.contains("/static/js/chat.js"));
    }
    let recordado = login(&app, "bruno@weigence.cl", "demo1234", true).await;
    assert!(
        recordado.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Expires="),
        "remember → permanent cookie"
    );
    let (s, _) = {
        let r = respuesta(
            app.req(Method::GET, "/api/chat/usuarios", None)
                .header("cookie", cookie_de(&recordado))
                .send()
                .await
                .unwrap(),
        )
        .await;
        (r.status, r.body)
    };
    assert_eq!(s, StatusCode::OK, "the issued cookie authenticates the API");
}

#[tokio::test]
async fn failed_logins_look_the_same_whether_or_not_the_account_exists() {
    let app = TestApp::nueva(Variante::Live).await;
    let mala = login(&app, "ana@weigence.cl", "incorrecta", false).await;
    let inexistente = login(&app, "nadie@weigence.cl", "incorrecta", false).await;
    let vacia = login(&app, "", "", false).await;
    for r in [&mala, &inexistente, &vacia] {
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.headers.get("set-cookie").is_none());
        assert!(r.texto.contains("Usuario o contraseña incorrectos"));
    }
    assert_eq!(mala.texto, inexistente.texto);
}

#[tokio::test]
async fn plaintext_passwords_are_refused_unless_enabled_and_then_rehashed() {
    let db = TestDb::nueva(Variante::Live).await;
    db.client
        .execute(r#"INSERT INTO usuarios (rut_usuario, nombre, correo, "Contraseña") VALUES ('77777777-7', 'Vieja', 'v@w.cl', 'plano123')"#, &[])
        .await
        .unwrap();
    let form = [("usuario", "v@w.cl"), ("password", "plano123")];
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (proceso, base) = arrancar(&db.url, &[]).await;
    let r = http
        .post(format!("{base}/"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "off by default");
    drop(proceso);
    let (_proceso, base) = arrancar(&db.url, &[("ALLOW_PLAINTEXT_PASSWORDS", "true")]).await;
    let r = http
        .post(format!("{base}/"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND, "accepted when enabled");
    let hash: Option<String> = db
        .client
        .query_one(
            "SELECT password_hash FROM usuarios WHERE rut_usuario = '77777777-7'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(bcrypt::verify("plano123", &hash.expect("re-hashed")).unwrap());
}

#[tokio::test]
async fn logout_clears_the_session_and_chat_needs_one() {
    let app = TestApp::nueva(Variante::Live).await;
    let r = respuesta(
        app.req(Method::GET, "/logout", Some(ANA))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FOUND);
    assert_eq!(r.headers["location"], "/");
    let set = r.headers["set-cookie"].to_str().unwrap();
    assert!(
        set.starts_with("session=;") && set.contains("Max-Age=0"),
        "{set}"
    );
    let sin = respuesta(app.req(Method::GET, "/chat", None).send().await.unwrap()).await;
    assert_eq!(
        (sin.status, sin.headers["location"].to_str().unwrap()),
        (StatusCode::FOUND, "/")
    );
    let form = respuesta(app.req(Method::GET, "/", None).send().await.unwrap()).await;
    assert!(form.texto.contains("name=\"usuario\"") && form.texto.contains("name=\"password\""));
    let ya = respuesta(app.req(Method::GET, "/", Some(ANA)).send().await.unwrap()).await;
    assert_eq!(
        ya.status,
        StatusCode::FOUND,
        "signed-in users go straight to the chat"
    );
}

#[tokio::test]
async fn chat_page_escapes_the_user_id_and_static_files_are_served() {
    let app = TestApp::nueva(Variante::Live).await;
    let r = respuesta(
        app.req(Method::GET, "/chat", Some("<x>\"'"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        r.texto
            .contains("data-usuario-id=\"&lt;x&gt;&quot;&#x27;\"")
    );
    let js = app
        .req(Method::GET, "/static/js/chat.js", None)
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), StatusCode::OK);
}

#[tokio::test]
async fn foreign_origins_cannot_change_state() {
    let app = TestApp::con(
        Variante::Live,
        &[("ALLOWED_ORIGINS", "https://weigence.example")],
    )
    .await;
    let id = app.conversacion(ANA, BRUNO).await;
    let body = json!({"conversacion_id": id, "contenido": "csrf"});
    let enviar = |cabecera: &'static str, valor: &'static str| {
        app.req(Method::POST, "/api/chat/mensaje/enviar", Some(ANA))
            .header(cabecera, valor)
            .json(&body)
            .send()
    };
    let ajeno = respuesta(enviar("origin", "https://evil.example").await.unwrap()).await;
    assert_eq!(
        (ajeno.status, ajeno.body["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("Origen no permitido"))
    );
    let referer = respuesta(
        enviar("referer", "https://evil.example/chat")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(referer.status, StatusCode::FORBIDDEN);
    let permitido = respuesta(enviar("origin", "https://weigence.example").await.unwrap()).await;
    assert_eq!(permitido.status, StatusCode::CREATED);
    let propio = app.base.clone();
    let mismo = app
        .req(Method::POST, "/api/chat/mensaje/enviar", Some(ANA))
        .header("origin", propio)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        mismo.status(),
        StatusCode::CREATED,
        "the service's own origin"
    );
    let login = app
        .req(Method::POST, "/", None)
        .header("origin", "https://evil.example")
        .form(&[("usuario", "ana@weigence.cl"), ("password", "demo1234")])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::FORBIDDEN, "no login CSRF");
    let lectura = app
        .req(Method::GET, "/api/chat/usuarios", Some(ANA))
        .header("origin", "https://evil.example");
    assert_eq!(
        lectura.send().await.unwrap().status(),
        StatusCode::OK,
        "reads are not state changes"
    );
    assert_eq!(app.contar("SELECT count(*) FROM chat_mensajes").await, 2);
}

#[tokio::test]
async fn rate_limits_are_per_user_with_retry_after() {
    let app = TestApp::con(
        Variante::Live,
        &[("RATE_LIMIT_BURST", "5"), ("RATE_LIMIT_PER_MINUTE", "6")],
    )
    .await;
    for _ in 0..5 {
        assert_eq!(
            app.get("/api/chat/usuarios", Some(ANA)).await.0,
            StatusCode::OK
        );
    }
    let r = respuesta(
        app.req(Method::GET, "/api/chat/usuarios", Some(ANA))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        r.body,
        json!({"success": false, "error": "Demasiadas solicitudes", "msg": "Demasiadas solicitudes"})
    );
    let espera: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=10).contains(&espera), "{espera}");
    assert_eq!(
        app.get("/api/chat/usuarios", Some(BRUNO)).await.0,
        StatusCode::OK,
        "other users are unaffected"
    );
}

#[tokio::test]
async fn healthz_follows_the_database_and_recovers_without_restart() {
    let app = TestApp::con(Variante::Live, &[("DATABASE_TIMEOUT_MS", "1000")]).await;
    let salud = || async {
        app.req(Method::GET, "/healthz", None)
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(salud().await, StatusCode::OK);
    let base = app.db.url.rsplit('/').next().unwrap().to_owned();
    let admin = std::env::var("TEST_DATABASE_URL").unwrap();
    let (admin, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    admin
        .batch_execute(&format!("ALTER DATABASE {base} ALLOW_CONNECTIONS false"))
        .await
        .unwrap();
    admin
        .execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", &[&base])
        .await
        .unwrap();
    assert_eq!(salud().await, StatusCode::SERVICE_UNAVAILABLE);
    let (s, body) = app.get("/api/chat/usuarios", Some(ANA)).await;
    assert_eq!(
        (s, body),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"success": false, "error": "Servicio no disponible", "msg": "Servicio no disponible"})
        )
    );
    admin
        .batch_execute(&format!("ALTER DATABASE {base} ALLOW_CONNECTIONS true"))
        .await
        .unwrap();
    assert_eq!(salud().await, StatusCode::OK, "recovers without a restart");
    assert_eq!(
        app.get("/api/chat/usuarios", Some(ANA)).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn openapi_document_is_served() {
    let app = TestApp::nueva(Variante::Live).await;
    let r = respuesta(
        app.req(Method::GET, "/openapi.json", None)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["paths"]["/chat/mensaje/enviar"]["post"].is_object());
    assert_eq!(r.body["servers"][0]["url"], json!("/api"));
}

#[tokio::test]
async fn bad_settings_stop_start_up_with_exit_code_2_and_one_line() {
    for (quitar, poner) in [
        ("SECRET_KEY", None),
        ("PORT", Some("no-es-puerto")),
        ("CHAT_TABLES", Some("otra")),
    ] {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_weigence-chat"));
        cmd.env_clear()
            .env("SECRET_KEY", "k")
            .env("DATABASE_URL", "postgres://127.0.0.1:1/x")
            .current_dir(std::env::temp_dir());
        match poner {
            Some(v) => cmd.env(quitar, v),
            None => cmd.env_remove(quitar),
        };
        let salida = cmd.output().unwrap();
        assert_eq!(salida.status.code(), Some(2), "{quitar}");
        let err = String::from_utf8_lossy(&salida.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(quitar), "{err}");
    }
}

/// Statements each route runs, read from PostgreSQL's own pg_stat_statements.
async fn sentencias(app: &TestApp, ruta: &str) -> i64 {
    let base = app.db.url.rsplit('/').next().unwrap().to_owned();
    app.db
        .client
        .batch_execute("SELECT pg_stat_statements_reset()")
        .await
        .unwrap();
    assert_eq!(app.get(ruta, Some(ANA)).await.0, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let fila = app
        .db
        .client
        .query_one(
            "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid \
             WHERE d.datname = $1 AND s.query NOT LIKE '%pg_stat_statements%'",
            &[&base],
        )
        .await
        .unwrap();
    fila.get(0)
}

#[tokio::test]
async fn listing_costs_the_same_statements_for_1_or_30_conversations() {
    let app = TestApp::nueva(Variante::Live).await;
    app.db
        .client
        .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .await
        .unwrap();
    let id = app.conversacion(ANA, BRUNO).await;
    app.enviar(BRUNO, &id, "hola").await;
    let una = sentencias(&app, "/api/chat/conversaciones").await;
    let historial_corto = sentencias(&app, &format!("/api/chat/mensajes/{id}")).await;
    for i in 0..29 {
        let rut = format!("9000000{i:02}-k");
        app.usuario(&rut, &format!("Usuario {i}")).await;
        let otra = app.conversacion(ANA, &rut).await;
        app.enviar(&rut, &otra, "hola").await;
        app.enviar(ANA, &id, "más").await;
    }
    let treinta = sentencias(&app, "/api/chat/conversaciones").await;
    let historial_largo = sentencias(&app, &format!("/api/chat/mensajes/{id}")).await;
    assert_eq!(una, 1, "one statement lists every conversation");
    assert_eq!(
        treinta, una,
        "constant whatever the number of conversations"
    );
    assert_eq!(
        historial_corto, 3,
        "participant check + history (v1) + the id as a message (v2, same path)"
    );
    assert_eq!(historial_largo, historial_corto);
}

#[tokio::test]
async fn works_without_prepared_statements_for_transaction_poolers() {
    let app = TestApp::con(
        Variante::Migration,
        &[("DATABASE_PREPARED_STATEMENTS", "false")],
    )
    .await;
    let id = app.conversacion(ANA, BRUNO).await;
    let m = app.enviar(ANA, &id, "sin sentencias preparadas").await;
    let (s, lista) = app
        .get(&format!("/api/chat/mensajes/{id}"), Some(BRUNO))
        .await;
    assert_eq!((s, &lista["mensajes"][0]["id"]), (StatusCode::OK, &m["id"]));
    let (s, _) = app
        .post(
            "/api/chat/mensaje/marcar-leido",
            Some(BRUNO),
            json!({"conversacion_id": id, "mensaje_id": m["id"]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, conversaciones) = app.get("/api/chat/conversaciones", Some(BRUNO)).await;
    assert_eq!(conversaciones["conversaciones"][0]["no_leidos"], json!(0));
}

#[tokio::test]
async fn heartbeat_keeps_a_socketless_page_online_and_unknown_methods_get_405() {
    let app = TestApp::nueva(Variante::Live).await;
    let (s, latido) = app
        .post("/api/usuarios/heartbeat", Some(BRUNO), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (latido["success"].clone(), latido["usuario_id"].clone()),
        (json!(true), json!(BRUNO))
    );
    let (s, conectados) = app.get("/api/usuarios/conectados", Some(ANA)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(conectados["conectados"], json!([BRUNO]));
    assert_eq!(conectados["total"], json!(1));
    let (s, cuerpo) = app.get("/api/chat/mensaje/enviar", Some(ANA)).await;
    assert_eq!(
        (s, cuerpo["success"].clone()),
        (StatusCode::METHOD_NOT_ALLOWED, json!(false))
    );
    let (s, _) = app.get("/api/usuarios/conectados", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn login_attempts_are_limited_per_account_and_per_address() {
    let app = TestApp::con(Variante::Live, &[("LOGIN_ATTEMPTS_PER_MINUTE", "4")]).await;
    // Concurrent attempts reach the limiter together: however slow bcrypt is on a loaded
    // machine, the buckets cannot refill between them.
    let malos = (0..2).map(|_| login(&app, "ana@weigence.cl", "mala", false));
    for r in futures_util::future::join_all(malos).await {
        assert_eq!(r.status, StatusCode::OK);
    }
    let bloqueado = login(&app, "ana@weigence.cl", "demo1234", false).await;
    assert_eq!(
        bloqueado.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert!(bloqueado.headers.contains_key("retry-after"));
    assert!(
        bloqueado.texto.contains("name=\"password\""),
        "the form is shown again"
    );
    // Per address: 24 a minute with a burst of 12, three already taken by Ana's attempts.
    let otros = (0..12).map(|i| {
        let usuario = format!("nadie{i}@weigence.cl");
        let app = &app;
        async move { login(app, &usuario, "x", false).await.status }
    });
    let estados = futures_util::future::join_all(otros).await;
    assert!(
        estados.contains(&StatusCode::TOO_MANY_REQUESTS),
        "one address cannot try many accounts: {estados:?}"
    );
}

#[tokio::test]
async fn cookies_are_secure_when_configured() {
    let app = TestApp::con(
        Variante::Live,
        &[
            ("SESSION_COOKIE_SECURE", "true"),
            ("SESSION_COOKIE_NAME", "weigence_session"),
        ],
    )
    .await;
    let r = respuesta(
        app.req(Method::POST, "/", None)
            .form(&[("usuario", "ana@weigence.cl"), ("password", "demo1234")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    let set = r.headers["set-cookie"].to_str().unwrap();
    assert!(
        set.starts_with("weigence_session=")
            && set.contains("; Secure")
            && set.contains("HttpOnly"),
        "{set}"
    );
    let con_nombre = set.split(';').next().unwrap().to_owned();
    let usuarios = app
        .req(Method::GET, "/api/chat/usuarios", None)
        .header("cookie", con_nombre)
        .send()
        .await
        .unwrap();
    assert_eq!(
        usuarios.status(),
        StatusCode::OK,
        "the configured cookie name is read back"
    );
}

#[tokio::test]
async fn errors_to_requests_with_a_body_close_the_connection_explicitly() {
    let app = TestApp::con(Variante::Live, &[("MAX_BODY_BYTES", "1024")]).await;
    let sin_sesion = app
        .req(Method::POST, "/api/chat/mensaje/enviar", None)
        .json(&json!({"conversacion_id": "1", "contenido": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(sin_sesion.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(sin_sesion.headers()["connection"], "close");
    let grande = app
        .req(Method::POST, "/api/chat/mensaje/enviar", Some(ANA))
        .json(&json!({"conversacion_id": "1", "contenido": "x".repeat(4096)}))
        .send()
        .await
        .unwrap();
    assert_eq!(grande.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(grande.headers()["connection"], "close");
    let lectura = app
        .req(Method::GET, "/api/chat/usuarios", None)
        .send()
        .await
        .unwrap();
    assert_eq!(lectura.status(), StatusCode::UNAUTHORIZED);
    assert!(
        lectura.headers().get("connection").is_none(),
        "bodiless requests keep the connection"
    );
}
