//! Socket.IO (CONTRACT.md §5) with real clients against the real binary: python-socketio over
//! polling, WebSocket and polling→WebSocket upgrade, node socket.io-client over WebSocket, two
//! instances sharing Redis, and the Engine.IO handshake checks of the poem bridge.

mod common;

use std::process::Command;

use common::{ANA, BRUNO, CARLA, SECRET, TestApp, Variante, arrancar, clientes, ejecutar, python};
use reqwest::StatusCode;

/// Settings that make Engine.IO notice dead peers quickly in tests.
const PING_RAPIDO: [(&str, &str); 2] = [("PING_INTERVAL_MS", "1000"), ("PING_TIMEOUT_MS", "1000")];

/// A Flask cookie made by the real Flask for `rut`.
fn cookie_flask(rut: &str) -> String {
    let datos = format!("{{\"usuario_id\": \"{rut}\", \"usuario_logueado\": true}}");
    let salida = Command::new(python())
        .args(["flask_cookie.py", "mint", SECRET, &datos])
        .current_dir(clientes())
        .output()
        .expect("run flask_cookie.py");
    assert!(salida.status.success());
    String::from_utf8(salida.stdout).unwrap().trim().to_owned()
}

async fn escenario_python(variante: Variante, modo: &str) {
    let app = TestApp::con(variante, &PING_RAPIDO).await;
    let conversacion = app.conversacion(ANA, BRUNO).await;
    ejecutar(
        &python(),
        &[
            "escenario_sio.py",
            &app.base,
            SECRET,
            &conversacion,
            ANA,
            BRUNO,
            CARLA,
            modo,
        ],
    );
}

#[tokio::test]
async fn python_socketio_over_long_polling_follows_the_contract() {
    escenario_python(Variante::Live, "polling").await;
}

#[tokio::test]
async fn python_socketio_over_websocket_follows_the_contract() {
    escenario_python(Variante::Live, "websocket").await;
}

#[tokio::test]
async fn python_socketio_upgrading_from_polling_follows_the_contract() {
    escenario_python(Variante::Live, "upgrade").await;
}

#[tokio::test]
async fn python_socketio_with_uuid_tables_follows_the_contract() {
    escenario_python(Variante::Migration, "websocket").await;
}

#[tokio::test]
async fn python_socketio_on_the_postgrest_store_follows_the_contract_for_both_variants() {
    for v in [Variante::Live, Variante::Migration] {
        common::ALMACEN
            .scope(
                common::Almacen::Postgrest { funciones: true },
                escenario_python(v, "websocket"),
            )
            .await;
    }
}

#[tokio::test]
async fn node_socketio_client_on_the_postgrest_store_follows_the_contract() {
    common::ALMACEN
        .scope(
            common::Almacen::Postgrest { funciones: true },
            escenario_node(),
        )
        .await;
}

#[tokio::test]
async fn node_socketio_client_over_websocket_follows_the_contract() {
    escenario_node().await;
}

async fn escenario_node() {
    let app = TestApp::con(Variante::Live, &PING_RAPIDO).await;
    let conversacion = app.conversacion(ANA, BRUNO).await;
    let (a, b, c) = (cookie_flask(ANA), cookie_flask(BRUNO), cookie_flask(CARLA));
    ejecutar(
        "node",
        &[
            "escenario_sio.mjs",
            &app.base,
            &conversacion,
            ANA,
            BRUNO,
            &a,
            &b,
            &c,
        ],
    );
}

#[tokio::test]
async fn two_instances_share_rooms_and_presence_through_redis() {
    let redis = std::env::var("TEST_REDIS_URL")
        .expect("TEST_REDIS_URL is not set: run the tests through scripts/test, which starts a private Redis");
    let mut ajustes = PING_RAPIDO.to_vec();
    ajustes.push(("REDIS_URL", redis.as_str()));
    // Its own channel prefix, so tests running in parallel never share rooms.
    ajustes.push(("REDIS_PREFIX", "prueba-dos-instancias"));
    let app = TestApp::con(Variante::Live, &ajustes).await;
    let (_segunda, base_b) = arrancar(&app.db.url, &ajustes).await;
    let conversacion = app.conversacion(ANA, BRUNO).await;
    ejecutar(
        &python(),
        &[
            "escenario_redis.py",
            &app.base,
            &base_b,
            SECRET,
            &conversacion,
            ANA,
            BRUNO,
        ],
    );
}

