"""CONTRACT-v2.md §1.3 GET /api/chat/history/<rut>: opens (finds or creates) the 1:1 chat with
the user `rut`, with its newest 50 messages, both read markers and the pinned message."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from compat import known_v2 as known
from compat.http import expect, sid
from compat.widget import assert_row, expect_msg

pytestmark = pytest.mark.contract("1.3", "GET /api/chat/history/<rut>")


def test_history_opens_a_new_chat_with_the_documented_shape(new_user):
    a, b = new_user("Ana"), new_user("Bruno")
    body = expect(a.history(b.rut), 200)
    assert body["success"] is True, body
    assert type(body["conversacion_id"]) is int or isinstance(body["conversacion_id"], str), body
    assert body["mensajes"] == [], body
    assert body["last_seen_me"] is None and body["last_seen_other"] is None, body
    assert body["mensaje_fijado"] is None, body


def test_both_users_open_the_same_conversation(trio):
    assert trio.b.abrir(trio.a) == trio.conv
    assert trio.a.abrir(trio.b) == trio.conv


def test_history_lists_the_messages_of_both_oldest_first_as_rows(trio, token):
    sent = [trio.a.enviar_en(trio.conv, f"{token} 1"), trio.b.enviar_a(trio.a, f"{token} 2")]
    mensajes = [m for m in trio.b.historial(trio.a)["mensajes"] if m["contenido"].startswith(token)]
    assert [sid(m["id"]) for m in mensajes] == [sid(m["id"]) for m in sent]
    assert_row(mensajes[0], trio.conv, trio.a, f"{token} 1")
    assert_row(mensajes[1], trio.conv, trio.b, f"{token} 2")
    assert all("reply_to" in m and m["reply_to"] is None for m in mensajes), mensajes


def test_history_gives_the_newest_50_messages_oldest_first(trio, token):
    sent = [sid(trio.a.enviar_en(trio.conv, f"{token} {i}")["id"]) for i in range(55)]
    ids = [sid(m["id"]) for m in trio.b.historial(trio.a)["mensajes"]]
    assert ids == sent[-50:]


@pytest.mark.known_difference(known.RAW_ROWS)
def test_history_messages_carry_the_author_name(trio, token):
    trio.a.enviar_en(trio.conv, token)
    [m] = trio.b.mensajes_con(trio.a, token)
    assert m.get("usuario_nombre") == trio.a.nombre, m


@pytest.mark.known_difference(known.RAW_ROWS)
def test_history_replies_carry_the_quoted_message(trio, token):
    original = trio.a.enviar_en(trio.conv, f"{token} original")
    trio.b.enviar_en(trio.conv, f"{token} respuesta", reply_to=original["id"])
    [r] = trio.a.mensajes_con(trio.b, f"{token} respuesta")
    assert sid(r["reply_to"]) == sid(original["id"]), r
    assert r.get("reply_to_content") == f"{token} original", r
    assert r.get("reply_to_user_id") == trio.a.rut and r.get("reply_to_user_name") == trio.a.nombre, r


@pytest.mark.known_difference(known.REACTIONS_NEVER_READ)
def test_history_messages_carry_their_reaction(trio, token):
    m = trio.a.enviar_en(trio.conv, token)
    expect(trio.b.reaccion(m["id"], "😂"), 200)
    [seen_by_a] = trio.a.mensajes_con(trio.b, token)
    assert seen_by_a.get("reaction") == "😂", seen_by_a
    [seen_by_b] = trio.b.mensajes_con(trio.a, token)
    assert seen_by_b.get("reaction") == "😂", seen_by_b


@pytest.mark.known_difference(known.UNKNOWN_RUT_500)
def test_an_unknown_rut_is_404_and_creates_nothing(trio, unknown_rut):
    before = len(trio.a.lista())
    expect_msg(trio.a.history(unknown_rut), 404)
    assert len(trio.a.lista()) == before


@pytest.mark.known_difference(known.SELF_CHAT)
def test_the_callers_own_rut_is_refused_with_400(new_user):
    # A brand-new user: the original's self-chat would hijack that user's later chats.
    ana = new_user("Ana")
    expect_msg(ana.history(ana.rut), 400)


@pytest.mark.known_difference(known.SELF_CHAT_HIJACK)
def test_a_self_chat_never_captures_other_users_chats(new_user):
    ana, carla = new_user("Ana"), new_user("Carla")
    carla.history(carla.rut)  # refused by a fixed server; a self-chat in the original
    conv = carla.abrir(ana)
    assert ana.abrir(carla) == conv, "both open the same conversation"
    m = carla.enviar_a(ana, "para Ana")
    assert [sid(x["id"]) for x in ana.mensajes_con(carla, "para Ana")] == [sid(m["id"])]


@pytest.mark.known_difference(known.NOT_ATOMIC)
def test_twenty_concurrent_first_opens_give_one_conversation(new_user, http):
    """Five pairs, each opened by 20 requests that leave together: a race shows in one round
    or another, while a server that is atomic gives one conversation every time."""
    counts = []
    for _ in range(5):
        a, b = new_user("Ana"), new_user("Bruno")
        clients = [((a, b) if i % 2 else (b, a), http.fresh()) for i in range(20)]
        start = threading.Barrier(20)

        def open_once(i):
            (user, other), client = clients[i]
            start.wait()  # the 20 requests leave together
            return expect(user.on(client).history(other.rut), 200)["conversacion_id"]

        with ThreadPoolExecutor(max_workers=20) as pool:
            counts.append(len({sid(c) for c in pool.map(open_once, range(20))}))
    assert counts == [1] * 5, f"conversations per pair: {counts}"
