//! Helpers shared by the `tests/grupos*.rs` tests (issue 12): a server on a database with
//! `sql/grupos.sql`, typed requests of spec-12's own API, row checks.

#![allow(dead_code)]

use crate::common::{Sockets, TestApp, TestDb, Variante, respuesta, segmento};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Demo user (sql/demo_seed.sql) who is never in a group unless a test adds them.
pub const DIEGO: &str = "44444444-4";
/// Users a test adds with [`TestApp::usuario`].
pub const EVA: &str = "55555555-5";
/// Same.
pub const FEDE: &str = "66666666-6";

/// A server whose database has every optional piece plus `sql/grupos.sql` (applied here too,
/// it is idempotent, so this works whether or not `TestDb::completa` already applies it).
pub async fn servidor(v: Variante) -> TestApp {
    servidor_con(v, &[]).await
}

/// Same, with extra settings.
pub async fn servidor_con(v: Variante, extra: &[(&str, &str)]) -> TestApp {
    let db = TestDb::completa(v).await;
    let sql = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/sql/grupos.sql"))
        .expect("sql/grupos.sql");
    db.client
        .batch_execute(&sql)
        .await
        .unwrap_or_else(|e| panic!("sql/grupos.sql: {e}"));
    TestApp::sobre(db, v, extra).await
}

/// A request as `rut` (no session when `None`) with an optional JSON body.
pub async fn pedir(
    app: &TestApp,
    metodo: Method,
    ruta: &str,
    rut: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut r = app.req(metodo, ruta, rut);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = respuesta(r.send().await.unwrap()).await;
    (r.status, r.body)
}

/// The status of a request whose body is not JSON (`text/plain`).
pub async fn no_json(app: &TestApp, metodo: Method, ruta: &str, rut: &str) -> StatusCode {
    let r = app
        .req(metodo, ruta, Some(rut))
        .header("content-type", "text/plain")
        .body("{\"nombre\": \"x\"}")
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(body["success"], json!(false), "{status}: a JSON error body");
    status
}

/// Checks a refusal's body (`success: false` and a non-empty `error`); returns the message.
pub fn rechazo(b: &Value) -> &str {
    assert_eq!(b["success"], json!(false), "{b}");
    let error = b["error"].as_str().unwrap_or_default();
    assert!(!error.is_empty(), "an error message: {b}");
    error
}

/// The single bigint of a query.
pub async fn contar(app: &TestApp, sql: &str) -> i64 {
    app.contar(sql).await
}

/// `POST /api/chat/grupos` with `body` as `rut` (no session when `None`).
pub async fn crear(app: &TestApp, rut: Option<&str>, body: Value) -> (StatusCode, Value) {
    pedir(app, Method::POST, "/api/chat/grupos", rut, Some(body)).await
}

