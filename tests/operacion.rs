//! Operating it: a real Prometheus scraping `/metrics`, access to `/metrics`, JSON logs with
//! request ids, `weigence-chat doctor` against healthy, incomplete, unreachable and empty
//! databases, and the systemd unit checked by `systemd-analyze verify`.

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::process::{Child, Command};
use tokio_postgres::NoTls;

/// Token the metrics tests configure.
const TOKEN: &str = "token-de-metricas";

fn puerto_libre() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn carpeta_temporal(nombre: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "wc-{nombre}-{}-{}",
        std::process::id(),
        puerto_libre()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Waits (bounded) until `condicion` holds, re-evaluating it; fails with `que` otherwise.
async fn esperar<F, Fut>(que: &str, mut condicion: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let limite = tokio::time::Instant::now() + Duration::from_secs(60);
    while !condicion().await {
        assert!(
            tokio::time::Instant::now() < limite,
            "timed out waiting for {que}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A Prometheus server of its own, scraping one target every second.
struct Prometheus {
    url: String,
    _proceso: Child,
    dir: PathBuf,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Prometheus {
    async fn iniciar(objetivo: &str, token: &str) -> Prometheus {
        let dir = carpeta_temporal("prometheus");
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n\
             scrape_configs:\n  - job_name: weigence-chat\n    authorization:\n      type: Bearer\n      credentials: {token}\n\
             \x20   static_configs:\n      - targets: ['{objetivo}']\n"
        );
        std::fs::write(dir.join("prometheus.yml"), config).unwrap();
        let puerto = puerto_libre();
        let proceso = Command::new("prometheus")
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("datos").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{puerto}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("run prometheus (scripts/test installs Debian's package)");
        let prometheus = Prometheus {
            url: format!("http://127.0.0.1:{puerto}"),
            _proceso: proceso,
            dir,
        };
        let listo = format!("{}/-/ready", prometheus.url);
        esperar("Prometheus to be ready", || async {
            reqwest::get(&listo)
                .await
                .is_ok_and(|r| r.status().is_success())
        })
        .await;
        prometheus
    }

    /// The value of an instant PromQL query with one result, or `None` when it has none.
    async fn valor(&self, consulta: &str) -> Option<f64> {
        let respuesta: Value = reqwest::Client::new()
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", consulta)])
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        assert_eq!(respuesta["status"], "success", "{consulta}: {respuesta}");
        respuesta["data"]["result"][0]["value"][1]
            .as_str()?
            .parse()
            .ok()
    }
}

/// `base`'s metrics listener address (`127.0.0.1:<port>`) and the settings that enable it.
fn ajustes_metricas(puerto: u16) -> [(&'static str, String); 2] {
    [
        ("METRICS_ADDR", format!("127.0.0.1:{puerto}")),
        ("METRICS_TOKEN", TOKEN.to_owned()),
    ]
}

async fn con_metricas(extra: &[(&str, String)]) -> TestApp {
    let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
    TestApp::con(Variante::Live, &extra).await
}

async fn leer_metricas(url: &str, token: Option<&str>) -> (StatusCode, String) {
    let mut req = reqwest::Client::new().get(url);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let r = req.send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test]
async fn prometheus_scrapes_the_messages_counter_and_the_send_latency() {
    let puerto = puerto_libre();
    let app = con_metricas(&ajustes_metricas(puerto)).await;
    let prometheus = Prometheus::iniciar(&format!("127.0.0.1:{puerto}"), TOKEN).await;
    let conversacion = app.conversacion(ANA, BRUNO).await;
    for i in 0..10 {
        app.enviar(ANA, &conversacion, &format!("por REST {i}"))
            .await;
    }
    ejecutar(
        &python(),
        &[
            "envios_sio.py",
            &app.base,
            &cookie_para(BRUNO),
            &conversacion,
            "15",
            "carga-prometheus",
        ],
    );

    esperar("Prometheus to scrape 25 messages", || async {
        prometheus
            .valor("sum(weigence_chat_messages_total{generacion=\"v1\"})")
            .await
            == Some(25.0)
    })
    .await;
    assert_eq!(
        prometheus
            .valor("sum(weigence_chat_messages_total{transport=\"socketio\"})")
            .await,
        Some(15.0)
    );
    assert_eq!(
        prometheus.valor("up{job=\"weigence-chat\"}").await,
        Some(1.0)
    );
    assert_eq!(
        prometheus
            .valor("sum(weigence_chat_send_ack_seconds_count{generacion=\"v1\"})")
            .await,
        Some(15.0)
    );
    let p99 = prometheus
        .valor("histogram_quantile(0.99, sum by (le) (weigence_chat_send_ack_seconds_bucket{generacion=\"v1\"}))")
        .await
        .expect("a send latency quantile");
    assert!(p99.is_finite() && p99 > 0.0 && p99 <= 10.0, "p99 = {p99}");
    let enviar_rest = prometheus
        .valor("sum(weigence_chat_http_responses_total{route=\"/api/chat/mensaje/enviar\",status_class=\"2xx\"})")
        .await;
    assert_eq!(enviar_rest, Some(10.0));
    assert!(
        prometheus
            .valor("weigence_chat_db_pool_connections{state=\"open\"}")
            .await
            .unwrap()
            >= 1.0
    );
    assert!(
        prometheus
            .valor("process_resident_memory_bytes")
            .await
            .unwrap()
            > 0.0
    );
}

#[tokio::test]
async fn metrics_need_the_token_an_allowed_address_and_their_own_port() {
    let puerto = puerto_libre();
    let app = con_metricas(&ajustes_metricas(puerto)).await;
    let url = format!("http://127.0.0.1:{puerto}/metrics");
    assert_eq!(leer_metricas(&url, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        leer_metricas(&url, Some("otro")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(leer_metricas(&url, Some(TOKEN)).await.0, StatusCode::OK);
    let publico = reqwest::get(format!("{}/metrics", app.base)).await.unwrap();
    assert_eq!(publico.status(), StatusCode::NOT_FOUND);

    let otro_puerto = puerto_libre();
    let mut ajustes = ajustes_metricas(otro_puerto).to_vec();
    ajustes.push(("METRICS_ALLOW", "10.0.0.0/8, 192.168.0.0/16".to_owned()));
    let _restringido = con_metricas(&ajustes).await;
    let (status, _) = leer_metricas(
        &format!("http://127.0.0.1:{otro_puerto}/metrics"),
        Some(TOKEN),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn no_metric_label_holds_a_user_id_a_cookie_an_id_or_message_text() {
    let puerto = puerto_libre();
    let app = con_metricas(&ajustes_metricas(puerto)).await;
    let conversacion = app.conversacion(ANA, BRUNO).await;
    app.enviar(ANA, &conversacion, "texto-privado-de-ana").await;
    app.get(&format!("/api/chat/mensajes/{conversacion}"), Some(BRUNO))
        .await;
    app.get("/api/chat/mensajes/987654321", Some(CARLA)).await;
    app.get("/una/ruta/inventada/123", Some(ANA)).await;
    app.post(
        "/api/chat/mensaje/enviar",
        Some(CARLA),
        json!({"conversacion_id": conversacion, "contenido": "x"}),
    )
    .await;
    ejecutar(
        &python(),
        &[
            "envios_sio.py",
            &app.base,
            &cookie_para(ANA),
            &conversacion,
            "2",
            "sin-etiquetas",
        ],
    );

    let (status, texto) =
        leer_metricas(&format!("http://127.0.0.1:{puerto}/metrics"), Some(TOKEN)).await;
    assert_eq!(status, StatusCode::OK);
    let cookie = cookie_para(ANA);
    let valor_cookie = cookie.trim_start_matches("session=");
    for prohibido in [
        ANA,
        BRUNO,
        CARLA,
        valor_cookie,
        "texto-privado-de-ana",
        "envío",
        "987654321",
        "inventada",
    ] {
        assert!(
            !texto.contains(prohibido),
            "{prohibido:?} appears in the metrics:\n{texto}"
        );
    }
    let rut = |v: &str| {
        v.len() >= 9
            && v.contains('-')
            && v.chars()
                .all(|c| c.is_ascii_digit() || c == '-' || c == 'k')
    };
    let mut rutas = Vec::new();
    for linea in texto.lines().filter(|l| !l.starts_with('#')) {
        let Some((_, etiquetas)) = linea.split_once('{') else {
            continue;
        };
        let etiquetas = etiquetas.rsplit_once('}').unwrap().0;
        for par in etiquetas.split("\",").map(|p| p.trim_end_matches('"')) {
            let (nombre, valor) = par
                .split_once("=\"")
                .unwrap_or_else(|| panic!("bad label in {linea}"));
            assert!(
                !rut(valor),
                "{nombre}={valor} looks like a user id: {linea}"
            );
            if nombre == "route" {
                rutas.push(valor.to_owned());
            }
        }
    }
    // Templates, never paths: no route label holds an id.
    let plantilla = |r: &str| {
        (r.starts_with('/') || r == "unmatched") && !r.contains(|c: char| c.is_ascii_digit())
    };
    assert!(rutas.iter().all(|r| plantilla(r)), "{rutas:?}");
    assert!(
        rutas.iter().any(|r| r == "/api/chat/mensajes/{id}"),
        "{rutas:?}"
    );
    assert!(
        texto
            .contains("weigence_chat_socketio_handshakes_total{result=\"accepted\",reason=\"ok\"}"),
        "{texto}"
    );
    assert!(
        texto.contains("weigence_chat_socketio_connections{transport=\"websocket\"}"),
        "{texto}"
    );
}

/// Every line of a JSON log file, parsed (fails on a line that is not a JSON object).
fn lineas_json(ruta: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(ruta)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
            assert!(
                v.is_object() && v["time"].is_string() && v["level"].is_string(),
                "{l}"
            );
            v
        })
        .collect()
}

#[tokio::test]
async fn json_logs_parse_line_by_line_and_carry_request_ids() {
    let db = TestDb::nueva(Variante::Live).await;
    let dir = carpeta_temporal("registro");
    let registro = dir.join("servidor.log");
    let (_servidor, base) = arrancar_con_registro(
        &db.url,
        &[("LOG_FORMAT", "json"), ("RUST_LOG", "info")],
        Some(&registro),
    )
    .await;
    let http = reqwest::Client::new();
    let crear = http
        .post(format!("{base}/api/chat/conversacion/crear"))
        .header("cookie", cookie_para(ANA))
        .json(&json!({"participantes": [ANA, BRUNO]}))
        .send()
        .await
        .unwrap();
    let conversacion = crear.json::<Value>().await.unwrap()["conversacion_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let fallida = http
        .get(format!("{base}/api/chat/mensajes/{conversacion}"))
        .header("cookie", cookie_para(CARLA))
        .header("x-request-id", "fallo-123")
        .send()
        .await
        .unwrap();
    assert_eq!(fallida.status(), StatusCode::FORBIDDEN);
    assert_eq!(fallida.headers()["x-request-id"], "fallo-123");
    for enviado in [None, Some("con espacios"), Some("x\"}{")] {
        let mut req = http.get(format!("{base}/healthz"));
        if let Some(id) = enviado {
            req = req.header("x-request-id", id);
        }
        let r = req.send().await.unwrap();
        let id = r.headers()["x-request-id"].to_str().unwrap();
        assert!(
            id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "{enviado:?} -> {id}"
        );
    }
    ejecutar(
        &python(),
        &[
            "envios_sio.py",
            &base,
            &cookie_para(ANA),
            &conversacion,
            "1",
            "socket-456",
        ],
    );

    let esta = |id: &'static str, mensaje: &'static str| {
        let registro = registro.clone();
        move || {
            let texto = std::fs::read_to_string(&registro).unwrap_or_default();
            std::future::ready(texto.lines().any(|l| l.contains(id) && l.contains(mensaje)))
        }
    };
    esperar(
        "the failing request's access line",
        esta("fallo-123", "petición"),
    )
    .await;
    esperar(
        "the socket's message line",
        esta("socket-456", "mensaje enviado"),
    )
    .await;

    let lineas = lineas_json(&registro);
    let acceso = lineas
        .iter()
        .find(|l| l["request_id"] == "fallo-123" && l["target"] == "acceso")
        .expect("access line of the failing request");
    assert_eq!(acceso["status"], 403);
    assert_eq!(acceso["usuario_id"], CARLA);
    assert_eq!(acceso["metodo"], "GET");
    assert!(
        acceso["latencia_ms"].as_f64().is_some_and(|ms| ms >= 0.0),
        "{acceso}"
    );
    assert_eq!(acceso["ruta"], "/api/chat/mensajes/{id}");
    let socket = lineas
        .iter()
        .find(|l| l["request_id"] == "socket-456" && l["message"] == "mensaje enviado")
        .expect("the socket handler's line carries the handshake's request id");
    assert_eq!(socket["usuario"], ANA);
    assert!(
        lineas
            .iter()
            .any(|l| l["request_id"] == "socket-456" && l["message"] == "socket conectado")
    );
    let texto = std::fs::read_to_string(&registro).unwrap();
    let cookie = cookie_para(ANA);
    assert!(!texto.contains(cookie.trim_start_matches("session=")));
    assert!(!texto.contains("envío 0"), "message text in the log");
    let _ = std::fs::remove_dir_all(dir);
}

/// Runs `weigence-chat doctor --json` with only the given settings; exit code and report.
fn doctor(ajustes: &[(&str, &str)], args: &[&str]) -> (i32, Value) {
    let salida = std::process::Command::new(env!("CARGO_BIN_EXE_weigence-chat"))
        .arg("doctor")
        .arg("--json")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(ajustes.iter().copied())
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    let texto = String::from_utf8_lossy(&salida.stdout);
    let informe: Value = serde_json::from_str(&texto).unwrap_or_else(|e| panic!("{e}: {texto}"));
    let codigo = salida.status.code().unwrap();
    assert_eq!(informe["exit_code"], codigo, "{informe}");
    (codigo, informe)
}

/// The check named `nombre` of a report.
fn comprobacion<'a>(informe: &'a Value, nombre: &str) -> &'a Value {
    informe["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == nombre)
        .unwrap_or_else(|| panic!("no check {nombre:?} in {informe}"))
}

#[tokio::test]
async fn doctor_passes_a_healthy_database_of_either_variant() {
    for variante in [Variante::Live, Variante::Migration] {
        let db =
            TestDb::con_extras(variante, &["indexes.sql", "client_id.sql", "v2_delta.sql"]).await;
        let (codigo, informe) = doctor(&[("SECRET_KEY", SECRET), ("DATABASE_URL", &db.url)], &[]);
        assert_eq!(codigo, 0, "{variante:?}: {informe:#}");
        assert_eq!(comprobacion(&informe, "database")["status"], "ok");
        assert_eq!(
            comprobacion(&informe, "optional: client_id")["status"],
            "ok"
        );
        let tipos = comprobacion(&informe, "id types")["detail"]
            .as_str()
            .unwrap()
            .to_owned();
        let esperado = match variante {
            Variante::Live => {
                "conversations bigint, messages bigint; read marker holds a message id"
            }
            Variante::Migration => {
                "conversations uuid, messages uuid; read marker holds a timestamp"
            }
        };
        assert_eq!(tipos, esperado);
        assert_eq!(comprobacion(&informe, "optional: v2 delta")["status"], "ok");
        // Pieces of features not served yet are named with their command, without making the
        // verdict worse.
        let busqueda = comprobacion(&informe, "optional: search index");
        assert_eq!(busqueda["status"], "info");
        assert_eq!(busqueda["command"], "scripts/migrate \"$DATABASE_URL\"");
    }
}

#[tokio::test]
async fn doctor_names_each_missing_optional_piece_with_its_command() {
    let db = TestDb::nueva(Variante::Live).await;
    let (codigo, informe) = doctor(&[("SECRET_KEY", SECRET), ("DATABASE_URL", &db.url)], &[]);
    assert_eq!(codigo, 1, "{informe:#}");
    let faltan: Vec<&Value> = informe["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "missing")
        .collect();
    let nombres: Vec<&str> = faltan
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    for pieza in [
        "optional: client_id",
        "optional: v2 delta",
        "optional: index: message history",
        "optional: index: users by name",
    ] {
        assert!(
            nombres.contains(&pieza),
            "{pieza} not reported: {nombres:?}"
        );
    }
    assert!(
        faltan
            .iter()
            .all(|c| c["command"] == "scripts/migrate \"$DATABASE_URL\""),
        "{faltan:?}"
    );

    let tabla = std::process::Command::new(env!("CARGO_BIN_EXE_weigence-chat"))
        .arg("doctor")
        .env_clear()
        .env("SECRET_KEY", SECRET)
        .env("DATABASE_URL", &db.url)
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert_eq!(tabla.status.code(), Some(1));
    let texto = String::from_utf8_lossy(&tabla.stdout);
    assert!(
        texto.contains("fix: scripts/migrate \"$DATABASE_URL\"") && texto.contains("exit 1"),
        "{texto}"
    );
}

#[tokio::test]
async fn doctor_refuses_an_unreachable_database_and_one_without_chat_tables() {
    let cerrado = format!("postgres://postgres@127.0.0.1:{}/postgres", puerto_libre());
    let (codigo, informe) = doctor(&[("SECRET_KEY", SECRET), ("DATABASE_URL", &cerrado)], &[]);
    assert_eq!(codigo, 2, "{informe:#}");
    assert_eq!(comprobacion(&informe, "database")["status"], "fatal");

    let admin = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
    let (cliente, conexion) = tokio_postgres::connect(&admin, NoTls).await.unwrap();
    tokio::spawn(conexion);
    let nombre = format!("wc_vacia_{}", puerto_libre());
    cliente
        .batch_execute(&format!("CREATE DATABASE {nombre}"))
        .await
        .unwrap();
    let url = format!("{}/{nombre}", admin.rsplit_once('/').unwrap().0);
    let (solo_usuarios, conexion) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    tokio::spawn(conexion);
    let usuarios =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/sql/usuarios.sql")).unwrap();
    solo_usuarios.batch_execute(&usuarios).await.unwrap();
    let (codigo, informe) = doctor(&[("SECRET_KEY", SECRET), ("DATABASE_URL", &url)], &[]);
    assert_eq!(codigo, 2, "{informe:#}");
    assert_eq!(comprobacion(&informe, "database")["status"], "ok");
    let tablas = comprobacion(&informe, "chat tables");
    assert_eq!(tablas["status"], "fatal");
    assert!(
        tablas["detail"]
            .as_str()
            .unwrap()
            .contains("no chat tables"),
        "{tablas}"
    );

    let (codigo, informe) = doctor(&[("SECRET_KEY", SECRET)], &[]);
    assert_eq!(codigo, 2);
    assert_eq!(comprobacion(&informe, "configuration")["status"], "fatal");
}

#[tokio::test]
async fn doctor_says_whether_secret_key_reads_a_pasted_cookie_and_checks_redis_and_origins() {
    let db = TestDb::con_extras(
        Variante::Live,
        &["indexes.sql", "client_id.sql", "v2_delta.sql"],
    )
    .await;
    let redis = std::env::var("TEST_REDIS_URL").expect("TEST_REDIS_URL");
    let ajustes = [
        ("SECRET_KEY", SECRET),
        ("DATABASE_URL", db.url.as_str()),
        ("REDIS_URL", redis.as_str()),
        ("ALLOWED_ORIGINS", "https://weigence.example"),
    ];
    let cookie = cookie_para(ANA);
    let (codigo, informe) = doctor(
        &ajustes,
        &["--cookie", &format!("Cookie: tema=oscuro; {cookie}")],
    );
    assert_eq!(codigo, 0, "{informe:#}");
    let sesion = comprobacion(&informe, "session cookie");
    assert_eq!(sesion["status"], "ok");
    assert!(sesion["detail"].as_str().unwrap().contains(ANA));
    assert_eq!(comprobacion(&informe, "redis")["status"], "ok");
    assert_eq!(comprobacion(&informe, "origins")["status"], "ok");

    let otra_clave = [
        ("SECRET_KEY", "otra-clave"),
        ("DATABASE_URL", db.url.as_str()),
    ];
    let (codigo, informe) = doctor(&otra_clave, &["--cookie", &cookie]);
    assert_eq!(codigo, 1, "{informe:#}");
    assert_eq!(
        comprobacion(&informe, "session cookie")["status"],
        "missing"
    );

    let redis_caido = format!("redis://127.0.0.1:{}", puerto_libre());
    let malos = [
        ("SECRET_KEY", SECRET),
        ("DATABASE_URL", db.url.as_str()),
        ("REDIS_URL", redis_caido.as_str()),
        ("ALLOWED_ORIGINS", "weigence.example/chat"),
    ];
    let (codigo, informe) = doctor(&malos, &[]);
    assert_eq!(codigo, 2, "{informe:#}");
    assert_eq!(comprobacion(&informe, "redis")["status"], "fatal");
    assert_eq!(comprobacion(&informe, "origins")["status"], "missing");
}

#[test]
fn systemd_analyze_verify_accepts_the_unit() {
    let unidad = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/deploy/weigence-chat.service"
    ))
    .unwrap();
    for directiva in [
        "DynamicUser=yes",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "EnvironmentFile=",
    ] {
        assert!(unidad.contains(directiva), "the unit lacks {directiva}");
    }
    // verify checks that ExecStart exists: point it at the binary under test.
    let dir = carpeta_temporal("systemd");
    let ruta = dir.join("weigence-chat.service");
    std::fs::write(
        &ruta,
        unidad.replace(
            "/usr/local/bin/weigence-chat",
            env!("CARGO_BIN_EXE_weigence-chat"),
        ),
    )
    .unwrap();
    let salida = std::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(&ruta)
        .output()
        .expect("run systemd-analyze (scripts/test installs systemd)");
    let errores = String::from_utf8_lossy(&salida.stderr);
    let nuestras: Vec<&str> = errores
        .lines()
        .filter(|l| l.contains("weigence-chat"))
        .collect();
    assert!(
        salida.status.success() && nuestras.is_empty(),
        "systemd-analyze verify: {errores}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
