//! The PostgREST store against a real PostgREST 12.0.2 behind our emulation of Supabase's
//! gateway: what differs with and without the optional SQL functions, concurrency and
//! idempotency, start-up with good and refused keys, outages of PostgREST and of PostgreSQL
//! behind it, the key's absence from the logs, and the HTTP requests each route costs.
//! (tests/api.rs runs every v1 route on this store too, tests/v2.rs every v2 route.)

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::{ANA, BRUNO, CARLA, Postgrest, TestDb, Variante, arrancar_postgrest, cookie_para};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A server on the PostgREST store: its base URL, process and PostgREST.
struct Servidor {
    base: String,
    _proceso: tokio::process::Child,
    http: reqwest::Client,
}

impl Servidor {
    async fn nuevo(pg: &Postgrest, extra: &[(&str, &str)]) -> Servidor {
        Servidor::con_registro(pg, extra, None).await
    }

    async fn con_registro(
        pg: &Postgrest,
        extra: &[(&str, &str)],
        registro: Option<&std::path::Path>,
    ) -> Servidor {
        let (proceso, base) = arrancar_postgrest(pg, extra, registro).await;
        Servidor {
            base,
            _proceso: proceso,
            http: reqwest::Client::new(),
        }
    }

    async fn get(&self, ruta: &str, rut: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .get(format!("{}{ruta}", self.base))
            .header("cookie", cookie_para(rut))
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, ruta: &str, rut: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}{ruta}", self.base))
            .header("cookie", cookie_para(rut))
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }

    async fn crear(&self, a: &str, b: &str) -> (StatusCode, String) {
        let (s, body) = self
            .post(
                "/api/chat/conversacion/crear",
                a,
                json!({"participantes": [a, b]}),
            )
            .await;
        (s, body["conversacion_id"].as_str().unwrap_or("").to_owned())
    }

    async fn enviar(&self, rut: &str, conversacion: &str, texto: &str) -> Value {
        let (s, body) = self
            .post(
                "/api/chat/mensaje/enviar",
                rut,
                json!({"conversacion_id": conversacion, "contenido": texto}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        body["mensaje"].clone()
    }

    async fn salud(&self) -> StatusCode {
        self.http
            .get(format!("{}/healthz", self.base))
            .send()
            .await
            .unwrap()
            .status()
    }
}

async fn contar(db: &TestDb, sql: &str) -> i64 {
    db.client.query_one(sql, &[]).await.unwrap().get(0)
}

fn no_leidos(lista: &Value, id: &str) -> i64 {
    lista["conversaciones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"].as_str() == Some(id))
        .map(|c| c["no_leidos"].as_i64().unwrap())
        .expect("conversation listed")
}

#[tokio::test]
async fn retries_with_one_client_key_store_one_message_with_the_functions() {
    for v in [Variante::Live, Variante::Migration] {
        reintentos_con_una_clave(v, true, &[]).await;
    }
}

#[tokio::test]
async fn without_the_functions_retries_are_recognised_by_the_client_id_index() {
    reintentos_con_una_clave(Variante::Live, false, &["client_id.sql"]).await;
}