#[tokio::test]
async fn sigterm_closes_sockets_cleanly_and_exits_within_10_seconds() {
    let db = common::TestDb::nueva(Variante::Live).await;
    let (mut proceso, base) = arrancar(&db.url, &[]).await;
    let pid = proceso.id().expect("running").to_string();
    let inicio = std::time::Instant::now();
    ejecutar(&python(), &["apagado.py", &base, SECRET, ANA, &pid]);
    let estado = tokio::time::timeout(std::time::Duration::from_secs(10), proceso.wait())
        .await
        .expect("still running 10 s after SIGTERM")
        .unwrap();
    assert!(estado.success(), "clean exit after SIGTERM: {estado}");
    println!("exited {:?} after SIGTERM", inicio.elapsed());
}

#[tokio::test]
async fn socket_events_are_rate_limited_sockets_capped_and_oversized_frames_refused() {
    let app = TestApp::con(
        Variante::Live,
        &[
            ("RATE_LIMIT_BURST", "10"),
            ("RATE_LIMIT_PER_MINUTE", "60"),
            ("MAX_SOCKETS_PER_USER", "3"),
            ("MAX_BODY_BYTES", "16384"),
        ],
    )
    .await;
    let conversacion = app.conversacion(ANA, BRUNO).await;
    ejecutar(
        &python(),
        &["abuso.py", &app.base, SECRET, &conversacion, ANA, BRUNO],
    );
    let (_, _, mensajes) = Variante::Live.tablas();
    assert_eq!(
        app.contar(&format!("SELECT count(*) FROM {mensajes}"))
            .await,
        0,
        "nothing oversized was stored"
    );
}

