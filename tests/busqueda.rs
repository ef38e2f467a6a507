//! Message search and per-conversation mute against the real binary and PostgreSQL, once per
//! table variant: Spanish stemming and accent folding, ranking, paging, who sees what (members
//! now only, never deleted messages), hostile query strings, and search without the index.

mod common;

use common::{
    ALMACEN, ANA, Almacen, BRUNO, CARLA, TestApp, TestDb, Variante, arrancar_con_registro, segmento,
};
use reqwest::{Method, StatusCode};
use serde_json::Value;

en_ambos_almacenes!(
    spanish_stemming_and_accents_ranked_and_paged,
    only_members_now_see_results_and_never_deleted_messages,
    sql_and_tsquery_syntax_in_the_query_are_harmless,
    mute_is_stored_per_user_and_member_only,
);

/// A server whose database has search (sql/busqueda.sql), its index (applied with psql, as
/// scripts/migrate does) and the attachments table.
async fn app_con_busqueda(v: Variante) -> TestApp {
    let db = TestDb::con_extras(v, &["busqueda.sql", "adjuntos.sql"]).await;
    let salida = std::process::Command::new("psql")
        .args([
            &db.url,
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-f",
            concat!(env!("CARGO_MANIFEST_DIR"), "/sql/busqueda_indice.sql"),
        ])
        .output()
        .expect("psql");
    assert!(
        salida.status.success(),
        "{}",
        String::from_utf8_lossy(&salida.stderr)
    );
    TestApp::sobre(db, v, &[]).await
}

