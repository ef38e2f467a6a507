"""CONTRACT.md §4 GET /chat and §7: the chat page the untouched chat.js runs in."""

import html
import re
from urllib.parse import urlsplit

import pytest

from compat import known
from compat.http import expect

ELEMENT_IDS = [
    "lista-conversaciones", "area-conversacion", "sin-conversacion", "mensajes-contenedor",
    "chat-nombre", "chat-info", "chat-avatar", "input-mensaje", "form-enviar-mensaje",
    "btn-nuevo-chat", "modal-nuevo-chat", "cerrar-modal", "modal-backdrop", "lista-usuarios",
    "buscar-usuario", "buscar-conversacion",
]


@pytest.mark.contract("4", "GET /chat")
def test_chat_without_a_session_redirects_to_the_login_form(http):
    r = http.get("/chat")
    expect(r, 302)
    assert urlsplit(r.headers["Location"]).path == "/", r.headers["Location"]


@pytest.mark.contract("4", "GET /chat")
def test_chat_with_a_session_is_an_html_page(http, trio):
    r = http.get("/chat", cookie=trio.a.cookie)
    expect(r, 200)
    assert r.headers.get("Content-Type", "").startswith("text/html"), r.headers.get("Content-Type")


@pytest.mark.contract("7", "chat page")
def test_the_chat_page_has_every_element_chat_js_looks_up(http, trio):
    r = http.get("/chat", cookie=trio.a.cookie)
    expect(r, 200)
    page = r.text
    missing = [i for i in ELEMENT_IDS if not re.search(rf'id\s*=\s*["\']{re.escape(i)}["\']', page)]
    assert not missing, f"missing element ids: {missing}"
    assert re.search(r'<meta\s+name=["\']csrf-token["\']\s+content=["\'][^"\']*["\']', page), "csrf-token meta"
    assert "/static/js/chat.js" in page


@pytest.mark.contract("7", "chat page")
@pytest.mark.known_difference(known.NO_DATA_USUARIO_ID)
def test_the_chat_page_body_carries_the_signed_in_user_id(http, trio):
    page = http.get("/chat", cookie=trio.a.cookie).text
    body = re.search(r"<body[^>]*>", page)
    assert body, "no <body> tag"
    found = re.search(r'data-usuario-id\s*=\s*"([^"]*)"', body.group(0))
    assert found and html.unescape(found.group(1)) == trio.a.rut, body.group(0)


@pytest.mark.contract("7", "chat page")
def test_the_chat_script_is_served(http):
    r = http.get("/static/js/chat.js")
    expect(r, 200)
    assert r.text.strip(), "empty chat.js"
