"""The life of a message in our own API: the history page, edits, deletes, reactions, replies
and pins, in groups and 1:1 conversations."""

import pytest

from compat.http import expect, sid
from compat.propia import (assert_grupo, assert_mp, assert_reaccion, assert_v1_extras, expect_refused,
                           reacciones, unknown_like)
from compat.realtime import message_id, same_conversation, with_content

HISTORIAL = pytest.mark.extension("mensajes", "GET /api/chat/conversaciones/{id}/historial")
EDITAR = pytest.mark.extension("mensajes", "PATCH /api/chat/mensajes/{id}")
ELIMINAR = pytest.mark.extension("mensajes", "DELETE /api/chat/mensajes/{id}")
REACCIONES = pytest.mark.extension("mensajes", "POST /api/chat/mensajes/{id}/reacciones")
RESPUESTAS = pytest.mark.extension("mensajes", "replies (reply_to)")
FIJADO = pytest.mark.extension("mensajes", "POST / DELETE /api/chat/mensajes/{id}/fijado")
EDITADO_EV = pytest.mark.extension("mensajes", "mensaje_editado")
ELIMINADO_EV = pytest.mark.extension("mensajes", "mensaje_eliminado")
REACCIONES_EV = pytest.mark.extension("mensajes", "reacciones_actualizadas")
FIJADOS_EV = pytest.mark.extension("mensajes", "fijados_actualizados")
CON_V2 = pytest.mark.extension("mensajes", "one rule set with the v2 routes")
ENTREGA_MP = pytest.mark.extension("mensajes", "entrega on every MP of one's own")


def ids(messages):
    return [sid(m["id"]) for m in messages]


# The history page.

@HISTORIAL
def test_the_history_page_has_messages_pins_and_the_group(grupo, token):
    sent = grupo.b.enviar_ok(grupo.conv, token)
    assert_v1_extras(sent)
    assert sent["tipo"] == "texto" and sent["reply_to"] is None and sent["cita"] is None, sent
    body = grupo.a.pagina(grupo.conv)
    assert body["success"] is True, body
    assert body["fijados"] == [], body
    assert_grupo(body["grupo"], conv=grupo.conv, soy_admin=True, miembros=[grupo.a, grupo.b, grupo.c])
    system, mine = body["mensajes"][0], body["mensajes"][-1]
    assert_mp(system, grupo.conv, grupo.a, tipo="sistema")
    assert_mp(mine, grupo.conv, grupo.b, token)
    assert sid(mine["id"]) == sid(sent["id"]) and mine["es_mio"] is False and mine["entrega"] is None, mine
    own = grupo.b.mp(grupo.conv, sent["id"])
    assert own["es_mio"] is True and own["entrega"] is not None, own


@HISTORIAL
def test_the_history_page_pages_with_antes_and_limite(grupo, token):
    sent = [grupo.a.enviar_ok(grupo.conv, f"{token} {i}") for i in range(5)]
    page = grupo.b.mensajes_propios(grupo.conv, limite=2)
    assert ids(page) == ids(sent[-2:]), "the newest, oldest first"
    older = grupo.b.mensajes_propios(grupo.conv, limite=2, antes=sent[-2]["id"])
    assert ids(older) == ids(sent[1:3])


@HISTORIAL
def test_the_history_page_works_for_a_1_to_1_conversation(uno_a_uno, token):
    a, b, _, conv = uno_a_uno
    m = a.enviar_ok(conv, token)
    body = b.pagina(conv)
    assert body["grupo"]["es_grupal"] is False, body["grupo"]
    assert ids(body["mensajes"]) == [sid(m["id"])]
    assert_mp(body["mensajes"][0], conv, a, token)


@HISTORIAL
def test_a_non_member_may_not_read_the_history_page(grupo):
    expect_refused(grupo.d.historial_propio(grupo.conv), 403)


@HISTORIAL
def test_the_history_page_of_an_unknown_conversation_is_404(grupo):
    expect_refused(grupo.a.historial_propio(unknown_like(grupo.conv)), 404)


