//! The v2 API (CONTRACT-v2.md) in headless Debian Chromium: two users on a test-only harness
//! page with a client of our own (`tests/clients/v2/`), over Socket.IO long-polling as
//! Weigence's widget, against the real binary serving that page from a temporary `STATIC_DIR`.
//! Screenshots go to `$TEST_OUTPUT/navegador_v2` (default `target/test-output/navegador_v2`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{ANA, BRUNO, TestApp, TestDb, Variante};

/// A folder under the system's temporary directory, removed when dropped.
struct CarpetaTemporal(PathBuf);

impl CarpetaTemporal {
    fn nueva(prefijo: &str) -> CarpetaTemporal {
        let marca = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let ruta = std::env::temp_dir().join(format!("{prefijo}-{}-{marca}", std::process::id()));
        std::fs::create_dir_all(&ruta).unwrap();
        CarpetaTemporal(ruta)
    }
}

impl Drop for CarpetaTemporal {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The static folder the server gets: the harness page, its client and the socket.io-client
/// browser bundle of `tests/clients/node_modules` (installed by `scripts/test`).
fn carpeta_estatica() -> CarpetaTemporal {
    let carpeta = CarpetaTemporal::nueva("weigence-navegador-v2");
    let clientes = PathBuf::from(common::clientes());
    for archivo in ["chat.html", "cliente.js"] {
        std::fs::copy(clientes.join("v2").join(archivo), carpeta.0.join(archivo)).unwrap();
    }
    let paquete = clientes.join("node_modules/socket.io-client/dist/socket.io.min.js");
    std::fs::copy(&paquete, carpeta.0.join("socket.io.min.js")).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (scripts/test installs the Node clients)",
            paquete.display()
        )
    });
    carpeta
}

/// The value of `rut`'s signed session cookie (what the browser holds as `weigence_session`).
fn sesion(app: &TestApp, rut: &str) -> String {
    app.cookie(rut)
        .strip_prefix("session=")
        .expect("session=<value>")
        .to_owned()
}

fn salida() -> PathBuf {
    std::env::var("TEST_OUTPUT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-output"))
        .join("navegador_v2")
}

#[tokio::test]
async fn two_users_reply_react_pin_and_delete_live_over_long_polling_in_chromium() {
    let estatico = carpeta_estatica();
    let db = TestDb::con_extras(Variante::Live, &["v2_delta.sql"]).await;
    let app = TestApp::sobre(
        db,
        Variante::Live,
        &[("STATIC_DIR", estatico.0.to_str().unwrap())],
    )
    .await;
    let salida = salida();
    // Screenshots of an earlier run (e.g. a failure's) must not pass for this run's.
    let _ = std::fs::remove_dir_all(&salida);
    std::fs::create_dir_all(&salida).unwrap();
    let resultado = Command::new("node")
        .args([
            "navegador_v2.mjs",
            &app.base,
            salida.to_str().unwrap(),
            ANA,
            BRUNO,
        ])
        .env("SESION_ANA", sesion(&app, ANA))
        .env("SESION_BRUNO", sesion(&app, BRUNO))
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
    for nombre in ["ana", "bruno"] {
        assert!(
            salida.join(format!("navegador_v2-{nombre}.png")).is_file(),
            "no screenshot of {nombre}'s page"
        );
    }
    // What the pages showed is what the database holds: three messages (the deleted one is
    // kept, marked `eliminado`, as this variant has that column), Bruno's one reaction (Ana
    // removed hers), the reply's link, no pin left.
    let textos: Vec<String> = app
        .db
        .client
        .query(
            "SELECT contenido FROM chat_mensajes WHERE NOT eliminado ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|f| f.get(0))
        .collect();
    assert_eq!(
        textos,
        [
            "Hola Bruno, ¿revisaste el inventario?",
            "Sí, está al día",
            "Hasta luego"
        ]
    );
    assert_eq!(
        app.contar("SELECT count(*) FROM chat_mensajes WHERE eliminado")
            .await,
        1
    );
    assert_eq!(
        app.contar(
            "SELECT count(*) FROM chat_reacciones WHERE usuario_id = '22222222-2' AND emoji = '❤️'"
        )
        .await,
        1
    );
    assert_eq!(app.contar("SELECT count(*) FROM chat_reacciones").await, 1);
    assert_eq!(
        app.contar("SELECT count(*) FROM chat_mensajes r JOIN chat_mensajes o ON r.reply_to = o.id WHERE r.contenido = 'Sí, está al día' AND o.contenido LIKE 'Hola Bruno%'")
            .await,
        1
    );
    assert_eq!(
        app.contar("SELECT count(*) FROM chat_conversaciones WHERE mensaje_fijado_id IS NOT NULL")
            .await,
        0
    );
}
