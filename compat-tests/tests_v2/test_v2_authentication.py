"""CONTRACT-v2.md §1 and §5: every v2 route answers 401 `{"success": false, "msg": "No autenticado"}`
without a valid `weigence_session` (none, tampered, signed with another key, garbage, expired,
signed in the future), and does nothing."""

import pytest

from compat.cookies import INVALID_KINDS, NEEDS_SECRET, invalid_cookie
from compat.http import expect, expect_error
from compat.widget import expect_msg

# (short name, section, item, method, path, JSON body); {b} is the other user's rut, {conv} the
# conversation, {msg} a message of it, {token} a text unique to the test.
ROUTES = [
    ("users", "1.2", "GET /api/chat/users", "GET", "/api/chat/users", None),
    ("conversaciones", "1.1", "GET /api/chat/conversaciones", "GET", "/api/chat/conversaciones", None),
    ("history", "1.3", "GET /api/chat/history/<rut>", "GET", "/api/chat/history/{b}", None),
    ("send", "1.4", "POST /api/chat/send", "POST", "/api/chat/send",
     {"destinatario_id": "{b}", "conversacion_id": "{conv}", "contenido": "{token}"}),
    ("mensaje", "1.5", "GET /api/chat/mensajes/<id>", "GET", "/api/chat/mensajes/{msg}", None),
    ("reaccion", "1.6", "POST /api/chat/mensajes/<id>/reaccion", "POST", "/api/chat/mensajes/{msg}/reaccion",
     {"emoji": "👍"}),
    ("eliminar", "1.7", "DELETE /api/chat/mensajes/<id>", "DELETE", "/api/chat/mensajes/{msg}", None),
    ("fijar", "1.8", "POST /api/chat/mensajes/<id>/fijar", "POST", "/api/chat/mensajes/{msg}/fijar", None),
    ("desfijar", "1.9", "POST /api/chat/mensajes/<id>/desfijar", "POST", "/api/chat/mensajes/{msg}/desfijar", None),
]


def _fill(value, values):
    if isinstance(value, str):
        return value.format(**values)
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    return value


@pytest.mark.parametrize("method, path, body, kind", [
    pytest.param(method, path, body, kind, marks=pytest.mark.contract(section, item), id=f"{name}-{kind}")
    for name, section, item, method, path, body in ROUTES for kind in INVALID_KINDS])
def test_v2_routes_answer_401_without_a_valid_session_and_change_nothing(http, settings, flask_cookies, trio, token,
                                                                          method, path, body, kind):
    if kind in NEEDS_SECRET and flask_cookies is None:
        pytest.skip("needs --secret-key (the test signs its own cookies)")
    mine = trio.a.enviar_en(trio.conv, f"{token} propio")
    pin_before = trio.a.historial(trio.b)["mensaje_fijado"]
    values = {"b": trio.b.rut, "conv": trio.conv, "msg": mine["id"], "token": token}
    cookie = invalid_cookie(kind, trio.a.user, trio.a.cookie, settings, flask_cookies)
    kwargs = {} if body is None else {"json": _fill(body, values)}
    r = http.request(method, _fill(path, values), cookie=cookie, **kwargs)
    expect_msg(r, 401, "No autenticado")
    after = trio.a.historial(trio.b)
    assert [m["contenido"] for m in after["mensajes"] if m["contenido"].startswith(token)] == [f"{token} propio"], \
        "the message is still there and nothing was added"
    assert after["mensaje_fijado"] == pin_before


@pytest.mark.contract("1.11", "POST /api/usuarios/heartbeat")
@pytest.mark.parametrize("kind", INVALID_KINDS)
def test_the_heartbeat_answers_401_without_a_valid_session(http, settings, flask_cookies, trio, kind):
    if kind in NEEDS_SECRET and flask_cookies is None:
        pytest.skip("needs --secret-key (the test signs its own cookies)")
    cookie = invalid_cookie(kind, trio.a.user, trio.a.cookie, settings, flask_cookies)
    expect_error(http.post("/api/usuarios/heartbeat", cookie=cookie, json={}), 401, "No autenticado")


@pytest.mark.contract("1.11", "POST /api/usuarios/heartbeat")
def test_the_heartbeat_refreshes_the_caller(trio):
    body = expect(trio.a.post("/api/usuarios/heartbeat", {}), 200)
    assert body.get("success") is True, body

