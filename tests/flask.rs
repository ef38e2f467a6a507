//! Cookie compatibility both ways with the real Flask + itsdangerous (installed by
//! `scripts/test` into `.venv`): a cookie Flask made works here, one we made works in Flask.

mod common;

use std::process::Command;

use common::{ANA, SECRET, TestApp, Variante, respuesta};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn flask(args: &[&str]) -> (bool, String) {
    let script = format!(
        "{}/tests/clients/flask_cookie.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let salida = Command::new(common::python())
        .arg(&script)
        .args(args)
        .output()
        .expect(
            "run tests/clients/flask_cookie.py with the test virtualenv's Python (scripts/test creates it)",
        );
    let stderr = String::from_utf8_lossy(&salida.stderr);
    assert!(!stderr.contains("Traceback"), "{stderr}");
    (
        salida.status.success(),
        String::from_utf8_lossy(&salida.stdout).trim().to_owned(),
    )
}

fn flask_mint(secret: &str, datos: &Value, cuando: Option<i64>) -> String {
    let cuando = cuando.map(|c| c.to_string());
    let mut args = vec!["mint", secret];
    let datos = datos.to_string();
    args.push(&datos);
    if let Some(c) = &cuando {
        args.push(c);
    }
    let (ok, cookie) = flask(&args);
    assert!(ok);
    cookie
}

async fn usuarios_con(app: &TestApp, cookie: &str) -> StatusCode {
    app.req(Method::GET, "/api/chat/usuarios", None)
        .header("cookie", format!("session={cookie}"))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn cookies_made_by_flask_are_accepted_and_bad_ones_refused() {
    let app = TestApp::nueva(Variante::Live).await;
    let simple = flask_mint(
        SECRET,
        &json!({"usuario_id": ANA, "usuario_logueado": true}),
        None,
    );
    assert_eq!(usuarios_con(&app, &simple).await, StatusCode::OK);
    let grande = flask_mint(
        SECRET,
        &json!({"usuario_id": ANA, "_flashes": [{" t": ["info", "x"]}], "relleno": "abc".repeat(200)}),
        None,
    );
    assert!(grande.starts_with('.'), "Flask compressed it");
    assert_eq!(
        usuarios_con(&app, &grande).await,
        StatusCode::OK,
        "compressed + tagged payload"
    );

    let ahora = chrono::Utc::now().timestamp();
    let caducada = flask_mint(
        SECRET,
        &json!({"usuario_id": ANA}),
        Some(ahora - 31 * 24 * 3600),
    );
    let otra_clave = flask_mint("otra-clave", &json!({"usuario_id": ANA}), None);
    let sin_usuario = flask_mint(SECRET, &json!({"usuario_logueado": true}), None);
    let mut alterada = simple.clone().into_bytes();
    alterada[3] = if alterada[3] == b'x' { b'y' } else { b'x' };
    let alterada = String::from_utf8(alterada).unwrap();
    for (nombre, cookie) in [
        ("expired", &caducada),
        ("wrong key", &otra_clave),
        ("no usuario_id", &sin_usuario),
        ("tampered", &alterada),
    ] {
        assert_eq!(
            usuarios_con(&app, cookie).await,
            StatusCode::UNAUTHORIZED,
            "{nombre}"
        );
    }
}

#[tokio::test]
async fn cookies_we_issue_are_accepted_by_flask_and_keep_foreign_keys() {
    let app = TestApp::nueva(Variante::Live).await;
    let previa = flask_mint(
        SECRET,
        &json!({"theme": "dark", "_flashes": [{" t": ["info", "hola"]}]}),
        None,
    );
    let r = respuesta(
        app.req(Method::POST, "/", None)
            .header("cookie", format!("session={previa}"))
            .form(&[
                ("usuario", "ana@weigence.cl"),
                ("password", "demo1234"),
                ("remember", "on"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FOUND);
    let set = r.headers["set-cookie"].to_str().unwrap();
    let nuestra = set
        .split(';')
        .next()
        .unwrap()
        .strip_prefix("session=")
        .unwrap();

    let (ok, sesion) = flask(&["verify", SECRET, nuestra]);
    assert!(ok, "Flask accepts our cookie");
    let sesion: Value = serde_json::from_str(&sesion).unwrap();
    assert_eq!(sesion["usuario_id"], json!(ANA));
    assert_eq!(sesion["usuario_logueado"], json!(true));
    assert_eq!(sesion["usuario_nombre"], json!("Ana Pérez"));
    assert_eq!(sesion["usuario_rol"], json!("administrador"));
    assert_eq!(sesion["usuario_correo"], json!("ana@weigence.cl"));
    assert_eq!(sesion["recordarme_activado"], json!(true));
    assert_eq!(sesion["_permanent"], json!(true));
    assert_eq!(
        sesion["theme"],
        json!("dark"),
        "keys we do not know survive"
    );
    assert_eq!(
        sesion["_flashes"],
        json!([["info", "hola"]]),
        "Flask still sees a tuple list"
    );

    assert!(
        !flask(&["verify", "otra-clave", nuestra]).0,
        "Flask refuses it under another key"
    );
    assert!(
        !flask(&["verify", SECRET, &format!("{nuestra}x")]).0,
        "Flask refuses it tampered"
    );

    let vieja = app.cookie_en(ANA, chrono::Utc::now().timestamp() - 100);
    let vieja = vieja.strip_prefix("session=").unwrap();
    assert!(flask(&["verify", SECRET, vieja, "1000"]).0);
    assert!(
        !flask(&["verify", SECRET, vieja, "10"]).0,
        "Flask applies max age to our timestamp"
    );
}
