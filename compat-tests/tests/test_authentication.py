"""CONTRACT.md §2 and §4: every API route answers 401 `{"error": "No autenticado"}` without a
valid session (no cookie, a tampered one, one signed with another key, an expired one, one
signed in the future, garbage), and does nothing."""

import pytest

from compat import known
from compat.cookies import INVALID_KINDS, NEEDS_SECRET, invalid_cookie
from compat.http import expect_error

# (short name, contract section, contract item, method, path, JSON body); {conv} is a real
# conversation of the user, {token} a text unique to the test.
ROUTES = [
    ("usuarios", "4", "GET /api/chat/usuarios", "GET", "/api/chat/usuarios", None),
    ("conversaciones", "4", "GET /api/chat/conversaciones", "GET", "/api/chat/conversaciones", None),
    ("crear", "4", "POST /api/chat/conversacion/crear", "POST", "/api/chat/conversacion/crear",
     {"participantes": ["{a}", "{b}"]}),
    ("mensajes", "4", "GET /api/chat/mensajes/<id>", "GET", "/api/chat/mensajes/{conv}", None),
    ("mensajes-query", "4", "GET /api/chat/mensajes?conversacion_id=", "GET",
     "/api/chat/mensajes?conversacion_id={conv}", None),
    ("enviar", "4", "POST /api/chat/mensaje/enviar", "POST", "/api/chat/mensaje/enviar",
     {"conversacion_id": "{conv}", "contenido": "{token}"}),
    ("marcar-leido", "4", "POST /api/chat/mensaje/marcar-leido", "POST", "/api/chat/mensaje/marcar-leido",
     {"conversacion_id": "{conv}"}),
    ("heartbeat", "1", "POST /api/usuarios/heartbeat", "POST", "/api/usuarios/heartbeat", {}),
    ("conectados", "1", "GET /api/usuarios/conectados", "GET", "/api/usuarios/conectados", None),
]


def _route_params():
    for name, section, item, method, path, body in ROUTES:
        for kind in INVALID_KINDS:
            marks = [pytest.mark.contract(section, item)]
            if name == "crear":
                marks.append(pytest.mark.known_difference(known.CREAR_WITHOUT_SESSION))
            elif method == "POST":
                marks.append(pytest.mark.known_difference(known.CSRF_BEFORE_SESSION))
            yield pytest.param(method, path, body, kind, marks=marks, id=f"{name}-{kind}")


def _fill(value, values):
    if isinstance(value, str):
        return value.format(**values)
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    return value


@pytest.mark.parametrize("method, path, body, kind", list(_route_params()))
def test_api_routes_answer_401_without_a_valid_session(http, settings, flask_cookies, trio, token,
                                                       method, path, body, kind):
    values = {"a": trio.a.rut, "b": trio.b.rut, "conv": trio.conv, "token": token}
    if kind in NEEDS_SECRET and flask_cookies is None:
        pytest.skip("needs --secret-key (the test signs its own cookies)")
    cookie = invalid_cookie(kind, trio.a.user, trio.a.cookie, settings, flask_cookies)
    kwargs = {} if body is None else {"json": _fill(body, values)}
    r = http.request(method, _fill(path, values), cookie=cookie, **kwargs)
    expect_error(r, 401, "No autenticado")
    if path.endswith("/enviar"):
        stored = [m for m in trio.a.historial(trio.conv) if m.get("contenido") == token]
        assert not stored, "a message was stored without a session"
