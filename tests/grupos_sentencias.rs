//! SQL statements per request of every route of issue 12 (our own API), counted with
//! PostgreSQL's `pg_stat_statements` for the test's database only: the same for a group of 3
//! with two messages as for a group of 13 with 62 messages and their reactions and pins.

mod common;
mod grupos_comun;

use common::{ANA, BRUNO, CARLA, TestApp, Variante, contar_sentencias_en};
use grupos_comun::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Statements PostgreSQL ran in this test's database for one request (must succeed).
async fn sentencias(
    app: &TestApp,
    metodo: Method,
    ruta: &str,
    rut: &str,
    body: Option<Value>,
) -> (i64, Value) {
    let c = &app.db.client;
    // Reset only this database's entries: other tests share the server.
    c.batch_execute(
        "SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)",
    )
    .await
    .unwrap();
    let (st, b) = pedir(app, metodo, ruta, Some(rut), body).await;
    assert!(st.is_success(), "{ruta}: {st} {b}");
    let n = c
        .query_one(
            "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements s \
             JOIN pg_database d ON d.oid = s.dbid \
             WHERE d.datname = current_database() AND s.query NOT LIKE '%pg_stat_statements%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    (n, b)
}

#[tokio::test]
async fn every_group_and_message_route_costs_a_constant_number_of_statements() {
    let app = servidor(Variante::Live).await;
    contar_sentencias_en(&app).await;
    let mut extras = Vec::new();
    for i in 0..10 {
        let rut = format!("900000{i:02}-k");
        app.usuario(&rut, &format!("Usuario {i}")).await;
        extras.push(rut);
    }
    let mut medidas: Vec<Vec<(&str, i64)>> = Vec::new();
    for ronda in 0..2 {
        let mut miembros: Vec<&str> = vec![BRUNO, CARLA];
        if ronda == 1 {
            miembros.extend(extras.iter().map(String::as_str));
        }
        let mut fila = Vec::new();
        let (n, b) = sentencias(
            &app,
            Method::POST,
            "/api/chat/grupos",
            ANA,
            Some(json!({"nombre": format!("Ronda {ronda}"), "miembros": miembros})),
        )
        .await;
        fila.push(("POST grupos", n));
        let gid = b["grupo"]["id"].as_str().unwrap().to_owned();
        if ronda == 1 {
            // A longer history with reactions and pins on it.
            for i in 0..60 {
                let m = app.enviar(BRUNO, &gid, &format!("relleno {i}")).await;
                if i % 3 == 0 {
                    let (st, _) = reaccionar(&app, &m, CARLA, "👍").await;
                    assert_eq!(st, StatusCode::OK);
                }
                if i % 10 == 0 {
                    let (st, _) = fijado(&app, Method::POST, &m, Some(CARLA)).await;
                    assert_eq!(st, StatusCode::OK);
                }
            }
        }
        let m = app.enviar(ANA, &gid, "medir").await;
        let mid = id(&m);
        let de_bruno = id(&app.enviar(BRUNO, &gid, "de Bruno").await);
        let g = format!("/api/chat/grupos/{gid}");
        let rutas: Vec<(&str, Method, String, &str, Option<Value>)> = vec![
            ("GET grupos/<id>", Method::GET, g.clone(), ANA, None),
            (
                "PATCH grupos/<id>",
                Method::PATCH,
                g.clone(),
                ANA,
                Some(json!({"nombre": "Otro"})),
            ),
            (
                "POST grupos/<id>/miembros",
                Method::POST,
                format!("{g}/miembros"),
                ANA,
                Some(json!({"usuario_id": DIEGO})),
            ),
            (
                "PUT grupos/<id>/admins/<rut>",
                Method::PUT,
                format!("{g}/admins/{BRUNO}"),
                ANA,
                Some(json!({"es_admin": true})),
            ),
            (
                "DELETE grupos/<id>/miembros/<rut>",
                Method::DELETE,
                format!("{g}/miembros/{DIEGO}"),
                ANA,
                None,
            ),
            (
                "GET conversaciones/<id>/historial",
                Method::GET,
                format!("/api/chat/conversaciones/{gid}/historial"),
                ANA,
                None,
            ),
            (
                "POST mensaje/enviar (reply_to)",
                Method::POST,
                "/api/chat/mensaje/enviar".into(),
                BRUNO,
                Some(json!({"conversacion_id": gid, "contenido": "re", "reply_to": m["id"]})),
            ),
            (
                "PATCH mensajes/<id>",
                Method::PATCH,
                format!("/api/chat/mensajes/{mid}"),
                ANA,
                Some(json!({"contenido": "medido"})),
            ),
            (
                "POST mensajes/<id>/reacciones",
                Method::POST,
                format!("/api/chat/mensajes/{mid}/reacciones"),
                BRUNO,
                Some(json!({"emoji": "🎉"})),
            ),
            (
                "POST mensajes/<id>/fijado",
                Method::POST,
                format!("/api/chat/mensajes/{mid}/fijado"),
                BRUNO,
                None,
            ),
            (
                "DELETE mensajes/<id>/fijado",
                Method::DELETE,
                format!("/api/chat/mensajes/{mid}/fijado"),
                BRUNO,
                None,
            ),
            (
                "POST conversaciones/<id>/entregado",
                Method::POST,
                format!("/api/chat/conversaciones/{gid}/entregado"),
                BRUNO,
                Some(json!({"mensaje_id": m["id"]})),
            ),
            (
                "POST mensaje/marcar-leido",
                Method::POST,
                "/api/chat/mensaje/marcar-leido".into(),
                BRUNO,
                Some(json!({"conversacion_id": gid})),
            ),
            (
                "DELETE mensajes/<id> (an admin, another's)",
                Method::DELETE,
                format!("/api/chat/mensajes/{de_bruno}"),
                ANA,
                None,
            ),
            (
                "DELETE mensajes/<id> (author's)",
                Method::DELETE,
                format!("/api/chat/mensajes/{mid}"),
                ANA,
                None,
            ),
            (
                "POST grupos/<id>/salir",
                Method::POST,
                format!("{g}/salir"),
                CARLA,
                None,
            ),
        ];
        for (nombre, metodo, ruta, rut, body) in rutas {
            let (n, _) = sentencias(&app, metodo, &ruta, rut, body).await;
            fila.push((nombre, n));
        }
        medidas.push(fila);
    }
    println!("statements per request (group of 3 with 2 messages | of 13 with 62):");
    for (a, b) in medidas[0].iter().zip(&medidas[1]) {
        println!("  {:<40} {:>3} | {:>3}", a.0, a.1, b.1);
    }
    assert_eq!(medidas[0], medidas[1], "constant whatever the group's size");
}
