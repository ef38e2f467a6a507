"""CONTRACT.md §4 "Headers, CSRF, limits" and §0.5 error bodies: foreign origins cannot change
state, bodies are JSON and capped, and every API error is `{"success": false, "error": ...}`."""

import json

import pytest

from compat import known
from compat.http import expect, expect_error, json_of

ORIGIN = pytest.mark.contract("4", "Origin check on state changes")
BODIES = pytest.mark.contract("4", "JSON bodies and body cap")
ERRORS = pytest.mark.contract("0.5", "JSON error bodies")

# (short name, path, body) of the state-changing API routes; {conv}/{a}/{b}/{token} filled in.
STATE_CHANGES = [
    ("crear", "/api/chat/conversacion/crear", {"participantes": ["{a}", "{b}"]}),
    ("enviar", "/api/chat/mensaje/enviar", {"conversacion_id": "{conv}", "contenido": "{token}"}),
    ("marcar-leido", "/api/chat/mensaje/marcar-leido", {"conversacion_id": "{conv}"}),
    ("heartbeat", "/api/usuarios/heartbeat", {}),
]


def fill(body, trio, token):
    text = json.dumps(body)
    for key, value in (("{a}", trio.a.rut), ("{b}", trio.b.rut), ("{conv}", trio.conv), ("{token}", token)):
        text = text.replace(key, value)
    return json.loads(text)


def not_stored(trio, token):
    assert not [m for m in trio.a.historial(trio.conv) if m.get("contenido") == token], "the message was stored"


@ORIGIN
@pytest.mark.known_difference(known.NO_ORIGIN_CHECK)
@pytest.mark.parametrize("path, body", [pytest.param(p, b, id=n) for n, p, b in STATE_CHANGES])
def test_a_state_change_from_a_foreign_origin_is_refused_with_403(settings, trio, token, path, body):
    r = trio.a.post(path, fill(body, trio, token), headers={"Origin": settings.foreign_origin})
    expect_error(r, 403)
    not_stored(trio, token)


@ORIGIN
@pytest.mark.known_difference(known.NO_ORIGIN_CHECK)
def test_a_foreign_referer_without_origin_is_refused_with_403(settings, trio, token):
    r = trio.a.post("/api/chat/mensaje/enviar", {"conversacion_id": trio.conv, "contenido": token},
                    headers={"Referer": settings.foreign_origin + "/chat"})
    expect_error(r, 403)
    not_stored(trio, token)


@ORIGIN
def test_the_allowed_origin_may_change_state(settings, trio, token):
    body = {"conversacion_id": trio.conv, "contenido": token}
    expect(trio.a.post("/api/chat/mensaje/enviar", body, headers={"Origin": settings.origin}), 201)
    expect(trio.a.post("/api/chat/mensaje/enviar", body, headers={"Referer": settings.origin + "/chat"}), 201)


@ORIGIN
def test_reads_are_allowed_from_any_origin(settings, trio):
    expect(trio.a.get("/api/chat/usuarios", headers={"Origin": settings.foreign_origin}), 200)
    expect(trio.a.get(f"/api/chat/mensajes/{trio.conv}", headers={"Origin": settings.foreign_origin}), 200)


@BODIES
@pytest.mark.known_difference(known.EXCEPTIONS_500)
@pytest.mark.parametrize("path, body", [pytest.param(p, b, id=n) for n, p, b in STATE_CHANGES[:3]])
def test_a_body_that_is_not_declared_json_is_refused_with_415(trio, token, path, body):
    r = trio.a.post(path, data=json.dumps(fill(body, trio, token)), headers={"Content-Type": "text/plain"})
    expect_error(r, 415)
    not_stored(trio, token)


@BODIES
@pytest.mark.parametrize("raw", [
    *(pytest.param(raw, id=name, marks=pytest.mark.known_difference(known.EXCEPTIONS_500)) for raw, name in
      (('[1, 2]', "array"), ('"hola"', "string"), ('{"conversacion_id":', "truncated"), ("", "empty"))),
    pytest.param('{"a":{"b":[[[[[[[[[[[[]]]]]]]]]]]]}}', id="nested"),
])
def test_a_body_that_is_not_a_json_object_is_refused_with_400(trio, raw):
    r = trio.a.post("/api/chat/mensaje/enviar", data=raw, headers={"Content-Type": "application/json"})
    expect_error(r, 400)


@BODIES
@pytest.mark.known_difference(known.NO_LENGTH_LIMIT)
def test_an_oversized_body_is_refused_with_413(trio, token):
    body = {"conversacion_id": trio.conv, "contenido": token, "relleno": "x" * (2 * 1024 * 1024)}
    expect_error(trio.a.post("/api/chat/mensaje/enviar", body), 413)
    not_stored(trio, token)


def _error_cases():
    # (name, how to provoke it as user `a` of a trio, where the original differs)
    yield "401", lambda t, http: http.get("/api/chat/usuarios"), known.NO_SUCCESS_FALSE
    yield "400", lambda t, http: t.a.post("/api/chat/mensaje/marcar-leido", {}), known.NO_SUCCESS_FALSE
    yield "403", lambda t, http: t.c.mensajes(t.conv), known.NO_SUCCESS_FALSE
    yield "404-user", lambda t, http: t.a.crear({"usuario_id": "no-existe-" + t.a.rut}), None
    yield "404-route", lambda t, http: t.a.get("/api/chat/no-existe"), known.FLASK_ERRORS_500
    yield "405", lambda t, http: t.a.get("/api/chat/mensaje/enviar"), known.FLASK_ERRORS_500
    yield "413", lambda t, http: t.a.post("/api/chat/mensaje/enviar", {"conversacion_id": t.conv, "contenido": "x" * 100_000}), \
        known.NO_LENGTH_LIMIT
    yield "415", lambda t, http: t.a.post("/api/chat/mensaje/enviar", data="{}", headers={"Content-Type": "text/plain"}), \
        known.EXCEPTIONS_500


@ERRORS
@pytest.mark.parametrize("provoke", [
    pytest.param(f, id=n, marks=[pytest.mark.known_difference(why)] if why else []) for n, f, why in _error_cases()])
def test_api_errors_are_json_with_success_false_and_a_message(trio, http, provoke):
    r = provoke(trio, http)
    assert 400 <= r.status_code < 500, f"a client error, not {r.status_code}: {r.text[:300]}"
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers.get("Content-Type")
    body = json_of(r)
    assert isinstance(body, dict) and body.get("success") is False, body
    assert isinstance(body.get("error"), str) and body["error"].strip(), body
