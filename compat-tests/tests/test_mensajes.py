"""CONTRACT.md §4 GET /api/chat/mensajes/<conversacion_id> and GET /api/chat/mensajes?conversacion_id=."""

from urllib.parse import quote

import pytest

from compat import known
from compat.http import expect, expect_error, sid
from compat.shapes import MESSAGE_KEYS, SENDER_KEYS, assert_message, assert_user_is

PATH = pytest.mark.contract("4", "GET /api/chat/mensajes/<id>")
QUERY = pytest.mark.contract("4", "GET /api/chat/mensajes?conversacion_id=")


def by_path(user, conv, **params):
    return user.get(f"/api/chat/mensajes/{quote(str(conv), safe='')}", params=params)


def by_query(user, conv, **params):
    return user.get("/api/chat/mensajes", params={"conversacion_id": conv, **params})


BOTH_FORMS = pytest.mark.parametrize("fetch", [
    pytest.param(by_path, marks=PATH, id="path"),
    pytest.param(by_query, marks=QUERY, id="query"),
])


@BOTH_FORMS
def test_mensajes_returns_each_message_with_the_documented_shape(trio, token, fetch):
    mine = trio.a.enviar_ok(trio.conv, token + " de ana")
    theirs = trio.b.enviar_ok(trio.conv, token + " de bruno")
    body = expect(fetch(trio.a, trio.conv), 200)
    assert isinstance(body.get("mensajes"), list), body
    found = {sid(m["id"]): m for m in body["mensajes"]}
    m, t = found[sid(mine["id"])], found[sid(theirs["id"])]
    # eliminado: test_mensajes_carry_eliminado_false
    assert_message(m, trio.conv, trio.a, token + " de ana", keys=MESSAGE_KEYS - {"eliminado"})
    assert_message(t, trio.conv, trio.b, token + " de bruno", keys=MESSAGE_KEYS - {"eliminado"})
    assert (m["es_mio"], m["es_propio"]) == (True, True)
    assert (t["es_mio"], t["es_propio"]) == (False, False)
    for msg, sender in ((m, trio.a), (t, trio.b)):
        assert_user_is(msg["usuario"], sender.user, keys=SENDER_KEYS | {"rol"})
    assert [sid(x["id"]) for x in body["mensajes"]][-2:] == [sid(mine["id"]), sid(theirs["id"])], "ascending"


@BOTH_FORMS
@pytest.mark.known_difference(known.NO_ELIMINADO)
def test_mensajes_carry_eliminado_false(trio, token, fetch):
    sent = trio.a.enviar_ok(trio.conv, token)
    found = [m for m in expect(fetch(trio.a, trio.conv), 200)["mensajes"] if sid(m["id"]) == sid(sent["id"])]
    assert found and found[0].get("eliminado") is False, found


@QUERY
def test_mensajes_query_without_conversacion_id_answers_400(trio):
    expect_error(trio.a.get("/api/chat/mensajes"), 400, "Falta conversacion_id")


@PATH
@pytest.mark.known_difference(known.OLDEST_100)
def test_mensajes_returns_the_newest_100_in_ascending_order(trio, token):
    sent = []
    for i in range(101):
        sender = trio.a if i % 3 else trio.b
        sent.append(sid(sender.enviar_ok(trio.conv, f"{token} {i:03d}")["id"]))
    for fetch in (by_path, by_query):
        got = [sid(m["id"]) for m in expect(fetch(trio.a, trio.conv), 200)["mensajes"]]
        assert len(got) == 100, f"{fetch.__name__}: {len(got)} messages"
        assert got == sent[1:], f"{fetch.__name__}: the newest 100, oldest first"


@PATH
@pytest.mark.known_difference(known.OLDEST_100)
def test_antes_and_limite_page_backwards(trio, token):
    sent = [sid(trio.a.enviar_ok(trio.conv, f"{token} {i}")["id"]) for i in range(6)]
    newest = [sid(m["id"]) for m in expect(by_path(trio.a, trio.conv, limite=3), 200)["mensajes"]]
    assert newest == sent[3:]
    older = [sid(m["id"]) for m in expect(by_path(trio.a, trio.conv, antes=newest[0], limite=2), 200)["mensajes"]]
    assert older == sent[1:3]
    via_query = [sid(m["id"]) for m in expect(by_query(trio.a, trio.conv, antes=newest[0], limite=2), 200)["mensajes"]]
    assert via_query == sent[1:3]


@BOTH_FORMS
def test_mensajes_refuses_a_non_participant_with_403(trio, fetch):
    expect_error(fetch(trio.c, trio.conv), 403, "No tienes acceso a esta conversación")


@pytest.mark.parametrize("conv", ["no-es-un-id", "999999999", "00000000-0000-0000-0000-000000000000",
                                  "1;DROP TABLE usuarios"])
@BOTH_FORMS
def test_mensajes_refuses_ids_that_do_not_exist_or_do_not_parse_with_403(trio, fetch, conv):
    expect_error(fetch(trio.a, conv), 403, "No tienes acceso a esta conversación")


@PATH
@pytest.mark.known_difference(known.LIST_NEEDED)
def test_reading_mensajes_does_not_mark_anything_read(trio, token):
    trio.b.leer_todo(trio.conv)
    trio.a.enviar_ok(trio.conv, token)
    assert trio.b.no_leidos(trio.conv) == 1
    trio.b.historial(trio.conv)
    by_query(trio.b, trio.conv)
    assert trio.b.no_leidos(trio.conv) == 1
