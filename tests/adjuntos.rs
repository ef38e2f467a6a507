//! Attachments against the real binary and PostgreSQL, on a local folder (both table variants)
//! and on a real S3-compatible server (moto in server mode, started here): upload, download,
//! members only, 413 while streaming, type by content, harmless names, nothing left behind.

mod common;

use std::path::{Path, PathBuf};

use common::{ANA, BRUNO, CARLA, TestApp, TestDb, Variante, respuesta};
use reqwest::{Method, StatusCode};
use serde_json::Value;

en_ambos_almacenes!(local_folder_scenario);

/// The PostgREST store without the SQL functions: the message and the attachment row are two
/// requests (a failed second one deletes the message again); the same scenario holds.
#[tokio::test]
async fn local_folder_scenario_on_postgrest_without_functions() {
    common::ALMACEN
        .scope(
            common::Almacen::Postgrest { funciones: false },
            local_folder_scenario(Variante::Live),
        )
        .await;
}

/// Bytes that start like a PNG.
fn png() -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    v.extend((0..5000u32).map(|i| (i % 251) as u8));
    v
}

/// A real 1x1 PNG (decodes, so it gets a thumbnail).
fn png_real() -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")
        .unwrap()
}

/// Where the test looks for leftovers.
enum Objetos {
    Carpeta(PathBuf),
    Bucket(String),
}

impl Objetos {
    /// Stored objects (staging files excluded).
    async fn contar(&self) -> usize {
        match self {
            Objetos::Carpeta(raiz) => archivos(raiz)
                .into_iter()
                .filter(|p| !p.starts_with(raiz.join(".tmp")))
                .count(),
            Objetos::Bucket(url) => {
                let xml = reqwest::get(url).await.unwrap().text().await.unwrap();
                xml.matches("<Key>").count()
            }
        }
    }
}

fn archivos(dir: &Path) -> Vec<PathBuf> {
    let mut salida = Vec::new();
    if let Ok(entradas) = std::fs::read_dir(dir) {
        for e in entradas.flatten() {
            let p = e.path();
            if p.is_dir() {
                salida.extend(archivos(&p));
            } else {
                salida.push(p);
            }
        }
    }
    salida
}

async fn subir(
    app: &TestApp,
    rut: &str,
    conv: &str,
    nombre: &str,
    tipo: Option<&str>,
    cuerpo: reqwest::Body,
) -> (StatusCode, Value) {
    let mut r = app.req(
        Method::POST,
        &format!("/api/chat/conversaciones/{conv}/adjuntos?nombre={nombre}"),
        Some(rut),
    );
    if let Some(t) = tipo {
        r = r.header("content-type", t);
    }
    let r = respuesta(r.body(cuerpo).send().await.unwrap()).await;
    (r.status, r.body)
}

async fn mensajes(app: &TestApp) -> i64 {
    let (_, _, msg) = app.variante.tablas();
    app.contar(&format!("SELECT count(*) FROM {msg}")).await
}

