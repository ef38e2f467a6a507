"""CONTRACT-v2.md §1.5 GET /api/chat/mensajes/<id>: one message by id (the widget fetches a
replied-to message missing from its cache). On a server that also serves v1 this path also
means "conversation <id>" (§6): the v2 answer is the `mensaje` key."""

import pytest

from compat import known_v2 as known
from compat.http import expect, sid
from compat.widget import assert_row, expect_msg

pytestmark = pytest.mark.contract("1.5", "GET /api/chat/mensajes/<id>")


def test_both_participants_read_a_message_by_id(trio, token):
    m = trio.a.enviar_en(trio.conv, token)
    for user in (trio.a, trio.b):
        body = expect(user.mensaje(m["id"]), 200)
        assert body["success"] is True, body
        assert_row(body["mensaje"], trio.conv, trio.a, token)
        assert sid(body["mensaje"]["id"]) == sid(m["id"])


@pytest.mark.known_difference(known.RAW_ROWS)
def test_the_message_carries_its_author_name(trio, token):
    m = trio.a.enviar_en(trio.conv, token)
    assert expect(trio.b.mensaje(m["id"]), 200)["mensaje"].get("usuario_nombre") == trio.a.nombre


def test_a_non_participant_gets_403_and_not_the_message(trio, token):
    m = trio.a.enviar_en(trio.conv, token)
    r = trio.c.mensaje(m["id"])
    assert token not in r.text
    expect_msg(r, 403, "No tienes acceso a este mensaje")


def test_an_unknown_message_gets_mensaje_no_encontrado(trio):
    """404 in the original; a server that serves v1 too may answer v1's 403 for this path
    (an unknown conversation there) with v2's text under `msg` (CONTRACT-v2.md §6)."""
    r = trio.a.mensaje(999999999)
    assert r.status_code in (403, 404), r.text
    expect_msg(r, r.status_code, "Mensaje no encontrado")
