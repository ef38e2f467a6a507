"""CONTRACT.md §4 POST /api/chat/mensaje/marcar-leido, and the unread counts it drives
(observed through GET /api/chat/conversaciones)."""

import pytest

from compat import known
from compat.http import expect, expect_error

pytestmark = pytest.mark.contract("4", "POST /api/chat/mensaje/marcar-leido")


def test_marcar_leido_answers_success_with_and_without_mensaje_id(trio, token):
    m = trio.a.enviar_ok(trio.conv, token)
    assert expect(trio.b.marcar_leido(trio.conv, m["id"]), 200) == {"success": True}
    assert expect(trio.b.marcar_leido(trio.conv), 200) == {"success": True}


@pytest.mark.parametrize("body", [{}, {"conversacion_id": None}, {"mensaje_id": 1}], ids=["empty", "null", "only-mensaje_id"])
def test_marcar_leido_without_conversacion_id_answers_400(trio, body):
    expect_error(trio.a.post("/api/chat/mensaje/marcar-leido", body), 400, "Falta conversacion_id")


def test_marcar_leido_refuses_a_non_participant_with_403(trio):
    expect_error(trio.c.marcar_leido(trio.conv), 403, "No tienes acceso a esta conversación")


@pytest.mark.known_difference(known.UNREAD_UUIDS + "; " + known.LIST_NEEDED)
def test_unread_counts_every_message_from_others_until_read(new_user, token):
    a, b = new_user("Ana"), new_user("Bruno")
    conv = a.conversacion_con(b)
    for i in range(5):
        a.enviar_ok(conv, f"{token} {i}")
    b.enviar_ok(conv, token + " respuesta")
    assert b.no_leidos(conv) == 5, "never read: every message from the others"
    assert a.no_leidos(conv) == 1, "own messages never count"


@pytest.mark.known_difference(known.MENSAJE_ID_IGNORED + "; " + known.LIST_NEEDED)
def test_the_read_marker_moves_to_mensaje_id_and_never_back(trio, token):
    trio.b.leer_todo(trio.conv)
    sent = [trio.a.enviar_ok(trio.conv, f"{token} {i}") for i in range(4)]
    assert trio.b.no_leidos(trio.conv) == 4
    expect(trio.b.marcar_leido(trio.conv, sent[1]["id"]), 200)
    assert trio.b.no_leidos(trio.conv) == 2, "read up to the second message"
    expect(trio.b.marcar_leido(trio.conv, sent[0]["id"]), 200)
    assert trio.b.no_leidos(trio.conv) == 2, "the marker never moves back"
    expect(trio.b.marcar_leido(trio.conv, sent[3]["id"]), 200)
    assert trio.b.no_leidos(trio.conv) == 0


@pytest.mark.known_difference(known.LIST_NEEDED)
def test_marcar_leido_without_mensaje_id_reads_up_to_the_newest(trio, token):
    trio.b.leer_todo(trio.conv)
    for i in range(3):
        trio.a.enviar_ok(trio.conv, f"{token} {i}")
    assert trio.b.no_leidos(trio.conv) == 3
    expect(trio.b.marcar_leido(trio.conv), 200)
    assert trio.b.no_leidos(trio.conv) == 0
    trio.a.enviar_ok(trio.conv, token + " otro")
    assert trio.b.no_leidos(trio.conv) == 1


@pytest.mark.known_difference(known.LIST_NEEDED)
@pytest.mark.parametrize("other_id", ["unknown", "other-conversation"])
def test_a_mensaje_id_outside_the_conversation_reads_up_to_the_newest(trio, token, other_id):
    trio.b.leer_todo(trio.conv)
    for i in range(2):
        trio.a.enviar_ok(trio.conv, f"{token} {i}")
    if other_id == "unknown":
        mensaje_id = "no-existe"
    else:
        elsewhere = trio.b.conversacion_con(trio.c)
        mensaje_id = trio.c.enviar_ok(elsewhere, token + " en otra")["id"]
    expect(trio.b.marcar_leido(trio.conv, mensaje_id), 200)
    assert trio.b.no_leidos(trio.conv) == 0