/// The whole scenario on one storage.
async fn escenario(app: &TestApp, objetos: &Objetos) {
    let conv = app.conversacion(ANA, BRUNO).await;
    // Upload and download by the other member.
    let (s, b) = subir(app, ANA, &conv, "foto.png", None, png().into()).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["adjunto"]["tipo"], "image/png");
    assert_eq!(b["adjunto"]["es_imagen"], true);
    assert_eq!(
        b["adjunto"]["miniatura_url"],
        Value::Null,
        "bytes that do not decode: no thumbnail"
    );
    assert_eq!(b["mensaje"]["contenido"], "foto.png");
    let url = b["adjunto"]["url"].as_str().unwrap().to_owned();
    let r = app
        .req(Method::GET, &url, Some(BRUNO))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"foto.png\"")
    );
    assert_eq!(r.bytes().await.unwrap().to_vec(), png());
    let (s, l) = app
        .get(
            &format!("/api/chat/conversaciones/{conv}/adjuntos"),
            Some(BRUNO),
        )
        .await;
    assert_eq!(
        (s, l["adjuntos"].as_array().unwrap().len()),
        (StatusCode::OK, 1)
    );
    assert_eq!(objetos.contar().await, 1);
    // Non-members: neither download nor upload nor list.
    let r = app
        .req(Method::GET, &url, Some(CARLA))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        r.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let r = app.req(Method::GET, &url, None).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let (s, _) = subir(app, CARLA, &conv, "x.png", None, png().into()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app
        .get(
            &format!("/api/chat/conversaciones/{conv}/adjuntos"),
            Some(CARLA),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    for malo in [
        "/api/chat/adjuntos/999999",
        "/api/chat/adjuntos/abc",
        "/api/chat/adjuntos/..%2F..%2Fetc",
    ] {
        let r = app.req(Method::GET, malo, Some(ANA)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{malo}");
    }
    let antes = mensajes(app).await;
    // Oversized (the limit is 1 MB here): a declared length is refused before any byte is
    // sent; a chunked body is refused once past the limit, 31 MB before its end.
    let ruta = format!("/api/chat/conversaciones/{conv}/adjuntos?nombre=g.png");
    let (s, b) = crudo(app, &ruta, "Content-Length: 33554432\r\n", None).await;
    assert_eq!(s, 413, "{b}");
    assert!(b.contains("\"success\":false"), "{b}");
    let (s, b) = crudo(app, &ruta, "Transfer-Encoding: chunked\r\n", Some(32 << 20)).await;
    assert_eq!(s, 413, "{b}");
    // Bytes that do not match the claimed type, or an unknown type.
    let pdf = b"%PDF-1.7\n%...".to_vec();
    let (s, _) = subir(app, ANA, &conv, "foto.png", None, pdf.clone().into()).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (s, _) = subir(
        app,
        ANA,
        &conv,
        "doc",
        Some("image/png"),
        pdf.clone().into(),
    )
    .await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (s, _) = subir(
        app,
        ANA,
        &conv,
        "x.exe",
        None,
        b"MZ\x90\0\x03\0\0\0".to_vec().into(),
    )
    .await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (s, _) = subir(app, ANA, &conv, "vacio.txt", None, Vec::new().into()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        mensajes(app).await,
        antes,
        "no message from refused uploads"
    );
    assert_eq!(objetos.contar().await, 1, "no object from refused uploads");
    // A path in the name is only a name.
    let (s, b) = subir(
        app,
        ANA,
        &conv,
        "..%2F..%2F..%2Fetc%2Fpasswd.txt",
        None,
        b"hola".to_vec().into(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["adjunto"]["nombre"], "passwd.txt");
    assert_eq!(b["adjunto"]["tipo"], "text/plain");
    let (s, b) = subir(
        app,
        ANA,
        &conv,
        "informe.pdf",
        Some("application/pdf"),
        pdf.into(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(objetos.contar().await, 3);
    // A real image gets a PNG thumbnail, for members only.
    let (s, b) = subir(app, ANA, &conv, "real.png", None, png_real().into()).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let miniatura = b["adjunto"]["miniatura_url"].as_str().unwrap().to_owned();
    let r = app
        .req(Method::GET, &miniatura, Some(BRUNO))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(r.bytes().await.unwrap().starts_with(b"\x89PNG\r\n\x1a\n"));
    let r = app
        .req(Method::GET, &miniatura, Some(CARLA))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .req(Method::GET, &format!("{url}/miniatura"), Some(BRUNO))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "no thumbnail for undecodable bytes"
    );
    assert_eq!(objetos.contar().await, 5, "the image and its thumbnail");
    if let Objetos::Carpeta(raiz) = objetos {
        for p in archivos(raiz.parent().unwrap()) {
            assert!(
                p.starts_with(raiz),
                "nothing written outside UPLOAD_DIR: {p:?}"
            );
        }
    }
    // A failure after the bytes are stored (the table is gone) leaves nothing behind.
    let antes = mensajes(app).await;
    let adj = match app.variante {
        Variante::Live => "chat_adjuntos",
        Variante::Migration => "adjuntos_chat",
    };
    app.db
        .client
        .batch_execute(&format!("ALTER TABLE {adj} RENAME TO {adj}_fuera"))
        .await
        .unwrap();
    let (s, b) = subir(app, ANA, &conv, "foto.png", None, png_real().into()).await;
    assert!(s.is_server_error(), "{s} {b}");
    assert_eq!(b["success"], false);
    assert_eq!(mensajes(app).await, antes, "no message");
    assert_eq!(objetos.contar().await, 5, "no orphan object nor thumbnail");
}

/// A raw HTTP/1.1 upload as Ana: headers, then (when `trozos` is given) that many bytes of a
/// PNG-looking chunked body, written until the server answers or closes; status and body.
async fn crudo(app: &TestApp, ruta: &str, cabecera: &str, trozos: Option<usize>) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let direccion = app.base.trim_start_matches("http://");
    let conexion = tokio::net::TcpStream::connect(direccion).await.unwrap();
    let (mut lector, mut escritor) = conexion.into_split();
    let pedido = format!(
        "POST {ruta} HTTP/1.1\r\nHost: {direccion}\r\nCookie: {}\r\n{cabecera}\r\n",
        app.cookie(ANA)
    );
    escritor.write_all(pedido.as_bytes()).await.unwrap();
    let escribir = tokio::spawn(async move {
        let Some(total) = trozos else { return };
        let mut trozo = png();
        trozo.resize(64 * 1024, 7);
        let mut enviado = 0;
        while enviado < total {
            let marco = format!("{:x}\r\n", trozo.len());
            if escritor.write_all(marco.as_bytes()).await.is_err()
                || escritor.write_all(&trozo).await.is_err()
                || escritor.write_all(b"\r\n").await.is_err()
            {
                return;
            }
            enviado += trozo.len();
        }
        let _ = escritor.write_all(b"0\r\n\r\n").await;
    });
    let mut respuesta = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match lector.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => respuesta.extend_from_slice(&buf[..n]),
        }
        let texto = String::from_utf8_lossy(&respuesta);
        if let Some((cab, cuerpo)) = texto.split_once("\r\n\r\n") {
            let largo = cab.lines().find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse::<usize>().unwrap())
            });
            if largo.is_some_and(|n| cuerpo.len() >= n) {
                break;
            }
        }
    }
    escribir.abort();
    let texto = String::from_utf8_lossy(&respuesta).into_owned();
    let status = texto
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, texto)
}