@HISTORIAL
@pytest.mark.parametrize("params", [{"limite": "x"}, {"limite": "0"}, {"limite": "-1"}, {"antes": "x y"}],
                         ids=["limite-text", "limite-0", "limite-negative", "antes-garbage"])
def test_the_history_page_refuses_bad_paging_with_400(grupo, params):
    expect_refused(grupo.a.historial_propio(grupo.conv, **params), 400)


@HISTORIAL
def test_the_history_page_without_a_session_is_401(http, grupo):
    expect_refused(http.get(f"/api/chat/conversaciones/{grupo.conv}/historial"), 401)


# Edit.

@EDITAR
def test_the_author_edits_a_message(grupo, token):
    m = grupo.b.enviar_ok(grupo.conv, token)
    body = expect(grupo.b.editar(m["id"], f"{token} editado"), 200)
    assert body["success"] is True, body
    assert_mp(body["mensaje"], grupo.conv, grupo.b, f"{token} editado", entrega=False)
    assert body["mensaje"]["editado"] is True
    seen = grupo.a.mp(grupo.conv, m["id"])
    assert seen["contenido"] == f"{token} editado" and seen["editado"] is True, seen
    v1 = [x for x in grupo.c.historial(grupo.conv) if sid(x["id"]) == sid(m["id"])]
    assert v1[0]["contenido"] == f"{token} editado" and v1[0]["editado"] is True, v1


@EDITADO_EV
def test_an_edit_is_announced_to_the_room(sockets, grupo, token):
    m = grupo.b.enviar_ok(grupo.conv, token)
    watcher = sockets(grupo.a)
    watcher.join(grupo.conv)
    since = watcher.mark()
    expect(grupo.b.editar(m["id"], f"{token} editado"), 200)
    p = watcher.wait("mensaje_editado", same_conversation(grupo.conv), since=since)
    assert sid(p["mensaje"]["id"]) == sid(m["id"]), p
    assert p["mensaje"]["contenido"] == f"{token} editado" and p["mensaje"]["editado"] is True, p
    assert_v1_extras(p["mensaje"])


@EDITAR
def test_nobody_edits_another_users_message_not_even_an_admin(grupo, token):
    m = grupo.b.enviar_ok(grupo.conv, token)
    for user in (grupo.a, grupo.c):
        expect_refused(user.editar(m["id"], "otro texto"), 403)
    assert grupo.b.mp(grupo.conv, m["id"])["contenido"] == token


@EDITAR
def test_a_non_member_may_not_edit(grupo, token):
    m = grupo.b.enviar_ok(grupo.conv, token)
    expect_refused(grupo.d.editar(m["id"], "otro texto"), 403)
    assert grupo.b.mp(grupo.conv, m["id"])["editado"] is False


@EDITAR
def test_editing_past_the_window_is_403(settings, database, grupo, token):
    m = grupo.b.enviar_ok(grupo.conv, token)
    database.backdate(m["id"], settings.edit_window_seconds + 60)
    expect_refused(grupo.b.editar(m["id"], f"{token} tarde"), 403)
    seen = grupo.a.mp(grupo.conv, m["id"])
    assert seen["contenido"] == token and seen["editado"] is False, seen


@EDITAR
def test_editing_just_inside_the_window_works(settings, database, grupo, token):
    m = grupo.b.enviar_ok(grupo.conv, token)
    database.backdate(m["id"], max(settings.edit_window_seconds - 60, 0))
    expect(grupo.b.editar(m["id"], f"{token} a tiempo"), 200)


@EDITAR
def test_a_system_message_cannot_be_edited_even_by_its_author(grupo):
    system = grupo.a.sistema(grupo.conv)[0]
    expect_refused(grupo.a.editar(system["id"], "otro texto"), 403)
    assert grupo.a.sistema(grupo.conv)[0]["contenido"] == system["contenido"]


@EDITAR
@pytest.mark.parametrize("body", [
    pytest.param({"contenido": ""}, id="empty"), pytest.param({"contenido": "   "}, id="blank"),
    pytest.param({}, id="missing"), pytest.param({"contenido": 5}, id="number"),
    pytest.param({"contenido": None}, id="null"),
])
def test_editing_with_no_text_is_400(grupo, token, body):
    m = grupo.b.enviar_ok(grupo.conv, token)
    expect_refused(grupo.b.editar(m["id"], body=body), 400)
    assert grupo.b.mp(grupo.conv, m["id"])["contenido"] == token


