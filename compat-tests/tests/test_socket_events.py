"""CONTRACT.md §5: the Socket.IO events, client → server and server → client.

Tests wait for the events they expect (with a timeout) and, before asserting that something
did NOT arrive, make a round trip on the same socket (`barrier`): the server writes a socket's
packets in order, so the absence is then certain without sleeping."""

import pytest

from compat import known
from compat.http import expect, sid
from compat.realtime import RATE_LIMITED, message_id, same_conversation, with_content
from compat.shapes import assert_conversation, assert_message

UNIRSE = pytest.mark.contract("5", "unirse_conversacion")
SALIR = pytest.mark.contract("5", "salir_conversacion")
ENVIAR = pytest.mark.contract("5", "mensaje_enviar")
ESCRIBIENDO = pytest.mark.contract("5", "escribiendo")
RECIBIDO = pytest.mark.contract("5", "mensaje_recibido")
NUEVA = pytest.mark.contract("5", "nueva_conversacion")
VISTO = pytest.mark.contract("5", "mensaje_visto")
ERROR = pytest.mark.contract("5", "error")


def stored(user, conv, contenido):
    return [m for m in user.historial(conv) if m.get("contenido") == contenido]


def assert_error_event(payload, text=None):
    assert isinstance(payload, dict) and isinstance(payload.get("mensaje"), str) and payload["mensaje"], \
        f"error events carry {{'mensaje': ...}}: {payload!r}"
    assert payload["mensaje"] != RATE_LIMITED, "rate limited by the server (raise its limits, see README.md)"
    if text is not None:
        assert payload["mensaje"] == text, payload


@UNIRSE
def test_unirse_conversacion_replies_unido_conversacion(sockets, trio):
    client = sockets(trio.a)
    payload = client.join(trio.conv)
    assert sid(payload["conversacion_id"]) == trio.conv
    assert payload["mensaje"] == "Te has unido a la conversación"


@UNIRSE
def test_unirse_conversacion_as_a_non_participant_gets_an_error_and_no_room_events(sockets, trio, token):
    own = trio.c.conversacion_con(trio.a)
    intruder = sockets(trio.c)
    since = intruder.mark()
    intruder.emit("unirse_conversacion", {"conversacion_id": trio.conv})
    assert_error_event(intruder.wait("error", since=since), "No tienes acceso a esta conversación")
    trio.a.enviar_ok(trio.conv, token)
    intruder.barrier(own)
    assert not intruder.received("unido_conversacion", same_conversation(trio.conv), since=since)
    assert not intruder.received("mensaje_recibido", with_content(token), since=since)


@SALIR
def test_salir_conversacion_stops_the_rooms_events_without_a_reply(sockets, trio, token):
    other = trio.b.conversacion_con(trio.c)
    client = sockets(trio.b)
    client.join(trio.conv)
    since = client.mark()
    client.emit("salir_conversacion", {"conversacion_id": trio.conv})
    client.barrier(other)
    trio.a.enviar_ok(trio.conv, token)
    client.barrier(other)
    assert not client.received("mensaje_recibido", with_content(token), since=since)
    assert set(client.names(since)) == {"unido_conversacion"}, "salir_conversacion has no reply"


@ENVIAR
def test_mensaje_enviar_stores_the_message_and_acks_it(sockets, trio, token):
    client = sockets(trio.a)
    client.join(trio.conv)
    client.call("mensaje_enviar", {"conversacion_id": trio.conv, "contenido": token})
    assert len(stored(trio.b, trio.conv, token)) == 1


@ENVIAR
@pytest.mark.known_difference(known.ACK_WITHOUT_DATA)
def test_the_mensaje_enviar_ack_carries_the_stored_message(sockets, trio, token):
    client = sockets(trio.a)
    client.join(trio.conv)
    ack = client.call("mensaje_enviar", {"conversacion_id": trio.conv, "contenido": token})
    assert_message(ack, trio.conv, trio.a, token)
    assert [sid(m["id"]) for m in stored(trio.b, trio.conv, token)] == [sid(ack["id"])]