/// Two instances (so memory cannot help) each send ten concurrent retries with one key.
async fn reintentos_con_una_clave(v: Variante, funciones: bool, extras: &[&str]) {
    let db = TestDb::con_extras(v, extras).await;
    let pg = Postgrest::iniciar(&db, funciones, None).await;
    let (a, b) = (
        Servidor::nuevo(&pg, &[]).await,
        Servidor::nuevo(&pg, &[]).await,
    );
    let (_, id) = a.crear(ANA, BRUNO).await;
    let cuerpo = json!({"conversacion_id": id, "contenido": "una sola vez", "client_id": "k-1"});
    let envios = (0..20).map(|i| {
        let servidor = if i % 2 == 0 { &a } else { &b };
        servidor.post("/api/chat/mensaje/enviar", ANA, cuerpo.clone())
    });
    let ids: HashSet<String> = futures_util::future::join_all(envios)
        .await
        .into_iter()
        .map(|(s, body)| {
            assert_eq!(s, StatusCode::CREATED, "{body}");
            body["mensaje"]["id"].to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{v:?}: every retry answers the first message");
    assert_eq!(
        contar(&db, &format!("SELECT count(*) FROM {}", v.tablas().2)).await,
        1,
        "{v:?}: one row"
    );
}

#[tokio::test]
async fn twenty_concurrent_creations_through_two_instances_make_one_conversation() {
    let db = TestDb::nueva(Variante::Live).await;
    let pg = Postgrest::iniciar(&db, true, None).await;
    let (a, b) = (
        Servidor::nuevo(&pg, &[]).await,
        Servidor::nuevo(&pg, &[]).await,
    );
    let creaciones = (0..20).map(|i| match i % 4 {
        0 => a.crear(ANA, BRUNO),
        1 => b.crear(BRUNO, ANA),
        2 => a.crear(BRUNO, ANA),
        _ => b.crear(ANA, BRUNO),
    });
    let resultados = futures_util::future::join_all(creaciones).await;
    let ids: HashSet<&String> = resultados.iter().map(|(_, id)| id).collect();
    assert_eq!(ids.len(), 1, "{resultados:?}");
    assert_eq!(
        resultados
            .iter()
            .filter(|(s, _)| *s == StatusCode::CREATED)
            .count(),
        1
    );
    assert_eq!(
        contar(&db, "SELECT count(*) FROM chat_conversaciones").await,
        1
    );
}

#[tokio::test]
async fn without_the_functions_the_chat_works_best_effort_and_says_so_once() {
    for v in [Variante::Live, Variante::Migration] {
        let db = TestDb::nueva(v).await;
        let pg = Postgrest::iniciar(&db, false, None).await;
        let registro = pg.dir.join("server.log");
        let s = Servidor::con_registro(&pg, &[("RUST_LOG", "info")], Some(&registro)).await;

        let (estado, id) = s.crear(ANA, BRUNO).await;
        assert_eq!(estado, StatusCode::CREATED);
        assert_eq!(s.crear(BRUNO, ANA).await, (StatusCode::OK, id.clone()));
        let m1 = s.enviar(ANA, &id, "uno").await;
        s.enviar(ANA, &id, "dos").await;
        let m3 = s.enviar(ANA, &id, "tres").await;
        assert_eq!(m3["conversacion_id"].as_str(), Some(id.as_str()));

        let (_, lista) = s.get("/api/chat/conversaciones", BRUNO).await;
        assert_eq!(no_leidos(&lista, &id), 3, "{v:?} {lista}");
        assert_eq!(
            lista["conversaciones"][0]["ultimo_mensaje"]["contenido"],
            "tres"
        );
        let (estado, _) = s
            .post(
                "/api/chat/mensaje/marcar-leido",
                BRUNO,
                json!({"conversacion_id": id, "mensaje_id": m1["id"]}),
            )
            .await;
        assert_eq!(estado, StatusCode::OK);
        let (_, lista) = s.get("/api/chat/conversaciones", BRUNO).await;
        assert_eq!(no_leidos(&lista, &id), 2, "{v:?}");
        s.post(
            "/api/chat/mensaje/marcar-leido",
            BRUNO,
            json!({"conversacion_id": id}),
        )
        .await;
        s.post(
            "/api/chat/mensaje/marcar-leido",
            BRUNO,
            json!({"conversacion_id": id, "mensaje_id": m1["id"]}),
        )
        .await;
        let (_, lista) = s.get("/api/chat/conversaciones", BRUNO).await;
        assert_eq!(
            no_leidos(&lista, &id),
            0,
            "{v:?}: the marker never moves back"
        );

        let (_, historia) = s
            .get(
                &format!(
                    "/api/chat/mensajes/{id}?antes={}",
                    m3["id"].to_string().trim_matches('"')
                ),
                ANA,
            )
            .await;
        let textos: Vec<&str> = historia["mensajes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["contenido"].as_str().unwrap())
            .collect();
        assert_eq!(textos, ["uno", "dos"], "{v:?} {historia}");

        let log = std::fs::read_to_string(&registro).unwrap();
        assert_eq!(
            log.matches("sql/postgrest_functions.sql").count(),
            1,
            "one start-up line names the file:\n{log}"
        );
    }
}

#[tokio::test]
async fn a_refused_key_stops_start_up_with_one_line_and_exit_2() {
    let db = TestDb::nueva(Variante::Live).await;
    let pg = Postgrest::iniciar(&db, true, None).await;
    for clave in [
        "sb_secret_not-the-key",
        "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoieCJ9.bm9wZQ",
    ] {
        let salida = tokio::process::Command::new(env!("CARGO_BIN_EXE_weigence-chat"))
            .env_clear()
            .env("SECRET_KEY", "x")
            .env("SUPABASE_URL", &pg.url)
            .env("SUPABASE_KEY", clave)
            .env("PORT", "0")
            .output()
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&salida.stderr);
        assert_eq!(salida.status.code(), Some(2), "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains("SUPABASE_KEY"), "{stderr}");
        assert!(!stderr.contains(clave), "the key is not echoed: {stderr}");
    }
}

#[tokio::test]
async fn a_jwt_key_works_like_an_sb_secret_key() {
    let db = TestDb::nueva(Variante::Migration).await;
    let pg = Postgrest::iniciar(&db, true, None).await;
    let (_proceso, base) = common::arrancar_con_supabase(&pg.url, &pg.jwt, &[]).await;
    let r = reqwest::Client::new()
        .get(format!("{base}/api/chat/usuarios"))
        .header("cookie", cookie_para(ANA))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["usuarios"].as_array().unwrap().len(), 3, "{body}");
}

#[tokio::test]
async fn the_key_never_appears_in_the_logs_at_trace_level() {
    let db = TestDb::nueva(Variante::Live).await;
    let pg = Postgrest::iniciar(&db, true, None).await;
    let registro = pg.dir.join("trace.log");
    let s = Servidor::con_registro(&pg, &[("RUST_LOG", "trace")], Some(&registro)).await;
    let (_, id) = s.crear(ANA, BRUNO).await;
    s.enviar(ANA, &id, "secreto del mensaje").await;
    s.get("/api/chat/conversaciones", BRUNO).await;
    s.get(&format!("/api/chat/mensajes/{id}"), BRUNO).await;
    drop(s);
    let log = std::fs::read_to_string(&registro).unwrap();
    assert!(log.contains("petición PostgREST"), "trace logging was on");
    for secreto in [pg.clave.as_str(), pg.jwt.as_str(), "secreto del mensaje"] {
        assert!(!log.contains(secreto), "{secreto} leaked into the log");
    }
}

/// Follows a Socket.IO client (tests/clients/corte.py) through an outage that `cortar` starts
/// and `restaurar` ends: 503 within the timeout + 1 s, the socket stays, recovery after.
async fn a_traves_de_un_corte<C, R>(s: &Servidor, cortar: C, restaurar: R)
where
    C: std::future::Future<Output = ()>,
    R: std::future::Future<Output = ()>,
{
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let (_, id) = s.crear(ANA, BRUNO).await;
    let mut cliente = tokio::process::Command::new(common::python())
        .args(["corte.py", &s.base, common::SECRET, ANA, &id])
        .current_dir(common::clientes())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut entrada = cliente.stdin.take().unwrap();
    let mut salida = tokio::io::BufReader::new(cliente.stdout.take().unwrap()).lines();
    let mut paso = async |orden: Option<&str>| {
        if let Some(o) = orden {
            entrada
                .write_all(format!("{o}\n").as_bytes())
                .await
                .unwrap();
            entrada.flush().await.unwrap();
        }
        let linea = tokio::time::timeout(Duration::from_secs(60), salida.next_line())
            .await
            .expect("client answered in time")
            .unwrap()
            .unwrap_or_default();
        println!("{linea}");
        linea
    };
    assert_eq!(paso(None).await, "listo");

    cortar.await;
    let inicio = Instant::now();
    let (estado, body) = s.get("/api/chat/conversaciones", ANA).await;
    let tardanza = inicio.elapsed();
    assert_eq!(
        (estado, body),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"success": false, "error": "Servicio no disponible", "msg": "Servicio no disponible"})
        )
    );
    assert!(
        tardanza < Duration::from_millis(2000 + 1000),
        "answered in {tardanza:?}"
    );
    assert_eq!(s.salud().await, StatusCode::SERVICE_UNAVAILABLE);
    assert!(paso(Some("corte")).await.starts_with("ok:"));

    restaurar.await;
    // PostgREST reconnects to PostgreSQL with a back-off: wait for health, not for a time.
    let limite = Instant::now() + Duration::from_secs(60);
    while s.salud().await != StatusCode::OK {
        assert!(Instant::now() < limite, "no recovery");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(paso(Some("fin")).await.starts_with("ok:"));
    assert_eq!(
        s.get("/api/chat/conversaciones", ANA).await.0,
        StatusCode::OK
    );
    assert!(cliente.wait().await.unwrap().success());
}

