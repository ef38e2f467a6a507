"""Options, markers, fixtures and the parity table of the weigence-chat contract suite.

The suite knows the server only by its base URL and a way to sign users in (see README.md)."""

import secrets
from collections import namedtuple
from pathlib import Path

import pytest

from compat.cookies import FlaskCookies
from compat.http import ChatUser, Http
from compat.parity import ParityTable
from compat.propia import EXTENSIONS_ONLY, ExtensionTable
from compat.realtime import SocketClient
from compat.settings import SettingsError, add_options, generacion_of, read_settings
from compat.users import DatabaseUsers, FileUsers, NeedsFreshUsers, Sessions

NEEDS_DATABASE = "needs --database-url (fresh users that nobody has talked to)"
NEEDS_SECRET = "needs --secret-key (the test signs its own cookies)"
NEEDS_PASSWORD = "needs a user with a known password (--database-url, or passwords in --users-file)"

HERE = Path(__file__).parent
DEFAULT_JUNIT = HERE / "test-output" / "compat.xml"
# Each generation's tests: `--generacion v1` (the default) runs tests/, `--generacion v2` tests_v2/,
# `--generacion propia` tests_propia/ (weigence-chat's own extensions, never in a parity table).
SECTIONS = {"v1": "tests", "v2": "tests_v2", "propia": "tests_propia"}


def pytest_addoption(parser):
    add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    # A JUnit report by default; --junitxml=PATH picks another place.
    if not getattr(config.option, "xmlpath", None) and not config.option.collectonly:
        DEFAULT_JUNIT.parent.mkdir(parents=True, exist_ok=True)
        config.option.xmlpath = str(DEFAULT_JUNIT)
    if generacion_of(config) == "propia":
        # The original has none of these routes: a summary of our own, never a parity table.
        config.pluginmanager.register(ExtensionTable(config), "compat-extension-table")
    else:
        config.pluginmanager.register(ParityTable(config), "compat-parity-table")


def pytest_ignore_collect(collection_path, config):
    """Collects only the section of the generation asked for."""
    generacion = generacion_of(config)
    for other, folder in SECTIONS.items():
        if other != generacion and collection_path == HERE / folder:
            return True
    return None


def pytest_sessionstart(session):
    config = session.config
    if config.option.collectonly:
        return
    try:
        config.compat_settings = read_settings(config)
    except SettingsError as e:
        pytest.exit(f"weigence-chat contract suite: {e}", returncode=pytest.ExitCode.USAGE_ERROR)


def pytest_collection_modifyitems(config, items):
    legacy = config.getoption("legacy")
    for item in items:
        contract = item.get_closest_marker("contract")
        if contract is not None:
            item.user_properties.append(("contract", f"§{contract.args[0]} {contract.args[1]}"))
        extension = item.get_closest_marker("extension")
        if extension is not None:
            item.user_properties.append(("extension", f"{extension.args[0]}: {extension.args[1]}"))
            if legacy:
                item.add_marker(pytest.mark.skip(reason=EXTENSIONS_ONLY))
        known = item.get_closest_marker("known_difference")
        if known is None:
            continue
        why = known.args[0] if known.args else "documented as broken in the original"
        item.user_properties.append(("known_difference", why))
        if legacy:
            # Against the original a failure here is expected: report it as a known difference.
            item.add_marker(pytest.mark.xfail(reason=f"known difference: {why}", strict=False))


# Session-wide fixtures.

@pytest.fixture(scope="session")
def settings(request):
    return request.config.compat_settings


@pytest.fixture(scope="session")
def http(settings):
    return Http(settings.base_url, settings.origin, settings.timeout, settings.cookie_name)


@pytest.fixture(scope="session")
def flask_cookies(settings):
    """Flask's own cookie serializer with the server's secret, or None without --secret-key."""
    return FlaskCookies(settings.secret_key, settings.cookie_name) if settings.secret_key else None