@RECIBIDO
def test_a_socket_send_reaches_both_members_exactly_once(sockets, trio, token):
    sender, receiver = sockets(trio.a), sockets(trio.b)
    for s in (sender, receiver):
        s.join(trio.conv)
    sender.emit("mensaje_enviar", {"conversacion_id": trio.conv, "contenido": token})
    for s in (sender, receiver):
        assert_message(s.wait("mensaje_recibido", with_content(token)), trio.conv, trio.a, token)
    for s in (sender, receiver):
        s.barrier(trio.conv)
        assert len(s.received("mensaje_recibido", with_content(token))) == 1, "exactly once"
    assert len(stored(trio.a, trio.conv, token)) == 1


@RECIBIDO
def test_a_rest_send_reaches_both_members_exactly_once(sockets, trio, token):
    sender, receiver = sockets(trio.a), sockets(trio.b)
    for s in (sender, receiver):
        s.join(trio.conv)
    m = trio.a.enviar_ok(trio.conv, token)
    for s in (sender, receiver):
        payload = s.wait("mensaje_recibido", message_id(m["id"]))
        assert_message(payload, trio.conv, trio.a, token)
        assert sid(payload["id"]) == sid(m["id"]) and payload["fecha_envio"] == m["fecha_envio"]
    for s in (sender, receiver):
        s.barrier(trio.conv)
        assert len(s.received("mensaje_recibido", message_id(m["id"]))) == 1, "exactly once"


@ENVIAR
@pytest.mark.known_difference(known.NO_LENGTH_LIMIT)
def test_mensaje_enviar_refuses_a_message_past_the_length_limit(sockets, settings, trio, token):
    client = sockets(trio.a)
    client.join(trio.conv)
    text = (token + " " + "x" * settings.max_message_chars)[:settings.max_message_chars + 1]
    since = client.mark()
    client.emit("mensaje_enviar", {"conversacion_id": trio.conv, "contenido": text})
    assert_error_event(client.wait("error", since=since))
    assert not stored(trio.a, trio.conv, text)


@ENVIAR
def test_mensaje_enviar_from_a_non_participant_is_refused(sockets, trio, token):
    intruder = sockets(trio.c)
    since = intruder.mark()
    intruder.emit("mensaje_enviar", {"conversacion_id": trio.conv, "contenido": token})
    assert_error_event(intruder.wait("error", since=since), "No tienes acceso a esta conversación")
    assert not stored(trio.a, trio.conv, token)


@ENVIAR
def test_mensaje_enviar_with_blank_contenido_is_refused(sockets, trio):
    client = sockets(trio.a)
    since = client.mark()
    client.emit("mensaje_enviar", {"conversacion_id": trio.conv, "contenido": "   "})
    assert_error_event(client.wait("error", since=since))


@ESCRIBIENDO
def test_escribiendo_reaches_the_other_member_but_not_the_sender(sockets, trio):
    typist, reader = sockets(trio.a), sockets(trio.b)
    for s in (typist, reader):
        s.join(trio.conv)
    since = typist.mark()
    typist.emit("escribiendo", {"conversacion_id": trio.conv})
    payload = reader.wait("usuario_escribiendo", same_conversation(trio.conv))
    assert payload["usuario_id"] == trio.a.rut
    assert payload["nombre"] == trio.a.nombre
    typist.barrier(trio.conv)
    assert not typist.received("usuario_escribiendo", since=since), "the sender is excluded"


@ESCRIBIENDO
@pytest.mark.known_difference(known.TYPING_UNCHECKED)
def test_escribiendo_into_a_conversation_one_is_not_in_is_refused(sockets, trio):
    member = sockets(trio.a)
    member.join(trio.conv)
    intruder = sockets(trio.c)
    since_member, since_intruder = member.mark(), intruder.mark()
    intruder.emit("escribiendo", {"conversacion_id": trio.conv})
    assert_error_event(intruder.wait("error", since=since_intruder))
    member.barrier(trio.conv)
    assert not member.received("usuario_escribiendo", since=since_member)


