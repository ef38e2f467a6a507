"""CONTRACT.md §4 GET /chat and §7: the chat page the untouched chat.js runs in."""

import html
import re
from html.parser import HTMLParser
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


VOID_TAGS = {"input", "br", "img", "meta", "link", "hr", "area", "base", "col", "embed", "source", "track", "wbr"}


class _FormScan(HTMLParser):
    """Where #input-mensaje sits: its tag and type, whether it is inside #form-enviar-mensaje,
    and whether that form has a submit button."""

    def __init__(self):
        super().__init__()
        self.form_depth = 0  # > 0 while inside #form-enviar-mensaje
        self.field = None
        self.field_in_form = False
        self.submit_in_form = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self.form_depth:
            self.form_depth += tag not in VOID_TAGS
            if (tag == "button" and a.get("type", "submit") == "submit") or \
                    (tag == "input" and a.get("type") == "submit"):
                self.submit_in_form = True
        elif tag == "form" and a.get("id") == "form-enviar-mensaje":
            self.form_depth = 1
        if a.get("id") == "input-mensaje":
            self.field = (tag, (a.get("type") or "text").lower())
            self.field_in_form = bool(self.form_depth)

    def handle_endtag(self, tag):
        if self.form_depth and tag not in VOID_TAGS:
            self.form_depth -= 1


@pytest.mark.contract("7", "chat page")
def test_enter_in_the_message_field_submits_the_form(http, trio):
    """The untouched chat.js sends only on the form's submit event: #input-mensaje must be a
    one-line text field inside #form-enviar-mensaje, which has a submit button, so that Enter
    submits the form (HTML implicit submission) as on the original page. A script may upgrade it."""
    scan = _FormScan()
    r = http.get("/chat", cookie=trio.a.cookie)
    expect(r, 200)
    scan.feed(r.text)
    assert scan.field == ("input", "text"), f"#input-mensaje is {scan.field}: Enter would not submit the form"
    assert scan.field_in_form, "#input-mensaje is not inside #form-enviar-mensaje"
    assert scan.submit_in_form, "#form-enviar-mensaje has no submit button"
