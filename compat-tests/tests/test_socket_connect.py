"""CONTRACT.md §5 Connect: the session comes from the handshake's cookie, only allowed origins
may open a socket, and a user may hold several sockets."""

import pytest
from socketio.exceptions import ConnectionError as SocketConnectionError

from compat import known
from compat.cookies import INVALID_KINDS, NEEDS_SECRET, invalid_cookie
from compat.realtime import with_content

CONNECT = pytest.mark.contract("5", "connect")
ORIGIN = pytest.mark.contract("5", "handshake Origin")

TRANSPORTS = pytest.mark.parametrize("transports", [["polling"], ["websocket"], ["polling", "websocket"]],
                                     ids=["polling", "websocket", "upgrade"])
SINGLE_TRANSPORT = pytest.mark.parametrize("transport", ["polling", "websocket"])


@CONNECT
@TRANSPORTS
def test_a_socket_with_a_session_cookie_receives_conectado(sockets, trio, transports):
    client = sockets(trio.a, transports=transports)
    payload = client.wait("conectado")
    assert payload == {"mensaje": "Conectado al chat en tiempo real"}
    assert client.sio.transport() == transports[-1], "the upgrade to WebSocket happened"


@CONNECT
@SINGLE_TRANSPORT
@pytest.mark.parametrize("kind", INVALID_KINDS)
def test_a_socket_without_a_valid_session_is_refused_with_connect_error(sockets, settings, flask_cookies, trio,
                                                                        kind, transport):
    if kind in NEEDS_SECRET and flask_cookies is None:
        pytest.skip("needs --secret-key (the test signs its own cookies)")
    cookie = invalid_cookie(kind, trio.a.user, trio.a.cookie, settings, flask_cookies)
    client = sockets.client(cookie=cookie, transports=[transport])
    with pytest.raises(SocketConnectionError):
        client.connect()
    assert client.connect_error is not None, "refused with a CONNECT_ERROR packet"
    assert not client.connected
    assert not client.received("conectado")


@CONNECT
@SINGLE_TRANSPORT
@pytest.mark.known_difference(known.CONNECT_ERROR_TEXT)
def test_the_connect_error_of_a_refused_socket_says_no_autenticado(sockets, transport):
    client = sockets.client(cookie=None, transports=[transport])
    with pytest.raises(SocketConnectionError):
        client.connect()
    assert client.connect_error == {"message": "No autenticado"}, f"CONNECT_ERROR payload: {client.connect_error!r}"


@ORIGIN
@pytest.mark.known_difference(known.OPEN_SOCKET_ORIGINS)
@SINGLE_TRANSPORT
def test_a_handshake_from_a_foreign_origin_is_refused(sockets, settings, trio, transport):
    client = sockets.client(cookie=trio.a.cookie, origin=settings.foreign_origin, transports=[transport])
    with pytest.raises(SocketConnectionError):
        client.connect()
    assert not client.connected
    assert not client.received("conectado")


@ORIGIN
@SINGLE_TRANSPORT
def test_a_handshake_from_the_allowed_origin_is_accepted(sockets, settings, trio, transport):
    client = sockets.client(cookie=trio.a.cookie, origin=settings.origin, transports=[transport])
    client.connect()
    client.wait("conectado")


@CONNECT
def test_every_socket_of_a_user_receives_the_room_events(sockets, trio, token):
    tabs = [sockets(trio.a), sockets(trio.a)]
    for tab in tabs:
        tab.join(trio.conv)
    trio.b.enviar_ok(trio.conv, token)
    for tab in tabs:
        tab.wait("mensaje_recibido", with_content(token))
        tab.barrier(trio.conv)
        assert len(tab.received("mensaje_recibido", with_content(token))) == 1
