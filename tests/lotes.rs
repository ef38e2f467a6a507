//! Group commit of sends (Postgres store): sends arriving together are written by one
//! statement, with the membership and reply checks in it; a refused or failing send fails
//! alone; order per conversation and idempotency by client key are kept.
//!
//! The store-level tests call the library's Postgres store directly on a single-threaded
//! runtime: every send of a burst is queued before the dispatcher first runs, so the burst is
//! one batch (one statement, counted by `pg_stat_statements`) by construction, not by timing.

mod common;

use std::time::Duration;

use common::{ANA, BRUNO, CARLA, TestApp, TestDb, Variante};
use reqwest::StatusCode;
use serde_json::json;
use weigence_chat::dominio::{Id, IdKind};
use weigence_chat::store::postgres::{PostgresOptions, PostgresStore};
use weigence_chat::store::{ChatStore, Enviado, NuevoMensaje, StoreResult};

/// The batch statement's text, as `pg_stat_statements` normalizes it.
const SENTENCIA_LOTE: &str = "%WITH ORDINALITY AS x(conv, autor, contenido, clave, cita, n)%";

async fn store(db: &TestDb) -> PostgresStore {
    PostgresStore::connect(&PostgresOptions {
        url: db.url.clone(),
        pool_size: 4,
        timeout: Duration::from_secs(10),
        prepared_statements: true,
        variant: None,
    })
    .await
    .unwrap()
}

/// Adds users `9000000NN-k` for each `n`, and a 1:1 conversation per pair; returns the ids.
async fn conversaciones(db: &TestDb, variante: Variante, pares: &[(&str, &str)]) -> Vec<String> {
    let (conv, part, _) = variante.tablas();
    let mut ids = Vec::new();
    for (a, b) in pares {
        let fila = db
            .client
            .query_one(
                &format!(
                    "WITH c AS (INSERT INTO {conv} (fecha_creacion) VALUES (now()) RETURNING id), \
                     p AS (INSERT INTO {part} (conversacion_id, usuario_id) SELECT c.id, x FROM c, unnest(ARRAY[$1, $2]::text[]) x) \
                     SELECT id::text FROM c"
                ),
                &[a, b],
            )
            .await
            .unwrap();
        ids.push(fila.get(0));
    }
    ids
}

async fn usuarios(db: &TestDb, ruts: &[&str]) {
    for rut in ruts {
        db.client
            .execute(
                "INSERT INTO usuarios (rut_usuario, nombre) VALUES ($1, $1)",
                &[rut],
            )
            .await
            .unwrap();
    }
}

/// Executions of the batch statement in this test's database so far.
async fn lotes_ejecutados(db: &TestDb) -> i64 {
    let base = db.url.rsplit('/').next().unwrap().to_owned();
    db.client
        .query_one(
            "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid \
             WHERE d.datname = $1 AND s.query LIKE $2",
            &[&base, &SENTENCIA_LOTE],
        )
        .await
        .unwrap()
        .get(0)
}

fn kind(variante: Variante) -> IdKind {
    match variante {
        Variante::Live => IdKind::Integer,
        Variante::Migration => IdKind::Uuid,
    }
}

/// A send without a client key.
fn nuevo<'a>(
    conversacion: &'a Id,
    autor: &'a str,
    contenido: &'a str,
    responde_a: Option<&'a Id>,
) -> NuevoMensaje<'a> {
    NuevoMensaje {
        conversacion,
        autor,
        contenido,
        clave: None,
        responde_a,
        participantes: None,
    }
}

fn guardado(r: &StoreResult<Enviado>) -> &weigence_chat::store::Insercion {
    match r {
        Ok(Enviado::Guardado { insercion, .. }) => insercion,
        otro => panic!("expected a stored message, got {otro:?}"),
    }
}

