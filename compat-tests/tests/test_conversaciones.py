"""CONTRACT.md §4 GET /api/chat/conversaciones (which always failed in the original)."""

import pytest

from compat.http import expect, sid
from compat import known
from compat.shapes import assert_conversation, assert_user_is

pytestmark = [
    pytest.mark.contract("4", "GET /api/chat/conversaciones"),
    pytest.mark.known_difference(known.LIST_BROKEN),
]


def test_conversaciones_lists_the_callers_conversations_with_the_documented_shape(trio, token):
    m = trio.b.enviar_ok(trio.conv, token)
    body = expect(trio.a.conversaciones(), 200)
    assert isinstance(body.get("conversaciones"), list), body
    for c in body["conversaciones"]:
        assert_conversation(c)
    c = trio.a.conversacion(trio.conv)
    assert c is not None, "the conversation is listed"
    assert c["nombre"] is None and c["es_grupal"] is False, "a 1:1 conversation"
    assert [u["id"] for u in c["participantes"]] == [trio.b.rut], "every participant but the caller"
    assert_user_is(c["participantes"][0], trio.b.user)
    last = c["ultimo_mensaje"]
    assert sid(last["id"]) == sid(m["id"])
    assert last["contenido"] == token
    assert last["usuario_id"] == trio.b.rut
    assert last["editado"] is False
    assert isinstance(last["fecha_envio"], str)
    assert isinstance(c["ultimo_mensaje_timestamp"], str)


def test_a_conversation_without_messages_has_no_ultimo_mensaje(new_user):
    a, b = new_user("Ana"), new_user("Bruno")
    conv = a.conversacion_con(b)
    c = a.conversacion(conv)
    assert c is not None and c["ultimo_mensaje"] is None, c
    assert c["no_leidos"] == 0


def test_conversaciones_are_ordered_by_most_recent_activity(trio, token):
    with_b = trio.conv
    with_c = trio.a.conversacion_con(trio.c)

    def order():
        ids = [sid(c["id"]) for c in expect(trio.a.conversaciones(), 200)["conversaciones"]]
        return [i for i in ids if i in (with_b, with_c)]

    trio.a.enviar_ok(with_b, token + " 1")
    trio.a.enviar_ok(with_c, token + " 2")
    assert order() == [with_c, with_b]
    trio.b.enviar_ok(with_b, token + " 3")
    assert order() == [with_b, with_c]


def test_non_participants_do_not_see_the_conversation(trio):
    assert trio.c.conversacion(trio.conv) is None
    assert trio.a.conversacion(trio.conv) is not None
    assert trio.b.conversacion(trio.conv) is not None
