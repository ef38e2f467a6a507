//! Removing members, leaving (the last admin hands the role on) and a removed member refused at
//! once on every route and event, with nothing stored and no more of the room's events (issue 12),
//! on both table variants and on the PostgREST store.

mod common;
mod grupos_comun;

use common::{ANA, BRUNO, CARLA, Variante};
use grupos_comun::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

en_ambas_variantes!(
    admins_remove_members_members_leave_and_the_last_admin_hands_the_role_on,
    a_removed_member_is_refused_everywhere_and_stops_getting_the_rooms_events,
);

en_postgrest_tambien!(
    members_are_removed_and_leave_migration: admins_remove_members_members_leave_and_the_last_admin_hands_the_role_on(Migration),
    a_removed_member_is_refused_everywhere_live: a_removed_member_is_refused_everywhere_and_stops_getting_the_rooms_events(Live),
    a_removed_member_is_refused_everywhere_migration: a_removed_member_is_refused_everywhere_and_stops_getting_the_rooms_events(Migration),
);

async fn admins_remove_members_members_leave_and_the_last_admin_hands_the_role_on(v: Variante) {
    let app = servidor(v).await;
    app.usuario(FEDE, "Fede Mora").await;
    let (gid, _) = crear_grupo(&app, ANA, "Turno noche", &[BRUNO, CARLA, DIEGO]).await;
    let s = conectados(&app, &[("carla", CARLA)]).await;
    let (_, p, m) = v.tablas();
    let miembros_bd = format!("SELECT count(*) FROM {p} WHERE conversacion_id::text = '{gid}'");
    let (st, b) = quitar(&app, &gid, Some(BRUNO), CARLA).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "a non-admin: {b}");
    rechazo(&b);
    let (st, _) = quitar(&app, &gid, Some(FEDE), CARLA).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "a non-member");
    let (st, _) = quitar(&app, &gid, None, CARLA).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, b) = nombrar_admin(&app, &gid, ANA, BRUNO, true).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (st, b) = quitar(&app, &gid, Some(BRUNO), ANA).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "the creator stays: {b}");
    rechazo(&b);
    assert_eq!(contar(&app, &miembros_bd).await, 4);
    let guardados = contar(&app, &format!("SELECT count(*) FROM {m}")).await;

    let marca = s.marca("carla").await;
    let (st, b) = quitar(&app, &gid, Some(ANA), CARLA).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["success"], json!(true));
    assert_eq!(
        miembros(&b["grupo"]),
        [
            (ANA.into(), true),
            (BRUNO.into(), true),
            (DIEGO.into(), false)
        ]
    );
    esperar_removido(&s, "carla", &gid, marca).await;
    let (st, b) = quitar(&app, &gid, Some(ANA), CARLA).await;
    assert!(
        st.is_client_error() && st != StatusCode::UNAUTHORIZED,
        "no longer a member: {st} {b}"
    );
    assert_eq!(contar(&app, &miembros_bd).await, 3);
    assert_eq!(
        contar(&app, &format!("SELECT count(*) FROM {m}")).await,
        guardados + 1,
        "one system message"
    );

    let (st, b) = salir(&app, &gid, Some(DIEGO)).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["success"], json!(true));
    let (st, _) = app
        .get(&format!("/api/chat/grupos/{gid}"), Some(DIEGO))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, b) = salir(&app, &gid, Some(DIEGO)).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{b}");
    let (st, _) = salir(&app, &gid, None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let h = historial(&app, ANA, &gid).await;
    assert_eq!(
        sistema(&h)[2..],
        [
            "Ana Pérez quitó a Carla Díaz".to_owned(),
            "Diego Rojas salió del grupo".to_owned()
        ]
    );

    // The last admin leaving hands the role to the earliest-joined member left: Carla leaves
    // and comes back, so Bruno joined before her.
    let (g2, _) = crear_grupo(&app, ANA, "Relevo", &[BRUNO, CARLA]).await;
    let (st, b) = quitar(&app, &g2, Some(ANA), CARLA).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (st, b) = agregar(&app, &g2, ANA, CARLA).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (st, b) = salir(&app, &g2, Some(ANA)).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let admins = admins_en_bd(&app, &g2).await;
    assert_eq!(
        admins.len(),
        1,
        "exactly one member inherits the role: {admins:?}"
    );
    if let Variante::Live = v {
        // Only the `chat_*` variant records when each member joined (`fecha_union`).
        assert_eq!(admins, [BRUNO.to_owned()], "the earliest-joined member");
    }
    let heredero = admins[0].clone();
    let (st, b) = app
        .get(&format!("/api/chat/grupos/{g2}"), Some(&heredero))
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["grupo"]["soy_admin"], json!(true));
    assert_eq!(miembros(&b["grupo"]).len(), 2);
    let otro = if heredero == BRUNO { CARLA } else { BRUNO };
    // Leaving is `/salir`, not a DELETE of oneself (400, nothing changes); then the other is
    // alone, and admin.
    let antes = Foto::de(&app, v, &g2).await;
    let (st, b) = quitar(&app, &g2, Some(&heredero), &heredero).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    rechazo(&b);
    assert_eq!(Foto::de(&app, v, &g2).await, antes);
    let (st, b) = salir(&app, &g2, Some(&heredero)).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(admins_en_bd(&app, &g2).await, [otro.to_owned()]);
    let h = historial(&app, otro, &g2).await;
    let nombre = if heredero == BRUNO {
        "Bruno Soto"
    } else {
        "Carla Díaz"
    };
    assert_eq!(
        sistema(&h).last().cloned(),
        Some(format!("{nombre} salió del grupo"))
    );
}

