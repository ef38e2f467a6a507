"""Fixtures of the v2 section (CONTRACT-v2.md): the same users and sign-in as v1, with
`WidgetUser` clients, conversations opened by rut as the widget does, and widget sockets."""

import pytest

from compat.widget import WidgetSocket, WidgetUser
from conftest import Trio


@pytest.fixture(scope="session")
def as_chat_user(http, sessions):
    """Turns a `User` into a signed-in `WidgetUser`."""
    return lambda user: WidgetUser(http, user, *sessions.sign_in(user))


@pytest.fixture
def trio(user_source, new_user, regulars):
    """Two participants `a` and `b` of the 1:1 conversation `conv` (opened by `a` with
    `GET /api/chat/history/<b>`), and `c`, who is in no conversation with them. Fresh users per
    test with --database-url; the users file's first three otherwise."""
    if user_source.fresh:
        a, b, c = new_user("Ana"), new_user("Bruno"), new_user("Carla")
    else:
        a, b, c = regulars
    return Trio(a, b, c, a.abrir(b))


@pytest.fixture
def sockets(settings):
    """Factory of widget Socket.IO clients (as the v1 `sockets`); closed after the test."""
    made = []

    class Factory:
        def __call__(self, user, transports=None):
            client = self.client(cookie=user.cookie, transports=transports)
            client.connect()
            client.wait("ws_connected")
            return client

        def client(self, cookie=None, origin=None, transports=None):
            client = WidgetSocket(settings, cookie=cookie, origin=origin, transports=transports)
            made.append(client)
            return client

    yield Factory()
    for client in made:
        client.close()
