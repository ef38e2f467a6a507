"""weigence-chat's own API (`--generacion propia`, folder `tests_propia/`): groups, the life of a
message (edit, delete, reactions, replies, pins) and delivery states. The original service never
had any of it, so these tests run only against weigence-chat and their summary is not a parity
table. Here: `PropiaUser` (a method per route), the JSON shapes as assertions, a small SQL helper
for the edit-window test, and the summary table."""

import uuid
from urllib.parse import quote

import pytest

from .http import ABSENT, ChatUser, describe, expect, expect_error, sid
from .parity import FAIL, PASS, SKIP, ParityTable
from .shapes import is_id

# Why the section is skipped with --legacy.
EXTENSIONS_ONLY = ("weigence-chat's own extensions: the original service never had these routes "
                   "or events, so this section runs only against weigence-chat")

GROUP_KEYS = {"id", "nombre", "es_grupal", "creado_por", "miembros", "soy_admin"}
MEMBER_KEYS = {"usuario_id", "nombre", "es_admin"}
# v1 message keys (CONTRACT.md §4) plus ours.
MP_KEYS = {"id", "conversacion_id", "usuario_id", "contenido", "fecha_envio", "editado", "eliminado",
           "usuario", "es_propio", "es_mio", "tipo", "reply_to", "cita", "reacciones", "entrega"}
V1_EXTRA_KEYS = {"tipo", "reply_to", "cita"}
REACTION_KEYS = {"emoji", "cantidad", "usuarios", "mia"}
DELIVERY_KEYS = {"estado", "destinatarios", "entregado_a", "leido_por"}


def u(path_part):
    """An id or rut as one path segment (uuid ids and ruts travel as they are; anything else escaped)."""
    return quote(str(path_part), safe="")


class PropiaUser(ChatUser):
    """A signed-in user calling weigence-chat's own routes as our page does (JSON bodies, the
    page's CSRF header on every state change, which weigence-chat ignores)."""

    def on(self, http):
        return PropiaUser(http, self.user, self.cookie, self.csrf_token)

    def call(self, method, path, body=ABSENT, **kwargs):
        if body is not ABSENT:
            kwargs["json"] = body
        if method != "GET":
            # What a browser sends with the page's fetch: its Origin (and the page's CSRF token).
            page = {"Origin": self.http.origin}
            if self.csrf_token:
                page["X-CSRFToken"] = self.csrf_token
            kwargs["headers"] = {**page, **(kwargs.get("headers") or {})}
        return self.http.request(method, path, cookie=self.cookie, **kwargs)

    # Groups.

    def crear_grupo(self, body=ABSENT, **kwargs):
        return self.call("POST", "/api/chat/grupos", body, **kwargs)

    def grupo(self, conv):
        return self.call("GET", f"/api/chat/grupos/{u(conv)}")

    def renombrar(self, conv, nombre=ABSENT, body=ABSENT, **kwargs):
        if body is ABSENT and nombre is not ABSENT:
            body = {"nombre": nombre}
        return self.call("PATCH", f"/api/chat/grupos/{u(conv)}", body, **kwargs)

    def agregar(self, conv, rut=ABSENT, body=ABSENT, **kwargs):
        if body is ABSENT and rut is not ABSENT:
            body = {"usuario_id": rut}
        return self.call("POST", f"/api/chat/grupos/{u(conv)}/miembros", body, **kwargs)

    def quitar(self, conv, rut):
        return self.call("DELETE", f"/api/chat/grupos/{u(conv)}/miembros/{u(rut)}")

    def salir(self, conv):
        return self.call("POST", f"/api/chat/grupos/{u(conv)}/salir")

    def admin(self, conv, rut, es_admin=ABSENT, body=ABSENT, **kwargs):
        if body is ABSENT and es_admin is not ABSENT:
            body = {"es_admin": es_admin}
        return self.call("PUT", f"/api/chat/grupos/{u(conv)}/admins/{u(rut)}", body, **kwargs)

    # Messages.

    def historial_propio(self, conv, **params):
        return self.call("GET", f"/api/chat/conversaciones/{u(conv)}/historial", params=params)

    def editar(self, mensaje_id, contenido=ABSENT, body=ABSENT, **kwargs):
        if body is ABSENT and contenido is not ABSENT:
            body = {"contenido": contenido}
        return self.call("PATCH", f"/api/chat/mensajes/{u(mensaje_id)}", body, **kwargs)

    def eliminar(self, mensaje_id):
        return self.call("DELETE", f"/api/chat/mensajes/{u(mensaje_id)}")

    def reaccionar(self, mensaje_id, emoji=ABSENT, body=ABSENT, **kwargs):
        if body is ABSENT and emoji is not ABSENT:
            body = {"emoji": emoji}
        return self.call("POST", f"/api/chat/mensajes/{u(mensaje_id)}/reacciones", body, **kwargs)

    def fijar(self, mensaje_id):
        return self.call("POST", f"/api/chat/mensajes/{u(mensaje_id)}/fijado")

    def desfijar(self, mensaje_id):
        return self.call("DELETE", f"/api/chat/mensajes/{u(mensaje_id)}/fijado")

    def entregado(self, conv, mensaje_id=ABSENT):
        body = {} if mensaje_id is ABSENT else {"mensaje_id": mensaje_id}
        return self.call("POST", f"/api/chat/conversaciones/{u(conv)}/entregado", body)

    # Steps that must succeed, for setting up a test.

    def grupo_nuevo(self, nombre, miembros):
        """Creates a group with `miembros` (users); its `G`."""
        body = expect(self.crear_grupo({"nombre": nombre, "miembros": [m.rut for m in miembros]}), 201)
        return body["grupo"]

    def ver_grupo(self, conv):
        return expect(self.grupo(conv), 200)["grupo"]

    def pagina(self, conv, **params):
        """Our history page: `{"success", "mensajes", "fijados", "grupo"}`."""
        return expect(self.historial_propio(conv, **params), 200)

    def mensajes_propios(self, conv, **params):
        return self.pagina(conv, **params)["mensajes"]

    def mp(self, conv, mensaje_id):
        """Message `mensaje_id` of our history page, or None when it is not there."""
        found = [m for m in self.mensajes_propios(conv) if sid(m["id"]) == sid(mensaje_id)]
        assert len(found) <= 1, found
        return found[0] if found else None

    def sistema(self, conv):
        """The system messages of the conversation, oldest first."""
        return [m for m in self.mensajes_propios(conv) if m.get("tipo") == "sistema"]


