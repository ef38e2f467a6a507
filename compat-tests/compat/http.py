"""HTTP clients: `Http` talks to the base URL (no redirects, no cookie jar); `ChatUser` is one
signed-in user with a method per v1 route (CONTRACT.md §4)."""

from http.client import RemoteDisconnected
from http.cookiejar import DefaultCookiePolicy

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ProtocolError
from urllib3.util.retry import Retry

from . import csrf

ABSENT = object()


class RetryDroppedConnection(Retry):
    """Resends a request once when the server closed a kept-alive connection without answering
    it (what browsers do too). Servers may close a connection after answering a request whose
    body they did not read (401, 413, ...); a pooled client then finds it dead. Timeouts and
    answered requests are never retried."""

    def _is_read_error(self, err):
        cause = err.args[1] if isinstance(err, ProtocolError) and len(err.args) > 1 else None
        return isinstance(cause, (RemoteDisconnected, ConnectionResetError, BrokenPipeError))


def _retrying_adapter():
    # Also waits out a 429 (per-user rate limit) as its Retry-After says, a few times: the suite
    # is not a rate-limit test, and with --users-file all its requests come from three users.
    retry = RetryDroppedConnection(total=4, connect=1, read=1, status=3, other=0, redirect=0,
                                   status_forcelist=[429], allowed_methods=None,
                                   raise_on_status=False, respect_retry_after_header=True)
    return HTTPAdapter(max_retries=retry)