fn codificar(q: &str) -> String {
    q.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn buscar(app: &TestApp, rut: &str, extra: &str) -> (StatusCode, Value) {
    app.get(&format!("/api/chat/buscar?{extra}"), Some(rut))
        .await
}

fn ids(b: &Value) -> Vec<String> {
    b["resultados"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["mensaje_id"].to_string())
        .collect()
}

async fn spanish_stemming_and_accents_ranked_and_paged(v: Variante) {
    let app = app_con_busqueda(v).await;
    let conv = app.conversacion(ANA, BRUNO).await;
    let una = app.enviar(ANA, &conv, "una cancion de cuna").await;
    let varias = app
        .enviar(BRUNO, &conv, "me gustan las canciones viejas")
        .await;
    let tres = app
        .enviar(ANA, &conv, "canción, canción y más canción")
        .await;
    app.enviar(BRUNO, &conv, "nada que ver con música").await;
    let (s, b) = buscar(&app, BRUNO, &format!("q={}", codificar("canción"))).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let encontrados = ids(&b);
    assert_eq!(encontrados.len(), 3, "{b}");
    for m in [&una, &varias, &tres] {
        assert!(encontrados.contains(&m["id"].to_string()), "{b}");
    }
    assert_eq!(
        encontrados[0],
        tres["id"].to_string(),
        "most matches first: {b}"
    );
    let primero = &b["resultados"][0];
    assert_eq!(segmento(&primero["conversacion_id"]), conv, "{b}");
    let resaltados: Vec<&str> = primero["fragmento"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["resaltado"] == true)
        .map(|t| t["texto"].as_str().unwrap())
        .collect();
    assert!(resaltados.contains(&"canción"), "{b}");
    // Without the accent too.
    let (_, b2) = buscar(&app, ANA, "q=cancion").await;
    assert_eq!(ids(&b2).len(), 3, "{b2}");
    // Paging.
    let (_, p1) = buscar(&app, ANA, "q=cancion&limite=2").await;
    assert_eq!(ids(&p1).len(), 2);
    assert_eq!(p1["hay_mas"], true);
    let (_, p2) = buscar(&app, ANA, "q=cancion&limite=2&desde=2").await;
    assert_eq!(ids(&p2).len(), 1);
    assert_eq!(p2["hay_mas"], false);
    let todos: Vec<String> = ids(&p1).into_iter().chain(ids(&p2)).collect();
    assert_eq!(todos, encontrados);
    // One conversation only.
    let (s, b) = buscar(&app, ANA, &format!("q=cancion&conversacion_id={conv}")).await;
    assert_eq!((s, ids(&b).len()), (StatusCode::OK, 3));
    for malo in ["limite=0", "limite=51", "desde=-1", "limite=x"] {
        let (s, b) = buscar(&app, ANA, &format!("q=cancion&{malo}")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{malo}: {b}");
        assert_eq!(b["success"], false);
    }
}

async fn only_members_now_see_results_and_never_deleted_messages(v: Variante) {
    let app = app_con_busqueda(v).await;
    let conv = app.conversacion(ANA, BRUNO).await;
    let secreto = app.enviar(ANA, &conv, "el presupuesto secreto").await;
    let borrado = app.enviar(ANA, &conv, "presupuesto borrado").await;
    let (s, _) = buscar(&app, CARLA, "q=presupuesto").await;
    assert_eq!(s, StatusCode::OK);
    assert!(ids(&buscar(&app, CARLA, "q=presupuesto").await.1).is_empty());
    let (s, b) = buscar(
        &app,
        CARLA,
        &format!("q=presupuesto&conversacion_id={conv}"),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    let (s, _) = app.get("/api/chat/buscar?q=presupuesto", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Deleted: never returned.
    let r = app
        .req(
            Method::DELETE,
            &format!("/api/chat/mensajes/{}", segmento(&borrado["id"])),
            Some(ANA),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, b) = buscar(&app, BRUNO, "q=presupuesto").await;
    assert_eq!(ids(&b), vec![secreto["id"].to_string()], "{b}");
    // Removed from the conversation: sees nothing of it any more.
    let (_, part, _) = v.tablas();
    app.db
        .client
        .execute(
            &format!("DELETE FROM {part} WHERE usuario_id = $1"),
            &[&BRUNO],
        )
        .await
        .unwrap();
    let (s, b) = buscar(&app, BRUNO, "q=presupuesto").await;
    assert_eq!(s, StatusCode::OK);
    assert!(ids(&b).is_empty(), "{b}");
}

async fn sql_and_tsquery_syntax_in_the_query_are_harmless(v: Variante) {
    let app = app_con_busqueda(v).await;
    let conv = app.conversacion(ANA, BRUNO).await;
    app.enviar(ANA, &conv, "precio del producto").await;
    for hostil in [
        "'; DROP TABLE usuarios; --",
        "precio' OR '1'='1",
        "precio & | ! ( ) :* <-> <2>",
        "!!!",
        "\"sin cerrar",
        "\\",
        "%_%",
        "precio:*A",
        "-precio",
        "or or and",
        "🙂",
    ] {
        let (s, b) = buscar(&app, ANA, &format!("q={}", codificar(hostil))).await;
        assert_eq!(s, StatusCode::OK, "{hostil}: {b}");
        assert_eq!(b["success"], true, "{hostil}");
    }
    let (_, b) = buscar(&app, ANA, &format!("q={}", codificar("precio' OR '1'='1"))).await;
    assert_eq!(ids(&b).len(), 1, "the words still match: {b}");
    assert_eq!(app.contar("SELECT count(*) FROM usuarios").await, 4);
    for malo in ["", "q=", "q=%20%20", &format!("q={}", "a".repeat(201))] {
        let (s, b) = buscar(&app, ANA, malo).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{malo}: {b}");
    }
}

async fn mute_is_stored_per_user_and_member_only(v: Variante) {
    let app = app_con_busqueda(v).await;
    let conv = app.conversacion(ANA, BRUNO).await;
    let silenciar = |rut: &'static str, valor: bool| {
        app.req(
            Method::PUT,
            &format!("/api/chat/conversaciones/{conv}/silencio"),
            Some(rut),
        )
        .json(&serde_json::json!({"silenciado": valor}))
        .send()
    };
    let r = common::respuesta(silenciar(ANA, true).await.unwrap()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["silenciadas"].as_array().unwrap().len(), 1);
    let (_, b) = app.get("/api/chat/silencios", Some(ANA)).await;
    assert_eq!(
        b["silenciadas"][0].to_string(),
        r.body["silenciadas"][0].to_string()
    );
    let (_, b) = app.get("/api/chat/silencios", Some(BRUNO)).await;
    assert!(b["silenciadas"].as_array().unwrap().is_empty(), "per user");
    let r = common::respuesta(silenciar(CARLA, true).await.unwrap()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = common::respuesta(silenciar(ANA, false).await.unwrap()).await;
    assert!(r.body["silenciadas"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn search_works_without_the_index_and_says_so_once_at_start_up() {
    let db = TestDb::nueva(Variante::Live).await;
    let registro = std::env::temp_dir().join(format!("wc-busqueda-{}.log", std::process::id()));
    let (mut proceso, base) =
        arrancar_con_registro(&db.url, &[("RUST_LOG", "info")], Some(&registro)).await;
    let http = reqwest::Client::new();
    let cookie = common::cookie_para(ANA);
    let conv: Value = http
        .post(format!("{base}/api/chat/conversacion/crear"))
        .header("cookie", &cookie)
        .json(&serde_json::json!({"participantes": [ANA, BRUNO]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let conv = conv["conversacion_id"].as_str().unwrap().to_owned();
    http.post(format!("{base}/api/chat/mensaje/enviar"))
        .header("cookie", &cookie)
        .json(&serde_json::json!({"conversacion_id": conv, "contenido": "las canciones"}))
        .send()
        .await
        .unwrap();
    let r = http
        .get(format!("{base}/api/chat/buscar?q=cancion"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["resultados"].as_array().unwrap().len(), 1, "{b}");
    let _ = proceso.start_kill();
    let _ = proceso.wait().await;
    let log = std::fs::read_to_string(&registro).unwrap();
    let _ = std::fs::remove_file(&registro);
    assert_eq!(
        log.matches("búsqueda de mensajes sin índice").count(),
        1,
        "{log}"
    );
}

/// The PostgREST store without `sql/busqueda_postgrest.sql` cannot rank or highlight: search
/// answers 503 naming the file (never a silent empty result), and mute still works.
#[tokio::test]
async fn postgrest_search_without_its_function_names_the_file() {
    ALMACEN
        .scope(Almacen::Postgrest { funciones: false }, async {
            let db = TestDb::con_extras(Variante::Live, &["busqueda.sql"]).await;
            let app = TestApp::sobre(db, Variante::Live, &[]).await;
            let conv = app.conversacion(ANA, BRUNO).await;
            app.enviar(ANA, &conv, "las canciones").await;
            let (s, b) = buscar(&app, ANA, "q=cancion").await;
            assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{b}");
            assert!(b.to_string().contains("sql/busqueda_postgrest.sql"), "{b}");
            let r = common::respuesta(
                app.req(
                    Method::PUT,
                    &format!("/api/chat/conversaciones/{conv}/silencio"),
                    Some(ANA),
                )
                .json(&serde_json::json!({"silenciado": true}))
                .send()
                .await
                .unwrap(),
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            assert_eq!(r.body["silenciadas"].as_array().unwrap().len(), 1);
        })
        .await;
}

/// Search and mute cost a constant number of PostgREST requests (with the functions): the same
/// with one message or many, one muted conversation or several.
#[tokio::test]
async fn postgrest_search_and_mute_cost_a_constant_number_of_requests() {
    ALMACEN
        .scope(Almacen::Postgrest { funciones: true }, async {
            let app = app_con_busqueda(Variante::Live).await;
            let pg = app.postgrest.as_ref().unwrap();
            let mut cuentas = Vec::new();
            for otro in [BRUNO, CARLA] {
                let conv = app.conversacion(ANA, otro).await;
                for _ in 0..3 {
                    app.enviar(otro, &conv, "las canciones").await;
                }
                let antes = pg.peticiones().await.len();
                let (s, b) = buscar(&app, ANA, "q=cancion").await;
                assert_eq!(s, StatusCode::OK, "{b}");
                let busqueda = pg.peticiones().await.len() - antes;
                let antes = pg.peticiones().await.len();
                let r = common::respuesta(
                    app.req(
                        Method::PUT,
                        &format!("/api/chat/conversaciones/{conv}/silencio"),
                        Some(ANA),
                    )
                    .json(&serde_json::json!({"silenciado": true}))
                    .send()
                    .await
                    .unwrap(),
                )
                .await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.body);
                let silencio = pg.peticiones().await.len() - antes;
                let antes = pg.peticiones().await.len();
                let (s, _) = app.get("/api/chat/silencios", Some(ANA)).await;
                assert_eq!(s, StatusCode::OK);
                let lista = pg.peticiones().await.len() - antes;
                println!("search {busqueda}, mute {silencio}, mutes {lista} PostgREST requests");
                cuentas.push((busqueda, silencio, lista));
            }
            assert_eq!(cuentas[0], cuentas[1]);
        })
        .await;
}

/// With the search function but without sql/busqueda.sql (its `weigence_unaccent`), the
/// PostgREST store names the missing file too.
#[tokio::test]
async fn postgrest_search_without_busqueda_sql_names_that_file() {
    ALMACEN
        .scope(Almacen::Postgrest { funciones: true }, async {
            let app = TestApp::nueva(Variante::Migration).await;
            let conv = app.conversacion(ANA, BRUNO).await;
            app.enviar(ANA, &conv, "las canciones").await;
            let (s, b) = buscar(&app, ANA, "q=cancion").await;
            assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{b}");
            assert!(b.to_string().contains("sql/busqueda.sql"), "{b}");
        })
        .await;
}