def member_ruts(g):
    """The ruts of `G`'s members, in join order."""
    return [m["usuario_id"] for m in g["miembros"]]


def admin_ruts(g):
    """The ruts of `G`'s admins."""
    return {m["usuario_id"] for m in g["miembros"] if m["es_admin"]}


def assert_grupo(g, conv=None, nombre=None, creador=None, miembros=None, admins=None, soy_admin=None,
                 keys=GROUP_KEYS):
    """`G`: `{id (string), nombre, es_grupal, creado_por, miembros: [{usuario_id, nombre, es_admin}],
    soy_admin}`; `miembros` (users) compared as a set with their names, `admins` as a set of users."""
    assert isinstance(g, dict) and keys <= set(g), f"missing {keys - set(g or {})} in {g}"
    assert isinstance(g["id"], str) and g["id"], f"group ids are JSON strings: {g}"
    if conv is not None:
        assert g["id"] == sid(conv), g
    assert g["es_grupal"] is True, g
    assert isinstance(g["miembros"], list), g
    for m in g["miembros"]:
        assert MEMBER_KEYS <= set(m), m
        assert isinstance(m["usuario_id"], str) and isinstance(m["es_admin"], bool), m
    ruts = member_ruts(g)
    assert len(ruts) == len(set(ruts)), f"a member listed twice: {g}"
    if nombre is not None:
        assert g["nombre"] == nombre, g
    if creador is not None:
        assert g["creado_por"] == creador.rut, g
    if miembros is not None:
        assert set(ruts) == {x.rut for x in miembros}, g
        names = {m["usuario_id"]: m["nombre"] for m in g["miembros"]}
        for x in miembros:
            assert names[x.rut] == x.nombre, g
    if admins is not None:
        assert admin_ruts(g) == {x.rut for x in admins}, g
    if soy_admin is not None:
        assert g["soy_admin"] is soy_admin, g


def assert_mp(m, conv, sender, contenido=None, tipo="texto", entrega=True):
    """`MP`: the v1 message keys plus `tipo`, `reply_to`, `cita`, `reacciones`, `entrega` (the
    delivery state of one's own text messages, null on others'; system messages have none;
    `entrega=False` leaves it unchecked)."""
    sender = getattr(sender, "user", sender)
    assert MP_KEYS <= set(m), f"missing {MP_KEYS - set(m)} in {m}"
    assert is_id(m["id"]), m
    assert sid(m["conversacion_id"]) == sid(conv), m
    assert m["usuario_id"] == sender.rut, m
    if contenido is not None:
        assert m["contenido"] == contenido, m
    assert m["tipo"] == tipo, m
    assert m["es_propio"] == m["es_mio"] and isinstance(m["es_mio"], bool), m
    assert isinstance(m["reacciones"], list), m
    for r in m["reacciones"]:
        assert_reaccion(r)
    if not entrega:
        return
    if not m["es_mio"]:
        assert m["entrega"] is None, f"entrega is for one's own messages only: {m}"
    elif tipo == "texto":
        assert_entrega(m["entrega"])