class Http:
    def __init__(self, base_url, origin, timeout, cookie_name="session"):
        self.base_url = base_url
        self.origin = origin
        self.timeout = timeout
        self.cookie_name = cookie_name
        self._session = requests.Session()
        # Every request carries exactly the cookie a test gives it: never one a response set.
        self._session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        for scheme in ("http://", "https://"):
            self._session.mount(scheme, _retrying_adapter())

    def fresh(self):
        """A separate client (connection pool) for use from another thread."""
        return Http(self.base_url, self.origin, self.timeout, self.cookie_name)

    def request(self, method, path, *, cookie=None, headers=None, **kwargs):
        h = dict(headers or {})
        if cookie:
            h["Cookie"] = cookie
        return self._session.request(method, self.base_url + path, headers=h, allow_redirects=False,
                                     timeout=self.timeout, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def login(self, usuario, password, remember=False, headers=None, cookie=None):
        """Posts the login form as a browser does: GET / first (with `cookie`, if any), then POST
        with the cookie that page set and its `csrf_token` field when it has one (the original
        requires it; weigence-chat's form has none)."""
        cookie, token, _ = csrf.from_page(self, "/", cookie, self.cookie_name)
        form = {"usuario": usuario, "password": password}
        if remember:
            form["remember"] = "on"
        if token:
            form["csrf_token"] = token
        h = {"Origin": self.origin, **(headers or {})}
        return self.post("/", data=form, headers=h, cookie=cookie)

    @staticmethod
    def set_cookies(response):
        """Every raw `Set-Cookie` header of a response."""
        return response.raw.headers.getlist("Set-Cookie")

    @classmethod
    def set_cookie(cls, response, name):
        """The raw `Set-Cookie` header for cookie `name`, or None."""
        for header in cls.set_cookies(response):
            if header.split("=", 1)[0].strip() == name:
                return header
        return None

    @classmethod
    def set_cookie_value(cls, response, name):
        header = cls.set_cookie(response, name)
        if header is None:
            return None
        return header.split("=", 1)[1].split(";", 1)[0].strip().strip('"')


def json_of(response):
    """The JSON body, or None when the body is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def describe(response):
    return f"{response.request.method} {response.request.path_url} -> {response.status_code}: {response.text[:500]}"


def expect(response, *statuses):
    """Asserts the status; returns the JSON body."""
    if response.status_code == 429 and 429 not in statuses:
        raise AssertionError(f"rate limited by the server (raise its per-user limit, see README.md): {describe(response)}")
    assert response.status_code in statuses, f"expected {statuses}: {describe(response)}"
    return json_of(response)


def expect_error(response, status, text=None, texts=None):
    """Asserts a contract error: the status and a JSON body whose `error` is a string (equal
    to `text`, or one of `texts`, when given). Returns the body."""
    body = expect(response, status)
    assert isinstance(body, dict) and isinstance(body.get("error"), str), f"no JSON error body: {describe(response)}"
    if text is not None:
        assert body["error"] == text, describe(response)
    if texts is not None:
        assert body["error"] in texts, describe(response)
    return body


def sid(value):
    """Ids may be JSON strings or numbers: compare them as strings."""
    return None if value is None else str(value)


class ChatUser:
    """One user of the chat: their `User` record, a session cookie for them and the CSRF token
    a page would give them (sent as `X-CSRFToken` with every POST, as chat.js does)."""

    def __init__(self, http, user, cookie, csrf_token=None):
        self.http = http
        self.user = user
        self.cookie = cookie
        self.csrf_token = csrf_token

    def on(self, http):
        """The same user on another client (connection pool), for use from another thread."""
        return ChatUser(http, self.user, self.cookie, self.csrf_token)

    @property
    def rut(self):
        return self.user.rut

    @property
    def nombre(self):
        return self.user.nombre

    def get(self, path, **kwargs):
        return self.http.get(path, cookie=self.cookie, **kwargs)

    def post(self, path, body=ABSENT, **kwargs):
        if body is not ABSENT:
            kwargs["json"] = body
        if self.csrf_token:
            kwargs["headers"] = {csrf.HEADER: self.csrf_token, **(kwargs.get("headers") or {})}
        return self.http.post(path, cookie=self.cookie, **kwargs)

    def usuarios(self):
        return self.get("/api/chat/usuarios")

    def conversaciones(self):
        return self.get("/api/chat/conversaciones")

    def crear(self, body):
        return self.post("/api/chat/conversacion/crear", body)

    def mensajes(self, conversacion_id, **params):
        return self.get(f"/api/chat/mensajes/{conversacion_id}", params=params)

    def enviar(self, conversacion_id, contenido, **extra):
        return self.post("/api/chat/mensaje/enviar", {"conversacion_id": conversacion_id, "contenido": contenido, **extra})

    def marcar_leido(self, conversacion_id, mensaje_id=ABSENT):
        body = {"conversacion_id": conversacion_id}
        if mensaje_id is not ABSENT:
            body["mensaje_id"] = mensaje_id
        return self.post("/api/chat/mensaje/marcar-leido", body)

    # Steps that must succeed, for setting up a test.

    def conversacion_con(self, other):
        """Finds or creates the 1:1 conversation with `other`, as the page does; its id as a
        string. The id is read where both services put it, `conversacion.id` (the original's
        crear has no `conversacion_id`, test_crear.py checks that key)."""
        body = expect(self.crear({"participantes": [self.rut, other.rut]}), 200, 201)
        return sid(body["conversacion"]["id"])

    def enviar_ok(self, conversacion_id, contenido):
        """Sends a message; the stored message."""
        return expect(self.enviar(conversacion_id, contenido), 201)["mensaje"]

    def historial(self, conversacion_id, **params):
        return expect(self.mensajes(conversacion_id, **params), 200)["mensajes"]

    def conversacion(self, conversacion_id):
        """This user's entry for a conversation in GET /api/chat/conversaciones, or None."""
        lista = expect(self.conversaciones(), 200)["conversaciones"]
        found = [c for c in lista if sid(c.get("id")) == sid(conversacion_id)]
        assert len(found) <= 1, f"conversation {conversacion_id} listed {len(found)} times"
        return found[0] if found else None

    def no_leidos(self, conversacion_id):
        c = self.conversacion(conversacion_id)
        assert c is not None, f"conversation {conversacion_id} not in {self.rut}'s list"
        assert c["no_leidos"] == c["mensajes_no_leidos"], c
        return c["no_leidos"]

    def leer_todo(self, conversacion_id):
        expect(self.marcar_leido(conversacion_id), 200)

    def __repr__(self):
        return f"<{self.nombre} {self.rut}>"