#[tokio::test]
async fn new_socket_sessions_are_limited_per_address() {
    let app = TestApp::con(
        Variante::Live,
        &[("HANDSHAKES_PER_MINUTE", "1"), ("HANDSHAKE_BURST", "3")],
    )
    .await;
    let http = reqwest::Client::new();
    let abrir = || {
        http.get(format!("{}/socket.io/?EIO=4&transport=polling", app.base))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(abrir().await.unwrap().status(), StatusCode::OK);
    }
    let r = abrir().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn malformed_engine_io_handshakes_get_400_not_an_upgrade() {
    let app = TestApp::nueva(Variante::Live).await;
    let http = reqwest::Client::new();
    let mejora = |consulta: &'static str| {
        http.get(format!("{}/socket.io/?{consulta}", app.base))
            .header("connection", "Upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .send()
    };
    for consulta in [
        "EIO=3&transport=websocket",
        "EIO=4&transport=polling",
        "transport=websocket",
        "EIO=4",
    ] {
        let r = mejora(consulta).await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{consulta}");
    }
    let sondeo = http
        .get(format!("{}/socket.io/?EIO=9&transport=polling", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        sondeo.status(),
        StatusCode::BAD_REQUEST,
        "bad EIO over polling"
    );
    let apertura = http
        .get(format!("{}/socket.io/?EIO=4&transport=polling", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(apertura.status(), StatusCode::OK);
    assert!(
        apertura.text().await.unwrap().starts_with("0{\"sid\""),
        "an Engine.IO open packet"
    );
    let ajena = http
        .get(format!("{}/socket.io/?EIO=4&transport=polling", app.base))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(ajena.status(), StatusCode::FORBIDDEN);
}

/// nginx (Debian's package) rendered from `scripts/nginx.conf.template` in front of two
/// instances sharing Redis; stopped when dropped.
struct Nginx {
    dir: std::path::PathBuf,
    base: String,
}

impl Nginx {
    fn iniciar(upstreams: &[&str]) -> Nginx {
        let dir = std::env::temp_dir().join(format!("wc-nginx-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let puerto = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let plantilla = std::fs::read_to_string(format!(
            "{}/scripts/nginx.conf.template",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let servidores: Vec<String> = upstreams
            .iter()
            .map(|u| format!("server {};", u.trim_start_matches("http://")))
            .collect();
        let conf = plantilla
            .replace("__DIR__", dir.to_str().unwrap())
            .replace("__PORT__", &puerto.to_string())
            .replace("__UPSTREAMS__", &servidores.join(" "));
        let ruta = dir.join("nginx.conf");
        std::fs::write(&ruta, conf).unwrap();
        let nginx = if std::path::Path::new("/usr/sbin/nginx").exists() {
            "/usr/sbin/nginx"
        } else {
            "nginx"
        };
        let estado = Command::new(nginx)
            .args(["-p", dir.to_str().unwrap(), "-c", ruta.to_str().unwrap()])
            .status()
            .expect("nginx (scripts/test installs it)");
        assert!(estado.success(), "nginx did not start");
        Nginx {
            dir,
            base: format!("http://127.0.0.1:{puerto}"),
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.dir.join("nginx.pid")) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

#[tokio::test]
async fn nginx_with_sticky_sessions_proxies_polling_websocket_and_rest() {
    let redis = std::env::var("TEST_REDIS_URL")
        .expect("TEST_REDIS_URL (scripts/test starts a private Redis)");
    let mut ajustes = PING_RAPIDO.to_vec();
    ajustes.push(("REDIS_URL", redis.as_str()));
    ajustes.push(("REDIS_PREFIX", "prueba-nginx"));
    let app = TestApp::con(Variante::Live, &ajustes).await;
    let (_segunda, base_b) = arrancar(&app.db.url, &ajustes).await;
    let nginx = Nginx::iniciar(&[&app.base, &base_b]);
    let metricas = reqwest::get(format!("{}/metrics", nginx.base))
        .await
        .unwrap();
    assert_eq!(
        metricas.status(),
        StatusCode::FORBIDDEN,
        "nginx must keep /metrics private"
    );
    let salud = reqwest::get(format!("{}/healthz", nginx.base))
        .await
        .unwrap();
    let id = salud.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(
        id.len(),
        32,
        "nginx's $request_id reaches the service: {id}"
    );
    let conversacion = app.conversacion(ANA, BRUNO).await;
    ejecutar(
        &python(),
        &[
            "escenario_sio.py",
            &nginx.base,
            SECRET,
            &conversacion,
            ANA,
            BRUNO,
            CARLA,
            "upgrade",
        ],
    );
    ejecutar(
        &python(),
        &[
            "escenario_redis.py",
            &nginx.base,
            &base_b,
            SECRET,
            &conversacion,
            ANA,
            BRUNO,
        ],
    );
}

#[tokio::test]
async fn logs_never_contain_cookies_secrets_passwords_or_message_text() {
    let db = common::TestDb::nueva(Variante::Live).await;
    let registro = std::env::temp_dir().join(format!("wc-log-{}.txt", std::process::id()));
    let (_proceso, base) =
        common::arrancar_con_registro(&db.url, &[("RUST_LOG", "trace")], Some(&registro)).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = http
        .post(format!("{base}/"))
        .form(&[("usuario", "ana@weigence.cl"), ("password", "demo1234")])
        .send()
        .await
        .unwrap();
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let crear: serde_json::Value = http
        .post(format!("{base}/api/chat/conversacion/crear"))
        .header("cookie", &cookie)
        .json(&serde_json::json!({"participantes": [ANA, BRUNO]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let conversacion = crear["conversacion_id"].as_str().unwrap().to_owned();
    let enviado = http
        .post(format!("{base}/api/chat/mensaje/enviar"))
        .header("cookie", &cookie)
        .json(&serde_json::json!({"conversacion_id": conversacion, "contenido": "texto-secreto-rest"}))
        .send()
        .await
        .unwrap();
    assert_eq!(enviado.status(), StatusCode::CREATED);
    ejecutar(
        &python(),
        &[
            "escenario_sio.py",
            &base,
            SECRET,
            &conversacion,
            ANA,
            BRUNO,
            CARLA,
            "websocket",
        ],
    );
    let log = std::fs::read_to_string(&registro).unwrap();
    let _ = std::fs::remove_file(&registro);
    assert!(
        log.contains("mensaje enviado"),
        "the log is captured at trace level"
    );
    let valor_cookie = cookie.trim_start_matches("session=");
    for secreto in [
        valor_cookie,
        SECRET,
        "demo1234",
        "texto-secreto-rest",
        "hola por socket",
        "hola por REST",
        "eyJ",
    ] {
        assert!(!log.contains(secreto), "the log contains {secreto:?}");
    }
}

/// Resident memory of a process, in KiB.
fn memoria_kib(pid: u32) -> u64 {
    let estado = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let linea = estado.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    linea.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_client_that_never_reads_does_not_grow_server_memory() {
    use tokio::io::AsyncBufReadExt;
    let db = common::TestDb::nueva(Variante::Live).await;
    let (proceso, base) = arrancar(
        &db.url,
        &[("PING_INTERVAL_MS", "60000"), ("PING_TIMEOUT_MS", "60000")],
    )
    .await;
    let pid = proceso.id().unwrap();
    let http = reqwest::Client::new();
    let crear: serde_json::Value = http
        .post(format!("{base}/api/chat/conversacion/crear"))
        .header("cookie", common::cookie_para(BRUNO))
        .json(&serde_json::json!({"participantes": [BRUNO, ANA]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let conversacion = crear["conversacion_id"].as_str().unwrap().to_owned();
    let mut lento = tokio::process::Command::new(python())
        .args(["lento.py", &base, SECRET, ANA, &conversacion])
        .current_dir(clientes())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lineas = tokio::io::BufReader::new(lento.stdout.take().unwrap()).lines();
    assert_eq!(lineas.next_line().await.unwrap().as_deref(), Some("listo"));

    let texto = "x".repeat(1900);
    let enviar = || async {
        let r = http
            .post(format!("{base}/api/chat/mensaje/enviar"))
            .header("cookie", common::cookie_para(BRUNO))
            .json(&serde_json::json!({"conversacion_id": conversacion, "contenido": texto}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    };
    for _ in 0..300 {
        enviar().await;
    }
    let antes = memoria_kib(pid);
    let inicio = std::time::Instant::now();
    for _ in 0..5000 {
        enviar().await;
    }
    let despues = memoria_kib(pid);
    println!(
        "slow reader: 5000 messages of 1.9 KB (~10 MB) sent to its room in {:?}; server RSS {antes} KiB -> {despues} KiB",
        inicio.elapsed()
    );
    assert!(
        despues < antes + 8 * 1024,
        "memory grew by {} KiB",
        despues - antes
    );
    drop(lento.stdin.take());
    drop(proceso);
}

/// The v2 scenario (CONTRACT-v2.md §2) with python-socketio over one transport.
async fn escenario_v2(variante: Variante, modo: &str) {
    let db = common::TestDb::con_extras(variante, &["v2_delta.sql"]).await;
    let app = TestApp::sobre(db, variante, &PING_RAPIDO).await;
    ejecutar(
        &python(),
        &[
            "escenario_v2.py",
            &app.base,
            SECRET,
            ANA,
            BRUNO,
            CARLA,
            modo,
        ],
    );
}

#[tokio::test]
async fn v2_events_over_long_polling_as_the_widget_uses_them() {
    escenario_v2(Variante::Live, "polling").await;
}

#[tokio::test]
async fn v2_events_over_websocket() {
    escenario_v2(Variante::Live, "websocket").await;
}

#[tokio::test]
async fn v2_events_with_uuid_tables() {
    escenario_v2(Variante::Migration, "polling").await;
}

#[tokio::test]
async fn v2_events_on_the_postgrest_store_for_both_variants() {
    for v in [Variante::Live, Variante::Migration] {
        common::ALMACEN
            .scope(
                common::Almacen::Postgrest { funciones: true },
                escenario_v2(v, "polling"),
            )
            .await;
    }
}
