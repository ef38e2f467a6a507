"""CONTRACT.md §2: the Flask session cookie, both ways, with the real Flask/itsdangerous."""

import uuid
from datetime import datetime, timezone

import pytest
from markupsafe import Markup

from compat.cookies import login_session, now
from compat.http import Http, expect, expect_error

pytestmark = pytest.mark.contract("2", "Flask session cookie")


def test_a_minimal_cookie_signed_by_flask_authenticates(minter, trio, http):
    cookie = minter.header({"usuario_id": trio.a.rut})
    expect(http.get("/api/chat/usuarios", cookie=cookie), 200)


def test_a_compressed_cookie_with_extra_keys_authenticates(minter, trio, http):
    session = login_session(trio.a.user) | {"csrf_token": "f" * 40, "theme": "oscuro " * 40}
    value = minter.value(session)
    assert value.startswith("."), "the payload is long enough for Flask to zlib-compress it"
    expect(http.get("/api/chat/usuarios", cookie=f"{minter.cookie_name}={value}"), 200)


def test_tagged_json_values_in_the_session_are_accepted(minter, trio, http):
    session = login_session(trio.a.user) | {
        "tupla": (1, "dos"),
        "bytes": b"\x00\xff",
        "markup": Markup("<b>hola</b>"),
        "uuid": uuid.uuid4(),
        "fecha": datetime(2025, 11, 25, 10, 30, tzinfo=timezone.utc),
        "dict_que_parece_etiqueta": {" t": ["no es una tupla"]},
    }
    expect(http.get("/api/chat/usuarios", cookie=minter.header(session)), 200)


@pytest.mark.parametrize("session", [
    pytest.param({"usuario_logueado": True, "usuario_nombre": "Nadie"}, id="no-usuario_id"),
    pytest.param({"usuario_logueado": True, "usuario_id": ""}, id="empty-usuario_id"),
])
def test_a_session_without_a_usuario_id_is_not_authenticated(minter, http, session):
    expect_error(http.get("/api/chat/usuarios", cookie=minter.header(session)), 401, "No autenticado")


@pytest.mark.parametrize("permanent", [True, False], ids=["permanent", "not-permanent"])
def test_a_cookie_older_than_the_session_lifetime_is_refused(minter, settings, trio, http, permanent):
    session = login_session(trio.a.user) | {"_permanent": permanent}
    old = minter.header(session, signed_at=now() - settings.session_lifetime - 120)
    expect_error(http.get("/api/chat/usuarios", cookie=old), 401, "No autenticado")
    recent = minter.header(session, signed_at=now() - settings.session_lifetime // 2)
    expect(http.get("/api/chat/usuarios", cookie=recent), 200)


def test_the_login_cookie_is_a_flask_session_with_the_login_keys(minter, settings, http, password_user):
    user = password_user.user
    r = http.login(user.login or user.rut, user.password)
    expect(r, 302)
    value = Http.set_cookie_value(r, settings.cookie_name)
    session = minter.read(value, max_age=settings.session_lifetime)
    assert session["usuario_id"] == user.rut
    assert session["usuario_logueado"] is True
    assert session["usuario_nombre"] == user.nombre
    if user.rol is not None:
        assert session["usuario_rol"] == user.rol.lower()
    if user.correo is not None:
        assert session["usuario_correo"] == user.correo
    assert session.get("_permanent", False) is False, "not permanent without remember"
    assert session.get("recordarme_activado", False) is False


def test_login_keeps_the_other_keys_of_an_existing_session(minter, settings, http, password_user):
    user = password_user.user
    before = {"csrf_token": "a1b2c3", "theme": "oscuro"}
    r = http.login(user.login or user.rut, user.password, cookie=minter.header(before))
    expect(r, 302)
    session = minter.read(Http.set_cookie_value(r, settings.cookie_name), max_age=settings.session_lifetime)
    assert session["usuario_id"] == user.rut
    assert {k: session.get(k) for k in before} == before


def test_the_login_cookie_is_httponly_samesite_lax_for_the_whole_site(settings, http, password_user):
    user = password_user.user
    r = http.login(user.login or user.rut, user.password)
    expect(r, 302)
    header = Http.set_cookie(r, settings.cookie_name)
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in header.split(";")[1:]}
    assert "httponly" in attributes, header
    assert attributes.get("samesite", "").lower() == "samesite=lax", header
    assert attributes.get("path") == "Path=/", header
