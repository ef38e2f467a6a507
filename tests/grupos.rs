//! Groups (issue 12, our own API): create, read, rename, add, admins, with the system messages
//! they leave in history and their events; rate and size limits. Every route and event of
//! spec-12, success and refusal, against the real binary with real python-socketio clients
//! (`tests/clients/puente_sio.py`), on both table variants and a representative subset on the
//! PostgREST store; refused calls are checked to store nothing, with the test's own DB client.
//! Removal, leaving and a removed member are in `tests/grupos_removidos.rs`; the life of a
//! message in `tests/grupos_mensajes.rs` and `tests/grupos_entregas.rs`; concurrency and two
//! instances over Redis in `tests/grupos_carreras.rs`.

mod common;
mod grupos_comun;

use common::{ANA, BRUNO, CARLA, Variante};
use grupos_comun::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

en_ambas_variantes!(
    groups_need_a_name_and_two_others_and_refused_creations_store_nothing,
    members_read_a_group_and_only_admins_rename_it,
    admins_add_members_once_and_name_other_admins,
);

en_postgrest_tambien!(
    groups_are_created_live: groups_need_a_name_and_two_others_and_refused_creations_store_nothing(Live),
    members_are_added_and_admins_named_live: admins_add_members_once_and_name_other_admins(Live),
);

