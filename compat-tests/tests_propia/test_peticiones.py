"""Every state-changing route of our own API refuses a foreign Origin and an oversized body,
with nothing changed."""

import pytest

from compat.http import expect
from compat.propia import expect_refused

ORIGEN = pytest.mark.extension("peticiones", "Origin check on state changes")
CUERPO = pytest.mark.extension("peticiones", "body cap")

# (name, method, path, body) with {conv}, {b}, {c}, {d}, {m} filled in.
CAMBIOS = [
    ("crear grupo", "POST", "/api/chat/grupos", {"nombre": "x", "miembros": ["{b}", "{d}"]}),
    ("renombrar", "PATCH", "/api/chat/grupos/{conv}", {"nombre": "x"}),
    ("agregar", "POST", "/api/chat/grupos/{conv}/miembros", {"usuario_id": "{d}"}),
    ("quitar", "DELETE", "/api/chat/grupos/{conv}/miembros/{c}", None),
    ("salir", "POST", "/api/chat/grupos/{conv}/salir", None),
    ("admin", "PUT", "/api/chat/grupos/{conv}/admins/{b}", {"es_admin": True}),
    ("editar", "PATCH", "/api/chat/mensajes/{m}", {"contenido": "x"}),
    ("eliminar", "DELETE", "/api/chat/mensajes/{m}", None),
    ("reaccionar", "POST", "/api/chat/mensajes/{m}/reacciones", {"emoji": "👍"}),
    ("fijar", "POST", "/api/chat/mensajes/{m}/fijado", None),
    ("entregado", "POST", "/api/chat/conversaciones/{conv}/entregado", {}),
]


def fill(text, grupo, m):
    for key, value in (("{conv}", grupo.conv), ("{b}", grupo.b.rut), ("{c}", grupo.c.rut), ("{d}", grupo.d.rut),
                       ("{m}", str(m["id"]))):
        text = text.replace(key, value)
    return text


def fill_body(body, grupo, m):
    if body is None:
        return None
    return {k: fill(v, grupo, m) if isinstance(v, str) else ([fill(x, grupo, m) for x in v] if isinstance(v, list) else v)
            for k, v in body.items()}


def snapshot(grupo):
    """What any of these changes would alter, as Bruno sees it (Bruno has no message of his own)."""
    page = grupo.b.pagina(grupo.conv)
    groups = {c["id"] for c in expect(grupo.b.conversaciones(), 200)["conversaciones"] if c["es_grupal"]}
    return page, groups


@ORIGEN
@pytest.mark.parametrize("method, path, body", [pytest.param(m, p, b, id=n) for n, m, p, b in CAMBIOS])
def test_a_state_change_from_a_foreign_origin_is_403_and_changes_nothing(settings, grupo, token, method, path, body):
    m = grupo.a.enviar_ok(grupo.conv, token)
    before = snapshot(grupo)
    r = grupo.a.call(method, fill(path, grupo, m), fill_body(body, grupo, m), headers={"Origin": settings.foreign_origin})
    expect_refused(r, 403)
    assert snapshot(grupo) == before


@CUERPO
@pytest.mark.parametrize("method, path, body", [pytest.param(m, p, b, id=n) for n, m, p, b in CAMBIOS if b is not None])
def test_an_oversized_body_is_413_and_changes_nothing(grupo, token, method, path, body):
    m = grupo.a.enviar_ok(grupo.conv, token)
    before = snapshot(grupo)
    big = {**fill_body(body, grupo, m), "relleno": "x" * 1_000_000}
    expect_refused(grupo.a.call(method, fill(path, grupo, m), big), 413)
    assert snapshot(grupo) == before
