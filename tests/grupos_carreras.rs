//! Groups under concurrency (issue 12): concurrent adds of one member, concurrent edits of one
//! message, a removal racing sends over REST and Socket.IO, and a removal through one instance
//! taking effect on another instance's sockets (two servers sharing Redis).

mod common;
mod grupos_comun;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::{ANA, BRUNO, CARLA, Sockets, Variante, arrancar};
use futures_util::future::join_all;
use grupos_comun::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

en_ambas_variantes!(
    twenty_concurrent_adds_of_one_member_give_one_membership,
    concurrent_edits_leave_one_of_the_texts_and_each_answer_its_own,
    a_removal_racing_sends_either_stores_them_before_it_or_refuses_them,
);

en_postgrest_tambien!(
    twenty_concurrent_adds_live: twenty_concurrent_adds_of_one_member_give_one_membership(Live),
    a_removal_racing_sends_live: a_removal_racing_sends_either_stores_them_before_it_or_refuses_them(Live),
);

async fn twenty_concurrent_adds_of_one_member_give_one_membership(v: Variante) {
    let app = servidor(v).await;
    let (gid, _) = crear_grupo(&app, ANA, "Multitud", &[BRUNO, CARLA]).await;
    // Two admins race each other too.
    let (st, b) = nombrar_admin(&app, &gid, ANA, BRUNO, true).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let respuestas = join_all((0..20).map(|i| {
        let actor = if i % 2 == 0 { ANA } else { BRUNO };
        agregar(&app, &gid, actor, DIEGO)
    }))
    .await;
    let ok = respuestas
        .iter()
        .filter(|(s, _)| *s == StatusCode::OK)
        .count();
    let conflicto = respuestas
        .iter()
        .filter(|(s, _)| *s == StatusCode::CONFLICT)
        .count();
    assert_eq!((ok, conflicto), (1, 19), "{respuestas:?}");
    let (_, p, _) = v.tablas();
    let sql = format!(
        "SELECT count(*) FROM {p} WHERE conversacion_id::text = '{gid}' AND usuario_id = '{DIEGO}'"
    );
    assert_eq!(contar(&app, &sql).await, 1, "one membership");
    let h = historial(&app, DIEGO, &gid).await;
    let agregados = sistema(&h)
        .iter()
        .filter(|t| t.ends_with("agregó a Diego Rojas"))
        .count();
    assert_eq!(agregados, 1, "one system message");
}

async fn concurrent_edits_leave_one_of_the_texts_and_each_answer_its_own(v: Variante) {
    let app = servidor(v).await;
    let (gid, _) = crear_grupo(&app, ANA, "Versiones", &[BRUNO, CARLA]).await;
    let s = en_sala(&app, &gid, &[("bruno", BRUNO)]).await;
    let msg = app.enviar(ANA, &gid, "versión inicial").await;
    let textos: Vec<String> = (0..20).map(|i| format!("versión {i}")).collect();
    let marca = s.marca("bruno").await;
    let mid = id(&msg);
    let respuestas = join_all(textos.iter().map(|t| editar(&app, &mid, ANA, t))).await;
    for ((st, b), texto) in respuestas.iter().zip(&textos) {
        assert_eq!(*st, StatusCode::OK, "{b}");
        assert_eq!(
            b["mensaje"]["contenido"],
            texto.as_str(),
            "an edit answers with its own text"
        );
        assert_eq!(b["mensaje"]["editado"], json!(true));
    }
    let (guardado, editado) = fila_mensaje(&app, v, &id(&msg)).await;
    assert!(editado);
    assert!(
        textos.contains(&guardado),
        "the row holds one of the texts: {guardado}"
    );
    // Every edit was announced to the room, and history shows the stored text.
    for texto in &textos {
        s.esperar(
            "bruno",
            "mensaje_editado",
            json!({"conversacion_id": gid, "mensaje": {"id": msg["id"], "contenido": texto}}),
            marca,
        )
        .await;
    }
    let h = historial(&app, BRUNO, &gid).await;
    assert_eq!(
        buscar(&h["mensajes"], &msg["id"])["contenido"],
        guardado.as_str()
    );
}

