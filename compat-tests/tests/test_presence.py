"""CONTRACT.md §1: the presence endpoints the service serves together with Socket.IO.
Presence is per user: a recent heartbeat or an open socket makes a user "connected"."""

import pytest

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


@HEARTBEAT
def test_heartbeat_answers_success(trio):
    body = expect(trio.a.post("/api/usuarios/heartbeat", {}), 200)
    assert isinstance(body, dict) and body.get("success") is True, body


@CONECTADOS
def test_a_user_who_sent_a_heartbeat_is_listed_as_connected(trio):
    expect(trio.a.post("/api/usuarios/heartbeat", {}), 200)
    body = expect(trio.b.get("/api/usuarios/conectados"), 200)
    assert mentions(body, trio.a.rut), body


@CONECTADOS
def test_a_user_never_seen_is_not_listed_as_connected(new_user):
    watcher, absent = new_user("Ana"), new_user("Ausente")
    body = expect(watcher.get("/api/usuarios/conectados"), 200)
    assert not mentions(body, absent.rut), body


@CONECTADOS
def test_a_user_with_an_open_socket_is_listed_as_connected(new_user, sockets):
    watcher, online = new_user("Ana"), new_user("Conectada")
    sockets(online)
    body = expect(watcher.get("/api/usuarios/conectados"), 200)
    assert mentions(body, online.rut), body
