"""CONTRACT-v2.md §2: the widget's Socket.IO events (long-polling, as the widget; connection
tests also over WebSocket). Events a test waits for come with a timeout; before checking that
an event did *not* arrive, a test makes a round trip on the same socket (`barrier`)."""

import pytest
from socketio.exceptions import ConnectionError as SocketConnectionError

from compat import known_v2 as known
from compat.cookies import INVALID_KINDS, NEEDS_SECRET, invalid_cookie
from compat.http import expect, sid
from compat.realtime import with_content
from compat.widget import assert_m, mensaje_id_is, msg_is

CONNECT = pytest.mark.contract("2", "connect")
JOIN = pytest.mark.contract("2", "join")
LEAVE = pytest.mark.contract("2", "leave")
SEND = pytest.mark.contract("2", "send")
SEEN = pytest.mark.contract("2", "seen")
NUEVO = pytest.mark.contract("2", "mensaje_nuevo")
REACCION = pytest.mark.contract("2", "reaccion_agregada")
ELIMINADO = pytest.mark.contract("2", "mensaje_eliminado")
FIJADO = pytest.mark.contract("2", "mensaje_fijado")
DESFIJADO = pytest.mark.contract("2", "mensaje_desfijado")
ERROR = pytest.mark.contract("2", "error")

TRANSPORTS = pytest.mark.parametrize("transports", [["polling"], ["websocket"], ["polling", "websocket"]],
                                     ids=["polling", "websocket", "upgrade"])
SINGLE_TRANSPORT = pytest.mark.parametrize("transport", ["polling", "websocket"])


def joined(sockets, user, conv):
    client = sockets(user)
    client.join(conv)
    return client


# connect

@CONNECT
@TRANSPORTS
def test_a_socket_with_the_session_cookie_receives_ws_connected(sockets, trio, transports):
    client = sockets.client(cookie=trio.a.cookie, transports=transports)
    client.connect()
    assert client.wait("ws_connected") == {"usuario_id": trio.a.rut}
    assert client.sio.transport() == transports[-1]


@CONNECT
@SINGLE_TRANSPORT
@pytest.mark.parametrize("kind", INVALID_KINDS)
def test_a_socket_without_a_valid_session_is_refused(sockets, settings, flask_cookies, trio, kind, transport):
    if kind in NEEDS_SECRET and flask_cookies is None:
        pytest.skip("needs --secret-key (the test signs its own cookies)")
    cookie = invalid_cookie(kind, trio.a.user, trio.a.cookie, settings, flask_cookies)
    client = sockets.client(cookie=cookie, transports=[transport])
    with pytest.raises(SocketConnectionError):
        client.connect()
    assert client.connect_error is not None and not client.connected
    assert not client.received("ws_connected")


@CONNECT
@pytest.mark.known_difference(known.OPEN_SOCKET_ORIGINS)
@SINGLE_TRANSPORT
def test_a_handshake_from_a_foreign_origin_is_refused(sockets, settings, trio, transport):
    client = sockets.client(cookie=trio.a.cookie, origin=settings.foreign_origin, transports=[transport])
    with pytest.raises(SocketConnectionError):
        client.connect()
    assert not client.received("ws_connected")


# join / leave

@JOIN
@pytest.mark.parametrize("as_string", [False, True], ids=["number", "string"])
def test_join_replies_joined_with_the_room_as_a_string(sockets, trio, as_string):
    client = sockets(trio.a)
    conv = trio.conv if as_string else (int(trio.conv) if trio.conv.isdigit() else trio.conv)
    since = client.mark()
    client.emit("join", {"conversacion_id": conv})
    assert client.wait("joined", since=since) == {"conversacion_id": trio.conv}


@JOIN
def test_a_non_participant_cannot_join_and_hears_nothing(sockets, trio, token):
    outsider = sockets(trio.c)
    since = outsider.mark()
    outsider.emit("join", {"conversacion_id": trio.conv})
    outsider.wait("error", msg_is("No perteneces a la conversacion"), since=since)
    trio.a.enviar_en(trio.conv, token)
    outsider.barrier(trio.c.abrir(trio.a))
    assert not outsider.received("mensaje_nuevo", with_content(token))
    assert not outsider.received("joined", lambda p: p.get("conversacion_id") == trio.conv)


