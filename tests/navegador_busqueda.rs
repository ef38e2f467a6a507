//! Search, attachments and notifications in headless Debian Chromium (playwright-core) against
//! the real binary: search and jump to a result; an image attached in one browser previewed
//! and downloaded in the other; a notification for a hidden tab, none for a muted conversation.
//! Screenshots go to `$TEST_OUTPUT/navegador_busqueda`.

mod common;

use std::process::Command;

use common::{ANA, BRUNO, CARLA, TestApp, TestDb, Variante};

#[tokio::test]
async fn search_attachments_and_notifications_in_chromium() {
    let carpeta = std::env::temp_dir().join(format!("wc-nav-adjuntos-{}", std::process::id()));
    let db = TestDb::con_extras(Variante::Live, &["busqueda.sql", "adjuntos.sql"]).await;
    let app = TestApp::sobre(
        db,
        Variante::Live,
        &[("UPLOAD_DIR", carpeta.to_str().unwrap())],
    )
    .await;
    let conv = app.conversacion(ANA, BRUNO).await;
    app.enviar(BRUNO, &conv, "¿te acuerdas de la canción perdida?")
        .await;
    // More than the page loads (100): jumping to the result loads older pages until it is shown.
    for i in 0..130 {
        let autor = if i % 2 == 0 { ANA } else { BRUNO };
        app.enviar(autor, &conv, &format!("relleno {i}")).await;
    }
    let otra = app.conversacion(CARLA, BRUNO).await;
    let salida = std::env::var("TEST_OUTPUT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-output")
        })
        .join("navegador_busqueda");
    std::fs::create_dir_all(&salida).unwrap();
    let resultado = Command::new("node")
        .args([
            "navegador_busqueda.mjs",
            &app.base,
            salida.to_str().unwrap(),
            &conv,
            &otra,
        ])
        .current_dir(common::clientes())
        .output()
        .expect("node (scripts/test installs it)");
    let texto = format!(
        "{}\n{}",
        String::from_utf8_lossy(&resultado.stdout),
        String::from_utf8_lossy(&resultado.stderr)
    );
    println!("{texto}");
    let _ = std::fs::remove_dir_all(&carpeta);
    assert!(
        resultado.status.success(),
        "browser scenario failed:\n{texto}"
    );
}
