"""CONTRACT-v2.md §1.6 POST /api/chat/mensajes/<id>/reaccion (one emoji per user and message; a
new one replaces the old) and §7.6 (emoji only; DELETE removes it; read back in history)."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from compat import known_v2 as known
from compat.http import expect
from compat.widget import PICKER, expect_msg

pytestmark = pytest.mark.contract("1.6", "POST /api/chat/mensajes/<id>/reaccion")


@pytest.mark.parametrize("emoji", PICKER)
def test_each_picker_emoji_is_accepted_and_echoed(trio, token, emoji):
    m = trio.a.enviar_en(trio.conv, token)
    body = expect(trio.b.reaccion(m["id"], emoji), 200)
    assert body["success"] is True and body["emoji"] == emoji, body


def test_the_emoji_is_trimmed(trio, token):
    m = trio.a.enviar_en(trio.conv, token)
    assert expect(trio.b.reaccion(m["id"], "  👍 "), 200)["emoji"] == "👍"


def test_the_author_may_react_to_their_own_message(trio, token):
    m = trio.a.enviar_en(trio.conv, token)
    expect(trio.a.reaccion(m["id"], "❤️"), 200)


@pytest.mark.known_difference(known.REACTIONS_NEVER_READ)
def test_a_second_reaction_replaces_the_first(trio, token):
    m = trio.a.enviar_en(trio.conv, token)
    expect(trio.b.reaccion(m["id"], "👍"), 200)
    expect(trio.b.reaccion(m["id"], "😮"), 200)
    [seen] = trio.b.mensajes_con(trio.a, token)
    assert seen.get("reaction") == "😮", seen
    assert seen.get("reacciones") == {"😮": 1}, seen


@pytest.mark.known_difference(known.REACTIONS_NEVER_READ)
def test_twenty_concurrent_reactions_of_one_user_leave_one(trio, token, http):
    m = trio.a.enviar_en(trio.conv, token)

    def react(i):
        return trio.b.on(http.fresh()).reaccion(m["id"], PICKER[i % len(PICKER)]).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert set(pool.map(react, range(20))) == {200}
    [seen] = trio.a.mensajes_con(trio.b, token)
    assert sum((seen.get("reacciones") or {}).values()) == 1, seen


@pytest.mark.parametrize("body", [
    pytest.param({}, id="no-emoji"),
    pytest.param({"emoji": ""}, id="empty"),
    pytest.param({"emoji": "   "}, id="blank"),
])
def test_a_missing_emoji_is_refused_with_400(trio, token, body):
    m = trio.a.enviar_en(trio.conv, token)
    expect_msg(trio.b.reaccion(m["id"], body=body), 400, "Emoji requerido")


@pytest.mark.known_difference(known.NULL_EMOJI_500)
def test_a_null_emoji_is_refused_with_400(trio, token):
    m = trio.a.enviar_en(trio.conv, token)
    expect_msg(trio.b.reaccion(m["id"], None), 400)


@pytest.mark.parametrize("emoji", [
    pytest.param("<i>x</i>!!", id="markup", marks=pytest.mark.known_difference(known.ANY_REACTION_TEXT)),
    pytest.param("hola", id="text", marks=pytest.mark.known_difference(known.ANY_REACTION_TEXT)),
    pytest.param("👍" * 11, id="over-10-characters", marks=pytest.mark.known_difference(known.LONG_REACTION_200)),
])
def test_a_reaction_that_is_not_one_emoji_is_refused_with_400(trio, token, emoji):
    m = trio.a.enviar_en(trio.conv, token)
    expect_msg(trio.b.reaccion(m["id"], emoji), 400)


def test_an_unknown_message_is_404(trio):
    expect_msg(trio.a.reaccion(999999999, "👍"), 404, "Mensaje no encontrado")


def test_a_non_participant_gets_403(trio, token):
    m = trio.a.enviar_en(trio.conv, token)
    expect_msg(trio.c.reaccion(m["id"], "👍"), 403, "Sin acceso")


@pytest.mark.known_difference(known.NO_REACTION_REMOVAL)
def test_delete_removes_the_callers_reaction(trio, token):
    m = trio.a.enviar_en(trio.conv, token)
    expect(trio.b.reaccion(m["id"], "👍"), 200)
    body = expect(trio.b.quitar_reaccion(m["id"]), 200)
    assert body["success"] is True and body.get("emoji") is None, body
    [seen] = trio.a.mensajes_con(trio.b, token)
    assert not seen.get("reacciones") and seen.get("reaction") is None, seen