#[tokio::test]
async fn postgrest_stopped_under_traffic_answers_503_keeps_sockets_and_recovers() {
    let db = TestDb::nueva(Variante::Live).await;
    let pg = Postgrest::iniciar(&db, true, None).await;
    let s = Servidor::nuevo(&pg, &[("DATABASE_TIMEOUT_MS", "2000")]).await;
    a_traves_de_un_corte(&s, pg.pausar(), pg.reanudar()).await;
}

#[tokio::test]
async fn postgresql_stopped_behind_a_running_postgrest_answers_503_and_recovers() {
    let db = TestDb::nueva(Variante::Migration).await;
    let proxy = common::ProxyTcp::nuevo(&common::servidor_postgres()).await;
    let uri =
        proxy
            .url_via(&db.url)
            .replacen("postgres://postgres@", "postgres://authenticator@", 1);
    let pg = Postgrest::iniciar(&db, true, Some(&uri)).await;
    let s = Servidor::nuevo(&pg, &[("DATABASE_TIMEOUT_MS", "2000")]).await;
    a_traves_de_un_corte(&s, proxy.cortar(), proxy.restaurar()).await;
}

#[tokio::test]
async fn each_route_costs_a_constant_number_of_requests() {
    let db = TestDb::nueva(Variante::Live).await;
    let pg = Postgrest::iniciar(&db, true, None).await;
    let s = Servidor::nuevo(&pg, &[]).await;
    let (_, id) = s.crear(ANA, BRUNO).await;
    let hola = s.enviar(BRUNO, &id, "hola").await;
    let (estado, _) = s
        .post(
            "/api/chat/mensaje/marcar-leido",
            ANA,
            json!({"conversacion_id": id, "mensaje_id": hola["id"]}),
        )
        .await;
    assert_eq!(estado, StatusCode::OK, "a read marker to look up");

    let medir = async |metodo: &str, ruta: &str, body: Option<Value>| {
        let antes = pg.peticiones().await.len();
        let (estado, respuesta) = match &body {
            None => s.get(ruta, ANA).await,
            Some(b) => s.post(ruta, ANA, b.clone()).await,
        };
        assert!(estado.is_success(), "{ruta}: {estado} {respuesta}");
        let n = pg.peticiones().await.len() - antes;
        println!("{metodo} {ruta}: {n} PostgREST requests");
        n
    };
    let lista_pocas = medir("GET", "/api/chat/conversaciones", None).await;
    let historia_pocos = medir("GET", &format!("/api/chat/mensajes/{id}"), None).await;
    // More conversations, messages and read markers must not cost more requests.
    for otro in ["55555555-5", "66666666-6", "77777777-7", "88888888-8"] {
        db.client
            .execute(
                "INSERT INTO usuarios (rut_usuario, nombre) VALUES ($1, $1)",
                &[&otro],
            )
            .await
            .unwrap();
        let (_, c) = s.crear(ANA, otro).await;
        for i in 0..5 {
            s.enviar(otro, &c, &format!("m{i}")).await;
        }
        let m = s.enviar(otro, &c, "leído").await;
        s.post(
            "/api/chat/mensaje/marcar-leido",
            ANA,
            json!({"conversacion_id": c, "mensaje_id": m["id"]}),
        )
        .await;
        s.enviar(otro, &c, "nuevo").await;
    }
    for i in 0..30 {
        s.enviar(BRUNO, &id, &format!("h{i}")).await;
    }
    assert_eq!(
        medir("GET", "/api/chat/conversaciones", None).await,
        lista_pocas
    );
    assert_eq!(
        medir("GET", &format!("/api/chat/mensajes/{id}"), None).await,
        historia_pocos
    );
    assert_eq!(medir("GET", "/api/chat/usuarios", None).await, 1);
    let ultimo = s.enviar(BRUNO, &id, "último").await;
    assert_eq!(
        medir(
            "POST",
            "/api/chat/mensaje/enviar",
            Some(json!({"conversacion_id": id, "contenido": "x"}))
        )
        .await,
        2,
        "participant check + send function"
    );
    assert_eq!(
        medir(
            "POST",
            "/api/chat/mensaje/marcar-leido",
            Some(json!({"conversacion_id": id, "mensaje_id": ultimo["id"]}))
        )
        .await,
        2,
        "participant check + read-marker function"
    );
    assert!(
        medir(
            "POST",
            "/api/chat/conversacion/crear",
            Some(json!({"participantes": [ANA, CARLA]}))
        )
        .await
            <= 4
    );
}