async fn a_removal_racing_sends_either_stores_them_before_it_or_refuses_them(v: Variante) {
    let app = servidor(v).await;
    let (gid, _) = crear_grupo(&app, ANA, "Carrera", &[BRUNO, CARLA]).await;
    let s = en_sala(&app, &gid, &[("bruno", BRUNO), ("carla", CARLA)]).await;
    // Carla sends over the socket in the background and over REST in a loop; Ana removes her
    // once three REST sends went through.
    s.rafaga(
        "carla",
        "socket",
        "mensaje_enviar",
        json!({"conversacion_id": gid}),
        60,
        "socket ",
    )
    .await;
    let exitos = AtomicUsize::new(0);
    let quitado = AtomicBool::new(false);
    let listos = tokio::sync::Notify::new();
    // Four REST senders; each send with whether the removal had already answered when it
    // started.
    let bucle = |k: usize| {
        let (app, gid, exitos, quitado, listos) = (&app, &gid, &exitos, &quitado, &listos);
        async move {
            let mut resultados = Vec::new();
            let mut tras_quitar = 0;
            for i in 0.. {
                let ya_quitada = quitado.load(Ordering::SeqCst);
                if ya_quitada {
                    tras_quitar += 1;
                    if tras_quitar > 3 {
                        break;
                    }
                }
                let (st, b) = pedir(
                    app,
                    Method::POST,
                    "/api/chat/mensaje/enviar",
                    Some(CARLA),
                    Some(json!({"conversacion_id": gid, "contenido": format!("rest {k}.{i}")})),
                )
                .await;
                if st == StatusCode::CREATED && exitos.fetch_add(1, Ordering::SeqCst) + 1 == 3 {
                    listos.notify_one();
                }
                resultados.push((st, b, ya_quitada));
            }
            resultados
        }
    };
    let envios = async { join_all((0..4).map(bucle)).await.concat() };
    let quitar = async {
        listos.notified().await;
        let r = quitar(&app, &gid, Some(ANA), CARLA).await;
        quitado.store(true, Ordering::SeqCst);
        r
    };
    let (resultados, (st, b)) = tokio::join!(envios, quitar);
    assert_eq!(st, StatusCode::OK, "the removal: {b}");
    for (st, b, ya_quitada) in &resultados {
        assert!(
            *st == StatusCode::FORBIDDEN || (*st == StatusCode::CREATED && !ya_quitada),
            "a send {} the removal answered: {st} {b}",
            if *ya_quitada { "after" } else { "before" }
        );
    }
    let acks = s.rafaga_fin("socket").await;

    let mut aceptados: HashSet<String> = resultados
        .iter()
        .filter(|(st, _, _)| *st == StatusCode::CREATED)
        .map(|(_, b, _)| id(&b["mensaje"]))
        .collect();
    for ack in &acks {
        if ack.get("id").is_some() {
            aceptados.insert(id(ack));
        } else {
            assert_eq!(
                ack["success"],
                json!(false),
                "an ack is a message or a refusal: {ack}"
            );
        }
    }
    assert!(aceptados.len() >= 3);
    // Stored = accepted, and every stored send comes before the removal's system message.
    let (_, _, m) = v.tablas();
    let guardados: HashSet<String> = app
        .db
        .client
        .query(
            &format!(
                "SELECT id::text FROM {m} WHERE conversacion_id::text = $1 AND usuario_id = $2"
            ),
            &[&gid, &CARLA],
        )
        .await
        .unwrap()
        .iter()
        .map(|f| f.get(0))
        .collect();
    assert_eq!(
        guardados, aceptados,
        "refused sends store nothing; accepted ones are stored"
    );
    let despues_de = match v {
        Variante::Live => "(x.fecha_envio, x.id) > (q.fecha_envio, q.id)",
        Variante::Migration => "x.fecha_envio >= q.fecha_envio",
    };
    let tardios = contar(
        &app,
        &format!(
            "SELECT count(*) FROM {m} x, {m} q \
             WHERE q.conversacion_id::text = '{gid}' AND q.tipo = 'sistema' AND q.contenido = 'Ana Pérez quitó a Carla Díaz' \
               AND x.conversacion_id = q.conversacion_id AND x.usuario_id = '{CARLA}' AND {despues_de}"
        ),
    )
    .await;
    assert_eq!(
        tardios, 0,
        "a send of the removed member stored after the removal"
    );
    let quitado = contar(
        &app,
        &format!(
            "SELECT count(*) FROM {m} WHERE conversacion_id::text = '{gid}' AND tipo = 'sistema' AND contenido = 'Ana Pérez quitó a Carla Díaz'"
        ),
    )
    .await;
    assert_eq!(quitado, 1);

    // The remaining member got every accepted send, and nothing else of Carla's.
    for mid in &aceptados {
        s.esperar("bruno", "mensaje_recibido", json!({"id": mid}), 0)
            .await;
    }
    let fin = app.enviar(ANA, &gid, "fin").await;
    s.esperar("bruno", "mensaje_recibido", json!({"id": fin["id"]}), 0)
        .await;
    for recibido in s.recibidos("bruno", "mensaje_recibido", 0).await {
        if recibido["usuario_id"] == CARLA {
            assert!(
                aceptados.contains(&id(&recibido)),
                "delivered but refused: {recibido}"
            );
        }
    }
}