def assert_v1_extras(m):
    """v1 messages (history, `mensaje_recibido`, the send answer) gain `tipo`, `reply_to`, `cita`."""
    assert V1_EXTRA_KEYS <= set(m), f"missing {V1_EXTRA_KEYS - set(m)} in {m}"
    assert m["tipo"] in ("texto", "sistema"), m


def assert_reaccion(r):
    """`R`: `{emoji, cantidad, usuarios: [ruts], mia}`."""
    assert REACTION_KEYS <= set(r), f"missing {REACTION_KEYS - set(r)} in {r}"
    assert isinstance(r["emoji"], str) and r["emoji"], r
    assert type(r["cantidad"]) is int and r["cantidad"] == len(r["usuarios"]) >= 1, r
    assert isinstance(r["mia"], bool), r


def reacciones(rs):
    """`[R]` as `[(emoji, set of ruts)]` in the answer's order."""
    return [(r["emoji"], set(r["usuarios"])) for r in rs]


def assert_entrega(e):
    """`entrega`: `{estado: enviado|entregado|leido, destinatarios, entregado_a, leido_por}`."""
    assert isinstance(e, dict) and DELIVERY_KEYS <= set(e), f"entrega: {e}"
    assert e["estado"] in ("enviado", "entregado", "leido"), e
    assert type(e["destinatarios"]) is int, e
    assert isinstance(e["entregado_a"], list) and isinstance(e["leido_por"], list), e


def mentions(text, user):
    """A system message names a user by name (or, failing that, by rut)."""
    return user.nombre in text or user.rut in text


def unknown_like(some_id):
    """An id of the same kind as `some_id` that names nothing: a huge number for integer ids, a
    random uuid for uuid ids."""
    return "987654321987" if str(some_id).isdigit() else str(uuid.uuid4())


def expect_refused(response, status):
    """Our API's errors: the status and `{"success": false, "error": "<text>"}`."""
    body = expect_error(response, status)
    assert body.get("success") is False, f"no success: false: {describe(response)}"
    return body


class Database:
    """Direct SQL for what no route can do: moving a message's send time into the past (the edit
    window test), in whichever table variant exists."""

    def __init__(self, url):
        import psycopg

        self._conn = psycopg.connect(url, autocommit=True)
        self._messages = next(t for t in ("chat_mensajes", "mensajes_chat") if self._conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL", (t,)).fetchone()[0])

    def backdate(self, mensaje_id, seconds):
        n = self._conn.execute(
            f"UPDATE {self._messages} SET fecha_envio = fecha_envio - make_interval(secs => %s) "
            "WHERE id::text = %s", (seconds, str(mensaje_id))).rowcount
        assert n == 1, f"message {mensaje_id} not found"

    def close(self):
        self._conn.close()


def extension_of(item):
    """The (area, item) a test of the propia section is tagged with; exactly one per test."""
    marks = list(item.iter_markers("extension"))
    if len(marks) != 1 or len(marks[0].args) != 2:
        raise pytest.UsageError(f"{item.nodeid}: every test of tests_propia needs exactly one "
                                "@pytest.mark.extension(area, item)")
    return tuple(str(a) for a in marks[0].args)


class ExtensionTable(ParityTable):
    """The summary of the propia section: one line per route or event of our own API. Not a
    parity table: the original has no column here."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items):
        for item in items:
            self.item_of[item.nodeid] = extension_of(item)

    def pytest_terminal_summary(self, terminalreporter):
        rows = self.rows()
        if not rows:
            return
        tr = terminalreporter
        tr.section("weigence-chat extensions (not a parity table: the original never had these routes)")
        if self.config.getoption("legacy"):
            tr.write_line(f"--legacy: the whole section skipped ({len(self.outcome)} tests): {EXTENSIONS_ONLY}")
            return
        width = max(len(f"{area}: {name}") for area, name, _, _ in rows)
        tr.write_line(f"{'extension':<{width}}  {'result':<8} tests")
        for area, name, result, counts in rows:
            tr.write(f"{area + ': ' + name:<{width}}  ")
            tr.write(f"{result:<8}", green=result == PASS, red=result == FAIL, bold=result == FAIL)
            tr.write_line(f" {counts}")
        totals = [r for _, _, r, _ in rows]
        tr.write_line(f"{len(rows)} extension items: {totals.count(PASS)} pass, {totals.count(FAIL)} fail, "
                      f"{totals.count(SKIP)} skipped")
