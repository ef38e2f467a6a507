"""CONTRACT-v2.md §5: the `weigence_session` cookie. The chat reads only `usuario_id` from the
Flask session, signed with the app's SECRET_KEY; the widget sends no CSRF token."""

import pytest

from compat import csrf
from compat.cookies import login_session
from compat.http import expect
from compat.widget import expect_msg

pytestmark = pytest.mark.contract("5", "weigence_session cookie")


def test_a_session_holding_only_usuario_id_works_on_the_routes_and_the_socket(minter, trio, http, sockets, token):
    cookie = minter.header({"usuario_id": trio.a.rut})
    expect(http.get("/api/chat/users", cookie=cookie), 200)
    body = expect(http.get(f"/api/chat/history/{trio.b.rut}", cookie=cookie), 200)
    assert str(body["conversacion_id"]) == trio.conv
    expect(http.post("/api/chat/send", cookie=cookie, json={"conversacion_id": trio.conv, "contenido": token}), 200)
    client = sockets.client(cookie=cookie)
    client.connect()
    assert client.wait("ws_connected") == {"usuario_id": trio.a.rut}


def test_a_compressed_cookie_with_the_v2_login_keys_authenticates(minter, trio, http):
    session = login_session(trio.a.user) | {"usuario_foto_perfil": None, "csrf_token": "f" * 40,
                                            "theme": "oscuro " * 40, "last_page": "/dashboard"}
    value = minter.value(session)
    assert value.startswith("."), "the payload is long enough for Flask to zlib-compress it"
    expect(http.get("/api/chat/users", cookie=f"{minter.cookie_name}={value}"), 200)


@pytest.mark.parametrize("session", [
    pytest.param({"usuario_logueado": True, "usuario_nombre": "Nadie"}, id="no-usuario_id"),
    pytest.param({"usuario_logueado": True, "usuario_id": ""}, id="empty-usuario_id"),
])
def test_a_session_without_a_usuario_id_is_not_authenticated(minter, http, session):
    expect_msg(http.get("/api/chat/users", cookie=minter.header(session)), 401, "No autenticado")


def test_a_valid_session_under_another_cookie_name_is_not_read(minter, trio, http):
    value = minter.value(login_session(trio.a.user))
    expect_msg(http.get("/api/chat/users", cookie=f"otra_sesion={value}"), 401, "No autenticado")


def test_v2_posts_need_no_csrf_token(trio, http, token):
    """The widget's fetch calls carry the cookie and no X-CSRFToken."""
    r = http.post("/api/chat/send", cookie=trio.a.cookie, headers={"Origin": http.origin},
                  json={"conversacion_id": trio.conv, "contenido": token})
    expect(r, 200)
    assert csrf.HEADER not in r.request.headers
    assert [m["contenido"] for m in trio.b.mensajes_con(trio.a, token)] == [token]
