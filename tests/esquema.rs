//! schemathesis (PyPI) against our own OpenAPI document, with a valid session cookie: no 5xx,
//! every status documented, every response matching its schema. `SCHEMATHESIS_EXAMPLES`
//! (default 40) bounds the examples per operation.

mod common;

use std::process::Command;

use common::{ANA, BRUNO, TestApp, TestDb, Variante};

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_schema_mismatch() {
    let db = TestDb::con_extras(
        Variante::Migration,
        &["v2_delta.sql", "busqueda.sql", "adjuntos.sql", "grupos.sql"],
    )
    .await;
    let subidas = std::env::temp_dir().join(format!("wc-esquema-{}", std::process::id()));
    let app = TestApp::sobre(
        db,
        Variante::Migration,
        &[("UPLOAD_DIR", subidas.to_str().unwrap())],
    )
    .await;
    let conversacion = app.conversacion(ANA, BRUNO).await;
    app.enviar(BRUNO, &conversacion, "hola").await;
    let ejemplos = std::env::var("SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "40".into());
    let schemathesis = format!("{}/.venv/bin/schemathesis", env!("CARGO_MANIFEST_DIR"));
    let salida = Command::new(&schemathesis)
        .args([
            "run",
            &format!("{}/openapi.json", app.base),
            "--url",
            &format!("{}/api", app.base),
            "--header",
            &format!("Cookie: {}", app.cookie(ANA)),
            "--checks",
            "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance,response_headers_conformance",
            "--max-examples",
            &ejemplos,
            "--no-color",
        ])
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {schemathesis} (scripts/test installs it): {e}"));
    let _ = std::fs::remove_dir_all(&subidas);
    let texto = String::from_utf8_lossy(&salida.stdout);
    let resumen: Vec<&str> = texto.lines().filter(|l| l.contains("generated")).collect();
    println!("schemathesis: {}", resumen.join(" | "));
    assert!(
        salida.status.success(),
        "schemathesis found problems:\n{texto}\n{}",
        String::from_utf8_lossy(&salida.stderr)
    );
}