@LEAVE
@pytest.mark.known_difference(known.LEAVE_IGNORED)
def test_after_leave_the_rooms_events_stop(sockets, trio, token):
    client = joined(sockets, trio.a, trio.conv)
    m = trio.a.enviar_en(trio.conv, token)
    client.emit("leave", {"conversacion_id": trio.conv})
    client.barrier(trio.a.abrir(trio.c))
    since = client.mark()
    expect(trio.b.reaccion(m["id"], "👍"), 200)
    client.barrier(trio.a.abrir(trio.c))
    assert not client.received("reaccion_agregada", since=since), "a socket that left still hears the room"


# send and mensaje_nuevo

@SEND
@pytest.mark.parametrize("transports", [None, ["websocket"]], ids=["default", "websocket"])
def test_send_reaches_the_room_sender_included(sockets, trio, token, transports):
    a, b = sockets(trio.a, transports=transports), sockets(trio.b, transports=transports)
    a.join(trio.conv)
    b.join(trio.conv)
    a.emit("send", {"conversacion_id": trio.conv, "contenido": token})
    for client in (a, b):
        assert_m(client.wait("mensaje_nuevo", with_content(token)), trio.conv, trio.a, token)
    assert len(trio.b.mensajes_con(trio.a, token)) == 1


@NUEVO
def test_a_socket_in_the_room_gets_each_message_once(sockets, trio, token):
    b = joined(sockets, trio.b, trio.conv)
    trio.a.enviar_en(trio.conv, token)
    b.wait("mensaje_nuevo", with_content(token))
    b.barrier(trio.conv)
    assert len(b.received("mensaje_nuevo", with_content(token))) == 1


@NUEVO
def test_a_rest_send_reaches_the_joined_sockets_of_both_members(sockets, trio, token):
    a, b = joined(sockets, trio.a, trio.conv), joined(sockets, trio.b, trio.conv)
    m = trio.a.enviar_a(trio.b, token)
    for client in (a, b):
        assert sid(client.wait("mensaje_nuevo", with_content(token))["id"]) == sid(m["id"])


@NUEVO
@pytest.mark.known_difference(known.NO_PERSONAL_ROOM)
def test_mensaje_nuevo_reaches_a_member_who_has_not_opened_the_chat(sockets, trio, token):
    b = sockets(trio.b)
    b.barrier(trio.b.abrir(trio.c))
    trio.a.enviar_en(trio.conv, token)
    b.wait("mensaje_nuevo", with_content(token))


@NUEVO
@pytest.mark.known_difference(known.NO_USUARIO_NOMBRE)
def test_mensaje_nuevo_carries_the_author_name(sockets, trio, token):
    b = joined(sockets, trio.b, trio.conv)
    trio.a.enviar_en(trio.conv, token)
    assert b.wait("mensaje_nuevo", with_content(token)).get("usuario_nombre") == trio.a.nombre


@SEND
def test_a_socket_reply_carries_the_quoted_text(sockets, trio, token):
    original = trio.b.enviar_en(trio.conv, f"{token} original")
    a = joined(sockets, trio.a, trio.conv)
    a.emit("send", {"conversacion_id": trio.conv, "contenido": token, "reply_to": original["id"]})
    m = a.wait("mensaje_nuevo", with_content(token))
    assert sid(m["reply_to"]) == sid(original["id"]) and m.get("reply_to_content") == f"{token} original", m


@SEND
@pytest.mark.known_difference(known.REPLY_UNCHECKED)
def test_a_socket_reply_into_another_conversation_is_refused(sockets, trio, token):
    secret = trio.c.enviar_a(trio.b, f"{token} secreto")
    a = joined(sockets, trio.a, trio.conv)
    since = a.mark()
    a.emit("send", {"conversacion_id": trio.conv, "contenido": token, "reply_to": secret["id"]})
    a.wait("error", since=since)
    a.barrier(trio.conv)
    assert not a.received("mensaje_nuevo", with_content(token))
    assert trio.b.mensajes_con(trio.a, token) == []


@SEND
@pytest.mark.known_difference(known.NO_LENGTH_LIMIT_BY_ID)
def test_a_socket_send_past_the_length_limit_is_refused(sockets, settings, trio, token):
    text = (token + " " + "x" * settings.max_message_chars)[:settings.max_message_chars + 1]
    a = joined(sockets, trio.a, trio.conv)
    since = a.mark()
    a.emit("send", {"conversacion_id": trio.conv, "contenido": text})
    a.wait("error", msg_is("Mensaje demasiado largo"), since=since)
    assert trio.b.mensajes_con(trio.a, text) == []


