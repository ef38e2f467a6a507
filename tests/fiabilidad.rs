//! Reliability: idempotent sends, ordering, database outages, start-up without a database.

mod common;

use std::collections::HashSet;

use common::{ANA, BRUNO, TestApp, TestDb, Variante, arrancar};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

en_ambas_variantes!(
    a_retried_send_returns_the_first_message_from_memory_without_the_column,
    concurrent_and_post_restart_retries_never_duplicate_with_the_client_id_column,
);

async fn mensajes_guardados(app: &TestApp) -> i64 {
    app.contar(&format!("SELECT count(*) FROM {}", app.variante.tablas().2))
        .await
}

async fn a_retried_send_returns_the_first_message_from_memory_without_the_column(v: Variante) {
    let app = TestApp::nueva(v).await;
    let id = app.conversacion(ANA, BRUNO).await;
    let cuerpo = json!({"conversacion_id": id, "contenido": "una vez", "client_id": "k-1"});
    let (s1, primero) = app
        .post("/api/chat/mensaje/enviar", Some(ANA), cuerpo.clone())
        .await;
    let (s2, segundo) = app
        .post("/api/chat/mensaje/enviar", Some(ANA), cuerpo)
        .await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(primero["mensaje"]["id"], segundo["mensaje"]["id"]);

    let por_cabecera = || {
        app.req(Method::POST, "/api/chat/mensaje/enviar", Some(ANA))
            .header("idempotency-key", "k-2")
            .json(&json!({"conversacion_id": id, "contenido": "cabecera"}))
            .send()
    };
    let a: Value = por_cabecera().await.unwrap().json().await.unwrap();
    let b: Value = por_cabecera().await.unwrap().json().await.unwrap();
    assert_eq!(a["mensaje"]["id"], b["mensaje"]["id"]);

    let (_, de_bruno) = app
        .post(
            "/api/chat/mensaje/enviar",
            Some(BRUNO),
            json!({"conversacion_id": id, "contenido": "mío", "client_id": "k-1"}),
        )
        .await;
    assert_ne!(
        de_bruno["mensaje"]["id"], primero["mensaje"]["id"],
        "keys are per user"
    );
    let (s, _) = app
        .post(
            "/api/chat/mensaje/enviar",
            Some(ANA),
            json!({"conversacion_id": id, "contenido": "x", "client_id": {"a": 1}}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(mensajes_guardados(&app).await, 3);
}

async fn concurrent_and_post_restart_retries_never_duplicate_with_the_client_id_column(
    v: Variante,
) {
    let db = TestDb::con_extras(v, &["client_id.sql"]).await;
    let url = db.url.clone();
    let app = TestApp::sobre(db, v, &[]).await;
    let id = app.conversacion(ANA, BRUNO).await;
    let cuerpo =
        json!({"conversacion_id": id, "contenido": "una sola vez", "client_id": "concurrente"});
    let envios = (0..10).map(|_| app.post("/api/chat/mensaje/enviar", Some(ANA), cuerpo.clone()));
    let respuestas = futures_util::future::join_all(envios).await;
    let ids: HashSet<String> = respuestas
        .iter()
        .map(|(s, b)| {
            assert_eq!(*s, StatusCode::CREATED, "{b}");
            b["mensaje"]["id"].to_string()
        })
        .collect();
    assert_eq!(
        ids.len(),
        1,
        "ten concurrent sends with one key store one message"
    );
    assert_eq!(mensajes_guardados(&app).await, 1);

    // A fresh process has an empty memory: only the database can recognise the retry.
    let (_otro, base) = arrancar(&url, &[]).await;
    let r: Value = reqwest::Client::new()
        .post(format!("{base}/api/chat/mensaje/enviar"))
        .header("cookie", app.cookie(ANA))
        .json(&cuerpo)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["mensaje"]["id"].to_string(), *ids.iter().next().unwrap());
    assert_eq!(mensajes_guardados(&app).await, 1);
}

/// Sends a line to a child's stdin and reads its next stdout line.
async fn paso(
    entrada: &mut tokio::process::ChildStdin,
    salida: &mut tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    orden: Option<&str>,
) -> String {
    use tokio::io::AsyncWriteExt;
    if let Some(orden) = orden {
        entrada
            .write_all(format!("{orden}\n").as_bytes())
            .await
            .unwrap();
        entrada.flush().await.unwrap();
    }
    let linea = tokio::time::timeout(std::time::Duration::from_secs(30), salida.next_line())
        .await
        .expect("client answered in time")
        .unwrap()
        .unwrap_or_default();
    println!("{linea}");
    linea
}

#[tokio::test]
async fn a_database_outage_answers_503_quickly_keeps_sockets_and_recovers() {
    use tokio::io::AsyncBufReadExt;
    let db = TestDb::nueva(Variante::Live).await;
    let proxy = common::ProxyTcp::nuevo(&common::servidor_postgres()).await;
    let url = proxy.url_via(&db.url);
    let app = TestApp::sobre(
        db,
        Variante::Live,
        &[
            ("DATABASE_URL", url.as_str()),
            ("DATABASE_TIMEOUT_MS", "2000"),
        ],
    )
    .await;
    let id = app.conversacion(ANA, BRUNO).await;

    let mut cliente = tokio::process::Command::new(common::python())
        .args(["corte.py", &app.base, common::SECRET, ANA, &id])
        .current_dir(common::clientes())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut entrada = cliente.stdin.take().unwrap();
    let mut salida = tokio::io::BufReader::new(cliente.stdout.take().unwrap()).lines();
    assert_eq!(paso(&mut entrada, &mut salida, None).await, "listo");

    proxy.cortar().await;
    let inicio = std::time::Instant::now();
    let salud = app
        .req(Method::GET, "/healthz", None)
        .send()
        .await
        .unwrap()
        .status();
    let (s, body) = app.get("/api/chat/conversaciones", Some(ANA)).await;
    let tardanza = inicio.elapsed();
    assert_eq!(salud, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        (s, body),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"success": false, "error": "Servicio no disponible", "msg": "Servicio no disponible"})
        )
    );
    assert!(
        tardanza < std::time::Duration::from_secs(5),
        "answered in {tardanza:?}"
    );
    let (s, _) = app
        .post(
            "/api/chat/mensaje/enviar",
            Some(ANA),
            json!({"conversacion_id": id, "contenido": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        paso(&mut entrada, &mut salida, Some("corte"))
            .await
            .starts_with("ok:")
    );

    proxy.restaurar().await;
    assert_eq!(
        app.req(Method::GET, "/healthz", None)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert!(
        paso(&mut entrada, &mut salida, Some("fin"))
            .await
            .starts_with("ok:")
    );
    assert_eq!(
        app.get("/api/chat/conversaciones", Some(ANA)).await.0,
        StatusCode::OK
    );
    assert!(cliente.wait().await.unwrap().success());
}

#[tokio::test]
async fn starts_without_a_database_reports_unhealthy_and_recovers_when_it_appears() {
    let db = TestDb::nueva(Variante::Migration).await;
    let proxy = common::ProxyTcp::nuevo(&common::servidor_postgres()).await;
    let url = proxy.url_via(&db.url);
    proxy.cortar().await;
    let app = TestApp::sobre(
        db,
        Variante::Migration,
        &[
            ("DATABASE_URL", url.as_str()),
            ("DATABASE_TIMEOUT_MS", "1000"),
        ],
    )
    .await;
    assert_eq!(
        app.req(Method::GET, "/healthz", None)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        app.get("/api/chat/usuarios", Some(ANA)).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    proxy.restaurar().await;
    assert_eq!(
        app.req(Method::GET, "/healthz", None)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let id = app.conversacion(ANA, BRUNO).await;
    let m = app.enviar(ANA, &id, "hola").await;
    assert!(
        m["id"].is_string(),
        "uuid tables detected after the late start: {m}"
    );
}

/// Runs `tests/clients/fiable.mjs` against a server that is SIGKILLed and restarted `muertes`
/// times on the same port (every `intervalo`), then compares the acknowledged set with the
/// database.
async fn sin_perdidas_ni_duplicados(
    clientes: usize,
    mensajes: usize,
    muertes: usize,
    intervalo: std::time::Duration,
) {
    let db = TestDb::con_extras(Variante::Live, &["client_id.sql"]).await;
    let puerto = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let ajustes = [("PORT", puerto.as_str())];
    let (mut servidor, base) = arrancar(&db.url, &ajustes).await;
    let crear: Value = reqwest::Client::new()
        .post(format!("{base}/api/chat/conversacion/crear"))
        .header("cookie", common::cookie_para(ANA))
        .json(&json!({"participantes": [ANA, BRUNO]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let conversacion = crear["conversacion_id"].as_str().unwrap().to_owned();
    let salida =
        std::env::temp_dir().join(format!("wc-fiable-{}-{puerto}.json", std::process::id()));
    let mut carga = tokio::process::Command::new("node")
        .args([
            "fiable.mjs",
            &base,
            &conversacion,
            common::cookie_para(ANA).trim_start_matches("session="),
            common::cookie_para(BRUNO).trim_start_matches("session="),
            &clientes.to_string(),
            &mensajes.to_string(),
            salida.to_str().unwrap(),
        ])
        .current_dir(common::clientes())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    for _ in 0..muertes {
        tokio::time::sleep(intervalo).await;
        servidor.start_kill().unwrap(); // SIGKILL
        servidor.wait().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        servidor = arrancar(&db.url, &ajustes).await.0;
    }
    let estado = carga.wait().await.unwrap();
    assert!(estado.success(), "the load ended with {estado}");
    let (c, informe) = common::cotejar(&db, &salida, &conversacion).await;
    println!(
        "sin_perdidas_ni_duplicados: acknowledged {}, stored {}, missing {}, duplicated {}, retries {}, {} kills, {} s",
        c.confirmados,
        c.guardados,
        c.faltan,
        c.duplicados,
        informe["reintentos"],
        muertes,
        informe["segundos"]
    );
    assert_eq!(c.confirmados, mensajes);
    assert_eq!((c.faltan, c.duplicados, c.guardados), (0, 0, mensajes));
    drop(servidor);
}

/// Sizes from `FIABLE_CLIENTES`, `FIABLE_MENSAJES`, `FIABLE_MUERTES`, `FIABLE_INTERVALO_MS`:
/// small in `scripts/test`, the full 200 × 10,000 with two kills in `scripts/reliability`.
#[tokio::test]
async fn acknowledged_messages_survive_sigkill_exactly_once() {
    let numero = |nombre: &str, defecto: usize| {
        std::env::var(nombre)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(defecto)
    };
    sin_perdidas_ni_duplicados(
        numero("FIABLE_CLIENTES", 20),
        numero("FIABLE_MENSAJES", 600),
        numero("FIABLE_MUERTES", 1),
        std::time::Duration::from_millis(numero("FIABLE_INTERVALO_MS", 700) as u64),
    )
    .await;
}

#[tokio::test]
async fn fifty_sockets_sending_at_once_all_see_the_order_of_get_mensajes() {
    let app = TestApp::con(Variante::Live, &[("MAX_SOCKETS_PER_USER", "50")]).await;
    let conversacion = app.conversacion(ANA, BRUNO).await;
    common::ejecutar(
        "node",
        &[
            "orden.mjs",
            &app.base,
            &conversacion,
            common::cookie_para(ANA).trim_start_matches("session="),
            common::cookie_para(BRUNO).trim_start_matches("session="),
            "50",
            "2",
        ],
    );
}
