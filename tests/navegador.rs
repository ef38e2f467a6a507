//! Two users chatting in headless Debian Chromium (playwright-core), against the real binary:
//! live messages, typing, read receipts, and the REST-polling fallback when the socket is cut.
//! Screenshots go to `$TEST_OUTPUT/navegador` (default `target/test-output/navegador`).

mod common;

use std::process::Command;

use common::{TestApp, Variante};

#[tokio::test]
async fn two_users_chat_live_in_chromium_and_fall_back_to_polling() {
    escenario().await;
}

#[tokio::test]
async fn two_users_chat_live_in_chromium_on_the_postgrest_store() {
    common::ALMACEN
        .scope(common::Almacen::Postgrest { funciones: true }, escenario())
        .await;
}

async fn escenario() {
    let app = TestApp::con(
        Variante::Live,
        &[("PING_INTERVAL_MS", "2000"), ("PING_TIMEOUT_MS", "2000")],
    )
    .await;
    let salida = std::env::var("TEST_OUTPUT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-output")
        })
        .join("navegador");
    std::fs::create_dir_all(&salida).unwrap();
    let resultado = Command::new("node")
        .args(["navegador.mjs", &app.base, salida.to_str().unwrap()])
        .current_dir(common::clientes())
        .output()
        .expect("node (scripts/test installs it)");
    let texto = format!(
        "{}\n{}",
        String::from_utf8_lossy(&resultado.stdout),
        String::from_utf8_lossy(&resultado.stderr)
    );
    println!("{texto}");
    assert!(
        resultado.status.success(),
        "browser scenario failed:\n{texto}"
    );
    assert!(
        std::fs::read_dir(&salida).unwrap().any(|f| f
            .unwrap()
            .path()
            .extension()
            .is_some_and(|e| e == "png"))
    );
}