@SEND
def test_a_non_participant_socket_send_is_refused_and_stores_nothing(sockets, trio, token):
    c = sockets(trio.c)
    since = c.mark()
    c.emit("send", {"conversacion_id": trio.conv, "contenido": token})
    c.wait("error", msg_is("No se pudo enviar el mensaje"), since=since)
    assert trio.a.mensajes_con(trio.b, token) == []


@SEND
def test_a_blank_socket_send_is_refused_and_stores_nothing(sockets, trio):
    a = joined(sockets, trio.a, trio.conv)
    since = a.mark()
    a.emit("send", {"conversacion_id": trio.conv, "contenido": "   "})
    a.wait("error", msg_is("No se pudo enviar el mensaje"), since=since)
    a.barrier(trio.conv)
    assert not a.received("mensaje_nuevo", since=since)


# seen and mensaje_visto

@SEEN
def test_seen_announces_mensaje_visto_to_the_room_and_sets_the_marker(sockets, trio, token):
    m = trio.a.enviar_en(trio.conv, token)
    a, b = joined(sockets, trio.a, trio.conv), joined(sockets, trio.b, trio.conv)
    b.emit("seen", {"conversacion_id": trio.conv, "ultimo_id": m["id"]})
    for client in (a, b):
        visto = client.wait("mensaje_visto", lambda p: p.get("usuario_id") == trio.b.rut)
        assert visto["conversacion_id"] == trio.conv and sid(visto["ultimo_id"]) == sid(m["id"]), visto
    assert sid(trio.a.historial(trio.b)["last_seen_other"]) == sid(m["id"])
    assert sid(trio.b.historial(trio.a)["last_seen_me"]) == sid(m["id"])


@SEEN
def test_the_read_marker_only_moves_forward(sockets, trio, token):
    older, newer = trio.a.enviar_en(trio.conv, f"{token} 1"), trio.a.enviar_en(trio.conv, f"{token} 2")
    b = joined(sockets, trio.b, trio.conv)
    since = b.mark()
    b.emit("seen", {"conversacion_id": trio.conv, "ultimo_id": newer["id"]})
    b.wait("mensaje_visto", since=since)
    b.emit("seen", {"conversacion_id": trio.conv, "ultimo_id": older["id"]})
    b.barrier(trio.conv)
    assert sid(trio.b.historial(trio.a)["last_seen_me"]) == sid(newer["id"])


@SEEN
@pytest.mark.known_difference(known.SEEN_ANY_ID)
def test_seen_of_a_message_of_another_conversation_is_refused(sockets, trio, token):
    mine = trio.a.enviar_en(trio.conv, token)
    elsewhere = trio.c.enviar_a(trio.b, f"{token} otra")
    b = joined(sockets, trio.b, trio.conv)
    since = b.mark()
    b.emit("seen", {"conversacion_id": trio.conv, "ultimo_id": mine["id"]})
    b.wait("mensaje_visto", since=since)
    since = b.mark()
    b.emit("seen", {"conversacion_id": trio.conv, "ultimo_id": elsewhere["id"]})
    name, payload = b.first_of(("mensaje_visto", "error"), since=since)
    assert name == "error", f"{name} {payload}"
    assert sid(trio.b.historial(trio.a)["last_seen_me"]) == sid(mine["id"])


@SEEN
def test_seen_by_a_non_participant_is_refused(sockets, trio, token):
    m = trio.a.enviar_en(trio.conv, token)
    before = trio.a.historial(trio.b)["last_seen_other"]
    c = sockets(trio.c)
    since = c.mark()
    c.emit("seen", {"conversacion_id": trio.conv, "ultimo_id": m["id"]})
    c.wait("error", msg_is("No se pudo marcar como leido"), since=since)
    assert trio.a.historial(trio.b)["last_seen_other"] == before


# announcements of the REST operations

@REACCION
def test_a_reaction_is_announced_to_the_room(sockets, trio, token):
    m = trio.a.enviar_en(trio.conv, token)
    a, b = joined(sockets, trio.a, trio.conv), joined(sockets, trio.b, trio.conv)
    expect(trio.b.reaccion(m["id"], "👍"), 200)
    for client in (a, b):
        ev = client.wait("reaccion_agregada", mensaje_id_is(m["id"]))
        assert ev["usuario_id"] == trio.b.rut and ev["emoji"] == "👍", ev


