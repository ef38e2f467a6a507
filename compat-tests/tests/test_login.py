"""CONTRACT.md §3: the login form and logout (standalone mode)."""

import re
from urllib.parse import urlsplit

import pytest

from compat import known
from compat.http import Http, expect


def location_path(response):
    return urlsplit(response.headers.get("Location", "")).path


@pytest.mark.contract("3", "GET / (login form)")
def test_the_login_form_has_usuario_and_password_fields(http):
    r = http.get("/")
    expect(r, 200)
    assert re.search(r'name=["\']usuario["\']', r.text), r.text[:500]
    assert re.search(r'name=["\']password["\']', r.text), r.text[:500]


@pytest.mark.contract("3", "POST / (login)")
def test_login_by_rut_email_or_name_redirects_with_a_session(settings, http, password_user):
    user = password_user.user
    for identifier in user.identifiers:
        r = http.login(identifier, user.password)
        expect(r, 302)
        value = Http.set_cookie_value(r, settings.cookie_name)
        assert value, f"{identifier}: no {settings.cookie_name} cookie"
        expect(http.get("/api/chat/usuarios", cookie=f"{settings.cookie_name}={value}"), 200)


@pytest.mark.contract("3", "POST / (login)")
@pytest.mark.known_difference(known.LOGIN_TO_DASHBOARD)
def test_login_redirects_to_the_chat(http, password_user):
    user = password_user.user
    r = http.login(user.login or user.rut, user.password)
    expect(r, 302)
    assert location_path(r) == "/chat", r.headers.get("Location")


@pytest.mark.contract("3", "POST / (login)")
def test_remember_makes_the_session_cookie_permanent(settings, http, password_user):
    user = password_user.user
    plain = Http.set_cookie(http.login(user.login or user.rut, user.password), settings.cookie_name)
    remembered = Http.set_cookie(http.login(user.login or user.rut, user.password, remember=True),
                                 settings.cookie_name)
    assert plain and remembered, "both logins set the session cookie"
    assert "expires=" not in plain.lower(), plain
    assert "expires=" in remembered.lower(), remembered


def _authenticates(http, settings, response):
    value = Http.set_cookie_value(response, settings.cookie_name)
    if not value:
        return False
    return http.get("/api/chat/usuarios", cookie=f"{settings.cookie_name}={value}").status_code == 200


def _normalised(html):
    # Per-request tokens (CSRF fields, nonces) are not part of the comparison.
    return re.sub(r'(value|content|nonce)="[^"]*"', r'\1=""', html)


@pytest.mark.contract("3", "POST / (login)")
def test_a_failed_login_shows_the_form_again_and_signs_nobody_in(settings, http, password_user, unknown_rut):
    user = password_user.user
    for r in (http.login(user.login or user.rut, user.password + "-mal"),
              http.login(unknown_rut, user.password + "-mal")):
        assert r.status_code == 200, f"the form is shown again: {r.status_code}"
        assert not _authenticates(http, settings, r)


@pytest.mark.contract("3", "POST / (login)")
@pytest.mark.known_difference(known.LOGIN_REVEALS_ACCOUNT)
def test_a_failed_login_does_not_reveal_whether_the_account_exists(http, password_user, unknown_rut):
    user = password_user.user
    wrong_password = http.login(user.login or user.rut, user.password + "-mal")
    no_account = http.login(unknown_rut, user.password + "-mal")
    assert _normalised(wrong_password.text) == _normalised(no_account.text)


@pytest.mark.contract("3", "POST / (login)")
@pytest.mark.known_difference(known.NO_ORIGIN_CHECK)
def test_a_login_posted_from_a_foreign_origin_is_refused(settings, http, password_user):
    user = password_user.user
    r = http.login(user.login or user.rut, user.password, headers={"Origin": settings.foreign_origin})
    assert r.status_code == 403, r.status_code
    assert not _authenticates(http, settings, r)


@pytest.mark.contract("3", "GET /logout")
def test_logout_clears_the_session_and_redirects_to_the_login_form(settings, http, trio):
    r = http.get("/logout", cookie=trio.a.cookie)
    expect(r, 302)
    assert location_path(r) == "/", r.headers.get("Location")
    header = Http.set_cookie(r, settings.cookie_name)
    assert header is not None, "logout must replace the session cookie"
    value = Http.set_cookie_value(r, settings.cookie_name)
    if value:
        # A session without the login keys (the original keeps a flash message in it).
        assert not _authenticates(http, settings, r), f"the cookie logout set still signs in: {header}"
    else:
        lowered = header.lower()
        assert "max-age=0" in lowered or "expires=thu, 01 jan 1970" in lowered, header