#[tokio::test]
async fn a_member_removed_through_one_instance_loses_the_room_on_the_other_at_once() {
    let redis = std::env::var("TEST_REDIS_URL")
        .expect("TEST_REDIS_URL is not set: run the tests through scripts/test, which starts a private Redis");
    // Its own channel prefix, so tests running in parallel never share rooms.
    let prefijo = format!("prueba-grupos-{}", std::process::id());
    let ajustes = [
        ("REDIS_URL", redis.as_str()),
        ("REDIS_PREFIX", prefijo.as_str()),
    ];
    let app = servidor_con(Variante::Live, &ajustes).await;
    let (_segunda, base_b) = arrancar(&app.db.url, &ajustes).await;
    let (gid, _) = crear_grupo(&app, ANA, "Dos instancias", &[BRUNO, CARLA]).await;
    let privada = app.conversacion(ANA, CARLA).await;
    let s = Sockets::iniciar();
    // Carla has a socket on each instance; Bruno and Diego are on B; every REST call goes to A.
    s.conectar("carla_b", &base_b, CARLA).await;
    s.conectar("carla_a", &app.base, CARLA).await;
    s.conectar("bruno", &base_b, BRUNO).await;
    s.conectar("diego", &base_b, DIEGO).await;
    for socket in ["carla_b", "carla_a"] {
        assert!(s.unirse(socket, &gid).await);
        assert!(s.unirse(socket, &privada).await);
    }
    assert!(s.unirse("bruno", &gid).await);
    let antes = app.enviar(ANA, &gid, "antes").await;
    s.esperar("carla_b", "mensaje_recibido", json!({"id": antes["id"]}), 0)
        .await;

    let marcas = [s.marca("carla_b").await, s.marca("carla_a").await];
    let (st, b) = quitar(&app, &gid, Some(ANA), CARLA).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let mut despues = Vec::new();
    for (socket, marca) in ["carla_b", "carla_a"].into_iter().zip(marcas) {
        esperar_removido(&s, socket, &gid, marca).await;
        despues.push(s.marca(socket).await);
    }
    // Right after the notice: the group's next message reaches Bruno on B but neither of
    // Carla's sockets (checked behind a barrier message to her other conversation).
    let siguiente = app.enviar(ANA, &gid, "después").await;
    s.esperar(
        "bruno",
        "mensaje_recibido",
        json!({"id": siguiente["id"]}),
        0,
    )
    .await;
    let barrera = app.enviar(ANA, &privada, "barrera").await;
    for (socket, desde) in ["carla_b", "carla_a"]
        .into_iter()
        .zip(despues.iter().copied())
    {
        s.esperar(
            socket,
            "mensaje_recibido",
            json!({"id": barrera["id"]}),
            desde,
        )
        .await;
        let del_grupo = de_la_conversacion(&s, socket, "mensaje_recibido", desde, &gid).await;
        assert!(
            del_grupo.is_empty(),
            "{socket} still gets the group: {del_grupo:?}"
        );
    }
    // On B she can neither rejoin nor send.
    assert!(
        !s.unirse("carla_b", &gid).await,
        "unirse_conversacion refused on B"
    );
    let datos = json!({"conversacion_id": gid, "contenido": "¿hola?"});
    ack_rechazado(&s, "carla_b", "mensaje_enviar", datos).await;
    let (_, _, m) = Variante::Live.tablas();
    let sql = format!(
        "SELECT count(*) FROM {m} WHERE conversacion_id::text = '{gid}' AND contenido = '¿hola?'"
    );
    assert_eq!(contar(&app, &sql).await, 0);
    // An add through A reaches the new member on B at once.
    let marca = s.marca("diego").await;
    let (st, b) = agregar(&app, &gid, ANA, DIEGO).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    s.esperar(
        "diego",
        "nueva_conversacion",
        json!({"conversacion": {"id": gid}}),
        marca,
    )
    .await;
    assert!(s.unirse("diego", &gid).await);
}
