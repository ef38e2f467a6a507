"""CONTRACT.md §4 POST /api/chat/mensaje/enviar."""

import pytest

from compat import known
from compat.http import expect, expect_error, json_of, sid
from compat.shapes import assert_message

pytestmark = pytest.mark.contract("4", "POST /api/chat/mensaje/enviar")


def stored(user, conv, contenido):
    return [m for m in user.historial(conv) if m.get("contenido") == contenido]


def test_enviar_stores_the_message_and_answers_201_with_it(trio, token):
    body = expect(trio.a.enviar(trio.conv, token), 201)
    m = body["mensaje"]
    assert sid(m["conversacion_id"]) == trio.conv and m["usuario_id"] == trio.a.rut, m
    assert m["contenido"] == token, m
    seen_by_b = stored(trio.b, trio.conv, token)
    assert [sid(x["id"]) for x in seen_by_b] == [sid(m["id"])]
    assert seen_by_b[0]["es_mio"] is False


@pytest.mark.known_difference(known.ENVIAR_RAW_ROW)
def test_enviar_answers_the_message_with_its_sender_and_es_mio(trio, token):
    m = expect(trio.a.enviar(trio.conv, token), 201)["mensaje"]
    assert_message(m, trio.conv, trio.a, token)
    assert m["es_mio"] is True


def test_enviar_keeps_unicode_and_sql_metacharacters_verbatim(trio, token):
    text = f"{token} O'Brien\"; DROP TABLE usuarios; -- \\ $1 %s ñandú 😀"
    m = trio.a.enviar_ok(trio.conv, text)
    assert m["contenido"] == text
    assert len(stored(trio.b, trio.conv, text)) == 1


def test_enviar_accepts_a_numeric_conversation_id(trio, token):
    if not trio.conv.isdigit():
        pytest.skip("conversation ids of this server are not numeric")
    expect(trio.a.enviar(int(trio.conv), token), 201)


@pytest.mark.parametrize("make_body", [
    pytest.param(lambda conv: {"conversacion_id": conv}, id="no-contenido"),
    pytest.param(lambda conv: {"contenido": "hola"}, id="no-conversacion_id"),
    pytest.param(lambda conv: {"conversacion_id": conv, "contenido": "   "}, id="blank-contenido"),
    pytest.param(lambda conv: {"conversacion_id": conv, "contenido": ""}, id="empty-contenido"),
    pytest.param(lambda conv: {"conversacion_id": conv, "contenido": 5},
                 marks=pytest.mark.known_difference(known.EXCEPTIONS_500), id="number-contenido"),
    pytest.param(lambda conv: {"conversacion_id": conv, "contenido": ["x"]},
                 marks=pytest.mark.known_difference(known.EXCEPTIONS_500), id="list-contenido"),
    pytest.param(lambda conv: {"conversacion_id": None, "contenido": "x"}, id="null-conversacion_id"),
])
def test_enviar_refuses_missing_or_empty_data_with_400(trio, make_body):
    expect_error(trio.a.post("/api/chat/mensaje/enviar", make_body(trio.conv)), 400, "Faltan datos requeridos")


def test_a_message_of_exactly_the_length_limit_is_accepted(trio, settings, token):
    text = (token + " " + "ñ" * settings.max_message_chars)[:settings.max_message_chars]
    assert len(text) == settings.max_message_chars
    m = trio.a.enviar_ok(trio.conv, text)
    assert m["contenido"] == text, "the limit counts characters, not bytes"


@pytest.mark.known_difference(known.NO_LENGTH_LIMIT)
def test_a_message_past_the_length_limit_is_refused_with_413(trio, settings, token):
    text = (token + " " + "ñ" * settings.max_message_chars)[:settings.max_message_chars + 1]
    expect_error(trio.a.enviar(trio.conv, text), 413, "Mensaje demasiado largo")
    assert not stored(trio.a, trio.conv, text)


def test_enviar_refuses_a_non_participant_with_403_and_stores_nothing(trio, token):
    expect_error(trio.c.enviar(trio.conv, token), 403, "No tienes acceso a esta conversación")
    assert not stored(trio.a, trio.conv, token)


@pytest.mark.parametrize("conv", ["no-es-un-id", "999999999", "00000000-0000-0000-0000-000000000000",
                                  "1;DROP TABLE usuarios"])
def test_enviar_refuses_ids_that_do_not_exist_or_do_not_parse_with_403(trio, token, conv):
    expect_error(trio.a.enviar(conv, token), 403, "No tienes acceso a esta conversación")


@pytest.mark.known_difference(known.NO_IDEMPOTENCY)
@pytest.mark.parametrize("how", ["client_id", "Idempotency-Key"])
def test_a_retried_send_with_the_same_client_key_stores_one_message(trio, token, how):
    key = "retry-" + token.replace(" ", "-")
    if how == "client_id":
        send = lambda: trio.a.post("/api/chat/mensaje/enviar",
                                   {"conversacion_id": trio.conv, "contenido": token, "client_id": key})
    else:
        send = lambda: trio.a.post("/api/chat/mensaje/enviar", {"conversacion_id": trio.conv, "contenido": token},
                                   headers={"Idempotency-Key": key})
    first, retry = send(), send()
    expect(first, 201)
    expect(retry, 200, 201)
    assert sid(json_of(retry)["mensaje"]["id"]) == sid(json_of(first)["mensaje"]["id"]), "the retry answers the first message"
    assert len(stored(trio.a, trio.conv, token)) == 1, "stored once"