@EDITAR
def test_editing_past_the_length_limit_is_413(settings, grupo, token):
    m = grupo.b.enviar_ok(grupo.conv, token)
    expect_refused(grupo.b.editar(m["id"], "x" * (settings.max_message_chars + 1)), 413)
    assert grupo.b.mp(grupo.conv, m["id"])["contenido"] == token


@EDITAR
def test_editing_with_a_non_json_body_is_415(grupo, token):
    m = grupo.b.enviar_ok(grupo.conv, token)
    expect_refused(grupo.b.editar(m["id"], data='{"contenido": "x"}', headers={"Content-Type": "text/plain"}), 415)


@EDITAR
def test_editing_an_unknown_message_is_404(grupo, token):
    m = grupo.b.enviar_ok(grupo.conv, token)
    expect_refused(grupo.b.editar(unknown_like(m["id"]), "x"), 404)


@EDITAR
def test_editing_without_a_session_is_401(http, grupo, token):
    m = grupo.b.enviar_ok(grupo.conv, token)
    r = http.request("PATCH", f"/api/chat/mensajes/{m['id']}", json={"contenido": "x"}, headers={"Origin": http.origin})
    expect_refused(r, 401)


@ENTREGA_MP
def test_own_messages_carry_entrega_in_the_edit_answer_and_the_pins(grupo, token):
    m = grupo.b.enviar_ok(grupo.conv, token)
    edited = expect(grupo.b.editar(m["id"], f"{token} editado"), 200)["mensaje"]
    pins = expect(grupo.b.fijar(m["id"]), 200)["fijados"]
    page = grupo.b.pagina(grupo.conv)["fijados"]
    for where, mp in (("edit answer", edited), ("pin answer", pins[0]), ("history page pins", page[0])):
        assert mp["entrega"] is not None, f"MP of one's own message without entrega in the {where}: {mp}"
        assert_mp(mp, grupo.conv, grupo.b, f"{token} editado")


# Delete.

@ELIMINAR
def test_the_author_deletes_a_message_and_it_is_gone_everywhere(grupo, token):
    m = grupo.b.enviar_ok(grupo.conv, token)
    body = expect(grupo.b.eliminar(m["id"]), 200)
    assert body["success"] is True, body
    for user in (grupo.a, grupo.b, grupo.c):
        assert user.mp(grupo.conv, m["id"]) is None
        assert sid(m["id"]) not in ids(user.historial(grupo.conv))


@ELIMINAR
def test_a_group_admin_deletes_another_members_message(grupo, token):
    m = grupo.b.enviar_ok(grupo.conv, token)
    expect(grupo.a.eliminar(m["id"]), 200)
    assert grupo.c.mp(grupo.conv, m["id"]) is None


@ELIMINAR
def test_a_member_who_is_not_admin_may_not_delete_another_members_message(grupo, token):
    m = grupo.a.enviar_ok(grupo.conv, token)
    expect_refused(grupo.b.eliminar(m["id"]), 403)
    assert grupo.c.mp(grupo.conv, m["id"]) is not None


@ELIMINAR
def test_in_a_1_to_1_conversation_only_the_author_deletes(uno_a_uno, token):
    a, b, _, conv = uno_a_uno
    m = a.enviar_ok(conv, token)
    expect_refused(b.eliminar(m["id"]), 403)
    assert b.mp(conv, m["id"]) is not None


@ELIMINAR
def test_a_non_member_may_not_delete(grupo, token):
    m = grupo.b.enviar_ok(grupo.conv, token)
    expect_refused(grupo.d.eliminar(m["id"]), 403)
    assert grupo.a.mp(grupo.conv, m["id"]) is not None


@ELIMINAR
def test_deleting_an_unknown_or_deleted_message_is_404(grupo, token):
    m = grupo.b.enviar_ok(grupo.conv, token)
    expect(grupo.b.eliminar(m["id"]), 200)
    expect_refused(grupo.b.eliminar(m["id"]), 404)
    expect_refused(grupo.b.eliminar(unknown_like(m["id"])), 404)


