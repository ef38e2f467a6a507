"""CONTRACT-v2.md §1.8 POST /api/chat/mensajes/<id>/fijar and §1.9 /desfijar: one pinned message
per conversation; any participant pins; desfijar clears only the pinned one (§7.7)."""

import pytest

from compat import known_v2 as known
from compat.http import expect, sid
from compat.widget import assert_row, expect_msg

FIJAR = pytest.mark.contract("1.8", "POST /api/chat/mensajes/<id>/fijar")
DESFIJAR = pytest.mark.contract("1.9", "POST /api/chat/mensajes/<id>/desfijar")


def pinned(user, other):
    return user.historial(other)["mensaje_fijado"]


@FIJAR
def test_a_participant_pins_a_message_and_both_see_it(trio, token):
    m = trio.a.enviar_en(trio.conv, token)
    body = expect(trio.b.fijar(m["id"]), 200)
    assert body["success"] is True, body
    for user, other in ((trio.a, trio.b), (trio.b, trio.a)):
        p = pinned(user, other)
        assert_row(p, trio.conv, trio.a, token)
        assert sid(p["id"]) == sid(m["id"])


@FIJAR
def test_a_second_pin_replaces_the_first(trio, token):
    first, second = trio.a.enviar_en(trio.conv, f"{token} 1"), trio.b.enviar_en(trio.conv, f"{token} 2")
    expect(trio.a.fijar(first["id"]), 200)
    expect(trio.a.fijar(second["id"]), 200)
    assert sid(pinned(trio.b, trio.a)["id"]) == sid(second["id"])


@FIJAR
def test_a_non_participant_may_not_pin(trio, token):
    m = trio.a.enviar_en(trio.conv, token)
    before = pinned(trio.a, trio.b)
    expect_msg(trio.c.fijar(m["id"]), 403, "Sin acceso")
    assert sid((pinned(trio.a, trio.b) or {}).get("id")) == sid((before or {}).get("id"))


@FIJAR
def test_pinning_an_unknown_message_is_404(trio):
    expect_msg(trio.a.fijar(999999999), 404, "Mensaje no encontrado")


@DESFIJAR
def test_unpinning_the_pinned_message_clears_the_pin(trio, token):
    m = trio.a.enviar_en(trio.conv, token)
    expect(trio.a.fijar(m["id"]), 200)
    body = expect(trio.b.desfijar(m["id"]), 200)
    assert body["success"] is True, body
    assert pinned(trio.a, trio.b) is None


@DESFIJAR
@pytest.mark.known_difference(known.UNPIN_ANY)
def test_unpinning_a_message_that_is_not_pinned_changes_nothing(trio, token):
    kept, other = trio.a.enviar_en(trio.conv, f"{token} 1"), trio.a.enviar_en(trio.conv, f"{token} 2")
    expect(trio.a.fijar(kept["id"]), 200)
    expect(trio.b.desfijar(other["id"]), 200)
    assert sid((pinned(trio.a, trio.b) or {}).get("id")) == sid(kept["id"])


@DESFIJAR
def test_a_non_participant_may_not_unpin(trio, token):
    m = trio.a.enviar_en(trio.conv, token)
    expect(trio.a.fijar(m["id"]), 200)
    expect_msg(trio.c.desfijar(m["id"]), 403, "Sin acceso")
    assert sid(pinned(trio.a, trio.b)["id"]) == sid(m["id"])


@DESFIJAR
def test_unpinning_an_unknown_message_is_404(trio):
    expect_msg(trio.a.desfijar(999999999), 404, "Mensaje no encontrado")