@pytest.fixture
def minter(flask_cookies):
    """Flask's cookie serializer; skips the test without --secret-key."""
    if flask_cookies is None:
        pytest.skip(NEEDS_SECRET)
    return flask_cookies


@pytest.fixture(scope="session")
def user_source(settings):
    try:
        source = DatabaseUsers(settings.database_url) if settings.database_url else FileUsers(settings.users_file)
    except Exception as e:  # an unreachable database, a missing or malformed file: stop the run
        pytest.exit(f"weigence-chat contract suite: cannot use the test users: {e}", returncode=pytest.ExitCode.USAGE_ERROR)
    if settings.auth == "form" and not source.fresh and any(not u.password for u in source.users[:3]):
        pytest.exit("weigence-chat contract suite: signing in through the login form (no --secret-key) needs a "
                    "password for the first three users of --users-file", returncode=pytest.ExitCode.USAGE_ERROR)
    yield source
    if not settings.keep_users:
        source.cleanup()
    source.close()


@pytest.fixture(scope="session")
def sessions(settings, http, flask_cookies):
    return Sessions(settings, http, flask_cookies)


@pytest.fixture(scope="session")
def as_chat_user(http, sessions):
    """Turns a `User` into a signed-in `ChatUser`."""
    return lambda user: ChatUser(http, user, *sessions.sign_in(user))


@pytest.fixture
def new_user(user_source, as_chat_user):
    """Factory of brand-new users (no conversations yet); skips without --database-url."""
    def make(label="Usuario", rol="vendedor"):
        try:
            return as_chat_user(user_source.create(label, rol))
        except NeedsFreshUsers:
            pytest.skip(NEEDS_DATABASE)
    return make


@pytest.fixture(scope="session")
def regulars(user_source, as_chat_user):
    """Ana, Bruno and Carla: made once per run with --database-url, else the first three users
    of --users-file."""
    if user_source.fresh:
        users = [user_source.create(n) for n in ("Ana", "Bruno", "Carla")]
    else:
        users = user_source.users[:3]
    return [as_chat_user(u) for u in users]


Trio = namedtuple("Trio", "a b c conv")


@pytest.fixture
def trio(user_source, new_user, regulars):
    """Two participants `a` and `b` of a 1:1 conversation `conv`, and `c`, who is in no
    conversation with them. Fresh users per test with --database-url; the users file's first
    three otherwise (their conversation then already has history: tests only count their own
    messages)."""
    if user_source.fresh:
        a, b, c = new_user("Ana"), new_user("Bruno"), new_user("Carla")
    else:
        a, b, c = regulars
    return Trio(a, b, c, a.conversacion_con(b))


@pytest.fixture
def password_user(user_source, regulars, as_chat_user):
    """A user whose password the suite knows (for the login form tests)."""
    if user_source.fresh:
        return as_chat_user(user_source.create("Login"))
    for u in regulars:
        if u.user.password:
            return u
    pytest.skip(NEEDS_PASSWORD)


@pytest.fixture
def unknown_rut(user_source):
    return user_source.unknown_rut()


@pytest.fixture
def token(request):
    """A text unique to this test run, to recognise the test's own messages."""
    return f"{request.node.originalname[:40]} {secrets.token_hex(4)}"


@pytest.fixture
def sockets(settings):
    """Factory of Socket.IO clients; every client is closed after the test.

    `sockets(user)` connects as `user`; `sockets.client(cookie=..., origin=..., transports=...)`
    makes an unconnected client for refusal tests."""
    made = []

    class Factory:
        def __call__(self, user, transports=None):
            client = self.client(cookie=user.cookie, transports=transports)
            client.connect()
            return client

        def client(self, cookie=None, origin=None, transports=None):
            client = SocketClient(settings, cookie=cookie, origin=origin, transports=transports)
            made.append(client)
            return client

    yield Factory()
    for client in made:
        client.close()