async fn un_lote_con_un_ajeno(variante: Variante) {
    let db = TestDb::con_extras(variante, &["indexes.sql", "client_id.sql", "v2_delta.sql"]).await;
    db.client
        .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .await
        .unwrap();
    let otros = ["900000001-k", "900000002-k", "900000003-k", "900000004-k"];
    usuarios(&db, &otros).await;
    let ids = conversaciones(
        &db,
        variante,
        &[
            (ANA, BRUNO),
            (ANA, CARLA),
            (BRUNO, CARLA),
            (otros[0], otros[1]),
            (otros[2], otros[3]),
        ],
    )
    .await;
    let ids: Vec<Id> = ids
        .iter()
        .map(|t| Id::parse(t, kind(variante)).unwrap())
        .collect();
    let s = store(&db).await;
    // A message to reply to, in the conversation of the two last users.
    let citado = guardado(
        &s.insertar_mensaje(nuevo(&ids[4], otros[2], "citado", None))
            .await,
    )
    .mensaje
    .id
    .clone();
    let antes = lotes_ejecutados(&db).await;
    let (carla_ajena, ana, bruno, cuatro, cita_ajena, cita_buena) = tokio::join!(
        // Carla is not in Ana and Bruno's conversation.
        s.insertar_mensaje(nuevo(&ids[0], CARLA, "intruso", None)),
        s.insertar_mensaje(nuevo(&ids[1], ANA, "hola carla", None)),
        s.insertar_mensaje(nuevo(&ids[2], BRUNO, "hola carla", None)),
        s.insertar_mensaje(nuevo(&ids[3], otros[0], "hola", None)),
        // A reply to a message of another conversation.
        s.insertar_mensaje(nuevo(&ids[1], CARLA, "cita ajena", Some(&citado))),
        s.insertar_mensaje(nuevo(&ids[4], otros[3], "cita buena", Some(&citado))),
    );
    assert_eq!(
        lotes_ejecutados(&db).await - antes,
        2,
        "the burst is one batch, plus one for the second send to conversation 1"
    );
    assert!(
        matches!(carla_ajena, Ok(Enviado::NoParticipa)),
        "{carla_ajena:?}"
    );
    assert!(
        matches!(cita_ajena, Ok(Enviado::CitaAjena)),
        "{cita_ajena:?}"
    );
    for (r, conversacion, autor) in [
        (&ana, &ids[1], ANA),
        (&bruno, &ids[2], BRUNO),
        (&cuatro, &ids[3], otros[0]),
        (&cita_buena, &ids[4], otros[3]),
    ] {
        let hecho = guardado(r);
        assert!(hecho.nuevo);
        assert_eq!(&hecho.mensaje.conversacion_id, conversacion);
        assert_eq!(hecho.mensaje.usuario_id, autor);
        let Ok(Enviado::Guardado { participantes, .. }) = r else {
            unreachable!()
        };
        assert!(
            participantes.contains(&autor.to_owned()),
            "{participantes:?}"
        );
        assert_eq!(participantes.len(), 2);
    }
    assert_eq!(
        guardado(&cita_buena).mensaje.extras.responde_a.as_ref(),
        Some(&citado)
    );
    let (conv, _, msg) = variante.tablas();
    let filas = db
        .client
        .query(
            &format!("SELECT conversacion_id::text, usuario_id, contenido FROM {msg} ORDER BY fecha_envio, id"),
            &[],
        )
        .await
        .unwrap();
    let textos: Vec<String> = filas.iter().map(|f| f.get(2)).collect();
    assert!(!textos.contains(&"intruso".to_owned()), "{textos:?}");
    assert!(!textos.contains(&"cita ajena".to_owned()), "{textos:?}");
    assert_eq!(
        filas.len(),
        5,
        "the quoted message and four sends: {textos:?}"
    );
    // Each conversation's last-message columns point at its own new message.
    if let Variante::Live = variante {
        for r in [&ana, &bruno, &cuatro, &cita_buena] {
            let m = &guardado(r).mensaje;
            let ultimo: Option<String> = db
                .client
                .query_one(
                    &format!(
                        "SELECT ultimo_mensaje_id::text FROM {conv} WHERE id = $1::text::bigint"
                    ),
                    &[&m.conversacion_id.as_str()],
                )
                .await
                .unwrap()
                .get(0);
            assert_eq!(ultimo.as_deref(), Some(m.id.as_str()));
        }
    }
}

#[tokio::test]
async fn a_non_members_send_in_a_batch_of_members_sends_is_refused_alone() {
    un_lote_con_un_ajeno(Variante::Live).await;
}

#[tokio::test]
async fn a_non_members_send_in_a_batch_is_refused_alone_with_uuid_tables() {
    un_lote_con_un_ajeno(Variante::Migration).await;
}

