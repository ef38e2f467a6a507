//! The chat page in headless Debian Chromium (playwright-core), against the real binary: two
//! users chatting (live messages, typing, read receipts, and the REST-polling fallback when the
//! socket is cut), and the Enter key sending with our chat.js and with a submit-only stand-in
//! for the untouched original (CONTRACT.md §7). Screenshots go to `$TEST_OUTPUT/navegador`
//! (default `target/test-output/navegador`).

mod common;

use std::process::Command;

use common::{TestApp, Variante};

/// Where the screenshots go.
fn salida() -> std::path::PathBuf {
    let salida = std::env::var("TEST_OUTPUT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-output")
        })
        .join("navegador");
    std::fs::create_dir_all(&salida).unwrap();
    salida
}

/// Runs `node navegador.mjs ARGS...` and fails the test when the scenario fails.
fn escenario(args: &[&str]) {
    let resultado = Command::new("node")
        .arg("navegador.mjs")
        .args(args)
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
}

#[tokio::test]
async fn two_users_chat_live_in_chromium_and_fall_back_to_polling() {
    dos_usuarios().await;
}

#[tokio::test]
async fn two_users_chat_live_in_chromium_on_the_postgrest_store() {
    common::ALMACEN
        .scope(
            common::Almacen::Postgrest { funciones: true },
            dos_usuarios(),
        )
        .await;
}

/// Two users chat live, then through the REST-polling fallback (on the store the harness picks).
async fn dos_usuarios() {
    let app = TestApp::con(
        Variante::Live,
        &[("PING_INTERVAL_MS", "2000"), ("PING_TIMEOUT_MS", "2000")],
    )
    .await;
    let salida = salida();
    escenario(&[&app.base, salida.to_str().unwrap()]);
    assert!(
        std::fs::read_dir(&salida).unwrap().any(|f| f
            .unwrap()
            .path()
            .extension()
            .is_some_and(|e| e == "png"))
    );
}

/// The page keeps Enter-to-send for any chat.js: ours (a multi-line textarea: Shift+Enter breaks
/// the line, Enter sends) and a stand-in that, like the untouched original, only listens to the
/// form's `submit` event, served from a test-only static folder through `STATIC_DIR`.
#[tokio::test]
async fn the_enter_key_sends_with_our_chat_js_and_with_a_submit_only_script() {
    let propio = TestApp::nueva(Variante::Live).await;
    let sustituto_dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/estatico-sustituto");
    let sustituto = TestApp::con(
        Variante::Live,
        &[("STATIC_DIR", sustituto_dir.to_str().unwrap())],
    )
    .await;
    let salida = salida();
    escenario(&[
        "--teclado",
        &propio.base,
        &sustituto.base,
        salida.to_str().unwrap(),
    ]);
    let consulta = "SELECT count(*) FROM chat_mensajes WHERE usuario_id = '11111111-1' AND contenido LIKE 'teclado %'";
    assert_eq!(
        propio.contar(consulta).await,
        1,
        "our chat.js stored one message"
    );
    assert_eq!(
        sustituto.contar(consulta).await,
        1,
        "the stand-in stored one message"
    );
}