@ELIMINAR
def test_deleting_without_a_session_is_401(http, grupo, token):
    m = grupo.b.enviar_ok(grupo.conv, token)
    expect_refused(http.request("DELETE", f"/api/chat/mensajes/{m['id']}", headers={"Origin": http.origin}), 401)
    assert grupo.a.mp(grupo.conv, m["id"]) is not None


@ELIMINADO_EV
def test_a_delete_is_announced_to_the_room(sockets, grupo, token):
    m = grupo.b.enviar_ok(grupo.conv, token)
    watcher = sockets(grupo.c)
    watcher.join(grupo.conv)
    since = watcher.mark()
    expect(grupo.a.eliminar(m["id"]), 200)
    p = watcher.wait("mensaje_eliminado", same_conversation(grupo.conv), since=since)
    assert sid(p["mensaje_id"]) == sid(m["id"]), p


# Reactions.

@REACCIONES
def test_a_reaction_toggles_on_and_off(grupo, token):
    m = grupo.b.enviar_ok(grupo.conv, token)
    body = expect(grupo.a.reaccionar(m["id"], "👍"), 200)
    assert body["success"] is True and sid(body["mensaje_id"]) == sid(m["id"]), body
    assert reacciones(body["reacciones"]) == [("👍", {grupo.a.rut})], body
    for r in body["reacciones"]:
        assert_reaccion(r)
    assert body["reacciones"][0]["mia"] is True and body["reacciones"][0]["cantidad"] == 1, body
    body = expect(grupo.a.reaccionar(m["id"], "👍"), 200)
    assert body["reacciones"] == [], body
    assert grupo.b.mp(grupo.conv, m["id"])["reacciones"] == []


@REACCIONES
def test_several_emoji_per_user_one_of_each_counted_in_first_use_order(grupo, token):
    m = grupo.c.enviar_ok(grupo.conv, token)
    expect(grupo.a.reaccionar(m["id"], "❤️"), 200)
    expect(grupo.a.reaccionar(m["id"], "👍"), 200)
    expect(grupo.b.reaccionar(m["id"], "👍"), 200)
    body = expect(grupo.b.reaccionar(m["id"], "😂"), 200)
    expected = [("❤️", {grupo.a.rut}), ("👍", {grupo.a.rut, grupo.b.rut}), ("😂", {grupo.b.rut})]
    assert reacciones(body["reacciones"]) == expected, body
    assert [r["cantidad"] for r in body["reacciones"]] == [1, 2, 1], body
    assert [r["mia"] for r in body["reacciones"]] == [False, True, True], "mia is the caller's"
    for viewer, mine in ((grupo.a, [True, True, False]), (grupo.c, [False, False, False])):
        seen = viewer.mp(grupo.conv, m["id"])["reacciones"]
        assert reacciones(seen) == expected, seen
        assert [r["mia"] for r in seen] == mine, seen


@REACCIONES
@pytest.mark.parametrize("body", [
    pytest.param({"emoji": "hola"}, id="text"), pytest.param({"emoji": ""}, id="empty"),
    pytest.param({"emoji": "<i>x</i>"}, id="html"), pytest.param({"emoji": "👍" * 20}, id="too-long"),
    pytest.param({"emoji": None}, id="null"), pytest.param({"emoji": 5}, id="number"),
    pytest.param({}, id="missing"), pytest.param(["👍"], id="a-list"),
])
def test_a_reaction_that_is_not_an_emoji_is_400_and_stores_nothing(grupo, token, body):
    m = grupo.b.enviar_ok(grupo.conv, token)
    expect_refused(grupo.a.reaccionar(m["id"], body=body), 400)
    assert grupo.a.mp(grupo.conv, m["id"])["reacciones"] == []


@REACCIONES
def test_a_non_member_may_not_react(grupo, token):
    m = grupo.b.enviar_ok(grupo.conv, token)
    expect_refused(grupo.d.reaccionar(m["id"], "👍"), 403)
    assert grupo.a.mp(grupo.conv, m["id"])["reacciones"] == []


