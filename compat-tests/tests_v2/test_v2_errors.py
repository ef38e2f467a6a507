"""CONTRACT-v2.md §1 (app-wide handlers) and §7.1: every API error is JSON with
`success: false`; handler errors carry `msg` (the widget's key) and, in the fixed contract,
`error` too."""

import pytest

from compat import known_v2 as known
from compat.http import json_of

pytestmark = pytest.mark.contract("1", "JSON error bodies")


def _cases():
    yield "unknown-route", lambda t: t.a.get("/api/chat/no-existe"), 404
    yield "wrong-method", lambda t: t.a.get("/api/chat/send"), 405


@pytest.mark.parametrize("provoke, status", [pytest.param(f, s, id=n) for n, f, s in _cases()])
def test_framework_errors_are_json_with_success_false_and_error(trio, provoke, status):
    r = provoke(trio)
    assert r.status_code == status, r.text[:300]
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers.get("Content-Type")
    body = json_of(r)
    assert isinstance(body, dict) and body.get("success") is False, body
    assert isinstance(body.get("error"), str) and body["error"], body


@pytest.mark.known_difference(known.HANDLER_ERRORS_MSG_ONLY)
@pytest.mark.parametrize("provoke", [
    pytest.param(lambda t: t.a.send({"contenido": "x"}), id="400"),
    pytest.param(lambda t: t.c.send({"conversacion_id": t.conv, "contenido": "x"}), id="403"),
    pytest.param(lambda t: t.a.reaccion(999999999, "👍"), id="404"),
])
def test_handler_errors_carry_msg_and_error(trio, provoke):
    body = json_of(provoke(trio))
    assert isinstance(body, dict) and body.get("success") is False, body
    assert isinstance(body.get("msg"), str) and isinstance(body.get("error"), str), body