/// Creates a group as `creador`; its id and `G`.
pub async fn crear_grupo(
    app: &TestApp,
    creador: &str,
    nombre: &str,
    miembros: &[&str],
) -> (String, Value) {
    let (st, b) = crear(
        app,
        Some(creador),
        json!({"nombre": nombre, "miembros": miembros}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let g = b["grupo"].clone();
    (g["id"].as_str().expect("string id").to_owned(), g)
}

/// `(usuario_id, es_admin)` of a `G`'s members, sorted by rut.
pub fn miembros(g: &Value) -> Vec<(String, bool)> {
    let mut v: Vec<(String, bool)> = g["miembros"]
        .as_array()
        .unwrap_or_else(|| panic!("miembros in {g}"))
        .iter()
        .map(|m| {
            (
                m["usuario_id"].as_str().unwrap().to_owned(),
                m["es_admin"].as_bool().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Ruts of a group's admins in the database, sorted.
pub async fn admins_en_bd(app: &TestApp, conversacion: &str) -> Vec<String> {
    let (_, p, _) = app.variante.tablas();
    app.db
        .client
        .query(
            &format!(
                "SELECT usuario_id FROM {p} WHERE conversacion_id::text = $1 AND es_admin ORDER BY usuario_id"
            ),
            &[&conversacion],
        )
        .await
        .unwrap()
        .iter()
        .map(|f| f.get(0))
        .collect()
}

/// `GET /api/chat/conversaciones/{id}/historial` as `rut` (must answer 200).
pub async fn historial(app: &TestApp, rut: &str, conversacion: &str) -> Value {
    let (st, b) = app
        .get(
            &format!("/api/chat/conversaciones/{conversacion}/historial"),
            Some(rut),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["success"], json!(true), "{b}");
    b
}

/// Texts of a history's system messages, in order.
pub fn sistema(h: &Value) -> Vec<String> {
    h["mensajes"]
        .as_array()
        .unwrap_or_else(|| panic!("mensajes in {h}"))
        .iter()
        .filter(|m| m["tipo"] == "sistema")
        .map(|m| m["contenido"].as_str().unwrap().to_owned())
        .collect()
}

/// An id of the variant's type that no row has.
pub fn inexistente(v: Variante) -> &'static str {
    match v {
        Variante::Live => "999999999",
        Variante::Migration => "00000000-0000-0000-0000-000000000000",
    }
}

/// A message's id as text.
pub fn id(m: &Value) -> String {
    segmento(&m["id"])
}

/// Ids of a list of messages, as text.
pub fn ids(lista: &Value) -> Vec<String> {
    lista
        .as_array()
        .unwrap_or_else(|| panic!("a list: {lista}"))
        .iter()
        .map(id)
        .collect()
}

/// The message with id `mid` in a list (panics when absent).
pub fn buscar(lista: &Value, mid: &Value) -> Value {
    lista
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == *mid)
        .unwrap_or_else(|| panic!("{mid} missing from {lista}"))
        .clone()
}

/// A list of strings, sorted.
pub fn ordenados(lista: &Value) -> Vec<String> {
    let mut v: Vec<String> = lista
        .as_array()
        .unwrap_or_else(|| panic!("a list: {lista}"))
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

/// The reactions table of `sql/grupos.sql`.
pub fn reacciones_tabla(v: Variante) -> &'static str {
    match v {
        Variante::Live => "chat_reacciones_emoji",
        Variante::Migration => "reacciones_emoji_chat",
    }
}

/// The pins table of `sql/grupos.sql`.
pub fn fijados_tabla(v: Variante) -> &'static str {
    match v {
        Variante::Live => "chat_fijados",
        Variante::Migration => "fijados_chat",
    }
}

/// Moves a message's `fecha_envio` `segundos` into the past (instead of waiting).
pub async fn atrasar(app: &TestApp, v: Variante, mensaje: &str, segundos: i32) {
    let (_, _, m) = v.tablas();
    let n = app
        .db
        .client
        .execute(
            &format!(
                "UPDATE {m} SET fecha_envio = now() - make_interval(secs => $1::int) WHERE id::text = $2"
            ),
            &[&segundos, &mensaje],
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
}

/// `(contenido, editado)` of a message row.
pub async fn fila_mensaje(app: &TestApp, v: Variante, mensaje: &str) -> (String, bool) {
    let (_, _, m) = v.tablas();
    let f = app
        .db
        .client
        .query_one(
            &format!("SELECT contenido, coalesce(editado, false) FROM {m} WHERE id::text = $1"),
            &[&mensaje],
        )
        .await
        .unwrap();
    (f.get(0), f.get(1))
}

/// How many of these messages are still stored and not deleted.
pub async fn visibles(app: &TestApp, v: Variante, mensajes: &[&Value]) -> i64 {
    let (_, _, m) = v.tablas();
    let lista: Vec<String> = mensajes.iter().map(|x| id(x)).collect();
    app.db
        .client
        .query_one(
            &format!(
                "SELECT count(*) FROM {m} WHERE id::text = ANY($1) AND NOT coalesce(eliminado, false)"
            ),
            &[&lista],
        )
        .await
        .unwrap()
        .get(0)
}

/// A user's delivered marker in a conversation, as text (`None` when unset or not a member).
pub async fn marcador_entregado(
    app: &TestApp,
    v: Variante,
    conversacion: &str,
    rut: &str,
) -> Option<String> {
    let (_, p, _) = v.tablas();
    app.db
        .client
        .query_opt(
            &format!(
                "SELECT ultimo_mensaje_entregado::text FROM {p} WHERE conversacion_id::text = $1 AND usuario_id = $2"
            ),
            &[&conversacion, &rut],
        )
        .await
        .unwrap()
        .and_then(|f| f.get(0))
}

/// What a conversation holds: its messages (id, text, edited, deleted), reactions, pins and
/// participants (with admin flag and both markers). Equal snapshots mean nothing was stored.
#[derive(Debug, PartialEq)]
pub struct Foto {
    mensajes: Vec<String>,
    reacciones: i64,
    fijados: i64,
    participantes: Vec<String>,
}

impl Foto {
    /// The snapshot of conversation `conversacion` now.
    pub async fn de(app: &TestApp, v: Variante, conversacion: &str) -> Foto {
        let (_, p, m) = v.tablas();
        let c = &app.db.client;
        let filas = |sql: String| async move {
            c.query(&sql, &[&conversacion])
                .await
                .unwrap()
                .iter()
                .map(|f| f.get::<_, String>(0))
                .collect::<Vec<String>>()
        };
        let mensajes = filas(format!(
            "SELECT concat_ws('|', id, usuario_id, contenido, editado, eliminado, tipo) FROM {m} WHERE conversacion_id::text = $1 ORDER BY fecha_envio, id"
        ))
        .await;
        let participantes = filas(format!(
            "SELECT concat_ws('|', usuario_id, es_admin, ultimo_mensaje_leido, ultimo_mensaje_entregado) FROM {p} WHERE conversacion_id::text = $1 ORDER BY usuario_id"
        ))
        .await;
        let reacciones = c
            .query_one(
                &format!(
                    "SELECT count(*) FROM {} r JOIN {m} x ON x.id = r.mensaje_id WHERE x.conversacion_id::text = $1",
                    reacciones_tabla(v)
                ),
                &[&conversacion],
            )
            .await
            .unwrap()
            .get(0);
        let fijados = c
            .query_one(
                &format!(
                    "SELECT count(*) FROM {} WHERE conversacion_id::text = $1",
                    fijados_tabla(v)
                ),
                &[&conversacion],
            )
            .await
            .unwrap()
            .get(0);
        Foto {
            mensajes,
            reacciones,
            fijados,
            participantes,
        }
    }
}

/// Python-socketio clients connected to `app`, one per `(name, rut)`.
pub async fn conectados(app: &TestApp, usuarios: &[(&str, &str)]) -> Sockets {
    let s = Sockets::iniciar();
    for (nombre, rut) in usuarios {
        s.conectar(nombre, &app.base, rut).await;
    }
    s
}

/// Same, and every client joins the room of `conversacion`.
pub async fn en_sala(app: &TestApp, conversacion: &str, usuarios: &[(&str, &str)]) -> Sockets {
    let s = conectados(app, usuarios).await;
    for (nombre, _) in usuarios {
        assert!(s.unirse(nombre, conversacion).await, "{nombre} joins");
    }
    s
}

/// `POST /api/chat/grupos/{id}/miembros` adding `usuario` as `actor`.
pub async fn agregar(
    app: &TestApp,
    grupo: &str,
    actor: &str,
    usuario: &str,
) -> (StatusCode, Value) {
    pedir(
        app,
        Method::POST,
        &format!("/api/chat/grupos/{grupo}/miembros"),
        Some(actor),
        Some(json!({"usuario_id": usuario})),
    )
    .await
}

/// `DELETE /api/chat/grupos/{id}/miembros/{usuario}` as `actor` (no session when `None`).
pub async fn quitar(
    app: &TestApp,
    grupo: &str,
    actor: Option<&str>,
    usuario: &str,
) -> (StatusCode, Value) {
    let ruta = format!("/api/chat/grupos/{grupo}/miembros/{usuario}");
    pedir(app, Method::DELETE, &ruta, actor, None).await
}

/// `POST /api/chat/grupos/{id}/salir` as `actor` (no session when `None`).
pub async fn salir(app: &TestApp, grupo: &str, actor: Option<&str>) -> (StatusCode, Value) {
    let ruta = format!("/api/chat/grupos/{grupo}/salir");
    pedir(app, Method::POST, &ruta, actor, None).await
}

/// `PUT /api/chat/grupos/{id}/admins/{usuario}` with `{"es_admin": es_admin}` as `actor`.
pub async fn nombrar_admin(
    app: &TestApp,
    grupo: &str,
    actor: &str,
    usuario: &str,
    es_admin: bool,
) -> (StatusCode, Value) {
    pedir(
        app,
        Method::PUT,
        &format!("/api/chat/grupos/{grupo}/admins/{usuario}"),
        Some(actor),
        Some(json!({"es_admin": es_admin})),
    )
    .await
}

/// Sends each `(rut, body, expected status)` to `ruta` and checks it is refused with that
/// status and a JSON error.
pub async fn rechazos(
    app: &TestApp,
    metodo: Method,
    ruta: &str,
    casos: &[(&str, Value, StatusCode)],
) {
    for (rut, body, esperado) in casos {
        let (st, b) = pedir(app, metodo.clone(), ruta, Some(rut), Some(body.clone())).await;
        assert_eq!(st, *esperado, "{metodo} {ruta} as {rut} {body} -> {b}");
        rechazo(&b);
    }
}

/// The checks every JSON route of ours passes: `body` to `ruta` without a session is 401, a
/// `text/plain` body (as `rut`) is 415, and `body` to `inexistente` (the same route on an id
/// no row has) as `rut` is 404, each a JSON error.
pub async fn sesion_formato_e_inexistente(
    app: &TestApp,
    metodo: Method,
    ruta: &str,
    inexistente: &str,
    rut: &str,
    body: Value,
) {
    let (st, b) = pedir(app, metodo.clone(), ruta, None, Some(body.clone())).await;
    assert_eq!(
        st,
        StatusCode::UNAUTHORIZED,
        "{metodo} {ruta} without a session: {b}"
    );
    rechazo(&b);
    assert_eq!(
        no_json(app, metodo.clone(), ruta, rut).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{metodo} {ruta} with a non-JSON body"
    );
    let (st, b) = pedir(app, metodo.clone(), inexistente, Some(rut), Some(body)).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{metodo} {inexistente}: {b}");
    rechazo(&b);
}

/// The row of conversation `conversacion` in `rut`'s `GET /api/chat/conversaciones`.
pub async fn fila_de_lista(app: &TestApp, rut: &str, conversacion: &str) -> Value {
    let (st, lista) = app.get("/api/chat/conversaciones", Some(rut)).await;
    assert_eq!(st, StatusCode::OK, "{lista}");
    lista["conversaciones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == conversacion)
        .unwrap_or_else(|| panic!("{conversacion} missing from {rut}'s list: {lista}"))
        .clone()
}

/// The `evento`s of conversation `conversacion` that socket `socket` got since `desde`.
pub async fn de_la_conversacion(
    s: &Sockets,
    socket: &str,
    evento: &str,
    desde: usize,
    conversacion: &str,
) -> Vec<Value> {
    s.recibidos(socket, evento, desde)
        .await
        .into_iter()
        .filter(|d| d["conversacion_id"] == conversacion)
        .collect()
}

/// Socket `socket` (user `rut`) acknowledges delivery in `conversacion` up to message `hasta`
/// with `marcar_entregado`; socket `oyente` in the room hears `mensaje_entregado`.
pub async fn entregar_por_socket(
    s: &Sockets,
    socket: &str,
    rut: &str,
    oyente: &str,
    conversacion: &str,
    hasta: &Value,
) {
    let marca = s.marca(oyente).await;
    let ack = s
        .llamar(
            socket,
            "marcar_entregado",
            json!({"conversacion_id": conversacion, "mensaje_id": hasta}),
        )
        .await;
    assert_eq!(ack["success"], json!(true), "{ack}");
    s.esperar(
        oyente,
        "mensaje_entregado",
        json!({"conversacion_id": conversacion, "usuario_id": rut, "ultimo_id": hasta}),
        marca,
    )
    .await;
}

/// `POST` (pin) or `DELETE` (unpin) `/api/chat/mensajes/{id}/fijado` of message `m` as `rut`
/// (no session when `None`).
pub async fn fijado(
    app: &TestApp,
    metodo: Method,
    m: &Value,
    rut: Option<&str>,
) -> (StatusCode, Value) {
    let ruta = format!("/api/chat/mensajes/{}/fijado", id(m));
    pedir(app, metodo, &ruta, rut, None).await
}

/// `POST /api/chat/mensajes/{id}/reacciones` toggling `emoji` on message `m` as `rut`.
pub async fn reaccionar(app: &TestApp, m: &Value, rut: &str, emoji: &str) -> (StatusCode, Value) {
    let ruta = format!("/api/chat/mensajes/{}/reacciones", id(m));
    pedir(
        app,
        Method::POST,
        &ruta,
        Some(rut),
        Some(json!({"emoji": emoji})),
    )
    .await
}

/// Waits until socket `socket` hears `removido_de_conversacion` for `conversacion` (since
/// `desde`).
pub async fn esperar_removido(s: &Sockets, socket: &str, conversacion: &str, desde: usize) {
    s.esperar(
        socket,
        "removido_de_conversacion",
        json!({"conversacion_id": conversacion}),
        desde,
    )
    .await;
}

/// Calls `evento` with `datos` on socket `socket` and checks the ack is a refusal.
pub async fn ack_rechazado(s: &Sockets, socket: &str, evento: &str, datos: Value) -> Value {
    let ack = s.llamar(socket, evento, datos.clone()).await;
    assert_eq!(
        ack["success"],
        json!(false),
        "{socket} {evento} {datos}: {ack}"
    );
    ack
}

/// `POST /api/chat/mensaje/marcar-leido` as `rut` in `conversacion`, up to message `hasta`
/// (the newest when `None`); must answer 200.
pub async fn leer(app: &TestApp, rut: &str, conversacion: &str, hasta: Option<&Value>) {
    let mut body = json!({"conversacion_id": conversacion});
    if let Some(mid) = hasta {
        body["mensaje_id"] = mid.clone();
    }
    let (st, b) = app
        .post("/api/chat/mensaje/marcar-leido", Some(rut), body)
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
}

/// `PATCH /api/chat/grupos/{id}` renaming group `grupo` to `nombre` as `rut`.
pub async fn renombrar(app: &TestApp, grupo: &str, rut: &str, nombre: &str) -> (StatusCode, Value) {
    let ruta = format!("/api/chat/grupos/{grupo}");
    pedir(
        app,
        Method::PATCH,
        &ruta,
        Some(rut),
        Some(json!({"nombre": nombre})),
    )
    .await
}

/// `PATCH /api/chat/mensajes/{id}` editing message `mensaje` (its id as text) as `rut`.
pub async fn editar(
    app: &TestApp,
    mensaje: &str,
    rut: &str,
    contenido: &str,
) -> (StatusCode, Value) {
    let ruta = format!("/api/chat/mensajes/{mensaje}");
    pedir(
        app,
        Method::PATCH,
        &ruta,
        Some(rut),
        Some(json!({"contenido": contenido})),
    )
    .await
}

/// [`leer`] as `rut`, then socket `oyente` in the room hears `mensaje_visto` from `rut`.
pub async fn leer_y_oir(
    app: &TestApp,
    s: &Sockets,
    oyente: &str,
    rut: &str,
    conversacion: &str,
    hasta: Option<&Value>,
) {
    let marca = s.marca(oyente).await;
    leer(app, rut, conversacion, hasta).await;
    s.esperar(
        oyente,
        "mensaje_visto",
        json!({"conversacion_id": conversacion, "usuario_id": rut}),
        marca,
    )
    .await;
}