@REACCIONES
def test_reacting_to_an_unknown_or_deleted_message_is_404(grupo, token):
    m = grupo.b.enviar_ok(grupo.conv, token)
    expect_refused(grupo.a.reaccionar(unknown_like(m["id"]), "👍"), 404)
    expect(grupo.b.eliminar(m["id"]), 200)
    expect_refused(grupo.a.reaccionar(m["id"], "👍"), 404)


@REACCIONES
def test_reacting_with_a_non_json_body_is_415(grupo, token):
    m = grupo.b.enviar_ok(grupo.conv, token)
    expect_refused(grupo.a.reaccionar(m["id"], data='{"emoji": "👍"}', headers={"Content-Type": "text/plain"}), 415)


@REACCIONES
def test_reacting_without_a_session_is_401(http, grupo, token):
    m = grupo.b.enviar_ok(grupo.conv, token)
    r = http.post(f"/api/chat/mensajes/{m['id']}/reacciones", json={"emoji": "👍"}, headers={"Origin": http.origin})
    expect_refused(r, 401)


@REACCIONES_EV
def test_reactions_are_announced_to_the_room(sockets, grupo, token):
    m = grupo.b.enviar_ok(grupo.conv, token)
    watcher = sockets(grupo.b)
    watcher.join(grupo.conv)
    since = watcher.mark()
    expect(grupo.a.reaccionar(m["id"], "👍"), 200)
    p = watcher.wait("reacciones_actualizadas", same_conversation(grupo.conv), since=since)
    assert sid(p["mensaje_id"]) == sid(m["id"]), p
    assert p["reacciones"] == [{"usuario_id": grupo.a.rut, "emoji": "👍"}], p
    since = watcher.mark()
    expect(grupo.a.reaccionar(m["id"], "👍"), 200)
    p = watcher.wait("reacciones_actualizadas", same_conversation(grupo.conv), since=since)
    assert p["reacciones"] == [], p


# Replies.

def cita_de(user, texto):
    return {"contenido": texto, "usuario_id": user.rut, "usuario_nombre": user.nombre}


def assert_quotes(m, original, cita):
    assert sid(m["reply_to"]) == sid(original["id"]), m
    assert isinstance(m["cita"], dict) and {k: m["cita"].get(k) for k in cita} == cita, m


@RESPUESTAS
def test_a_rest_reply_carries_its_quote_in_the_answer_and_the_history(grupo, token):
    original = grupo.a.enviar_ok(grupo.conv, f"{token} original")
    sent = expect(grupo.b.enviar(grupo.conv, f"{token} respuesta", reply_to=original["id"]), 201)["mensaje"]
    cita = cita_de(grupo.a, f"{token} original")
    assert_quotes(sent, original, cita)
    assert_quotes(grupo.c.mp(grupo.conv, sent["id"]), original, cita)


@RESPUESTAS
def test_a_reply_carries_its_quote_in_mensaje_recibido_and_both_histories(sockets, grupo, token):
    original = grupo.a.enviar_ok(grupo.conv, f"{token} original")
    sender, watcher = sockets(grupo.b), sockets(grupo.c)
    for s in (sender, watcher):
        s.join(grupo.conv)
    ack = sender.call("mensaje_enviar", {"conversacion_id": grupo.conv, "contenido": f"{token} respuesta",
                                         "reply_to": original["id"]})
    live = watcher.wait("mensaje_recibido", message_id(ack["id"]))
    page = grupo.c.mp(grupo.conv, ack["id"])
    v1 = [m for m in grupo.c.historial(grupo.conv) if sid(m["id"]) == sid(ack["id"])][0]
    cita = cita_de(grupo.a, f"{token} original")
    for m in (ack, live, page, v1):
        assert_quotes(m, original, cita)