/// A fresh upload folder inside the temp dir, with a sibling to catch writes outside it.
fn carpeta() -> PathBuf {
    let base = std::env::temp_dir().join(format!(
        "wc-adjuntos-{}-{}",
        std::process::id(),
        rand_sufijo()
    ));
    std::fs::create_dir_all(&base).unwrap();
    base.join("uploads")
}

fn rand_sufijo() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

async fn local_folder_scenario(v: Variante) {
    let raiz = carpeta();
    let db = TestDb::con_extras(v, &["adjuntos.sql"]).await;
    let app = TestApp::sobre(
        db,
        v,
        &[
            ("UPLOAD_DIR", raiz.to_str().unwrap()),
            ("MAX_UPLOAD_BYTES", "1048576"),
        ],
    )
    .await;
    escenario(&app, &Objetos::Carpeta(raiz.clone())).await;
    let _ = std::fs::remove_dir_all(raiz.parent().unwrap());
}

/// moto's S3 server on a free port, stopped when dropped.
struct Moto {
    proceso: std::process::Child,
    url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.proceso.kill();
        let _ = self.proceso.wait();
    }
}

async fn moto() -> Moto {
    let puerto = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let python = common::python();
    let proceso = std::process::Command::new(&python)
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &puerto.to_string(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start moto with {python} (scripts/test installs it): {e}")
        });
    let url = format!("http://127.0.0.1:{puerto}");
    let moto = Moto { proceso, url };
    for _ in 0..200 {
        if reqwest::get(&moto.url).await.is_ok() {
            return moto;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("moto did not start");
}

#[tokio::test]
async fn s3_compatible_storage_scenario() {
    let s3 = moto().await;
    let bucket = format!("{}/adjuntos", s3.url);
    let r = reqwest::Client::new().put(&bucket).send().await.unwrap();
    assert!(r.status().is_success(), "create bucket: {}", r.status());
    let v = Variante::Live;
    let db = TestDb::con_extras(v, &["adjuntos.sql"]).await;
    let app = TestApp::sobre(
        db,
        v,
        &[
            ("S3_ENDPOINT", s3.url.as_str()),
            ("S3_BUCKET", "adjuntos"),
            ("S3_ACCESS_KEY_ID", "prueba"),
            ("S3_SECRET_ACCESS_KEY", "secreto-de-prueba"),
            ("MAX_UPLOAD_BYTES", "1048576"),
        ],
    )
    .await;
    escenario(&app, &Objetos::Bucket(bucket)).await;
}

/// The requests each attachment route costs on the PostgREST store with the functions: the
/// upload goes through the one-transaction function, and the counts stay the same with more
/// attachments and messages.
#[tokio::test]
async fn postgrest_attachment_routes_cost_a_constant_number_of_requests() {
    common::ALMACEN
        .scope(common::Almacen::Postgrest { funciones: true }, async {
            let raiz = carpeta();
            let db = TestDb::con_extras(Variante::Live, &["adjuntos.sql"]).await;
            let app = TestApp::sobre(
                db,
                Variante::Live,
                &[("UPLOAD_DIR", raiz.to_str().unwrap())],
            )
            .await;
            let pg = app.postgrest.as_ref().unwrap();
            let conv = app.conversacion(ANA, BRUNO).await;
            let mut cuentas = Vec::new();
            for _ in 0..3 {
                let antes = pg.peticiones().await;
                let (s, b) = subir(&app, ANA, &conv, "foto.png", None, png().into()).await;
                assert_eq!(s, StatusCode::CREATED, "{b}");
                let despues = pg.peticiones().await;
                let nuevas = &despues[antes.len()..];
                assert!(
                    nuevas
                        .iter()
                        .any(|l| l.contains("/rpc/weigence_enviar_con_adjunto")),
                    "{nuevas:?}"
                );
                let subida = nuevas.len();
                let url = b["adjunto"]["url"].as_str().unwrap().to_owned();
                let antes = despues.len();
                let r = app
                    .req(Method::GET, &url, Some(BRUNO))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::OK);
                let descarga = pg.peticiones().await.len() - antes;
                let antes = pg.peticiones().await.len();
                let (s, _) = app
                    .get(
                        &format!("/api/chat/conversaciones/{conv}/adjuntos"),
                        Some(ANA),
                    )
                    .await;
                assert_eq!(s, StatusCode::OK);
                let lista = pg.peticiones().await.len() - antes;
                app.enviar(BRUNO, &conv, "otro mensaje").await;
                println!("upload {subida}, download {descarga}, list {lista} PostgREST requests");
                cuentas.push((subida, descarga, lista));
            }
            assert!(cuentas.windows(2).all(|w| w[0] == w[1]), "{cuentas:?}");
            let _ = std::fs::remove_dir_all(raiz.parent().unwrap());
        })
        .await;
}
