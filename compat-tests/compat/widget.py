"""The v2 generation (CONTRACT-v2.md): `WidgetUser`, one signed-in user with a method per v2
route (§1), `WidgetSocket`, a Socket.IO client with the widget's `join` (§2), and the v2 JSON
shapes as assertions. The v2 widget sends no CSRF token and reads `msg` from error bodies."""

import time
from urllib.parse import quote

from .http import ABSENT, ChatUser, describe, expect, json_of, sid
from .realtime import SocketClient

# Keys of the message rows the original returns (`select *` of chat_mensajes, §1.3).
ROW_KEYS = {"id", "conversacion_id", "usuario_id", "contenido", "fecha_envio"}
# Keys of `M` (§1.4: send and mensaje_nuevo).
M_KEYS = ROW_KEYS | {"usuario"}
# The emoji the widget's picker offers (§4).
PICKER = ["❤️", "😂", "😮", "😔", "👍"]


def expect_msg(response, status, text=None, texts=None):
    """Asserts a v2 error: the status and a JSON body with `success: false` and `msg` (the key
    the widget reads), equal to `text` (or one of `texts`) when given. Returns the body."""
    body = expect(response, status)
    assert isinstance(body, dict) and body.get("success") is False, f"no success: false: {describe(response)}"
    assert isinstance(body.get("msg"), str) and body["msg"], f"no msg: {describe(response)}"
    if text is not None:
        assert body["msg"] == text, describe(response)
    if texts is not None:
        assert body["msg"] in texts, describe(response)
    return body


def assert_row(m, conversacion_id=None, sender=None, contenido=None):
    """A message as every v2 read path gives it (the row's own keys)."""
    assert ROW_KEYS <= set(m), f"missing {ROW_KEYS - set(m)} in {m}"
    assert type(m["id"]) is int or (isinstance(m["id"], str) and m["id"]), m
    if conversacion_id is not None:
        assert sid(m["conversacion_id"]) == sid(conversacion_id), m
    if sender is not None:
        assert m["usuario_id"] == sender.rut, m
    if contenido is not None:
        assert m["contenido"] == contenido, m
    assert isinstance(m["fecha_envio"], str) and m["fecha_envio"], m


def assert_m(m, conversacion_id, sender, contenido=None):
    """`M` (§1.4): the row plus `usuario: {id, nombre, rol}`."""
    assert_row(m, conversacion_id, sender, contenido)
    assert {"id", "nombre", "rol"} <= set(m["usuario"]), m
    assert m["usuario"]["id"] == sender.rut and m["usuario"]["nombre"] == sender.nombre, m


class WidgetUser(ChatUser):
    """A signed-in user calling the v2 routes as the widget does."""

    def on(self, http):
        return WidgetUser(http, self.user, self.cookie, self.csrf_token)

    def delete(self, path, **kwargs):
        return self.http.request("DELETE", path, cookie=self.cookie, **kwargs)

    def users(self):
        return self.get("/api/chat/users")

    def conversaciones(self):
        return self.get("/api/chat/conversaciones")

    def history(self, rut):
        return self.get(f"/api/chat/history/{quote(rut, safe='')}")

    def send(self, body=ABSENT, **kwargs):
        return self.post("/api/chat/send", body, **kwargs)

    def mensaje(self, mensaje_id):
        return self.get(f"/api/chat/mensajes/{mensaje_id}")

    def reaccion(self, mensaje_id, emoji=ABSENT, body=ABSENT):
        if body is ABSENT and emoji is not ABSENT:
            body = {"emoji": emoji}
        return self.post(f"/api/chat/mensajes/{mensaje_id}/reaccion", body)

    def quitar_reaccion(self, mensaje_id):
        return self.delete(f"/api/chat/mensajes/{mensaje_id}/reaccion")

    def eliminar(self, mensaje_id):
        return self.delete(f"/api/chat/mensajes/{mensaje_id}")

    def fijar(self, mensaje_id):
        return self.post(f"/api/chat/mensajes/{mensaje_id}/fijar")

    def desfijar(self, mensaje_id):
        return self.post(f"/api/chat/mensajes/{mensaje_id}/desfijar")

    # Steps that must succeed, for setting up a test.

    def abrir(self, other):
        """Opens the chat with `other` as the widget does (history by rut); its id as a string."""
        return sid(self.historial(other)["conversacion_id"])

    def historial(self, other):
        """The history body of the chat with `other`."""
        return expect(self.history(other.rut), 200)

    def enviar_a(self, other, contenido, **extra):
        """Sends to `other` by rut, as the widget's REST fallback does; the message `M`."""
        return expect(self.send({"destinatario_id": other.rut, "contenido": contenido, **extra}), 200)["mensaje"]

    def enviar_en(self, conversacion_id, contenido, **extra):
        """Sends into a conversation by id; the message `M`."""
        return expect(self.send({"conversacion_id": conversacion_id, "contenido": contenido, **extra}), 200)["mensaje"]

    def mensajes_con(self, other, contenido=None):
        """The history's messages with `other` (those with text `contenido`, when given)."""
        return [m for m in self.historial(other)["mensajes"] if contenido is None or m.get("contenido") == contenido]

    def visible(self, mensaje_id):
        """The message by id as `GET /api/chat/mensajes/<id>` gives it, or None. That path also
        means "conversation <id>" on a server that serves v1 too (CONTRACT-v2.md §6): only its
        `mensaje` key counts."""
        r = self.mensaje(mensaje_id)
        assert r.status_code in (200, 403, 404), describe(r)
        body = json_of(r) or {}
        return body.get("mensaje") if r.status_code == 200 else None

    def lista(self):
        return expect(self.conversaciones(), 200)["lista"]

    def entrada(self, conversacion_id):
        """This user's item for a conversation in `lista`, or None."""
        found = [c for c in self.lista() if sid(c.get("conversacion_id")) == sid(conversacion_id)]
        assert len(found) <= 1, f"conversation {conversacion_id} listed {len(found)} times"
        return found[0] if found else None


class WidgetSocket(SocketClient):
    """A Socket.IO client speaking the widget's events."""

    def join(self, conversacion_id):
        """`join`, waiting for its `joined` reply (the room is the id as a string)."""
        since = self.mark()
        self.emit("join", {"conversacion_id": conversacion_id})
        return self.wait("joined", match=lambda p: isinstance(p, dict) and p.get("conversacion_id") == str(conversacion_id),
                         since=since)

    def barrier(self, conversacion_id):
        """A round trip through the server on this socket (see `SocketClient.barrier`)."""
        self.join(conversacion_id)

    def first_of(self, names, since=0):
        """(name, payload) of the first event after `since` named one of `names` (the answer to
        an emit, whichever the server chose); fails the test when none arrives in time."""
        deadline = time.monotonic() + self.settings.timeout
        with self._cond:
            while True:
                for n, p in self.events[since:]:
                    if n in names:
                        return n, p
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"none of {names} within {self.settings.timeout}s; "
                                         f"received {[n for n, _ in self.events[since:]]}")
                self._cond.wait(left)


def msg_is(text):
    return lambda p: isinstance(p, dict) and p.get("msg") == text


def mensaje_id_is(mensaje_id):
    return lambda p: isinstance(p, dict) and sid(p.get("mensaje_id")) == sid(mensaje_id)