@RESPUESTAS
def test_a_reply_over_the_socket_carries_its_quote(sockets, grupo, token):
    original = grupo.a.enviar_ok(grupo.conv, f"{token} original")
    sender = sockets(grupo.b)
    sender.join(grupo.conv)
    ack = sender.call("mensaje_enviar", {"conversacion_id": grupo.conv, "contenido": f"{token} respuesta",
                                         "reply_to": original["id"]})
    assert sid(ack["reply_to"]) == sid(original["id"]), ack
    assert ack["cita"]["contenido"] == f"{token} original", ack
    assert sid(grupo.a.mp(grupo.conv, ack["id"])["reply_to"]) == sid(original["id"])


@RESPUESTAS
def test_a_reply_to_a_message_of_another_conversation_is_400_and_stores_nothing(grupo, uno_a_uno, token):
    a, b, _, conv = uno_a_uno
    elsewhere = a.enviar_ok(conv, f"{token} secreto")
    expect_refused(grupo.b.enviar(grupo.conv, f"{token} respuesta", reply_to=elsewhere["id"]), 400)
    assert not [m for m in grupo.a.mensajes_propios(grupo.conv) if m["contenido"] == f"{token} respuesta"]


@RESPUESTAS
def test_a_socket_reply_to_a_message_of_another_conversation_is_refused(sockets, grupo, uno_a_uno, token):
    a, _, _, conv = uno_a_uno
    elsewhere = a.enviar_ok(conv, f"{token} secreto")
    sender = sockets(grupo.b)
    sender.join(grupo.conv)
    ack = sender.call("mensaje_enviar", {"conversacion_id": grupo.conv, "contenido": f"{token} respuesta",
                                         "reply_to": elsewhere["id"]})
    assert isinstance(ack, dict) and ack.get("success") is False and isinstance(ack.get("error"), str), ack
    sender.barrier(grupo.conv)
    assert not sender.received("mensaje_recibido", with_content(f"{token} respuesta"))
    assert not [m for m in grupo.a.mensajes_propios(grupo.conv) if m["contenido"] == f"{token} respuesta"]


@RESPUESTAS
def test_a_reply_to_an_unknown_message_is_400(grupo, token):
    original = grupo.a.enviar_ok(grupo.conv, f"{token} original")
    expect_refused(grupo.b.enviar(grupo.conv, f"{token} respuesta", reply_to=unknown_like(original["id"])), 400)


# Pins.

@FIJADO
def test_several_pins_in_pin_order_and_unpin(grupo, token):
    first, second, third = (grupo.a.enviar_ok(grupo.conv, f"{token} {i}") for i in range(3))
    expect(grupo.b.fijar(third["id"]), 200)
    expect(grupo.c.fijar(first["id"]), 200)
    body = expect(grupo.a.fijar(second["id"]), 200)
    assert body["success"] is True, body
    order = [sid(third["id"]), sid(first["id"]), sid(second["id"])]
    assert ids(body["fijados"]) == order, body
    for m in body["fijados"]:
        assert_mp(m, grupo.conv, grupo.a, entrega=False)
    assert ids(grupo.c.pagina(grupo.conv)["fijados"]) == order
    body = expect(grupo.b.desfijar(first["id"]), 200)
    assert ids(body["fijados"]) == [sid(third["id"]), sid(second["id"])], body
    assert ids(grupo.a.pagina(grupo.conv)["fijados"]) == [sid(third["id"]), sid(second["id"])]


@FIJADO
def test_pinning_twice_keeps_one_pin(grupo, token):
    m = grupo.a.enviar_ok(grupo.conv, token)
    expect(grupo.a.fijar(m["id"]), 200)
    body = expect(grupo.b.fijar(m["id"]), 200)
    assert ids(body["fijados"]) == [sid(m["id"])], body


@FIJADO
def test_a_deleted_message_drops_out_of_the_pins(grupo, token):
    kept, gone = grupo.a.enviar_ok(grupo.conv, f"{token} 1"), grupo.b.enviar_ok(grupo.conv, f"{token} 2")
    expect(grupo.a.fijar(kept["id"]), 200)
    expect(grupo.a.fijar(gone["id"]), 200)
    expect(grupo.b.eliminar(gone["id"]), 200)
    assert ids(grupo.c.pagina(grupo.conv)["fijados"]) == [sid(kept["id"])]


