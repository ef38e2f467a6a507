"""Command-line options (each with an environment variable) and the settings built from them."""

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_LIFETIME = 30 * 24 * 3600

# (option, environment variable, default, help). Options win over the environment.
OPTIONS = [
    ("--base-url", "COMPAT_BASE_URL", None,
     "URL of the server under test, e.g. http://127.0.0.1:5000 (required)"),
    ("--secret-key", "COMPAT_SECRET_KEY", None,
     "the server's SECRET_KEY: the suite signs Flask session cookies itself"),
    ("--database-url", "COMPAT_DATABASE_URL", None,
     "PostgreSQL URL of the server's database: the suite inserts its own users there"),
    ("--users-file", "COMPAT_USERS_FILE", None,
     "JSON file describing existing users (instead of --database-url)"),
    ("--auth", "COMPAT_AUTH", None,
     "how test users sign in: 'cookie' (needs --secret-key) or 'form' (POST / with a password); "
     "default: cookie when --secret-key is given, else form"),
    ("--generacion", "COMPAT_GENERACION", "v1",
     "the API generation to check: 'v1' (CONTRACT.md: the /chat page), 'v2' (CONTRACT-v2.md: "
     "the floating widget) or 'propia' (weigence-chat's own extensions: groups, edits, reactions, "
     "pins, delivery states; never in a parity table)"),
    ("--cookie-name", "COMPAT_COOKIE_NAME", None,
     "name of the Flask session cookie (SESSION_COOKIE_NAME); default 'session' for v1, "
     "'weigence_session' for v2"),
    ("--session-lifetime", "COMPAT_SESSION_LIFETIME", str(DEFAULT_LIFETIME),
     "the server's PERMANENT_SESSION_LIFETIME in seconds (for the expired-cookie tests)"),
    ("--origin", "COMPAT_ORIGIN", None,
     "an Origin the server allows (default: scheme://host[:port] of --base-url)"),
    ("--foreign-origin", "COMPAT_FOREIGN_ORIGIN", "https://evil.example",
     "an Origin the server must refuse"),
    ("--max-message-chars", "COMPAT_MAX_MESSAGE_CHARS", "2000",
     "the server's message length limit in characters (MAX_MESSAGE_CHARS)"),
    ("--socketio-path", "COMPAT_SOCKETIO_PATH", "socket.io", "Socket.IO path"),
    ("--sio-transports", "COMPAT_SIO_TRANSPORTS", None,
     "Socket.IO transports the clients use: 'polling,websocket' (upgrade, as v1 browsers do; "
     "the v1 default), 'polling' (as the v2 widget; the v2 default) or 'websocket'"),
    ("--edit-window-seconds", "COMPAT_EDIT_WINDOW_SECONDS", "900",
     "the server's EDIT_WINDOW_SECONDS (the propia section's edit-window tests)"),
    ("--timeout", "COMPAT_TIMEOUT", "10",
     "seconds to wait for an HTTP answer, a Socket.IO connection or an expected event"),
]


def add_options(parser):
    group = parser.getgroup("weigence-chat contract suite")
    for flag, env, default, text in OPTIONS:
        env_note = f" [env {env}]"
        default_note = f" (default {default})" if default is not None else ""
        group.addoption(flag, action="store", default=None, help=text + default_note + env_note)
    group.addoption("--legacy", action="store_true", default=False,
                    help="the server is the original Flask service: failures of tests marked "
                         "known_difference are reported as known differences")
    group.addoption("--keep-users", action="store_true", default=False,
                    help="do not delete the users (and their conversations) that the suite "
                         "inserted through --database-url")


def _value(config, flag, env, default):
    value = config.getoption(flag.lstrip("-").replace("-", "_"))
    if value in (None, ""):
        value = os.environ.get(env) or default
    return value


def origin_of(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# What differs between the generations when no option says otherwise.
GENERATIONS = {
    "v1": {"cookie_name": "session", "sio_transports": "polling,websocket"},
    "v2": {"cookie_name": "weigence_session", "sio_transports": "polling"},
    # weigence-chat's own extensions, used as our page (v1 style) uses them.
    "propia": {"cookie_name": "session", "sio_transports": "polling,websocket"},
}


def generacion_of(config):
    """The generation asked for (before the settings are checked), default v1."""
    return (config.getoption("generacion") or os.environ.get("COMPAT_GENERACION") or "v1").strip()


@dataclass(frozen=True)
class Settings:
    generacion: str
    base_url: str
    secret_key: str | None
    database_url: str | None
    users_file: str | None
    auth: str
    cookie_name: str
    session_lifetime: int
    origin: str
    foreign_origin: str
    max_message_chars: int
    socketio_path: str
    sio_transports: tuple
    timeout: float
    edit_window_seconds: int
    legacy: bool
    keep_users: bool


class SettingsError(Exception):
    pass


def read_settings(config):
    raw = {flag: _value(config, flag, env, default) for flag, env, default, _ in OPTIONS}
    generacion = raw["--generacion"].strip()
    if generacion not in GENERATIONS:
        raise SettingsError(f"--generacion must be 'v1', 'v2' or 'propia', not {generacion!r}")
    defaults = GENERATIONS[generacion]
    raw["--cookie-name"] = raw["--cookie-name"] or defaults["cookie_name"]
    raw["--sio-transports"] = raw["--sio-transports"] or defaults["sio_transports"]
    base_url = (raw["--base-url"] or "").rstrip("/")
    if not base_url:
        raise SettingsError("--base-url (or COMPAT_BASE_URL) is required: the URL of the server under test")
    if not base_url.startswith(("http://", "https://")):
        raise SettingsError(f"--base-url must start with http:// or https://, not {base_url!r}")
    if raw["--database-url"] and raw["--users-file"]:
        raise SettingsError("give either --database-url or --users-file, not both")
    if not raw["--database-url"] and not raw["--users-file"]:
        raise SettingsError("test users are needed: give --database-url (the suite inserts its own) "
                            "or --users-file (existing users, see README.md)")
    auth = raw["--auth"] or ("cookie" if raw["--secret-key"] else "form")
    if auth not in ("cookie", "form"):
        raise SettingsError(f"--auth must be 'cookie' or 'form', not {auth!r}")
    if auth == "cookie" and not raw["--secret-key"]:
        raise SettingsError("--auth cookie needs --secret-key")
    transports = tuple(t.strip() for t in raw["--sio-transports"].split(",") if t.strip())
    if not transports or any(t not in ("polling", "websocket") for t in transports):
        raise SettingsError("--sio-transports takes 'polling', 'websocket' or both, comma-separated")
    try:
        lifetime = int(raw["--session-lifetime"])
        max_chars = int(raw["--max-message-chars"])
        timeout = float(raw["--timeout"])
        edit_window = int(raw["--edit-window-seconds"])
    except ValueError as e:
        raise SettingsError(f"bad number: {e}") from None
    return Settings(
        generacion=generacion,
        base_url=base_url,
        secret_key=raw["--secret-key"],
        database_url=raw["--database-url"],
        users_file=raw["--users-file"],
        auth=auth,
        cookie_name=raw["--cookie-name"],
        session_lifetime=lifetime,
        origin=(raw["--origin"] or origin_of(base_url)).rstrip("/"),
        foreign_origin=raw["--foreign-origin"].rstrip("/"),
        max_message_chars=max_chars,
        socketio_path=raw["--socketio-path"].strip("/"),
        sio_transports=transports,
        timeout=timeout,
        edit_window_seconds=edit_window,
        legacy=config.getoption("legacy"),
        keep_users=config.getoption("keep_users"),
    )
