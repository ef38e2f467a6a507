"""Flask session cookies, made and read by the real Flask and itsdangerous (CONTRACT.md §2).

The serializer is Flask's own `SecureCookieSessionInterface().get_signing_serializer(app)`, so a
cookie minted here is byte-for-byte what the Flask app would set for the same session and time.
"""

import time

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous.encoding import want_bytes


class FlaskCookies:
    def __init__(self, secret_key, cookie_name="session"):
        app = Flask("weigence-compat")
        app.secret_key = secret_key
        self.cookie_name = cookie_name
        self._serializer = SecureCookieSessionInterface().get_signing_serializer(app)

    def value(self, session, signed_at=None):
        """The cookie value for a session dict (Flask's tagged JSON: tuples, bytes, ... allowed),
        signed now or at `signed_at` (Unix seconds)."""
        s = self._serializer
        if signed_at is None:
            return s.dumps(session)
        # Same steps as Serializer.dumps, with the signer's clock fixed for this call only
        # (patching time.time would also shift the Socket.IO clients' threads).
        signer = s.make_signer(s.salt)
        signer.get_timestamp = lambda: int(signed_at)
        return signer.sign(want_bytes(s.dump_payload(session))).decode("utf-8")

    def header(self, session, signed_at=None):
        """A `Cookie` header value carrying the session."""
        return f"{self.cookie_name}={self.value(session, signed_at)}"

    def read(self, value, max_age):
        """The session a Flask app with this secret would see, or raise itsdangerous.BadSignature."""
        return dict(self._serializer.loads(value, max_age=max_age))


def login_session(user):
    """The keys Weigence's login stores (CONTRACT.md §2)."""
    return {
        "usuario_logueado": True,
        "usuario_id": user.rut,
        "usuario_nombre": user.nombre,
        "usuario_rol": (user.rol or "").lower(),
        "usuario_correo": user.correo or "",
        "recordarme_activado": False,
        "_permanent": True,
    }


def tampered(header_value):
    """The same cookie with the first character of its signature changed (not the last one:
    its low bits are base64 padding that decoders may ignore)."""
    name, _, value = header_value.partition("=")
    signed, _, signature = value.rpartition(".")
    first = "B" if signature[0] == "A" else "A"
    return f"{name}={signed}.{first}{signature[1:]}"


# Cookies that must not authenticate: none, a tampered signature, signed with another key,
# garbage, older than the session lifetime, signed in the future (the last two need the secret).
INVALID_KINDS = ["none", "tampered", "other-secret", "garbage", "expired", "future"]
NEEDS_SECRET = {"expired", "future"}


def invalid_cookie(kind, user, valid_header, settings, flask_cookies):
    """A `Cookie` header value of the given invalid kind for `user` (None for "none")."""
    if kind == "none":
        return None
    if kind == "tampered":
        return tampered(valid_header)
    if kind == "other-secret":
        return FlaskCookies("otra-clave-que-no-es", settings.cookie_name).header(login_session(user))
    if kind == "garbage":
        return f"{settings.cookie_name}=basura.basura.basura"
    if kind == "expired":
        return flask_cookies.header(login_session(user), signed_at=now() - settings.session_lifetime - 120)
    if kind == "future":
        return flask_cookies.header(login_session(user), signed_at=now() + 3600)
    raise ValueError(kind)


def now():
    return int(time.time())