@FIJADO
def test_more_than_20_pins_is_409(grupo, token):
    sent = [grupo.a.enviar_ok(grupo.conv, f"{token} {i}") for i in range(21)]
    for m in sent[:20]:
        expect(grupo.a.fijar(m["id"]), 200)
    expect_refused(grupo.a.fijar(sent[20]["id"]), 409)
    assert len(grupo.a.pagina(grupo.conv)["fijados"]) == 20


@FIJADO
def test_a_non_member_may_not_pin_or_unpin(grupo, token):
    m = grupo.a.enviar_ok(grupo.conv, token)
    expect_refused(grupo.d.fijar(m["id"]), 403)
    assert grupo.a.pagina(grupo.conv)["fijados"] == []
    expect(grupo.a.fijar(m["id"]), 200)
    expect_refused(grupo.d.desfijar(m["id"]), 403)
    assert ids(grupo.a.pagina(grupo.conv)["fijados"]) == [sid(m["id"])]


@FIJADO
def test_pinning_an_unknown_message_is_404(grupo, token):
    m = grupo.a.enviar_ok(grupo.conv, token)
    expect_refused(grupo.a.fijar(unknown_like(m["id"])), 404)
    expect_refused(grupo.a.desfijar(unknown_like(m["id"])), 404)


@FIJADO
def test_pinning_without_a_session_is_401(http, grupo, token):
    m = grupo.a.enviar_ok(grupo.conv, token)
    expect_refused(http.post(f"/api/chat/mensajes/{m['id']}/fijado", headers={"Origin": http.origin}), 401)
    assert grupo.a.pagina(grupo.conv)["fijados"] == []


@FIJADOS_EV
def test_pins_are_announced_to_the_room_in_pin_order(sockets, grupo, token):
    first, second = grupo.a.enviar_ok(grupo.conv, f"{token} 1"), grupo.a.enviar_ok(grupo.conv, f"{token} 2")
    watcher = sockets(grupo.c)
    watcher.join(grupo.conv)
    since = watcher.mark()
    expect(grupo.a.fijar(second["id"]), 200)
    p = watcher.wait("fijados_actualizados", same_conversation(grupo.conv), since=since)
    assert [sid(x) for x in p["fijados"]] == [sid(second["id"])], p
    since = watcher.mark()
    expect(grupo.b.fijar(first["id"]), 200)
    p = watcher.wait("fijados_actualizados", same_conversation(grupo.conv), since=since)
    assert [sid(x) for x in p["fijados"]] == [sid(second["id"]), sid(first["id"])], p
    since = watcher.mark()
    expect(grupo.b.desfijar(second["id"]), 200)
    p = watcher.wait("fijados_actualizados", same_conversation(grupo.conv), since=since)
    assert [sid(x) for x in p["fijados"]] == [sid(first["id"])], p


# The v2 generation's reactions and pins are the same rows.

@CON_V2
def test_a_v2_reaction_is_one_of_our_reactions_and_replaces_only_its_authors(uno_a_uno, token):
    a, b, _, conv = uno_a_uno
    m = a.enviar_ok(conv, token)
    expect(a.reaccionar(m["id"], "❤️"), 200)
    expect(b.reaccionar(m["id"], "👍"), 200)
    expect(b.reaccionar(m["id"], "😂"), 200)
    expect(b.post(f"/api/chat/mensajes/{m['id']}/reaccion", {"emoji": "😮"}), 200)
    seen = reacciones(a.mp(conv, m["id"])["reacciones"])
    assert seen == [("❤️", {a.rut}), ("😮", {b.rut})], f"v2 keeps one reaction per user: {seen}"


@CON_V2
def test_a_v2_pin_is_one_of_our_pins(uno_a_uno, token):
    a, b, _, conv = uno_a_uno
    first, second = a.enviar_ok(conv, f"{token} 1"), a.enviar_ok(conv, f"{token} 2")
    expect(a.fijar(first["id"]), 200)
    expect(b.post(f"/api/chat/mensajes/{second['id']}/fijar"), 200)
    assert ids(b.pagina(conv)["fijados"]) == [sid(first["id"]), sid(second["id"])]