@REACCION
@pytest.mark.known_difference(known.NO_REACTION_SUMMARY)
def test_reaccion_agregada_carries_the_reaction_counts(sockets, trio, token):
    m = trio.a.enviar_en(trio.conv, token)
    a = joined(sockets, trio.a, trio.conv)
    expect(trio.a.reaccion(m["id"], "👍"), 200)
    expect(trio.b.reaccion(m["id"], "👍"), 200)
    ev = a.wait("reaccion_agregada", lambda p: p.get("usuario_id") == trio.b.rut)
    assert ev.get("reacciones") == {"👍": 2}, ev


@REACCION
@pytest.mark.known_difference(known.NO_REACTION_REMOVAL)
def test_a_removed_reaction_is_announced_as_reaccion_eliminada(sockets, trio, token):
    m = trio.a.enviar_en(trio.conv, token)
    a = joined(sockets, trio.a, trio.conv)
    expect(trio.b.reaccion(m["id"], "👍"), 200)
    expect(trio.b.quitar_reaccion(m["id"]), 200)
    ev = a.wait("reaccion_eliminada", mensaje_id_is(m["id"]))
    assert ev["usuario_id"] == trio.b.rut and not ev.get("reacciones"), ev


@ELIMINADO
def test_a_delete_is_announced_to_the_room(sockets, trio, token):
    m = trio.a.enviar_en(trio.conv, token)
    b = joined(sockets, trio.b, trio.conv)
    expect(trio.a.eliminar(m["id"]), 200)
    assert sid(b.wait("mensaje_eliminado", mensaje_id_is(m["id"]))["mensaje_id"]) == sid(m["id"])


@FIJADO
@pytest.mark.known_difference(known.NO_PINNED_EVENT)
def test_a_pin_is_announced_to_the_room(sockets, trio, token):
    m = trio.a.enviar_en(trio.conv, token)
    a = joined(sockets, trio.a, trio.conv)
    expect(trio.b.fijar(m["id"]), 200)
    ev = a.wait("mensaje_fijado", mensaje_id_is(m["id"]))
    assert ev["contenido"] == token and ev["usuario_id"] == trio.a.rut and ev["usuario_nombre"] == trio.a.nombre, ev


@DESFIJADO
def test_an_unpin_is_announced_to_the_room(sockets, trio, token):
    m = trio.a.enviar_en(trio.conv, token)
    expect(trio.a.fijar(m["id"]), 200)
    b = joined(sockets, trio.b, trio.conv)
    expect(trio.a.desfijar(m["id"]), 200)
    b.wait("mensaje_desfijado", mensaje_id_is(m["id"]))


@REACCION
def test_the_outsider_hears_none_of_the_announcements(sockets, trio, token):
    m = trio.a.enviar_en(trio.conv, token)
    outsider = sockets(trio.c)
    own = trio.c.abrir(trio.a)
    outsider.join(own)
    since = outsider.mark()
    expect(trio.b.reaccion(m["id"], "👍"), 200)
    expect(trio.b.fijar(m["id"]), 200)
    expect(trio.a.desfijar(m["id"]), 200)
    expect(trio.a.eliminar(m["id"]), 200)
    outsider.barrier(own)
    names = {n for n, _ in outsider.events[since:]} - {"joined"}
    assert not names, f"the outsider heard {names}"


# error

@ERROR
@pytest.mark.parametrize("event, payload, text", [
    ("join", {}, "Datos insuficientes"),
    ("join", {"conversacion_id": 0}, "Datos insuficientes"),
    ("join", "basura", "Datos insuficientes"),
    ("join", [1], "Datos insuficientes"),
    ("send", {}, "Faltan datos"),
    ("send", {"conversacion_id": "{conv}"}, "Faltan datos"),
    ("send", "basura", "Faltan datos"),
    ("seen", {"conversacion_id": "{conv}"}, "Faltan datos"),
    ("seen", "basura", "Faltan datos"),
], ids=["join-empty", "join-zero", "join-string", "join-list", "send-empty", "send-no-contenido", "send-string",
        "seen-no-ultimo_id", "seen-string"])
def test_bad_payloads_get_error_with_msg(sockets, trio, event, payload, text):
    client = sockets(trio.a)
    if isinstance(payload, dict):
        payload = {k: (trio.conv if v == "{conv}" else v) for k, v in payload.items()}
    since = client.mark()
    client.emit(event, payload)
    client.wait("error", msg_is(text), since=since)
    assert client.connected