/// `rut`'s v2 request (`weigence_session` cookie) and the PostgREST requests it cost.
async fn peticiones_v2(
    app: &common::TestApp,
    metodo: reqwest::Method,
    ruta: &str,
    rut: &str,
    body: Option<Value>,
) -> (usize, Value) {
    let pg = app.postgrest.as_ref().expect("on the PostgREST store");
    let antes = pg.peticiones().await.len();
    let mut req = app.req(metodo, ruta, None).header(
        "cookie",
        app.cookie(rut).replacen("session=", "weigence_session=", 1),
    );
    if let Some(body) = body {
        req = req.json(&body);
    }
    let r = common::respuesta(req.send().await.unwrap()).await;
    assert!(r.status.is_success(), "{ruta}: {} {}", r.status, r.body);
    (pg.peticiones().await.len() - antes, r.body)
}

#[tokio::test]
async fn each_v2_route_costs_a_constant_number_of_requests() {
    common::ALMACEN
        .scope(
            common::Almacen::Postgrest { funciones: true },
            peticiones_por_ruta_v2(),
        )
        .await;
}

async fn peticiones_por_ruta_v2() {
    use reqwest::Method;
    let v = Variante::Live;
    let app = common::TestApp::sobre(TestDb::con_extras(v, &["v2_delta.sql"]).await, v, &[]).await;
    let enviar = async |cuerpo: Value| {
        peticiones_v2(&app, Method::POST, "/api/chat/send", ANA, Some(cuerpo))
            .await
            .1["mensaje"]
            .clone()
    };
    let mut medidas = Vec::new();
    for ronda in 0..2 {
        // The second round runs with 30 more conversations, 60 more messages and more
        // replies and reactions.
        if ronda == 1 {
            for i in 0..30 {
                let rut = format!("9000000{i:02}-k");
                app.usuario(&rut, &format!("Usuario {i}")).await;
                enviar(json!({"destinatario_id": rut, "contenido": "hola"})).await;
                enviar(json!({"destinatario_id": BRUNO, "contenido": "más"})).await;
            }
        }
        let m = enviar(json!({"destinatario_id": BRUNO, "contenido": "medir"})).await;
        let conv = m["conversacion_id"].clone();
        // The history then always holds a reply and a reaction.
        enviar(json!({"conversacion_id": conv, "contenido": "r", "reply_to": m["id"]})).await;
        let id = common::segmento(&m["id"]);
        peticiones_v2(
            &app,
            Method::POST,
            &format!("/api/chat/mensajes/{id}/reaccion"),
            BRUNO,
            Some(json!({"emoji": "🎉"})),
        )
        .await;
        let mut fila = Vec::new();
        for (nombre, metodo, ruta, body) in common::rutas_v2(&m) {
            let (n, _) = peticiones_v2(&app, metodo, &ruta, ANA, body).await;
            fila.push((nombre, n));
        }
        medidas.push(fila);
    }
    for ((nombre, antes), (_, despues)) in medidas[0].iter().zip(&medidas[1]) {
        println!("PostgREST requests per request: {nombre}: {antes} then {despues}");
        if nombre.starts_with("GET mensajes") {
            // The shared path: the message lookup (with its extras), the participant check as
            // a conversation, and the history when the id is also one of the caller's
            // conversations (integer ids can be both).
            assert!(*antes <= 9 && *despues <= 9, "{nombre}");
        } else {
            assert_eq!(antes, despues, "{nombre}: constant whatever the data");
        }
    }
    let costo: std::collections::HashMap<&str, usize> = medidas[0].iter().copied().collect();
    assert_eq!(costo["GET users"], 1);
    assert_eq!(
        costo["POST send by conversation"], 2,
        "participants + send function"
    );
    assert_eq!(
        costo["DELETE mensaje"], 3,
        "message lookup, its reactions, delete function"
    );
    assert_eq!(
        costo["POST reaccion"], 4,
        "message lookup with its reactions, upsert, list"
    );
}