async fn groups_need_a_name_and_two_others_and_refused_creations_store_nothing(v: Variante) {
    let app = servidor(v).await;
    let s = conectados(&app, &[("bruno", BRUNO), ("carla", CARLA)]).await;
    let (c, p, m) = v.tablas();
    let muchos: Vec<String> = (0..51)
        .map(|i| format!("{:08}-{}", 70000000 + i, i % 10))
        .collect();
    let casos = [
        (
            json!({"nombre": "Equipo", "miembros": [BRUNO]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"nombre": "Equipo", "miembros": [BRUNO, ANA]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"nombre": "Equipo", "miembros": [BRUNO, BRUNO]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"nombre": "Equipo", "miembros": []}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"nombre": "", "miembros": [BRUNO, CARLA]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"nombre": "   ", "miembros": [BRUNO, CARLA]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"nombre": "x".repeat(101), "miembros": [BRUNO, CARLA]}),
            StatusCode::BAD_REQUEST,
        ),
        (json!({"miembros": [BRUNO, CARLA]}), StatusCode::BAD_REQUEST),
        (
            json!({"nombre": 7, "miembros": [BRUNO, CARLA]}),
            StatusCode::BAD_REQUEST,
        ),
        (json!({"nombre": "Equipo"}), StatusCode::BAD_REQUEST),
        (
            json!({"nombre": "Equipo", "miembros": BRUNO}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"nombre": "Equipo", "miembros": [BRUNO, true]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"nombre": "Equipo", "miembros": [BRUNO, ""]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"nombre": "Equipo", "miembros": [BRUNO, "1".repeat(70)]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"nombre": "Equipo", "miembros": [BRUNO, null]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"nombre": "Equipo", "miembros": muchos}),
            StatusCode::BAD_REQUEST,
        ),
        (json!([BRUNO, CARLA]), StatusCode::BAD_REQUEST),
        (
            json!({"nombre": "Equipo", "miembros": [BRUNO, "99999999-9"]}),
            StatusCode::NOT_FOUND,
        ),
    ];
    for (body, esperado) in casos {
        let (st, b) = crear(&app, Some(ANA), body.clone()).await;
        assert_eq!(st, esperado, "{body} -> {b}");
        rechazo(&b);
    }
    let (st, b) = crear(
        &app,
        None,
        json!({"nombre": "Equipo", "miembros": [BRUNO, CARLA]}),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{b}");
    rechazo(&b);
    assert_eq!(
        no_json(&app, Method::POST, "/api/chat/grupos", ANA).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(contar(&app, &format!("SELECT count(*) FROM {c}")).await, 0);
    assert_eq!(contar(&app, &format!("SELECT count(*) FROM {p}")).await, 0);
    assert_eq!(contar(&app, &format!("SELECT count(*) FROM {m}")).await, 0);

    let marca_b = s.marca("bruno").await;
    let marca_c = s.marca("carla").await;
    let (st, b) = crear(
        &app,
        Some(ANA),
        json!({"nombre": "Equipo ñandú", "miembros": [BRUNO, CARLA, BRUNO]}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert_eq!(b["success"], json!(true));
    let g = &b["grupo"];
    let gid = g["id"].as_str().expect("string id").to_owned();
    assert_eq!(g["nombre"], "Equipo ñandú");
    assert_eq!(g["es_grupal"], json!(true));
    assert_eq!(g["creado_por"], ANA);
    assert_eq!(g["soy_admin"], json!(true));
    assert_eq!(
        miembros(g),
        [
            (ANA.into(), true),
            (BRUNO.into(), false),
            (CARLA.into(), false)
        ]
    );
    let nombres: Vec<&str> = g["miembros"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["nombre"].as_str().unwrap())
        .collect();
    assert!(nombres.contains(&"Bruno Soto"), "{g}");
    // The rows: one group conversation, three participants, the creator the only admin.
    assert_eq!(
        contar(
            &app,
            &format!(
                "SELECT count(*) FROM {c} WHERE id::text = '{gid}' AND es_grupal AND nombre = 'Equipo ñandú' AND creado_por = '{ANA}'"
            )
        )
        .await,
        1
    );
    assert_eq!(
        contar(
            &app,
            &format!("SELECT count(*) FROM {p} WHERE conversacion_id::text = '{gid}'")
        )
        .await,
        3
    );
    assert_eq!(
        admins_en_bd(&app, &gid).await,
        [ANA.to_owned()],
        "only the creator is an admin"
    );
    // Every other member learns of it at once, on their own room.
    for (id, marca) in [("bruno", marca_b), ("carla", marca_c)] {
        let aviso = s
            .esperar(
                id,
                "nueva_conversacion",
                json!({"conversacion": {"id": gid}}),
                marca,
            )
            .await;
        assert_eq!(aviso["conversacion"]["es_grupal"], json!(true), "{aviso}");
        assert_eq!(aviso["conversacion"]["nombre"], "Equipo ñandú", "{aviso}");
    }
    // History tells the story with a system message, and carries the group.
    let h = historial(&app, BRUNO, &gid).await;
    assert_eq!(h["grupo"]["id"], gid.as_str());
    assert_eq!(h["grupo"]["soy_admin"], json!(false));
    assert_eq!(
        sistema(&h),
        ["Ana Pérez creó el grupo «Equipo ñandú»".to_owned()]
    );
    assert_eq!(h["mensajes"][0]["usuario_id"], ANA);
    // The list shows the group's name, its other members and its last message.
    let fila = fila_de_lista(&app, CARLA, &gid).await;
    assert_eq!(fila["nombre"], "Equipo ñandú");
    assert_eq!(fila["es_grupal"], json!(true));
    assert_eq!(fila["participantes"].as_array().unwrap().len(), 2);
    assert_eq!(
        fila["ultimo_mensaje"]["contenido"],
        "Ana Pérez creó el grupo «Equipo ñandú»"
    );
    // A name of exactly 100 characters (not bytes) is fine.
    let (st, b) = crear(
        &app,
        Some(BRUNO),
        json!({"nombre": "ñ".repeat(100), "miembros": [ANA, DIEGO]}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert_eq!(b["grupo"]["creado_por"], BRUNO);
}

async fn members_read_a_group_and_only_admins_rename_it(v: Variante) {
    let app = servidor(v).await;
    let (gid, _) = crear_grupo(&app, ANA, "Ventas", &[BRUNO, CARLA]).await;
    let ruta = format!("/api/chat/grupos/{gid}");
    let (st, b) = app.get(&ruta, Some(BRUNO)).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["success"], json!(true));
    assert_eq!(b["grupo"]["id"], gid.as_str());
    assert_eq!(b["grupo"]["nombre"], "Ventas");
    assert_eq!(b["grupo"]["soy_admin"], json!(false));
    assert_eq!(
        miembros(&b["grupo"]),
        [
            (ANA.into(), true),
            (BRUNO.into(), false),
            (CARLA.into(), false)
        ]
    );
    let (st, b) = app.get(&ruta, Some(DIEGO)).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{b}");
    rechazo(&b);
    let (st, b) = app.get(&ruta, None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{b}");
    let (st, b) = app
        .get(&format!("/api/chat/grupos/{}", inexistente(v)), Some(ANA))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{b}");
    rechazo(&b);
    // A 1:1 conversation reads as a group of two, not a group.
    let uno = app.conversacion(ANA, BRUNO).await;
    let (st, b) = app.get(&format!("/api/chat/grupos/{uno}"), Some(ANA)).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["grupo"]["es_grupal"], json!(false));
    assert_eq!(b["grupo"]["miembros"].as_array().unwrap().len(), 2);

    let s = conectados(&app, &[("bruno", BRUNO), ("carla", CARLA)]).await;
    assert!(s.unirse("carla", &gid).await);
    let marca_b = s.marca("bruno").await;
    let marca_c = s.marca("carla").await;
    let (st, b) = renombrar(&app, &gid, ANA, "Ventas sur").await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["grupo"]["nombre"], "Ventas sur");
    assert_eq!(b["grupo"]["soy_admin"], json!(true));
    // Every member's own room hears of it (Bruno never opened the group) and the room gets the
    // system message.
    let aviso = s
        .esperar(
            "bruno",
            "grupo_actualizado",
            json!({"conversacion_id": gid}),
            marca_b,
        )
        .await;
    assert_eq!(aviso["grupo"]["nombre"], "Ventas sur", "{aviso}");
    assert!(aviso["grupo"].get("soy_admin").is_none(), "{aviso}");
    let msg = s
        .esperar(
            "carla",
            "mensaje_recibido",
            json!({"conversacion_id": gid, "tipo": "sistema"}),
            marca_c,
        )
        .await;
    assert_eq!(
        msg["contenido"],
        "Ana Pérez cambió el nombre del grupo a «Ventas sur»"
    );
    assert_eq!(msg["reply_to"], Value::Null);
    let (c, _, m) = v.tablas();
    let nombre_en_bd = || {
        let sql = format!("SELECT nombre FROM {c} WHERE id::text = '{gid}'");
        let client = &app.db.client;
        async move {
            client
                .query_one(&sql, &[])
                .await
                .unwrap()
                .get::<_, Option<String>>(0)
        }
    };
    assert_eq!(nombre_en_bd().await.as_deref(), Some("Ventas sur"));
    let guardados = contar(&app, &format!("SELECT count(*) FROM {m}")).await;
    let casos = [
        (BRUNO, json!({"nombre": "De Bruno"}), StatusCode::FORBIDDEN),
        (DIEGO, json!({"nombre": "De Diego"}), StatusCode::FORBIDDEN),
        (ANA, json!({"nombre": ""}), StatusCode::BAD_REQUEST),
        (ANA, json!({"nombre": "  "}), StatusCode::BAD_REQUEST),
        (
            ANA,
            json!({"nombre": "x".repeat(101)}),
            StatusCode::BAD_REQUEST,
        ),
        (ANA, json!({"nombre": null}), StatusCode::BAD_REQUEST),
        (ANA, json!({}), StatusCode::BAD_REQUEST),
    ];
    rechazos(&app, Method::PATCH, &ruta, &casos).await;
    sesion_formato_e_inexistente(
        &app,
        Method::PATCH,
        &ruta,
        &format!("/api/chat/grupos/{}", inexistente(v)),
        ANA,
        json!({"nombre": "x"}),
    )
    .await;
    // A 1:1 conversation has no name to change.
    let (st, b) = pedir(
        &app,
        Method::PATCH,
        &format!("/api/chat/grupos/{uno}"),
        Some(ANA),
        Some(json!({"nombre": "Pareja"})),
    )
    .await;
    assert!(
        st.is_client_error() && st != StatusCode::UNAUTHORIZED,
        "{st} {b}"
    );
    rechazo(&b);
    assert_eq!(nombre_en_bd().await.as_deref(), Some("Ventas sur"));
    let sql = format!("SELECT count(*) FROM {c} WHERE id::text = '{uno}' AND nombre IS NULL");
    assert_eq!(contar(&app, &sql).await, 1);
    assert_eq!(
        contar(&app, &format!("SELECT count(*) FROM {m}")).await,
        guardados,
        "refused renames store no system message"
    );
}

async fn admins_add_members_once_and_name_other_admins(v: Variante) {
    let app = servidor(v).await;
    app.usuario(EVA, "Eva Luna").await;
    app.usuario(FEDE, "Fede Mora").await;
    let (gid, _) = crear_grupo(&app, ANA, "Bodega", &[BRUNO, CARLA]).await;
    let previo = app.enviar(ANA, &gid, "antes de Diego").await;
    let s = conectados(&app, &[("diego", DIEGO), ("bruno", BRUNO)]).await;
    let marca_d = s.marca("diego").await;
    let marca_b = s.marca("bruno").await;
    let ruta = format!("/api/chat/grupos/{gid}/miembros");
    let (st, b) = agregar(&app, &gid, ANA, DIEGO).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["success"], json!(true));
    assert!(
        miembros(&b["grupo"]).contains(&(DIEGO.into(), false)),
        "{b}"
    );
    let aviso = s
        .esperar(
            "diego",
            "nueva_conversacion",
            json!({"conversacion": {"id": gid}}),
            marca_d,
        )
        .await;
    assert_eq!(aviso["conversacion"]["nombre"], "Bodega", "{aviso}");
    let act = s
        .esperar(
            "bruno",
            "grupo_actualizado",
            json!({"conversacion_id": gid}),
            marca_b,
        )
        .await;
    assert_eq!(
        act["grupo"]["miembros"].as_array().unwrap().len(),
        4,
        "{act}"
    );
    // The new member reads and joins at once.
    assert!(s.unirse("diego", &gid).await);
    let h = historial(&app, DIEGO, &gid).await;
    assert_eq!(
        sistema(&h),
        [
            "Ana Pérez creó el grupo «Bodega»".to_owned(),
            "Ana Pérez agregó a Diego Rojas".to_owned()
        ]
    );
    assert_eq!(buscar(&h["mensajes"], &previo["id"])["tipo"], "texto");
    // The history before the add is not unread for the new member (markers start at the
    // newest message): only the add's own notice is.
    let fila = fila_de_lista(&app, DIEGO, &gid).await;
    assert_eq!(fila["no_leidos"], json!(1), "{fila}");
    let entrega =
        buscar(&historial(&app, ANA, &gid).await["mensajes"], &previo["id"])["entrega"].clone();
    assert_eq!(entrega["destinatarios"], json!(3), "{entrega}");
    assert_eq!(ordenados(&entrega["leido_por"]), [DIEGO], "{entrega}");
    let (_, p, m) = v.tablas();
    let miembros_bd = format!("SELECT count(*) FROM {p} WHERE conversacion_id::text = '{gid}'");
    let mensajes_bd = format!("SELECT count(*) FROM {m}");
    assert_eq!(contar(&app, &miembros_bd).await, 4);
    let guardados = contar(&app, &mensajes_bd).await;
    // Refusals, each storing nothing.
    let casos = [
        (ANA, json!({"usuario_id": DIEGO}), StatusCode::CONFLICT),
        (ANA, json!({"usuario_id": CARLA}), StatusCode::CONFLICT),
        (BRUNO, json!({"usuario_id": EVA}), StatusCode::FORBIDDEN),
        (FEDE, json!({"usuario_id": EVA}), StatusCode::FORBIDDEN),
        (
            ANA,
            json!({"usuario_id": "99999999-9"}),
            StatusCode::NOT_FOUND,
        ),
        (ANA, json!({}), StatusCode::BAD_REQUEST),
        (ANA, json!({"usuario_id": [DIEGO]}), StatusCode::BAD_REQUEST),
        (ANA, json!({"usuario_id": ""}), StatusCode::BAD_REQUEST),
    ];
    rechazos(&app, Method::POST, &ruta, &casos).await;
    sesion_formato_e_inexistente(
        &app,
        Method::POST,
        &ruta,
        &format!("/api/chat/grupos/{}/miembros", inexistente(v)),
        ANA,
        json!({"usuario_id": EVA}),
    )
    .await;
    assert_eq!(contar(&app, &miembros_bd).await, 4);
    assert_eq!(contar(&app, &mensajes_bd).await, guardados);

    // Admins: the creator names Bruno, who may then add members; others may not name admins;
    // nobody demotes the creator.
    let admins = |rut: &str| format!("/api/chat/grupos/{gid}/admins/{rut}");
    let (st, b) = nombrar_admin(&app, &gid, ANA, BRUNO, true).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert!(miembros(&b["grupo"]).contains(&(BRUNO.into(), true)), "{b}");
    let (st, b) = agregar(&app, &gid, BRUNO, EVA).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let guardados = contar(&app, &mensajes_bd).await;
    for (rut, destino, body, esperado) in [
        (
            CARLA,
            CARLA,
            json!({"es_admin": true}),
            StatusCode::FORBIDDEN,
        ),
        (
            FEDE,
            CARLA,
            json!({"es_admin": true}),
            StatusCode::FORBIDDEN,
        ),
        (
            BRUNO,
            ANA,
            json!({"es_admin": false}),
            StatusCode::FORBIDDEN,
        ),
        (
            ANA,
            CARLA,
            json!({"es_admin": "sí"}),
            StatusCode::BAD_REQUEST,
        ),
        (ANA, CARLA, json!({}), StatusCode::BAD_REQUEST),
    ] {
        let (st, b) = pedir(
            &app,
            Method::PUT,
            &admins(destino),
            Some(rut),
            Some(body.clone()),
        )
        .await;
        assert_eq!(st, esperado, "{rut} -> {destino} {body}: {b}");
        rechazo(&b);
    }
    let (st, b) = nombrar_admin(&app, &gid, ANA, FEDE, true).await;
    assert!(
        st.is_client_error() && st != StatusCode::UNAUTHORIZED,
        "a non-member: {st} {b}"
    );
    assert_eq!(
        admins_en_bd(&app, &gid).await,
        [ANA.to_owned(), BRUNO.to_owned()]
    );
    assert_eq!(contar(&app, &mensajes_bd).await, guardados);
    let (st, b) = nombrar_admin(&app, &gid, ANA, BRUNO, false).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert!(
        miembros(&b["grupo"]).contains(&(BRUNO.into(), false)),
        "{b}"
    );
    let (st, _) = agregar(&app, &gid, BRUNO, FEDE).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "no longer an admin");
    let h = historial(&app, ANA, &gid).await;
    assert_eq!(
        sistema(&h)[2..],
        [
            "Ana Pérez hizo administrador a Bruno Soto".to_owned(),
            "Bruno Soto agregó a Eva Luna".to_owned(),
            "Ana Pérez quitó el rol de administrador a Bruno Soto".to_owned(),
        ]
    );
}

#[tokio::test]
async fn group_routes_are_rate_limited_per_user_and_bodies_capped() {
    let app = servidor_con(
        Variante::Live,
        &[
            ("RATE_LIMIT_BURST", "6"),
            ("RATE_LIMIT_PER_MINUTE", "1"),
            ("MAX_BODY_BYTES", "4096"),
        ],
    )
    .await;
    let (gid, _) = crear_grupo(&app, ANA, "Límites", &[BRUNO, CARLA]).await;
    let ruta = format!("/api/chat/grupos/{gid}");
    let mut limitada = None;
    for _ in 0..10 {
        let r = app
            .req(Method::PATCH, &ruta, Some(ANA))
            .json(&json!({"nombre": "Límites"}))
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            limitada = Some(r);
            break;
        }
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = limitada.expect("429 within the burst of 6");
    assert!(r.headers().contains_key("retry-after"));
    let b: Value = r.json().await.unwrap();
    rechazo(&b);
    // Another user has a bucket of their own.
    let (st, _) = app.get(&ruta, Some(BRUNO)).await;
    assert_eq!(st, StatusCode::OK);
    // Bodies past MAX_BODY_BYTES: 413 with a JSON error, nothing stored.
    let (c, _, _) = Variante::Live.tablas();
    let antes = contar(&app, &format!("SELECT count(*) FROM {c}")).await;
    let (st, b) = crear(
        &app,
        Some(CARLA),
        json!({"nombre": "x".repeat(5000), "miembros": [ANA, BRUNO]}),
    )
    .await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "{b}");
    rechazo(&b);
    assert_eq!(
        contar(&app, &format!("SELECT count(*) FROM {c}")).await,
        antes
    );
}
