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