/// `weigence-chat doctor --json` with only `SECRET_KEY`, `SUPABASE_URL` and `SUPABASE_KEY`:
/// exit code and report.
fn doctor(url: &str, clave: &str) -> (i32, Value) {
    let salida = std::process::Command::new(env!("CARGO_BIN_EXE_weigence-chat"))
        .args(["doctor", "--json"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SECRET_KEY", "x")
        .env("SUPABASE_URL", url)
        .env("SUPABASE_KEY", clave)
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    let texto = String::from_utf8_lossy(&salida.stdout);
    let informe: Value = serde_json::from_str(&texto).unwrap_or_else(|e| panic!("{e}: {texto}"));
    let codigo = salida.status.code().unwrap();
    assert_eq!(informe["exit_code"], codigo, "{informe}");
    assert_eq!(informe["store"], "postgrest", "{informe}");
    (codigo, informe)
}

/// The status and command of the check named `nombre`.
fn estado<'a>(informe: &'a Value, nombre: &str) -> (&'a str, &'a Value) {
    let c = informe["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == nombre)
        .unwrap_or_else(|| panic!("no check {nombre:?} in {informe:#}"));
    (c["status"].as_str().unwrap(), &c["command"])
}

#[tokio::test]
async fn doctor_checks_a_supabase_project_through_postgrest() {
    // Complete: both variants, with the functions, the v2 delta, search, attachments and groups.
    for (v, tipos) in [
        (
            Variante::Live,
            "conversations integer, messages integer; read marker holds a message id",
        ),
        (
            Variante::Migration,
            "conversations uuid, messages uuid; read marker holds a timestamp",
        ),
    ] {
        let db = TestDb::con_extras(
            v,
            &["v2_delta.sql", "busqueda.sql", "adjuntos.sql", "grupos.sql"],
        )
        .await;
        let pg = Postgrest::iniciar(&db, true, None).await;
        let (codigo, informe) = doctor(&pg.url, &pg.clave);
        assert_eq!(codigo, 0, "{v:?}: {informe:#}");
        assert_eq!(estado(&informe, "optional: search").0, "ok");
        assert_eq!(estado(&informe, "optional: attachments").0, "ok");
        assert_eq!(estado(&informe, "postgrest").0, "ok");
        let detalle = informe["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == "id types")
            .unwrap()["detail"]
            .clone();
        assert_eq!(detalle, tipos);
        for pieza in [
            "optional: SQL functions",
            "optional: client_id",
            "optional: v2 delta",
            "optional: v2 SQL functions",
        ] {
            assert_eq!(estado(&informe, pieza).0, "ok", "{pieza}: {informe:#}");
        }
    }

    // Bare tables: each missing piece named with the file that adds it; the server would
    // still start (exit 1).
    let db = TestDb::nueva(Variante::Live).await;
    let pg = Postgrest::iniciar(&db, false, None).await;
    let (codigo, informe) = doctor(&pg.url, &pg.clave);
    assert_eq!(codigo, 1, "{informe:#}");
    for (pieza, archivo) in [
        ("optional: SQL functions", "sql/postgrest_functions.sql"),
        ("optional: v2 delta", "sql/v2_delta.sql"),
        ("optional: v2 SQL functions", "sql/postgrest_functions.sql"),
    ] {
        let (nivel, comando) = estado(&informe, pieza);
        assert_eq!(nivel, "missing", "{pieza}");
        assert!(
            comando.as_str().unwrap().contains(archivo),
            "{pieza}: {comando}"
        );
    }

    // A refused key and an unreachable URL stop the server (exit 2).
    let (codigo, informe) = doctor(&pg.url, "sb_secret_not-the-key");
    assert_eq!(codigo, 2, "{informe:#}");
    assert_eq!(estado(&informe, "postgrest").0, "fatal");
    let cerrado = format!(
        "http://127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    );
    let (codigo, informe) = doctor(&cerrado, &pg.clave);
    assert_eq!(codigo, 2, "{informe:#}");
    assert_eq!(estado(&informe, "postgrest").0, "fatal");
}

#[tokio::test]
async fn without_the_functions_v2_replies_reactions_pins_and_deletes_work_best_effort() {
    common::ALMACEN
        .scope(
            common::Almacen::Postgrest { funciones: false },
            v2_sin_funciones(),
        )
        .await;
}

async fn v2_sin_funciones() {
    use reqwest::Method;
    let v = Variante::Migration;
    let app = common::TestApp::sobre(TestDb::con_extras(v, &["v2_delta.sql"]).await, v, &[]).await;
    let (conv, _, msg) = v.tablas();
    let pedir = async |metodo: Method, ruta: &str, rut: &str, body: Option<Value>| {
        peticiones_v2(&app, metodo, ruta, rut, body).await.1
    };
    let citado = pedir(
        Method::POST,
        "/api/chat/send",
        ANA,
        Some(json!({"destinatario_id": BRUNO, "contenido": "primero"})),
    )
    .await["mensaje"]
        .clone();
    let id = citado["id"].as_str().unwrap().to_owned();
    let respuesta = pedir(
        Method::POST,
        "/api/chat/send",
        BRUNO,
        Some(
            json!({"conversacion_id": citado["conversacion_id"], "contenido": "respuesta",
                    "reply_to": citado["id"]}),
        ),
    )
    .await["mensaje"]
        .clone();
    assert_eq!(respuesta["reply_to"], citado["id"], "{respuesta}");
    assert_eq!(respuesta["reply_to_content"], "primero", "{respuesta}");
    for (metodo, ruta, rut, body) in [
        (
            Method::POST,
            format!("/api/chat/mensajes/{id}/reaccion"),
            BRUNO,
            Some(json!({"emoji": "👍"})),
        ),
        (
            Method::POST,
            format!("/api/chat/mensajes/{id}/fijar"),
            ANA,
            None,
        ),
        (
            Method::DELETE,
            format!("/api/chat/mensajes/{id}"),
            ANA,
            None,
        ),
    ] {
        pedir(metodo, &ruta, rut, body).await;
    }
    let contar = async |sql: String| app.contar(&sql).await;
    assert_eq!(
        contar(format!("SELECT count(*) FROM {msg} WHERE eliminado")).await,
        1
    );
    let reacciones = match v {
        Variante::Live => "chat_reacciones",
        Variante::Migration => "reacciones_chat",
    };
    assert_eq!(
        contar(format!("SELECT count(*) FROM {reacciones}")).await,
        0
    );
    assert_eq!(
        contar(format!(
            "SELECT count(*) FROM {conv} WHERE mensaje_fijado_id IS NOT NULL"
        ))
        .await,
        0
    );
    // The deleted message is gone from the history, and the reply quotes nothing.
    let historia = pedir(
        Method::GET,
        &format!("/api/chat/history/{ANA}"),
        BRUNO,
        None,
    )
    .await;
    let mensajes = historia["mensajes"].as_array().expect("messages");
    assert_eq!(mensajes.len(), 1, "{historia}");
    assert_eq!(mensajes[0]["contenido"], "respuesta");
    assert_eq!(mensajes[0]["reply_to_content"], Value::Null, "{historia}");
}
