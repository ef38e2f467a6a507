//! The life of a message in our own API (issue 12): edit (author, window), delete (author or
//! group admin), reactions (toggle, counts, several emoji), replies (same conversation only),
//! and one set of reactions and pins shared with the v2 routes, with their Socket.IO events,
//! against the real binary with real python-socketio clients, on both table variants and a
//! representative subset on the PostgREST store. Pins and delivery states are in
//! `tests/grupos_entregas.rs`.

mod common;
mod grupos_comun;

use common::{ANA, BRUNO, CARLA, Sockets, Variante};
use grupos_comun::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

en_ambas_variantes!(
    authors_edit_within_the_window_and_nobody_else_edits,
    authors_and_group_admins_delete_and_others_cannot,
    reactions_toggle_with_counts_several_emoji_and_one_of_each_per_user,
    socket_replies_quote_the_original_in_the_same_conversation_only,
    rest_replies_quote_the_original_in_the_same_conversation_only,
    v2_routes_and_ours_share_one_set_of_reactions_and_pins,
);

en_postgrest_tambien!(
    edits_live: authors_edit_within_the_window_and_nobody_else_edits(Live),
    reactions_migration: reactions_toggle_with_counts_several_emoji_and_one_of_each_per_user(Migration),
);

async fn authors_edit_within_the_window_and_nobody_else_edits(v: Variante) {
    let app = servidor_con(v, &[("EDIT_WINDOW_SECONDS", "120")]).await;
    let (gid, _) = crear_grupo(&app, ANA, "Edición", &[BRUNO, CARLA]).await;
    let s = en_sala(&app, &gid, &[("bruno", BRUNO)]).await;
    let msg = app.enviar(ANA, &gid, "hola").await;
    assert_eq!(msg["tipo"], "texto");
    assert_eq!(msg["reply_to"], Value::Null);
    assert_eq!(msg["cita"], Value::Null);
    let mid = id(&msg);
    let ruta = format!("/api/chat/mensajes/{mid}");
    // Within the window, also a minute after sending.
    atrasar(&app, v, &mid, 60).await;
    let marca = s.marca("bruno").await;
    let (st, b) = editar(&app, &mid, ANA, "hola editado").await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["success"], json!(true));
    assert_eq!(b["mensaje"]["id"], msg["id"]);
    assert_eq!(b["mensaje"]["contenido"], "hola editado");
    assert_eq!(b["mensaje"]["editado"], json!(true));
    assert_eq!(b["mensaje"]["tipo"], "texto");
    let ev = s
        .esperar(
            "bruno",
            "mensaje_editado",
            json!({"conversacion_id": gid, "mensaje": {"id": msg["id"]}}),
            marca,
        )
        .await;
    assert_eq!(ev["mensaje"]["contenido"], "hola editado", "{ev}");
    assert_eq!(ev["mensaje"]["editado"], json!(true), "{ev}");
    assert_eq!(
        fila_mensaje(&app, v, &mid).await,
        ("hola editado".to_owned(), true)
    );
    let h = historial(&app, BRUNO, &gid).await;
    let en_historial = buscar(&h["mensajes"], &msg["id"]);
    assert_eq!(
        (&en_historial["contenido"], &en_historial["editado"]),
        (&json!("hola editado"), &json!(true))
    );

    let creacion = h["mensajes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["tipo"] == "sistema")
        .unwrap_or_else(|| panic!("the creation message in {h}"))
        .clone();
    assert_eq!(creacion["tipo"], "sistema");
    let casos = [
        (
            BRUNO,
            json!({"contenido": "de Bruno"}),
            StatusCode::FORBIDDEN,
        ),
        (
            DIEGO,
            json!({"contenido": "de Diego"}),
            StatusCode::FORBIDDEN,
        ),
        (ANA, json!({"contenido": "   "}), StatusCode::BAD_REQUEST),
        (ANA, json!({"contenido": 3}), StatusCode::BAD_REQUEST),
        (ANA, json!({}), StatusCode::BAD_REQUEST),
        (
            ANA,
            json!({"contenido": "x".repeat(2001)}),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    rechazos(&app, Method::PATCH, &ruta, &casos).await;
    let sistema = format!("/api/chat/mensajes/{}", id(&creacion));
    let casos = [(
        ANA,
        json!({"contenido": "otro sistema"}),
        StatusCode::FORBIDDEN,
    )];
    rechazos(&app, Method::PATCH, &sistema, &casos).await;
    sesion_formato_e_inexistente(
        &app,
        Method::PATCH,
        &ruta,
        &format!("/api/chat/mensajes/{}", inexistente(v)),
        ANA,
        json!({"contenido": "x"}),
    )
    .await;
    // Past the window (EDIT_WINDOW_SECONDS=120): refused, row unchanged.
    atrasar(&app, v, &mid, 180).await;
    let casos = [(ANA, json!({"contenido": "tarde"}), StatusCode::FORBIDDEN)];
    rechazos(&app, Method::PATCH, &ruta, &casos).await;
    assert_eq!(
        fila_mensaje(&app, v, &mid).await,
        ("hola editado".to_owned(), true)
    );
    let creado = fila_mensaje(&app, v, &id(&creacion)).await;
    assert_eq!(
        creado,
        ("Ana Pérez creó el grupo «Edición»".to_owned(), false)
    );
}

async fn authors_and_group_admins_delete_and_others_cannot(v: Variante) {
    let app = servidor(v).await;
    let (gid, _) = crear_grupo(&app, ANA, "Limpieza", &[BRUNO, CARLA]).await;
    let s = en_sala(&app, &gid, &[("bruno", BRUNO)]).await;
    let b1 = app.enviar(BRUNO, &gid, "de Bruno").await;
    let c1 = app.enviar(CARLA, &gid, "de Carla 1").await;
    let c2 = app.enviar(CARLA, &gid, "de Carla 2").await;
    let borrar = |m: &Value| format!("/api/chat/mensajes/{}", id(m));
    for (rut, m) in [(CARLA, &b1), (DIEGO, &b1), (BRUNO, &c1)] {
        let (st, b) = pedir(&app, Method::DELETE, &borrar(m), Some(rut), None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{rut}: {b}");
        rechazo(&b);
    }
    let (st, _) = pedir(&app, Method::DELETE, &borrar(&b1), None, None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(visibles(&app, v, &[&b1, &c1, &c2]).await, 3);

    let marca = s.marca("bruno").await;
    let (st, b) = pedir(&app, Method::DELETE, &borrar(&c1), Some(CARLA), None).await;
    assert_eq!((st, &b["success"]), (StatusCode::OK, &json!(true)), "{b}");
    s.esperar(
        "bruno",
        "mensaje_eliminado",
        json!({"conversacion_id": gid, "mensaje_id": c1["id"]}),
        marca,
    )
    .await;
    // The group's admin deletes another member's message.
    let (st, b) = pedir(&app, Method::DELETE, &borrar(&c2), Some(ANA), None).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    s.esperar(
        "bruno",
        "mensaje_eliminado",
        json!({"conversacion_id": gid, "mensaje_id": c2["id"]}),
        marca,
    )
    .await;
    assert_eq!(visibles(&app, v, &[&b1, &c1, &c2]).await, 1);
    for rut in [ANA, BRUNO, CARLA] {
        let ids = ids(&historial(&app, rut, &gid).await["mensajes"]);
        assert!(ids.contains(&id(&b1)), "{ids:?}");
        assert!(
            !ids.contains(&id(&c1)) && !ids.contains(&id(&c2)),
            "{ids:?}"
        );
    }
    let (_, v1) = app
        .get(&format!("/api/chat/mensajes/{gid}"), Some(BRUNO))
        .await;
    let ids_v1 = ids(&v1["mensajes"]);
    assert!(
        !ids_v1.contains(&id(&c1)) && ids_v1.contains(&id(&b1)),
        "{v1}"
    );
    let (st, _) = pedir(&app, Method::DELETE, &borrar(&c1), Some(CARLA), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "already deleted");
    let (st, _) = pedir(
        &app,
        Method::DELETE,
        &format!("/api/chat/mensajes/{}", inexistente(v)),
        Some(ANA),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // In a 1:1 chat nobody is an admin: only the author deletes.
    let uno = app.conversacion(ANA, BRUNO).await;
    let x = app.enviar(BRUNO, &uno, "mío").await;
    let (st, _) = pedir(&app, Method::DELETE, &borrar(&x), Some(ANA), None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(visibles(&app, v, &[&x]).await, 1);
}

async fn reactions_toggle_with_counts_several_emoji_and_one_of_each_per_user(v: Variante) {
    let app = servidor(v).await;
    let (gid, _) = crear_grupo(&app, ANA, "Emojis", &[BRUNO, CARLA]).await;
    let s = en_sala(&app, &gid, &[("bruno", BRUNO)]).await;
    let msg = app.enviar(ANA, &gid, "reacciona").await;
    let ruta = format!("/api/chat/mensajes/{}/reacciones", id(&msg));
    let alternar = |rut: &'static str, emoji: &'static str| {
        let (app, msg) = (&app, &msg);
        async move {
            let (st, b) = reaccionar(app, msg, rut, emoji).await;
            assert_eq!(st, StatusCode::OK, "{rut} {emoji}: {b}");
            assert_eq!(b["success"], json!(true));
            assert_eq!(b["mensaje_id"], msg["id"]);
            b["reacciones"].clone()
        }
    };
    let marca = s.marca("bruno").await;
    assert_eq!(
        alternar(ANA, "👍").await,
        json!([{"emoji": "👍", "cantidad": 1, "usuarios": [ANA], "mia": true}])
    );
    let ev = s
        .esperar(
            "bruno",
            "reacciones_actualizadas",
            json!({"conversacion_id": gid, "mensaje_id": msg["id"]}),
            marca,
        )
        .await;
    assert_eq!(
        ev["reacciones"],
        json!([{"usuario_id": ANA, "emoji": "👍"}]),
        "{ev}"
    );
    assert_eq!(
        alternar(BRUNO, "👍").await,
        json!([{"emoji": "👍", "cantidad": 2, "usuarios": [ANA, BRUNO], "mia": true}])
    );
    assert_eq!(
        alternar(ANA, "❤️").await,
        json!([
            {"emoji": "👍", "cantidad": 2, "usuarios": [ANA, BRUNO], "mia": true},
            {"emoji": "❤️", "cantidad": 1, "usuarios": [ANA], "mia": true}
        ])
    );
    // Toggling off: the emoji Bruno still uses keeps its place.
    let marca = s.marca("bruno").await;
    let ultimas = json!([
        {"emoji": "👍", "cantidad": 1, "usuarios": [BRUNO], "mia": false},
        {"emoji": "❤️", "cantidad": 1, "usuarios": [ANA], "mia": true},
        {"emoji": "👍🏽", "cantidad": 1, "usuarios": [ANA], "mia": true}
    ]);
    alternar(ANA, "👍").await;
    assert_eq!(alternar(ANA, "👍🏽").await, ultimas);
    let ev = s
        .esperar(
            "bruno",
            "reacciones_actualizadas",
            json!({"conversacion_id": gid, "mensaje_id": msg["id"], "reacciones": [
                {"usuario_id": BRUNO, "emoji": "👍"},
                {"usuario_id": ANA, "emoji": "❤️"},
                {"usuario_id": ANA, "emoji": "👍🏽"}
            ]}),
            marca,
        )
        .await;
    assert!(ev.is_object());
    let tabla = reacciones_tabla(v);
    let filas = format!("SELECT count(*) FROM {tabla}");
    assert_eq!(contar(&app, &filas).await, 3);
    let h = historial(&app, ANA, &gid).await;
    assert_eq!(buscar(&h["mensajes"], &msg["id"])["reacciones"], ultimas);
    let h = historial(&app, BRUNO, &gid).await;
    assert_eq!(
        buscar(&h["mensajes"], &msg["id"])["reacciones"][0]["mia"],
        json!(true),
        "mia is the reader's"
    );

    let casos = [
        (ANA, json!({"emoji": "hola"}), StatusCode::BAD_REQUEST),
        (ANA, json!({"emoji": "a"}), StatusCode::BAD_REQUEST),
        (ANA, json!({"emoji": ""}), StatusCode::BAD_REQUEST),
        (ANA, json!({"emoji": "<b>"}), StatusCode::BAD_REQUEST),
        (
            ANA,
            json!({"emoji": "👍".repeat(40)}),
            StatusCode::BAD_REQUEST,
        ),
        (ANA, json!({"emoji": 5}), StatusCode::BAD_REQUEST),
        (ANA, json!({}), StatusCode::BAD_REQUEST),
        (DIEGO, json!({"emoji": "👍"}), StatusCode::FORBIDDEN),
    ];
    rechazos(&app, Method::POST, &ruta, &casos).await;
    sesion_formato_e_inexistente(
        &app,
        Method::POST,
        &ruta,
        &format!("/api/chat/mensajes/{}/reacciones", inexistente(v)),
        ANA,
        json!({"emoji": "👍"}),
    )
    .await;
    assert_eq!(contar(&app, &filas).await, 3, "refusals store nothing");
    // One of each per user: the same emoji twice by one user is never two rows.
    let sql = format!(
        "SELECT count(*) FROM (SELECT 1 FROM {tabla} GROUP BY mensaje_id, usuario_id, emoji HAVING count(*) > 1) d"
    );
    assert_eq!(contar(&app, &sql).await, 0);
}

/// A group with Ana's message "original", Ana's socket in its room and Bruno's connected; a
/// 1:1 chat of Ana and Bruno with one message (`ajeno`). Returns (app, sockets, group, original,
/// the quote it gets, ajeno).
async fn hilo(v: Variante) -> (common::TestApp, Sockets, String, Value, Value, Value) {
    let app = servidor(v).await;
    let (gid, _) = crear_grupo(&app, ANA, "Hilos", &[BRUNO, CARLA]).await;
    let s = conectados(&app, &[("ana", ANA), ("bruno", BRUNO)]).await;
    assert!(s.unirse("ana", &gid).await);
    let original = app.enviar(ANA, &gid, "original").await;
    let cita = json!({"contenido": "original", "usuario_id": ANA, "usuario_nombre": "Ana Pérez"});
    let uno = app.conversacion(ANA, BRUNO).await;
    let ajeno = app.enviar(ANA, &uno, "en privado").await;
    (app, s, gid, original, cita, ajeno)
}

/// History (ours and v1) shows the reply's quote; the original has none.
async fn citas_en_historial(
    app: &common::TestApp,
    gid: &str,
    respuesta: &Value,
    original: &Value,
    cita: &Value,
) {
    let h = historial(app, CARLA, gid).await;
    let en_historial = buscar(&h["mensajes"], &respuesta["id"]);
    assert_eq!(en_historial["reply_to"], original["id"]);
    assert_eq!(en_historial["cita"], *cita);
    assert_eq!(buscar(&h["mensajes"], &original["id"])["cita"], Value::Null);
    let (_, v1) = app
        .get(&format!("/api/chat/mensajes/{gid}"), Some(CARLA))
        .await;
    assert_eq!(
        buscar(&v1["mensajes"], &respuesta["id"])["cita"],
        *cita,
        "v1 history too"
    );
}

async fn socket_replies_quote_the_original_in_the_same_conversation_only(v: Variante) {
    let (app, s, gid, original, cita, ajeno) = hilo(v).await;
    let marca = s.marca("ana").await;
    let ack = s
        .llamar(
            "bruno",
            "mensaje_enviar",
            json!({"conversacion_id": gid, "contenido": "por socket", "reply_to": original["id"]}),
        )
        .await;
    assert_eq!(ack["reply_to"], original["id"], "{ack}");
    assert_eq!(ack["cita"], cita, "{ack}");
    assert_eq!(ack["tipo"], "texto", "{ack}");
    let recibido = s
        .esperar("ana", "mensaje_recibido", json!({"id": ack["id"]}), marca)
        .await;
    assert_eq!(recibido["reply_to"], original["id"]);
    assert_eq!(recibido["cita"], cita);
    citas_en_historial(&app, &gid, &ack, &original, &cita).await;
    // A reply into another conversation (or to nothing) is refused and stores nothing.
    let (_, _, m) = v.tablas();
    let total = format!("SELECT count(*) FROM {m}");
    let guardados = contar(&app, &total).await;
    for reply_to in [ajeno["id"].clone(), json!(inexistente(v))] {
        let datos = json!({"conversacion_id": gid, "contenido": "cruzada", "reply_to": reply_to});
        ack_rechazado(&s, "bruno", "mensaje_enviar", datos).await;
    }
    assert_eq!(contar(&app, &total).await, guardados);
}

async fn rest_replies_quote_the_original_in_the_same_conversation_only(v: Variante) {
    let (app, s, gid, original, cita, ajeno) = hilo(v).await;
    // A reply into another conversation (or to nothing) is refused and stores nothing.
    let (_, _, m) = v.tablas();
    let total = format!("SELECT count(*) FROM {m}");
    let guardados = contar(&app, &total).await;
    for reply_to in [ajeno["id"].clone(), json!(inexistente(v))] {
        let (st, b) = pedir(
            &app,
            Method::POST,
            "/api/chat/mensaje/enviar",
            Some(BRUNO),
            Some(json!({"conversacion_id": gid, "contenido": "cruzada", "reply_to": reply_to})),
        )
        .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{reply_to}: {b}");
        rechazo(&b);
    }
    assert_eq!(contar(&app, &total).await, guardados);
    let marca = s.marca("ana").await;
    let (st, b) = pedir(
        &app,
        Method::POST,
        "/api/chat/mensaje/enviar",
        Some(BRUNO),
        Some(json!({"conversacion_id": gid, "contenido": "respuesta", "reply_to": original["id"]})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let respuesta = b["mensaje"].clone();
    assert_eq!(respuesta["reply_to"], original["id"], "{respuesta}");
    assert_eq!(respuesta["cita"], cita);
    assert_eq!(respuesta["tipo"], "texto");
    let recibido = s
        .esperar(
            "ana",
            "mensaje_recibido",
            json!({"id": respuesta["id"]}),
            marca,
        )
        .await;
    assert_eq!(recibido["reply_to"], original["id"]);
    assert_eq!(recibido["cita"], cita);
    citas_en_historial(&app, &gid, &respuesta, &original, &cita).await;
}

async fn v2_routes_and_ours_share_one_set_of_reactions_and_pins(v: Variante) {
    let app = servidor(v).await;
    let conv = app.conversacion(ANA, BRUNO).await;
    let m1 = app.enviar(BRUNO, &conv, "compartido").await;
    let m2 = app.enviar(BRUNO, &conv, "otro").await;
    let v2 = |accion: &str, m: &Value| format!("/api/chat/mensajes/{}/{accion}", id(m));
    let nuestras = || {
        let (app, conv, mid) = (&app, &conv, m1["id"].clone());
        async move { buscar(&historial(app, ANA, conv).await["mensajes"], &mid)["reacciones"].clone() }
    };
    let (st, b) = pedir(
        &app,
        Method::POST,
        &v2("reaccion", &m1),
        Some(ANA),
        Some(json!({"emoji": "😂"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(
        nuestras().await,
        json!([{"emoji": "😂", "cantidad": 1, "usuarios": [ANA], "mia": true}])
    );
    // Ours adds a second emoji of the same user; v2 sees both.
    let (st, b) = pedir(
        &app,
        Method::POST,
        &v2("reacciones", &m1),
        Some(ANA),
        Some(json!({"emoji": "👍"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (st, h) = app
        .get(&format!("/api/chat/history/{BRUNO}"), Some(ANA))
        .await;
    assert_eq!(st, StatusCode::OK, "{h}");
    assert_eq!(
        buscar(&h["mensajes"], &m1["id"])["reacciones"],
        json!({"😂": 1, "👍": 1})
    );
    // v2's one-per-user is the replace mode of the same rows.
    let (st, b) = pedir(
        &app,
        Method::POST,
        &v2("reaccion", &m1),
        Some(ANA),
        Some(json!({"emoji": "❤️"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["reacciones"], json!({"❤️": 1}));
    assert_eq!(
        nuestras().await,
        json!([{"emoji": "❤️", "cantidad": 1, "usuarios": [ANA], "mia": true}])
    );
    let (st, _) = pedir(&app, Method::DELETE, &v2("reaccion", &m1), Some(ANA), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(nuestras().await, json!([]));
    assert_eq!(
        contar(
            &app,
            &format!("SELECT count(*) FROM {}", reacciones_tabla(v))
        )
        .await,
        0
    );

    // Pins: v2's single pin is the newest of ours.
    let fijado_v2 = || {
        let app = &app;
        async move {
            let (_, h) = app
                .get(&format!("/api/chat/history/{BRUNO}"), Some(ANA))
                .await;
            h["mensaje_fijado"]["id"].clone()
        }
    };
    let (st, _) = pedir(&app, Method::POST, &v2("fijar", &m1), Some(ANA), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        ids(&historial(&app, BRUNO, &conv).await["fijados"]),
        [id(&m1)]
    );
    let (st, b) = pedir(&app, Method::POST, &v2("fijado", &m2), Some(BRUNO), None).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(ids(&b["fijados"]), [id(&m1), id(&m2)]);
    assert_eq!(fijado_v2().await, m2["id"]);
    let (st, _) = pedir(&app, Method::POST, &v2("desfijar", &m2), Some(ANA), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        ids(&historial(&app, BRUNO, &conv).await["fijados"]),
        [id(&m1)]
    );
    assert_eq!(fijado_v2().await, m1["id"], "the newest pin left");
}