#[tokio::test]
async fn a_client_key_repeated_in_one_burst_stores_one_row() {
    let db = TestDb::con_extras(Variante::Live, &["client_id.sql"]).await;
    let ids = conversaciones(&db, Variante::Live, &[(ANA, BRUNO), (ANA, CARLA)]).await;
    let ids: Vec<Id> = ids
        .iter()
        .map(|t| Id::parse(t, IdKind::Integer).unwrap())
        .collect();
    let s = store(&db).await;
    let con_clave = |conversacion, contenido| NuevoMensaje {
        clave: Some("clave-1"),
        ..nuevo(conversacion, ANA, contenido, None)
    };
    let (a, b, c, d) = tokio::join!(
        s.insertar_mensaje(con_clave(&ids[0], "uno")),
        s.insertar_mensaje(con_clave(&ids[0], "uno otra vez")),
        s.insertar_mensaje(con_clave(&ids[1], "uno en otra conversación")),
        s.insertar_mensaje(con_clave(&ids[0], "y otra")),
    );
    let resultados = [a, b, c, d];
    let primero = guardado(&resultados[0]);
    assert!(primero.nuevo);
    for r in &resultados[1..] {
        let h = guardado(r);
        assert!(!h.nuevo, "a repeated key returns the first message");
        assert_eq!(h.mensaje.id, primero.mensaje.id);
    }
    let filas = db
        .client
        .query_one("SELECT count(*) FROM chat_mensajes", &[])
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(filas, 1);
}

#[tokio::test]
async fn a_send_that_breaks_the_statement_fails_alone_and_the_others_are_stored() {
    let db = TestDb::nueva(Variante::Live).await;
    let ids = conversaciones(
        &db,
        Variante::Live,
        &[(ANA, BRUNO), (ANA, CARLA), (BRUNO, CARLA)],
    )
    .await;
    let ids: Vec<Id> = ids
        .iter()
        .map(|t| Id::parse(t, IdKind::Integer).unwrap())
        .collect();
    let s = store(&db).await;
    // PostgreSQL refuses a NUL character in text: the whole statement fails, then each send
    // is retried alone.
    let (bien, mal, tambien) = tokio::join!(
        s.insertar_mensaje(nuevo(&ids[0], ANA, "bien", None)),
        s.insertar_mensaje(nuevo(&ids[1], ANA, "mal\0", None)),
        s.insertar_mensaje(nuevo(&ids[2], CARLA, "también", None)),
    );
    assert!(guardado(&bien).nuevo);
    assert!(guardado(&tambien).nuevo);
    assert!(mal.is_err(), "{mal:?}");
    let textos: Vec<String> = db
        .client
        .query("SELECT contenido FROM chat_mensajes ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|f| f.get(0))
        .collect();
    assert_eq!(textos, ["bien", "también"]);
}

async fn muchos_sockets(variante: Variante) {
    let app = TestApp::con(variante, &[("MAX_SOCKETS_PER_USER", "50")]).await;
    let mut grupos = Vec::new();
    for i in 0..8 {
        let (a, b) = (format!("91000{i:03}-1"), format!("92000{i:03}-2"));
        app.usuario(&a, &format!("A{i}")).await;
        app.usuario(&b, &format!("B{i}")).await;
        let conversacion = app.conversacion(&a, &b).await;
        grupos.push(format!(
            "{conversacion},{},{}",
            app.cookie(&a).trim_start_matches("session="),
            app.cookie(&b).trim_start_matches("session=")
        ));
    }
    let mut args = vec!["lotes.mjs", &app.base, "4", "5"];
    args.extend(grupos.iter().map(String::as_str));
    common::ejecutar("node", &args);
    let (_, _, msg) = variante.tablas();
    assert_eq!(
        app.contar(&format!("SELECT count(*) FROM {msg}")).await,
        8 * 4 * 5,
        "every acknowledged send stored once"
    );
}

#[tokio::test]
async fn concurrent_sends_in_several_conversations_arrive_once_in_the_order_of_get_mensajes() {
    muchos_sockets(Variante::Live).await;
}

#[tokio::test]
async fn concurrent_sends_keep_each_conversations_order_with_uuid_tables() {
    muchos_sockets(Variante::Migration).await;
}

#[tokio::test]
async fn concurrent_rest_sends_refuse_only_the_non_member_and_store_one_row_per_client_key() {
    let db = TestDb::completa(Variante::Live).await;
    let app = TestApp::sobre(db, Variante::Live, &[]).await;
    let ana_bruno = app.conversacion(ANA, BRUNO).await;
    let ana_carla = app.conversacion(ANA, CARLA).await;
    let bruno_carla = app.conversacion(BRUNO, CARLA).await;
    let app = &app;
    let enviar = |rut: &'static str, conversacion: String, cuerpo: serde_json::Value| async move {
        let mut cuerpo = cuerpo;
        cuerpo["conversacion_id"] = json!(conversacion);
        app.post("/api/chat/mensaje/enviar", Some(rut), cuerpo)
            .await
    };
    let mut envios = Vec::new();
    for i in 0..10 {
        envios.push((
            ANA,
            ana_carla.clone(),
            json!({"contenido": format!("a{i}")}),
            true,
        ));
        envios.push((
            BRUNO,
            bruno_carla.clone(),
            json!({"contenido": format!("b{i}")}),
            true,
        ));
        // Carla is not in Ana and Bruno's conversation.
        envios.push((
            CARLA,
            ana_bruno.clone(),
            json!({"contenido": format!("intruso {i}")}),
            false,
        ));
        // The same client key ten times.
        envios.push((
            BRUNO,
            ana_bruno.clone(),
            json!({"contenido": "una vez", "client_id": "k-1"}),
            true,
        ));
    }
    let respuestas = futures_util::future::join_all(
        envios
            .iter()
            .map(|(rut, c, cuerpo, _)| enviar(rut, c.clone(), cuerpo.clone())),
    )
    .await;
    let mut ids_clave = Vec::new();
    for ((rut, _, cuerpo, miembro), (status, body)) in envios.iter().zip(&respuestas) {
        if *miembro {
            assert!(status.is_success(), "{rut} {cuerpo}: {status} {body}");
            if cuerpo.get("client_id").is_some() {
                ids_clave.push(body["mensaje"]["id"].clone());
            }
        } else {
            assert_eq!(*status, StatusCode::FORBIDDEN, "{body}");
            assert_eq!(body["error"], "No tienes acceso a esta conversación");
        }
    }
    assert!(ids_clave.windows(2).all(|w| w[0] == w[1]), "{ids_clave:?}");
    assert_eq!(app.contar("SELECT count(*) FROM chat_mensajes").await, 21);
    assert_eq!(
        app.contar("SELECT count(*) FROM chat_mensajes WHERE contenido LIKE 'intruso%'")
            .await,
        0
    );
    assert_eq!(
        app.contar("SELECT count(*) FROM chat_mensajes WHERE client_id = 'k-1'")
            .await,
        1
    );
}

