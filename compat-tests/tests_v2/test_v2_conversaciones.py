"""CONTRACT-v2.md §1.1 GET /api/chat/conversaciones (`success` + `lista`: what the widget's
badge and user list read) and §1.2 GET /api/chat/users."""

import pytest

from compat.http import expect, sid

LISTA = pytest.mark.contract("1.1", "GET /api/chat/conversaciones")
USERS = pytest.mark.contract("1.2", "GET /api/chat/users")


def assert_item(c):
    assert {"conversacion_id", "usuario", "ultimo_mensaje", "fecha", "unread", "is_online"} <= set(c), c
    assert {"rut_usuario", "nombre", "rol"} <= set(c["usuario"]), c
    assert isinstance(c["ultimo_mensaje"], str), c
    assert c["fecha"] is None or isinstance(c["fecha"], str), c
    assert type(c["unread"]) is int and c["unread"] >= 0, c
    assert isinstance(c["is_online"], bool), c


@LISTA
def test_the_list_names_the_other_member_and_the_last_message(trio, token):
    trio.a.enviar_en(trio.conv, f"{token} 1")
    trio.b.enviar_en(trio.conv, f"{token} 2")
    body = expect(trio.a.conversaciones(), 200)
    assert body["success"] is True, body
    for c in body["lista"]:
        assert_item(c)
    c = trio.a.entrada(trio.conv)
    assert c is not None, f"conversation {trio.conv} not listed"
    assert c["usuario"]["rut_usuario"] == trio.b.rut and c["usuario"]["nombre"] == trio.b.nombre, c
    assert c["ultimo_mensaje"] == f"{token} 2" and c["fecha"], c


@LISTA
def test_an_opened_chat_without_messages_is_listed_empty(new_user):
    a, b = new_user("Ana"), new_user("Bruno")
    conv = a.abrir(b)
    c = a.entrada(conv)
    assert c is not None, f"conversation {conv} not listed"
    assert c["ultimo_mensaje"] == "" and c["fecha"] is None and c["unread"] == 0, c


@LISTA
def test_unread_counts_the_others_messages_until_seen(trio, token, sockets):
    before_a, before_b = trio.a.entrada(trio.conv)["unread"], trio.b.entrada(trio.conv)["unread"]
    sent = [trio.b.enviar_en(trio.conv, f"{token} {i}") for i in range(3)]
    trio.a.enviar_en(trio.conv, f"{token} mio")
    assert trio.a.entrada(trio.conv)["unread"] == before_a + 3
    assert trio.b.entrada(trio.conv)["unread"] == before_b + 1
    client = sockets(trio.a)
    client.join(trio.conv)
    since = client.mark()
    client.emit("seen", {"conversacion_id": trio.conv, "ultimo_id": sent[-1]["id"]})
    client.wait("mensaje_visto", since=since)
    assert trio.a.entrada(trio.conv)["unread"] == 0


@LISTA
def test_the_list_puts_the_latest_activity_first(new_user, token):
    a, b, c = new_user("Ana"), new_user("Bruno"), new_user("Carla")
    first = a.abrir(b)
    second = a.abrir(c)
    a.enviar_en(second, f"{token} 1")
    a.enviar_en(first, f"{token} 2")
    ids = [sid(x["conversacion_id"]) for x in a.lista()]
    assert ids.index(first) < ids.index(second), ids


@USERS
def test_users_lists_every_other_user_with_the_documented_shape(trio):
    body = expect(trio.a.users(), 200)
    assert body["success"] is True, body
    for u in body["usuarios"]:
        assert {"id", "nombre", "rol", "is_online", "ultima_actividad"} <= set(u), u
        assert isinstance(u["is_online"], bool), u
        assert u["ultima_actividad"] is None or isinstance(u["ultima_actividad"], str), u
    by_id = {u["id"]: u for u in body["usuarios"]}
    assert trio.a.rut not in by_id, "the caller is not listed"
    for user in (trio.b, trio.c):
        assert by_id[user.rut]["nombre"] == user.nombre, by_id[user.rut]
        if user.user.rol is not None:
            assert by_id[user.rut]["rol"] == user.user.rol, by_id[user.rut]


@USERS
def test_users_are_ordered_by_name_ignoring_case(new_user):
    caller = new_user("Zoe")
    carla, ana, bruno = new_user("carla"), new_user("Ana"), new_user("bruno")
    ids = [u["id"] for u in expect(caller.users(), 200)["usuarios"]]
    assert [i for i in ids if i in (ana.rut, bruno.rut, carla.rut)] == [ana.rut, bruno.rut, carla.rut]


@USERS
def test_a_user_who_sent_a_heartbeat_is_online(trio):
    expect(trio.b.post("/api/usuarios/heartbeat", {}), 200)
    [b] = [u for u in expect(trio.a.users(), 200)["usuarios"] if u["id"] == trio.b.rut]
    assert b["is_online"] is True, b