@NUEVA
@pytest.mark.known_difference(known.NO_NUEVA_CONVERSACION)
def test_creating_a_conversation_sends_nueva_conversacion_to_the_other_participant(sockets, new_user):
    creator, other = new_user("Ana"), new_user("Bruno")
    listener = sockets(other)
    body = expect(creator.crear({"participantes": [creator.rut, other.rut]}), 201)
    conv = sid(body["conversacion_id"])
    payload = listener.wait("nueva_conversacion",
                            lambda p: isinstance(p, dict) and sid((p.get("conversacion") or {}).get("id")) == conv)
    c = payload["conversacion"]
    assert_conversation(c)
    assert [u["id"] for u in c["participantes"]] == [creator.rut], "as the receiver sees it: the other participant"
    assert c["es_grupal"] is False and c["nombre"] is None


@VISTO
@pytest.mark.known_difference(known.NO_READ_RECEIPTS)
def test_marcar_leido_sends_mensaje_visto_to_the_room(sockets, trio, token):
    writer, reader = sockets(trio.a), sockets(trio.b)
    for s in (writer, reader):
        s.join(trio.conv)
    first = trio.a.enviar_ok(trio.conv, token + " 1")
    second = trio.a.enviar_ok(trio.conv, token + " 2")
    by_reader = lambda p: same_conversation(trio.conv)(p) and p.get("usuario_id") == trio.b.rut

    since = writer.mark()
    expect(trio.b.marcar_leido(trio.conv, first["id"]), 200)
    payload = writer.wait("mensaje_visto", by_reader, since=since)
    assert sid(payload["ultimo_id"]) == sid(first["id"]), "up to mensaje_id"

    since = writer.mark()
    expect(trio.b.marcar_leido(trio.conv), 200)
    payload = writer.wait("mensaje_visto", by_reader, since=since)
    assert sid(payload["ultimo_id"]) == sid(second["id"]), "without mensaje_id: up to the newest"


# A payload that is not an object, or lacks a field, gets error {"mensaje": "Datos inválidos"}.
# (event, id, payload, where the original differs)
BAD_PAYLOADS = [
    ("unirse_conversacion", "texto", lambda conv: "hola", known.SOCKET_NON_OBJECT),
    ("unirse_conversacion", "lista", lambda conv: [1, 2], known.SOCKET_NON_OBJECT),
    ("unirse_conversacion", "numero", lambda conv: 42, known.SOCKET_NON_OBJECT),
    ("unirse_conversacion", "sin-datos", lambda conv: None, known.SOCKET_NON_OBJECT),
    ("unirse_conversacion", "sin-conversacion_id", lambda conv: {}, None),
    ("mensaje_enviar", "texto", lambda conv: "hola", known.SOCKET_NON_OBJECT),
    ("mensaje_enviar", "sin-datos", lambda conv: None, known.SOCKET_NON_OBJECT),
    ("mensaje_enviar", "vacio", lambda conv: {}, None),
    ("mensaje_enviar", "sin-contenido", lambda conv: {"conversacion_id": conv}, None),
    ("mensaje_enviar", "sin-conversacion_id", lambda conv: {"contenido": "hola"}, None),
    ("escribiendo", "texto", lambda conv: "hola", known.TYPING_SILENT),
    ("escribiendo", "sin-datos", lambda conv: None, known.TYPING_SILENT),
    ("escribiendo", "sin-conversacion_id", lambda conv: {}, known.TYPING_SILENT),
]


@ERROR
@pytest.mark.parametrize("event, make_payload", [
    pytest.param(e, f, id=f"{e}-{n}", marks=[pytest.mark.known_difference(why)] if why else [])
    for e, n, f, why in BAD_PAYLOADS])
def test_an_invalid_payload_gets_error_datos_invalidos_and_the_socket_keeps_working(sockets, trio, event,
                                                                                    make_payload):
    client = sockets(trio.a)
    since = client.mark()
    payload = make_payload(trio.conv)
    if payload is None:
        client.sio.emit(event)
    else:
        client.emit(event, payload)
    assert_error_event(client.wait("error", since=since), "Datos inválidos")
    client.barrier(trio.conv)
    assert client.connected
