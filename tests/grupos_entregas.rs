//! Pins (several per conversation, in order, at most twenty) and delivery states (sent,
//! delivered, read per message in 1:1 chats; who received and who read in groups; markers only
//! move forward) in our own API (issue 12), with `fijados_actualizados`, `mensaje_entregado`
//! and `mensaje_visto` over real python-socketio clients, on both table variants and on the
//! PostgREST store.

mod common;
mod grupos_comun;

use common::{ANA, BRUNO, CARLA, Variante, segmento};
use grupos_comun::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

en_ambas_variantes!(
    pins_keep_their_order_drop_deleted_messages_and_stop_at_twenty,
    one_to_one_messages_go_from_sent_to_delivered_to_read_and_never_back,
    groups_count_who_received_and_who_read_each_message,
);

en_postgrest_tambien!(
    pins_live: pins_keep_their_order_drop_deleted_messages_and_stop_at_twenty(Live),
    delivery_states_live: one_to_one_messages_go_from_sent_to_delivered_to_read_and_never_back(Live),
    group_delivery_states_migration: groups_count_who_received_and_who_read_each_message(Migration),
);

async fn pins_keep_their_order_drop_deleted_messages_and_stop_at_twenty(v: Variante) {
    let app = servidor(v).await;
    let (gid, _) = crear_grupo(&app, ANA, "Anclas", &[BRUNO, CARLA]).await;
    let s = en_sala(&app, &gid, &[("carla", CARLA)]).await;
    let m1 = app.enviar(ANA, &gid, "uno").await;
    let m2 = app.enviar(ANA, &gid, "dos").await;
    let m3 = app.enviar(BRUNO, &gid, "tres").await;
    let fijar = |rut: &'static str, m: &Value, metodo: Method| {
        let (app, m) = (&app, m.clone());
        async move {
            let (st, b) = fijado(app, metodo.clone(), &m, Some(rut)).await;
            assert_eq!(st, StatusCode::OK, "{rut} {metodo} {}: {b}", m["id"]);
            assert_eq!(b["success"], json!(true));
            ids(&b["fijados"])
        }
    };
    let marca = s.marca("carla").await;
    assert_eq!(fijar(ANA, &m2, Method::POST).await, [id(&m2)]);
    assert_eq!(fijar(BRUNO, &m1, Method::POST).await, [id(&m2), id(&m1)]);
    assert_eq!(
        fijar(CARLA, &m3, Method::POST).await,
        [id(&m2), id(&m1), id(&m3)]
    );
    s.esperar(
        "carla",
        "fijados_actualizados",
        json!({"conversacion_id": gid, "fijados": [m2["id"], m1["id"], m3["id"]]}),
        marca,
    )
    .await;
    assert_eq!(
        fijar(ANA, &m2, Method::POST).await,
        [id(&m2), id(&m1), id(&m3)],
        "pinning twice changes nothing"
    );
    // v2's single pin is the newest one.
    let (c, _, _) = v.tablas();
    let sql = format!("SELECT mensaje_fijado_id::text FROM {c} WHERE id::text = '{gid}'");
    let el_de_v2: Option<String> = app.db.client.query_one(&sql, &[]).await.unwrap().get(0);
    assert_eq!(el_de_v2, Some(id(&m3)));
    let h = historial(&app, BRUNO, &gid).await;
    assert_eq!(ids(&h["fijados"]), [id(&m2), id(&m1), id(&m3)]);
    assert_eq!(h["fijados"][0]["contenido"], "dos");
    let marca = s.marca("carla").await;
    assert_eq!(fijar(BRUNO, &m1, Method::DELETE).await, [id(&m2), id(&m3)]);
    s.esperar(
        "carla",
        "fijados_actualizados",
        json!({"conversacion_id": gid, "fijados": [m2["id"], m3["id"]]}),
        marca,
    )
    .await;
    // A deleted message drops out of the pins.
    let (st, b) = pedir(
        &app,
        Method::DELETE,
        &format!("/api/chat/mensajes/{}", id(&m3)),
        Some(BRUNO),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let h = historial(&app, CARLA, &gid).await;
    assert_eq!(ids(&h["fijados"]), [id(&m2)]);

    let tabla = fijados_tabla(v);
    let filas = format!(
        "SELECT count(*) FROM {tabla} f JOIN {} m ON m.id = f.mensaje_id WHERE NOT coalesce(m.eliminado, false)",
        v.tablas().2
    );
    assert_eq!(contar(&app, &filas).await, 1);
    for (rut, ruta, esperado) in [
        (
            DIEGO,
            format!("/api/chat/mensajes/{}/fijado", id(&m1)),
            StatusCode::FORBIDDEN,
        ),
        (
            ANA,
            format!("/api/chat/mensajes/{}/fijado", inexistente(v)),
            StatusCode::NOT_FOUND,
        ),
        (
            ANA,
            format!("/api/chat/mensajes/{}/fijado", id(&m3)),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (st, b) = pedir(&app, Method::POST, &ruta, Some(rut), None).await;
        assert_eq!(st, esperado, "{rut} {ruta}: {b}");
        rechazo(&b);
    }
    let (st, _) = fijado(&app, Method::POST, &m1, None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(contar(&app, &filas).await, 1);
    // At most twenty pins.
    for i in 0..19 {
        let m = app.enviar(CARLA, &gid, &format!("ancla {i}")).await;
        assert_eq!(fijar(CARLA, &m, Method::POST).await.len(), i + 2);
    }
    let extra = app.enviar(CARLA, &gid, "una de más").await;
    let (st, b) = fijado(&app, Method::POST, &extra, Some(CARLA)).await;
    assert_eq!(st, StatusCode::CONFLICT, "{b}");
    rechazo(&b);
    assert_eq!(contar(&app, &filas).await, 20);
    assert_eq!(ids(&historial(&app, ANA, &gid).await["fijados"]).len(), 20);
}

async fn one_to_one_messages_go_from_sent_to_delivered_to_read_and_never_back(v: Variante) {
    let app = servidor(v).await;
    let conv = app.conversacion(ANA, BRUNO).await;
    let s = conectados(&app, &[("ana", ANA), ("bruno", BRUNO), ("carla", CARLA)]).await;
    assert!(s.unirse("ana", &conv).await);
    assert!(s.unirse("bruno", &conv).await);
    let m0 = app.enviar(ANA, &conv, "cero").await;
    let m1 = app.enviar(ANA, &conv, "uno").await;
    let entrega = |rut: &'static str, m: &Value| {
        let (app, conv, mid) = (&app, &conv, m["id"].clone());
        async move { buscar(&historial(app, rut, conv).await["mensajes"], &mid)["entrega"].clone() }
    };
    let estado = |e: Value| e["estado"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        entrega(ANA, &m1).await,
        json!({"estado": "enviado", "destinatarios": 1, "entregado_a": [], "leido_por": []})
    );
    assert_eq!(
        entrega(BRUNO, &m1).await,
        Value::Null,
        "others' messages carry no state"
    );

    entregar_por_socket(&s, "bruno", BRUNO, "ana", &conv, &m1["id"]).await;
    assert_eq!(
        entrega(ANA, &m1).await,
        json!({"estado": "entregado", "destinatarios": 1, "entregado_a": [BRUNO], "leido_por": []})
    );
    assert_eq!(estado(entrega(ANA, &m0).await), "entregado");
    // Backwards: accepted, nothing moves.
    let marcador = marcador_entregado(&app, v, &conv, BRUNO).await;
    let ack = s
        .llamar(
            "bruno",
            "marcar_entregado",
            json!({"conversacion_id": conv, "mensaje_id": m0["id"]}),
        )
        .await;
    assert_eq!(ack["success"], json!(true), "{ack}");
    assert_eq!(marcador_entregado(&app, v, &conv, BRUNO).await, marcador);
    assert_eq!(estado(entrega(ANA, &m1).await), "entregado");

    leer_y_oir(&app, &s, "ana", BRUNO, &conv, Some(&m0["id"])).await;
    assert_eq!(estado(entrega(ANA, &m0).await), "leido");
    assert_eq!(estado(entrega(ANA, &m1).await), "entregado");
    leer(&app, BRUNO, &conv, Some(&m1["id"])).await;
    assert_eq!(
        entrega(ANA, &m1).await,
        json!({"estado": "leido", "destinatarios": 1, "entregado_a": [BRUNO], "leido_por": [BRUNO]})
    );
    // A newer message starts over at "sent"; the REST form with no id marks up to the newest.
    let m2 = app.enviar(ANA, &conv, "dos").await;
    assert_eq!(estado(entrega(ANA, &m2).await), "enviado");
    assert_eq!(estado(entrega(ANA, &m1).await), "leido");
    let ruta = format!("/api/chat/conversaciones/{conv}/entregado");
    let (st, b) = app.post(&ruta, Some(BRUNO), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["success"], json!(true));
    assert_eq!(segmento(&b["ultimo"]), id(&m2));
    assert_eq!(estado(entrega(ANA, &m2).await), "entregado");
    // Read markers never move back either.
    leer(&app, BRUNO, &conv, Some(&m0["id"])).await;
    assert_eq!(estado(entrega(ANA, &m1).await), "leido");
    assert_eq!(estado(entrega(ANA, &m2).await), "entregado");

    // Refusals move nothing.
    let marcador = marcador_entregado(&app, v, &conv, BRUNO).await;
    let otra = app.conversacion(CARLA, BRUNO).await;
    let ajeno = app.enviar(CARLA, &otra, "de otra").await;
    let (st, b) = app.post(&ruta, Some(CARLA), json!({})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{b}");
    let (st, b) = app.post(&ruta, None, json!({})).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{b}");
    let (st, b) = app
        .post(&ruta, Some(BRUNO), json!({"mensaje_id": ajeno["id"]}))
        .await;
    assert!(
        st.is_client_error() && st != StatusCode::UNAUTHORIZED,
        "{st} {b}"
    );
    let (st, b) = app
        .post(&ruta, Some(BRUNO), json!({"mensaje_id": [1]}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert_eq!(
        no_json(&app, Method::POST, &ruta, BRUNO).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    for (socket, datos) in [
        (
            "carla",
            json!({"conversacion_id": conv, "mensaje_id": m2["id"]}),
        ),
        ("bruno", json!("no es un objeto")),
        ("bruno", json!({"mensaje_id": m2["id"]})),
        (
            "bruno",
            json!({"conversacion_id": conv, "mensaje_id": ajeno["id"]}),
        ),
    ] {
        let ack = s.llamar(socket, "marcar_entregado", datos.clone()).await;
        assert_eq!(ack["success"], json!(false), "{socket} {datos}: {ack}");
        assert!(
            ack["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{ack}"
        );
    }
    assert_eq!(marcador_entregado(&app, v, &conv, BRUNO).await, marcador);
    assert_eq!(marcador_entregado(&app, v, &conv, CARLA).await, None);
}

async fn groups_count_who_received_and_who_read_each_message(v: Variante) {
    let app = servidor(v).await;
    let (gid, _) = crear_grupo(&app, ANA, "Lectores", &[BRUNO, CARLA]).await;
    let s = conectados(&app, &[("ana", ANA), ("bruno", BRUNO)]).await;
    assert!(s.unirse("ana", &gid).await);
    let msg = app.enviar(ANA, &gid, "¿quién lee?").await;
    let entrega = || {
        let (app, gid, mid) = (&app, &gid, msg["id"].clone());
        async move { buscar(&historial(app, ANA, gid).await["mensajes"], &mid)["entrega"].clone() }
    };
    assert_eq!(
        entrega().await,
        json!({"estado": "enviado", "destinatarios": 2, "entregado_a": [], "leido_por": []})
    );
    entregar_por_socket(&s, "bruno", BRUNO, "ana", &gid, &msg["id"]).await;
    let e = entrega().await;
    assert_eq!(
        (&e["entregado_a"], &e["leido_por"]),
        (&json!([BRUNO]), &json!([])),
        "{e}"
    );
    assert_eq!(e["destinatarios"], json!(2));
    leer(&app, BRUNO, &gid, None).await;
    let e = entrega().await;
    assert_eq!(e["leido_por"], json!([BRUNO]), "read by 1 of 2: {e}");
    assert_ne!(e["estado"], "leido", "read by 1 of 2 is not read: {e}");
    // Carla reads without ever marking delivered: reading implies delivery.
    leer_y_oir(&app, &s, "ana", CARLA, &gid, None).await;
    let e = entrega().await;
    assert_eq!(e["estado"], "leido", "{e}");
    assert_eq!(e["destinatarios"], json!(2));
    assert_eq!(ordenados(&e["leido_por"]), [BRUNO, CARLA]);
    assert_eq!(ordenados(&e["entregado_a"]), [BRUNO, CARLA]);
}
