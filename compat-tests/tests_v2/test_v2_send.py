"""CONTRACT-v2.md §1.4 POST /api/chat/send: by the other user's rut (`destinatario_id` or
`rut_destino`, which win: path A) or into `conversacion_id` (path B), optionally replying."""

import pytest

from compat import known_v2 as known
from compat.http import expect, sid
from compat.widget import assert_m, expect_msg

pytestmark = pytest.mark.contract("1.4", "POST /api/chat/send")

# How the widget's fallback sends (both keys), by rut only, by the other key, by id only.
PATHS = {
    "widget": lambda t: {"conversacion_id": t.conv, "destinatario_id": t.b.rut},
    "destinatario_id": lambda t: {"destinatario_id": t.b.rut},
    "rut_destino": lambda t: {"rut_destino": t.b.rut},
    "conversacion_id": lambda t: {"conversacion_id": t.conv},
}
BY_RUT = ["widget", "destinatario_id", "rut_destino"]


@pytest.mark.parametrize("path", list(PATHS))
def test_send_stores_the_message_and_answers_it(trio, token, path):
    body = expect(trio.a.send({**PATHS[path](trio), "contenido": token}), 200)
    assert body["success"] is True and body["conversacion_id"] == trio.conv, body
    assert isinstance(body["conversacion_id"], str), "conversacion_id is a string here"
    assert_m(body["mensaje"], trio.conv, trio.a, token)
    assert [sid(m["id"]) for m in trio.b.mensajes_con(trio.a, token)] == [sid(body["mensaje"]["id"])]


def test_send_trims_the_text(trio, token):
    m = trio.a.enviar_a(trio.b, f"  {token}  ")
    assert m["contenido"] == token, m


def test_the_recipient_wins_over_conversacion_id(trio, token):
    other = trio.a.abrir(trio.c)
    m = expect(trio.a.send({"conversacion_id": other, "destinatario_id": trio.b.rut, "contenido": token}), 200)
    assert sid(m["mensaje"]["conversacion_id"]) == trio.conv, m
    assert trio.c.mensajes_con(trio.a, token) == []


def test_send_keeps_unicode_and_sql_metacharacters_verbatim(trio, token):
    text = f"{token} O'Brien\"; DROP TABLE usuarios; -- \\ $1 %s ñandú 😀 <b>x</b>"
    assert trio.a.enviar_a(trio.b, text)["contenido"] == text
    assert len(trio.b.mensajes_con(trio.a, text)) == 1


@pytest.mark.known_difference(known.NO_USUARIO_NOMBRE)
def test_the_sent_message_carries_the_author_name(trio, token):
    assert trio.a.enviar_a(trio.b, token).get("usuario_nombre") == trio.a.nombre


@pytest.mark.parametrize("contenido", ["", "   "], ids=["empty", "blank"])
@pytest.mark.parametrize("path", ["destinatario_id", "conversacion_id"])
def test_an_empty_message_is_refused_with_400(trio, token, contenido, path):
    before = len(trio.a.historial(trio.b)["mensajes"])
    expect_msg(trio.a.send({**PATHS[path](trio), "contenido": contenido}), 400, "Mensaje vacio")
    assert len(trio.a.historial(trio.b)["mensajes"]) == before


def test_a_message_without_contenido_is_refused_with_400(trio):
    expect_msg(trio.a.send({"destinatario_id": trio.b.rut}), 400, "Mensaje vacio")


@pytest.mark.parametrize("how", ["no-body", "text-plain"])
def test_a_request_without_a_json_body_is_refused(trio, token, how):
    """400 "Mensaje vacio" in the original (it read a missing body as {}); 415 is as good."""
    kwargs = {} if how == "no-body" else {"data": '{"contenido": "x"}', "headers": {"Content-Type": "text/plain"}}
    r = trio.a.send(**kwargs)
    assert r.status_code in (400, 415), r.text[:300]
    expect_msg(r, r.status_code)


def test_a_message_without_a_destination_is_refused_with_400(trio, token):
    expect_msg(trio.a.send({"contenido": token}), 400, "Falta destinatario")


@pytest.mark.known_difference(known.EXCEPTIONS_500)
@pytest.mark.parametrize("body", [
    pytest.param(lambda t: {"destinatario_id": t.b.rut, "contenido": 5}, id="number-contenido"),
    pytest.param(lambda t: [t.b.rut, "hola"], id="array-body"),
])
def test_a_body_of_the_wrong_type_is_refused_with_400(trio, body):
    expect_msg(trio.a.send(body(trio)), 400)


