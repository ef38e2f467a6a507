"""Fixtures of the propia section (weigence-chat's own API): the same users and sign-in as v1,
with `PropiaUser` clients and a group of three fresh users plus an outsider."""

from collections import namedtuple

import pytest

from compat.propia import Database, PropiaUser

Grupo = namedtuple("Grupo", "a b c d conv g")


@pytest.fixture(scope="session")
def as_chat_user(http, sessions):
    """Turns a `User` into a signed-in `PropiaUser`."""
    return lambda user: PropiaUser(http, user, *sessions.sign_in(user))


@pytest.fixture
def grupo(new_user, token):
    """Ana's group `conv` with Bruno and Carla (Ana its creator and only admin, `g` its `G` as
    the creation answered it), and Diego, who is in no conversation with them. Fresh users per
    test (skipped without --database-url: groups change membership, a users file's three users
    would carry every test's groups)."""
    a, b, c, d = (new_user(n) for n in ("Ana", "Bruno", "Carla", "Diego"))
    g = a.grupo_nuevo(f"Grupo {token}", [b, c])
    return Grupo(a, b, c, d, g["id"], g)


@pytest.fixture
def uno_a_uno(new_user):
    """Two fresh users `a` and `b` of a 1:1 conversation `conv`, and `c`, an outsider."""
    a, b, c = (new_user(n) for n in ("Ana", "Bruno", "Carla"))
    return a, b, c, a.conversacion_con(b)


@pytest.fixture(scope="session")
def database(settings):
    """Direct SQL on the server's database (only for what no route can do)."""
    if not settings.database_url:
        pytest.skip("needs --database-url (the test moves a message's send time into the past)")
    db = Database(settings.database_url)
    yield db
    db.close()
