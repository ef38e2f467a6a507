"""CONTRACT-v2.md §1.7 DELETE /api/chat/mensajes/<id>: the author deletes their message; it is
gone from every read path with its pin (§7.8)."""

import pytest

from compat.http import expect, sid
from compat.widget import expect_msg

pytestmark = pytest.mark.contract("1.7", "DELETE /api/chat/mensajes/<id>")


def test_the_author_deletes_a_message_and_it_is_gone_for_both(trio, token):
    m = trio.a.enviar_en(trio.conv, token)
    body = expect(trio.a.eliminar(m["id"]), 200)
    assert body["success"] is True, body
    for user, other in ((trio.a, trio.b), (trio.b, trio.a)):
        assert user.mensajes_con(other, token) == []
        assert user.visible(m["id"]) is None


def test_deleting_a_message_twice_is_404(trio, token):
    m = trio.a.enviar_en(trio.conv, token)
    expect(trio.a.eliminar(m["id"]), 200)
    expect_msg(trio.a.eliminar(m["id"]), 404, "Mensaje no encontrado")


def test_the_other_participant_may_not_delete_it(trio, token):
    m = trio.a.enviar_en(trio.conv, token)
    expect_msg(trio.b.eliminar(m["id"]), 403, "Solo puedes eliminar tus propios mensajes")
    assert [sid(x["id"]) for x in trio.b.mensajes_con(trio.a, token)] == [sid(m["id"])]


def test_a_non_participant_may_not_delete_it(trio, token):
    m = trio.a.enviar_en(trio.conv, token)
    expect_msg(trio.c.eliminar(m["id"]), 403)
    assert len(trio.b.mensajes_con(trio.a, token)) == 1


def test_an_unknown_message_is_404(trio):
    expect_msg(trio.a.eliminar(999999999), 404, "Mensaje no encontrado")


def test_deleting_the_pinned_message_clears_the_pin(trio, token):
    m = trio.a.enviar_en(trio.conv, token)
    expect(trio.b.fijar(m["id"]), 200)
    expect(trio.a.eliminar(m["id"]), 200)
    assert trio.b.historial(trio.a)["mensaje_fijado"] is None