/// SIGKILL while batches of sends from several conversations are being committed: every
/// acknowledged send is stored exactly once (clients retry with the same client key).
#[tokio::test]
async fn sigkill_during_batched_sends_in_several_conversations_loses_and_duplicates_nothing() {
    let db = TestDb::con_extras(Variante::Live, &["client_id.sql"]).await;
    let puerto = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let ajustes = [("PORT", puerto.as_str())];
    let (mut servidor, base) = common::arrancar(&db.url, &ajustes).await;
    let (conversaciones, mensajes) = (6, 120);
    let mut cargas = Vec::new();
    for i in 0..conversaciones {
        let (a, b) = (format!("93000{i:03}-1"), format!("94000{i:03}-2"));
        usuarios(&db, &[&a, &b]).await;
        let id = conversaciones_de(&db, &a, &b).await;
        let salida = std::env::temp_dir().join(format!(
            "wc-lotes-fiable-{}-{puerto}-{i}.json",
            std::process::id()
        ));
        let carga = tokio::process::Command::new("node")
            .args([
                "fiable.mjs",
                &base,
                &id,
                common::cookie_para(&a).trim_start_matches("session="),
                common::cookie_para(&b).trim_start_matches("session="),
                "6",
                &mensajes.to_string(),
                salida.to_str().unwrap(),
            ])
            .current_dir(common::clientes())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        cargas.push((id, salida, carga));
    }
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        servidor.start_kill().unwrap(); // SIGKILL
        servidor.wait().await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        servidor = common::arrancar(&db.url, &ajustes).await.0;
    }
    for (id, salida, mut carga) in cargas {
        let estado = carga.wait().await.unwrap();
        assert!(
            estado.success(),
            "the load of conversation {id} ended with {estado}"
        );
        let (c, informe) = common::cotejar(&db, &salida, &id).await;
        println!(
            "conversation {id}: acknowledged {}, stored {}, missing {}, duplicated {}, retries {}",
            c.confirmados, c.guardados, c.faltan, c.duplicados, informe["reintentos"]
        );
        assert_eq!(c.confirmados, mensajes);
        assert_eq!((c.faltan, c.duplicados, c.guardados), (0, 0, mensajes));
    }
    drop(servidor);
}

/// One 1:1 conversation of `a` and `b`, created directly; its id.
async fn conversaciones_de(db: &TestDb, a: &str, b: &str) -> String {
    conversaciones(db, Variante::Live, &[(a, b)])
        .await
        .remove(0)
}
