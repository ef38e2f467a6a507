"""Delivery states: enviado (stored) → entregado (the recipient's page said it arrived, REST or
socket `marcar_entregado`) → leido (read marker); "leido_por" in groups; live events."""

import pytest

from compat.http import expect, sid
from compat.propia import expect_refused, unknown_like
from compat.realtime import same_conversation

ENTREGADO = pytest.mark.extension("entrega", "POST /api/chat/conversaciones/{id}/entregado")
MARCAR = pytest.mark.extension("entrega", "marcar_entregado")
ESTADOS = pytest.mark.extension("entrega", "entrega in the history page")
EVENTO = pytest.mark.extension("entrega", "mensaje_entregado")
VISTO = pytest.mark.extension("entrega", "mensaje_visto")


def entrega(user, conv, mensaje_id):
    m = user.mp(conv, mensaje_id)
    assert m is not None, f"message {mensaje_id} not in {user}'s history page"
    return m["entrega"]


def state(e):
    """`entrega` with its rut lists as sets."""
    return e["estado"], e["destinatarios"], set(e["entregado_a"]), set(e["leido_por"])


@ESTADOS
def test_1_to_1_enviado_then_entregado_then_leido(uno_a_uno, token):
    a, b, _, conv = uno_a_uno
    m = a.enviar_ok(conv, token)
    assert state(entrega(a, conv, m["id"])) == ("enviado", 1, set(), set())
    body = expect(b.entregado(conv), 200)
    assert body["success"] is True and sid(body["ultimo"]) == sid(m["id"]), body
    assert state(entrega(a, conv, m["id"])) == ("entregado", 1, {b.rut}, set())
    b.leer_todo(conv)
    assert state(entrega(a, conv, m["id"])) == ("leido", 1, {b.rut}, {b.rut})
    assert b.mp(conv, m["id"])["entrega"] is None, "only one's own messages carry entrega"


@ESTADOS
def test_reading_without_a_delivery_mark_counts_as_delivered(uno_a_uno, token):
    a, b, _, conv = uno_a_uno
    m = a.enviar_ok(conv, token)
    b.leer_todo(conv)
    assert state(entrega(a, conv, m["id"])) == ("leido", 1, {b.rut}, {b.rut})


@ESTADOS
def test_delivery_up_to_a_message_leaves_later_ones_enviado(uno_a_uno, token):
    a, b, _, conv = uno_a_uno
    first, second = a.enviar_ok(conv, f"{token} 1"), a.enviar_ok(conv, f"{token} 2")
    body = expect(b.entregado(conv, first["id"]), 200)
    assert sid(body["ultimo"]) == sid(first["id"]), body
    assert entrega(a, conv, first["id"])["estado"] == "entregado"
    assert entrega(a, conv, second["id"])["estado"] == "enviado"


@ESTADOS
def test_groups_count_who_read_each_message(grupo, token):
    m = grupo.a.enviar_ok(grupo.conv, token)
    assert state(entrega(grupo.a, grupo.conv, m["id"])) == ("enviado", 2, set(), set())
    expect(grupo.b.entregado(grupo.conv), 200)
    grupo.c.leer_todo(grupo.conv)
    e = entrega(grupo.a, grupo.conv, m["id"])
    assert (e["destinatarios"], set(e["entregado_a"]), set(e["leido_por"])) == (2, {grupo.b.rut, grupo.c.rut},
                                                                                 {grupo.c.rut}), e
    assert e["estado"] in ("entregado", "leido"), e
    grupo.b.leer_todo(grupo.conv)
    assert state(entrega(grupo.a, grupo.conv, m["id"])) == ("leido", 2, {grupo.b.rut, grupo.c.rut},
                                                            {grupo.b.rut, grupo.c.rut})


@ESTADOS
def test_the_recipients_are_the_current_members(grupo, token):
    m = grupo.a.enviar_ok(grupo.conv, token)
    expect(grupo.a.agregar(grupo.conv, grupo.d.rut), 200)
    expect(grupo.a.quitar(grupo.conv, grupo.c.rut), 200)
    e = entrega(grupo.a, grupo.conv, m["id"])
    assert e["destinatarios"] == 2, e
    expect(grupo.b.entregado(grupo.conv), 200)
    assert set(entrega(grupo.a, grupo.conv, m["id"])["entregado_a"]) <= {grupo.b.rut, grupo.d.rut}


@ENTREGADO
def test_the_delivery_marker_never_moves_back(uno_a_uno, token):
    a, b, _, conv = uno_a_uno
    first, second = a.enviar_ok(conv, f"{token} 1"), a.enviar_ok(conv, f"{token} 2")
    expect(b.entregado(conv, second["id"]), 200)
    body = expect(b.entregado(conv, first["id"]), 200)
    assert body["ultimo"] is None, f"ultimo is the new marker when it moved, else null: {body}"
    assert entrega(a, conv, second["id"])["estado"] == "entregado"


