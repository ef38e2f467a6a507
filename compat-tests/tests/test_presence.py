"""CONTRACT.md §1: the presence endpoints the service serves together with Socket.IO.
Presence is per user: a recent heartbeat or an open socket makes a user "connected"."""

import pytest

from compat import known
from compat.http import expect

HEARTBEAT = pytest.mark.contract("1", "POST /api/usuarios/heartbeat")
CONECTADOS = pytest.mark.contract("1", "GET /api/usuarios/conectados")


def mentions(value, text):
    """Whether `text` appears as a string anywhere in a JSON value (the list's exact shape is
    not part of the contract, only that it names the connected users)."""
    if isinstance(value, str):
        return value == text
    if isinstance(value, dict):
        return any(mentions(v, text) for v in value.values())
    if isinstance(value, list):
        return any(mentions(v, text) for v in value)
    return False


# Roles that may read the list in every service (the original served it to these only).
WATCHER_ROLES = ("administrador", "supervisor")


@pytest.fixture
def watcher(user_source, new_user, regulars):
    """A user allowed to read GET /api/usuarios/conectados everywhere: a fresh administrador,
    or an administrador or supervisor of --users-file."""
    if user_source.fresh:
        return new_user("Admin", rol="administrador")
    for u in regulars:
        if (u.user.rol or "").lower() in WATCHER_ROLES:
            return u
    pytest.skip("needs --database-url, or an administrador or supervisor among the first three users")


@HEARTBEAT
def test_heartbeat_answers_success(trio):
    body = expect(trio.a.post("/api/usuarios/heartbeat", {}), 200)
    assert isinstance(body, dict) and body.get("success") is True, body


@CONECTADOS
def test_a_user_who_sent_a_heartbeat_is_listed_as_connected(trio, watcher):
    expect(trio.a.post("/api/usuarios/heartbeat", {}), 200)
    body = expect(watcher.get("/api/usuarios/conectados"), 200)
    assert mentions(body, trio.a.rut), body


@CONECTADOS
def test_a_user_never_seen_is_not_listed_as_connected(new_user, watcher):
    absent = new_user("Ausente")
    body = expect(watcher.get("/api/usuarios/conectados"), 200)
    assert not mentions(body, absent.rut), body


@CONECTADOS
@pytest.mark.known_difference(known.SOCKET_NOT_PRESENCE)
def test_a_user_with_an_open_socket_is_listed_as_connected(new_user, sockets, watcher):
    online = new_user("Conectada")
    sockets(online)
    body = expect(watcher.get("/api/usuarios/conectados"), 200)
    assert mentions(body, online.rut), body


@CONECTADOS
@pytest.mark.known_difference(known.CONECTADOS_ADMIN_ONLY)
def test_every_signed_in_user_may_read_the_connected_list(trio):
    body = expect(trio.b.get("/api/usuarios/conectados"), 200)
    assert isinstance(body, dict), body