@pytest.mark.parametrize("path", ["destinatario_id", "conversacion_id"])
def test_a_message_of_exactly_the_length_limit_is_accepted(trio, settings, token, path):
    text = (token + " " + "ñ" * settings.max_message_chars)[:settings.max_message_chars]
    m = expect(trio.a.send({**PATHS[path](trio), "contenido": text}), 200)["mensaje"]
    assert m["contenido"] == text


@pytest.mark.parametrize("path", [
    "destinatario_id",
    pytest.param("conversacion_id", marks=pytest.mark.known_difference(known.NO_LENGTH_LIMIT_BY_ID)),
])
def test_a_message_past_the_length_limit_is_refused_on_every_path(trio, settings, token, path):
    text = (token + " " + "ñ" * settings.max_message_chars)[:settings.max_message_chars + 1]
    r = trio.a.send({**PATHS[path](trio), "contenido": text})
    assert r.status_code in (400, 413), f"400 (the original's) or 413: {r.status_code} {r.text[:200]}"
    expect_msg(r, r.status_code, "Mensaje demasiado largo")
    assert trio.b.mensajes_con(trio.a, text) == []


def test_a_non_participant_sending_by_conversacion_id_gets_403_and_stores_nothing(trio, token):
    expect_msg(trio.c.send({"conversacion_id": trio.conv, "contenido": token}), 403, "Sin acceso a la conversacion")
    assert trio.a.mensajes_con(trio.b, token) == []


def test_an_unknown_conversation_is_refused_with_403(trio, token):
    expect_msg(trio.a.send({"conversacion_id": 999999999, "contenido": token}), 403, "Sin acceso a la conversacion")


def test_a_conversacion_id_that_is_not_an_id_is_refused(trio, token):
    """400 "conversacion_id invalido" in the original; 403 (no such conversation) is as good."""
    r = trio.a.send({"conversacion_id": "abc", "contenido": token})
    assert r.status_code in (400, 403), r.text
    expect_msg(r, r.status_code)


@pytest.mark.known_difference(known.UNKNOWN_RUT_500)
def test_sending_to_an_unknown_rut_is_404(trio, unknown_rut, token):
    expect_msg(trio.a.send({"destinatario_id": unknown_rut, "contenido": token}), 404)


@pytest.mark.known_difference(known.SELF_CHAT)
def test_sending_to_ones_own_rut_is_400(new_user, token):
    # A brand-new user: the original's self-chat would hijack that user's later chats.
    ana = new_user("Ana")
    expect_msg(ana.send({"destinatario_id": ana.rut, "contenido": token}), 400)


@pytest.mark.parametrize("path", ["widget", "conversacion_id"])
def test_a_reply_echoes_reply_to(trio, token, path):
    original = trio.b.enviar_a(trio.a, f"{token} original")
    m = expect(trio.a.send({**PATHS[path](trio), "contenido": token, "reply_to": original["id"]}), 200)["mensaje"]
    assert sid(m["reply_to"]) == sid(original["id"]), m


@pytest.mark.parametrize("path", [
    pytest.param("widget", marks=pytest.mark.known_difference(known.REPLY_QUOTE_BY_RUT)),
    pytest.param("conversacion_id", marks=pytest.mark.known_difference(known.REPLY_NO_AUTHOR)),
])
def test_a_reply_carries_the_quoted_text_and_author(trio, token, path):
    original = trio.b.enviar_a(trio.a, f"{token} original")
    m = expect(trio.a.send({**PATHS[path](trio), "contenido": token, "reply_to": original["id"]}), 200)["mensaje"]
    assert m.get("reply_to_content") == f"{token} original", m
    assert m.get("reply_to_user_id") == trio.b.rut and m.get("reply_to_user_name") == trio.b.nombre, m


@pytest.mark.known_difference(known.REPLY_UNCHECKED)
@pytest.mark.parametrize("path", ["widget", "conversacion_id"])
def test_a_reply_to_a_message_of_another_conversation_is_refused_and_leaks_nothing(trio, token, path):
    secret = trio.c.enviar_a(trio.b, f"{token} secreto de Carla")
    r = trio.a.send({**PATHS[path](trio), "contenido": token, "reply_to": secret["id"]})
    assert "secreto" not in r.text, f"the other conversation's text leaked: {r.text[:300]}"
    expect_msg(r, 400)
    assert trio.b.mensajes_con(trio.a, token) == []


@pytest.mark.known_difference(known.REPLY_UNCHECKED)
def test_a_reply_to_a_message_that_does_not_exist_is_refused(trio, token):
    expect_msg(trio.a.send({"conversacion_id": trio.conv, "contenido": token, "reply_to": 999999999}), 400)