@ENTREGADO
def test_the_read_marker_never_moves_back(uno_a_uno, token):
    a, b, _, conv = uno_a_uno
    first, second = a.enviar_ok(conv, f"{token} 1"), a.enviar_ok(conv, f"{token} 2")
    expect(b.marcar_leido(conv, second["id"]), 200)
    expect(b.marcar_leido(conv, first["id"]), 200)
    assert entrega(a, conv, second["id"])["estado"] == "leido"


@ENTREGADO
def test_a_non_member_may_not_mark_delivery(grupo, token):
    m = grupo.a.enviar_ok(grupo.conv, token)
    expect_refused(grupo.d.entregado(grupo.conv), 403)
    expect_refused(grupo.d.entregado(grupo.conv, m["id"]), 403)
    assert entrega(grupo.a, grupo.conv, m["id"])["entregado_a"] == []


@ENTREGADO
def test_marking_delivery_up_to_a_message_of_another_conversation_is_404(grupo, uno_a_uno, token):
    a, _, _, conv = uno_a_uno
    elsewhere = a.enviar_ok(conv, token)
    m = grupo.a.enviar_ok(grupo.conv, token)
    expect_refused(grupo.b.entregado(grupo.conv, elsewhere["id"]), 404)
    assert entrega(grupo.a, grupo.conv, m["id"])["entregado_a"] == []


@ENTREGADO
@pytest.mark.parametrize("mensaje_id", [pytest.param("no es un id", id="garbage"), pytest.param([1], id="a-list"),
                                        pytest.param({"id": 1}, id="an-object")])
def test_marking_delivery_with_a_bad_mensaje_id_is_400(grupo, mensaje_id):
    expect_refused(grupo.b.entregado(grupo.conv, mensaje_id), 400)


@ENTREGADO
def test_marking_delivery_in_an_unknown_conversation_is_404(grupo):
    expect_refused(grupo.b.entregado(unknown_like(grupo.conv)), 404)


@ENTREGADO
def test_marking_delivery_without_a_session_is_401(http, grupo):
    r = http.post(f"/api/chat/conversaciones/{grupo.conv}/entregado", json={}, headers={"Origin": http.origin})
    expect_refused(r, 401)


@MARCAR
def test_marcar_entregado_over_the_socket_marks_and_acks(sockets, uno_a_uno, token):
    a, b, _, conv = uno_a_uno
    m = a.enviar_ok(conv, token)
    ack = sockets(b).call("marcar_entregado", {"conversacion_id": conv, "mensaje_id": m["id"]})
    assert isinstance(ack, dict) and ack.get("success") is True, ack
    assert entrega(a, conv, m["id"])["estado"] == "entregado"


@MARCAR
def test_marcar_entregado_by_a_non_member_is_refused(sockets, grupo, token):
    m = grupo.a.enviar_ok(grupo.conv, token)
    ack = sockets(grupo.d).call("marcar_entregado", {"conversacion_id": grupo.conv, "mensaje_id": m["id"]})
    assert isinstance(ack, dict) and ack.get("success") is False and isinstance(ack.get("error"), str), ack
    assert entrega(grupo.a, grupo.conv, m["id"])["entregado_a"] == []


@MARCAR
@pytest.mark.parametrize("payload", [pytest.param("x", id="string"), pytest.param([1], id="list"),
                                     pytest.param({}, id="empty"), pytest.param({"conversacion_id": None}, id="null")])
def test_marcar_entregado_with_a_bad_payload_is_refused(sockets, grupo, payload):
    ack = sockets(grupo.b).call("marcar_entregado", payload)
    assert isinstance(ack, dict) and ack.get("success") is False and isinstance(ack.get("error"), str), ack


@EVENTO
def test_delivery_is_announced_to_the_room(sockets, uno_a_uno, token):
    a, b, _, conv = uno_a_uno
    m = a.enviar_ok(conv, token)
    watcher = sockets(a)
    watcher.join(conv)
    since = watcher.mark()
    sockets(b).call("marcar_entregado", {"conversacion_id": conv, "mensaje_id": m["id"]})
    p = watcher.wait("mensaje_entregado", same_conversation(conv), since=since)
    assert p["usuario_id"] == b.rut and sid(p["ultimo_id"]) == sid(m["id"]), p


@VISTO
def test_reading_is_announced_to_the_room(sockets, grupo, token):
    m = grupo.a.enviar_ok(grupo.conv, token)
    watcher = sockets(grupo.a)
    watcher.join(grupo.conv)
    since = watcher.mark()
    grupo.c.leer_todo(grupo.conv)
    p = watcher.wait("mensaje_visto", same_conversation(grupo.conv), since=since)
    assert p["usuario_id"] == grupo.c.rut and sid(p["ultimo_id"]) == sid(m["id"]), p
