"""CONTRACT.md §4 POST /api/chat/conversacion/crear: find-or-create the 1:1 conversation."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from compat import known
from compat.http import expect, expect_error, json_of, sid

pytestmark = pytest.mark.contract("4", "POST /api/chat/conversacion/crear")

BAD_BODY_TEXTS = ("Se requieren dos participantes", "Faltan IDs de usuario")


@pytest.mark.known_difference(known.CREAR_ALWAYS_200)
def test_crear_creates_a_new_conversation_with_201_and_the_documented_body(new_user):
    a, b = new_user("Ana"), new_user("Bruno")
    body = expect(a.crear({"participantes": [a.rut, b.rut]}), 201)
    assert body["success"] is True
    assert isinstance(body["conversacion_id"], str), "conversation ids are JSON strings"
    assert body["conversacion"] == {"id": body["conversacion_id"], "nombre": None, "es_grupal": False, "creado": True}
    assert isinstance(body["mensaje"], str)


OLD_FORM = pytest.mark.known_difference(known.CREAR_TWO_PARTICIPANTS_ONLY)


@pytest.mark.parametrize("caller, make_body", [
    pytest.param("a", lambda t: {"participantes": [t.a.rut, t.b.rut]}, id="me-first"),
    pytest.param("b", lambda t: {"participantes": [t.b.rut, t.a.rut]}, id="other-first"),
    pytest.param("a", lambda t: {"participantes": [t.b.rut]}, marks=OLD_FORM, id="only-the-other"),
    pytest.param("b", lambda t: {"usuario_id": t.a.rut}, marks=OLD_FORM, id="usuario_id"),
])
def test_crear_finds_the_existing_conversation_with_200_in_every_documented_form(trio, caller, make_body):
    body = expect(getattr(trio, caller).crear(make_body(trio)), 200)
    assert body["success"] is True, body
    assert sid(body["conversacion"]["id"]) == trio.conv


@pytest.mark.known_difference(known.CREAR_ALWAYS_200)
def test_crear_of_an_existing_conversation_answers_conversacion_id_and_creado_false(trio):
    body = expect(trio.a.crear({"participantes": [trio.a.rut, trio.b.rut]}), 200)
    assert sid(body["conversacion_id"]) == trio.conv
    assert body["conversacion"]["creado"] is False


def test_crear_with_another_user_is_another_conversation(trio):
    assert trio.a.conversacion_con(trio.c) != trio.conv


@pytest.mark.parametrize("make_body", [
    pytest.param(lambda t: {}, id="empty"),
    pytest.param(lambda t: {"participantes": []}, id="no-participants"),
    pytest.param(lambda t: {"participantes": "x"}, id="not-a-list"),
    pytest.param(lambda t: {"participantes": [t.a.rut, t.b.rut, t.c.rut]}, id="three-participants"),
    pytest.param(lambda t: {"participantes": None}, marks=pytest.mark.known_difference(known.EXCEPTIONS_500),
                 id="null"),
])
def test_crear_refuses_a_malformed_body_with_400(trio, make_body):
    expect_error(trio.a.crear(make_body(trio)), 400, texts=BAD_BODY_TEXTS)


@pytest.mark.parametrize("make_body", [
    pytest.param(lambda t: {"participantes": [t.a.rut]}, id="only-me"),
    pytest.param(lambda t: {"participantes": [t.a.rut, t.a.rut]}, marks=pytest.mark.known_difference(known.CREAR_SELF_CHAT),
                 id="me-twice"),
    pytest.param(lambda t: {"usuario_id": t.a.rut}, id="usuario_id-me"),
])
def test_crear_refuses_a_conversation_with_oneself_with_400(trio, make_body):
    expect_error(trio.a.crear(make_body(trio)), 400)


@pytest.mark.known_difference(known.EXCEPTIONS_500)
def test_crear_refuses_a_body_that_is_not_json_with_400(trio):
    r = trio.a.post("/api/chat/conversacion/crear", data="{no es json",
                    headers={"Content-Type": "application/json"})
    expect_error(r, 400)


@pytest.mark.known_difference(known.CREAR_NO_PARTICIPANT_CHECK)
def test_crear_refuses_a_caller_who_is_not_a_participant_with_403(trio):
    expect_error(trio.c.crear({"participantes": [trio.a.rut, trio.b.rut]}), 403,
                 "No tienes acceso a esta conversación")


@pytest.mark.known_difference(known.CREAR_UNKNOWN_USER)
@pytest.mark.parametrize("make_body", [
    pytest.param(lambda t, unknown: {"participantes": [t.a.rut, unknown]}, id="participantes"),
    pytest.param(lambda t, unknown: {"usuario_id": unknown}, id="usuario_id"),
    pytest.param(lambda t, unknown: {"usuario_id": "' OR 1=1 --"}, id="sql-metacharacters"),
])
def test_crear_answers_404_for_an_unknown_user(trio, unknown_rut, make_body):
    expect_error(trio.a.crear(make_body(trio, unknown_rut)), 404, "Usuario no encontrado")


@pytest.mark.known_difference(known.CREAR_NOT_ATOMIC)
def test_twenty_concurrent_crear_calls_make_one_conversation(new_user):
    a, b = new_user("Ana"), new_user("Bruno")
    start = threading.Barrier(20)

    def call(i):
        me, other = (a, b) if i % 2 == 0 else (b, a)
        # Own connection pool per thread, all released at once.
        client = me.on(me.http.fresh())
        start.wait()
        r = client.crear({"participantes": [me.rut, other.rut]})
        return r.status_code, json_of(r)

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(call, range(20)))
    ids = {sid((body or {}).get("conversacion", {}).get("id")) for _, body in results}
    assert len(ids) == 1, f"every call answers the same conversation: {ids}"
    statuses = sorted(s for s, _ in results)
    assert statuses == [200] * 19 + [201], f"exactly one call creates: {statuses}"