async fn a_removed_member_is_refused_everywhere_and_stops_getting_the_rooms_events(v: Variante) {
    let app = servidor(v).await;
    let (gid, _) = crear_grupo(&app, ANA, "Caja", &[BRUNO, CARLA]).await;
    let privada = app.conversacion(ANA, CARLA).await;
    let c1 = app.enviar(CARLA, &gid, "antes de salir").await;
    let a1 = app.enviar(ANA, &gid, "de Ana").await;
    let s = en_sala(&app, &gid, &[("carla", CARLA), ("bruno", BRUNO)]).await;
    assert!(s.unirse("carla", &privada).await);
    let marca = s.marca("carla").await;
    let (st, b) = quitar(&app, &gid, Some(ANA), CARLA).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    esperar_removido(&s, "carla", &gid, marca).await;
    let despues = s.marca("carla").await;

    let (_, _, m) = v.tablas();
    let foto = Foto::de(&app, v, &gid).await;
    let (id_c1, id_a1) = (id(&c1), id(&a1));
    let rutas: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::GET,
            format!("/api/chat/conversaciones/{gid}/historial"),
            None,
        ),
        (Method::GET, format!("/api/chat/mensajes/{gid}"), None),
        (Method::GET, format!("/api/chat/grupos/{gid}"), None),
        (
            Method::POST,
            "/api/chat/mensaje/enviar".into(),
            Some(json!({"conversacion_id": gid, "contenido": "sigo aquí"})),
        ),
        (
            Method::POST,
            "/api/chat/send".into(),
            Some(json!({"conversacion_id": gid, "contenido": "sigo aquí v2"})),
        ),
        (
            Method::PATCH,
            format!("/api/chat/mensajes/{id_c1}"),
            Some(json!({"contenido": "cambiado"})),
        ),
        (Method::DELETE, format!("/api/chat/mensajes/{id_c1}"), None),
        (
            Method::POST,
            format!("/api/chat/mensajes/{id_a1}/reacciones"),
            Some(json!({"emoji": "👍"})),
        ),
        (
            Method::POST,
            format!("/api/chat/mensajes/{id_a1}/reaccion"),
            Some(json!({"emoji": "👍"})),
        ),
        (
            Method::POST,
            format!("/api/chat/mensajes/{id_a1}/fijado"),
            None,
        ),
        (
            Method::POST,
            format!("/api/chat/mensajes/{id_a1}/fijar"),
            None,
        ),
        (
            Method::POST,
            "/api/chat/mensaje/marcar-leido".into(),
            Some(json!({"conversacion_id": gid})),
        ),
        (
            Method::POST,
            format!("/api/chat/conversaciones/{gid}/entregado"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/chat/grupos/{gid}/miembros"),
            Some(json!({"usuario_id": DIEGO})),
        ),
        (Method::POST, format!("/api/chat/grupos/{gid}/salir"), None),
    ];
    for (metodo, ruta, body) in rutas {
        let (st, b) = pedir(&app, metodo.clone(), &ruta, Some(CARLA), body).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{metodo} {ruta}: {b}");
    }
    let datos = json!({"conversacion_id": gid, "contenido": "por socket"});
    ack_rechazado(&s, "carla", "mensaje_enviar", datos).await;
    let datos = json!({"conversacion_id": gid, "mensaje_id": a1["id"]});
    ack_rechazado(&s, "carla", "marcar_entregado", datos).await;
    assert!(
        !s.unirse("carla", &gid).await,
        "unirse_conversacion is refused"
    );
    let marca = s
        .emitir("carla", "escribiendo", json!({"conversacion_id": gid}))
        .await;
    s.esperar("carla", "error", json!({}), marca).await;
    // Nothing the refused calls tried is stored.
    assert_eq!(Foto::de(&app, v, &gid).await, foto);
    let fila = app
        .db
        .client
        .query_one(
            &format!("SELECT contenido, coalesce(editado, false), coalesce(eliminado, false) FROM {m} WHERE id::text = '{id_c1}'"),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (
            fila.get::<_, String>(0),
            fila.get::<_, bool>(1),
            fila.get::<_, bool>(2)
        ),
        ("antes de salir".to_owned(), false, false)
    );

    // Behind a barrier (a later message to Carla's other room), nothing of the group reached
    // her socket since the removal, while Bruno still gets the group's messages.
    let a2 = app.enviar(ANA, &gid, "ya no la ve").await;
    s.esperar("bruno", "mensaje_recibido", json!({"id": a2["id"]}), 0)
        .await;
    let barrera = app.enviar(ANA, &privada, "barrera").await;
    s.esperar(
        "carla",
        "mensaje_recibido",
        json!({"id": barrera["id"]}),
        despues,
    )
    .await;
    for evento in [
        "mensaje_recibido",
        "mensaje_editado",
        "mensaje_eliminado",
        "reacciones_actualizadas",
        "fijados_actualizados",
        "mensaje_visto",
        "mensaje_entregado",
    ] {
        let del_grupo = de_la_conversacion(&s, "carla", evento, despues, &gid).await;
        assert!(
            del_grupo.is_empty(),
            "{evento} after the removal: {del_grupo:?}"
        );
    }
    // Her other conversation still works.
    let (st, _) = app
        .get(
            &format!("/api/chat/conversaciones/{privada}/historial"),
            Some(CARLA),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
}
