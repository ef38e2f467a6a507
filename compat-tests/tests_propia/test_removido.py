"""A removed member loses access at once: every route and event refuses them with nothing stored,
their sockets leave the group's room (no more `mensaje_recibido`), and re-adding them brings
`nueva_conversacion`."""

from collections import namedtuple

import pytest

from compat.http import expect, sid
from compat.propia import expect_refused, member_ruts
from compat.realtime import message_id, same_conversation, with_content

QUITADO = pytest.mark.extension("miembro quitado", "refused on every route")
SOCKET = pytest.mark.extension("miembro quitado", "refused on every event, out of the room")
REMOVIDO = pytest.mark.extension("miembro quitado", "removido_de_conversacion")

Escena = namedtuple("Escena", "grupo own propio ajeno")


@pytest.fixture
def escena(grupo, token):
    """Carla, removed from Ana's group after writing `propio` there (Ana wrote `ajeno`); `own`
    is a 1:1 conversation Carla keeps (with Diego), for socket round trips."""
    propio = grupo.c.enviar_ok(grupo.conv, f"{token} de Carla")
    ajeno = grupo.a.enviar_ok(grupo.conv, f"{token} de Ana")
    own = grupo.c.conversacion_con(grupo.d)
    expect(grupo.a.quitar(grupo.conv, grupo.c.rut), 200)
    return Escena(grupo, own, propio, ajeno)


def carla_stored_nothing(e, token):
    a = e.grupo.a
    assert [m for m in a.mensajes_propios(e.grupo.conv) if m["usuario_id"] == e.grupo.c.rut] == \
        [a.mp(e.grupo.conv, e.propio["id"])], "a refused call stored a message"
    assert not [m for m in a.historial(e.grupo.conv) if token + " tarde" in m["contenido"]]


@QUITADO
@pytest.mark.parametrize("call", [
    pytest.param(lambda e, c, t: c.grupo(e.grupo.conv), id="GET grupo"),
    pytest.param(lambda e, c, t: c.historial_propio(e.grupo.conv), id="GET historial"),
    pytest.param(lambda e, c, t: c.mensajes(e.grupo.conv), id="GET v1 mensajes"),
    pytest.param(lambda e, c, t: c.enviar(e.grupo.conv, f"{t} tarde"), id="POST enviar"),
    pytest.param(lambda e, c, t: c.enviar(e.grupo.conv, f"{t} tarde", reply_to=e.ajeno["id"]), id="POST enviar reply"),
    pytest.param(lambda e, c, t: c.marcar_leido(e.grupo.conv), id="POST marcar-leido"),
    pytest.param(lambda e, c, t: c.entregado(e.grupo.conv), id="POST entregado"),
    pytest.param(lambda e, c, t: c.editar(e.propio["id"], f"{t} tarde"), id="PATCH own message"),
    pytest.param(lambda e, c, t: c.eliminar(e.propio["id"]), id="DELETE own message"),
    pytest.param(lambda e, c, t: c.reaccionar(e.ajeno["id"], "👍"), id="POST reacciones"),
    pytest.param(lambda e, c, t: c.fijar(e.ajeno["id"]), id="POST fijado"),
    pytest.param(lambda e, c, t: c.renombrar(e.grupo.conv, f"{t} tarde"), id="PATCH grupo"),
    pytest.param(lambda e, c, t: c.agregar(e.grupo.conv, c.rut), id="POST miembros (self)"),
    pytest.param(lambda e, c, t: c.salir(e.grupo.conv), id="POST salir"),
])
def test_a_removed_member_is_refused_with_403_and_changes_nothing(escena, token, call):
    c = escena.grupo.c
    expect_refused(call(escena, c, token), 403)
    a = escena.grupo.a
    g = a.ver_grupo(escena.grupo.conv)
    assert c.rut not in member_ruts(g) and g["nombre"] == escena.grupo.g["nombre"], g
    carla_stored_nothing(escena, token)
    ajeno = a.mp(escena.grupo.conv, escena.ajeno["id"])
    assert ajeno["reacciones"] == [], ajeno
    assert a.pagina(escena.grupo.conv)["fijados"] == []
    propio = a.mp(escena.grupo.conv, escena.propio["id"])
    assert propio["contenido"] == escena.propio["contenido"] and propio["editado"] is False, propio


@QUITADO
def test_a_removed_member_no_longer_lists_the_group(escena):
    assert escena.grupo.c.conversacion(escena.grupo.conv) is None


@QUITADO
def test_a_member_who_left_is_refused_like_a_removed_one(grupo, token):
    expect(grupo.b.salir(grupo.conv), 200)
    expect_refused(grupo.b.historial_propio(grupo.conv), 403)
    expect_refused(grupo.b.enviar(grupo.conv, token), 403)
    assert not [m for m in grupo.a.historial(grupo.conv) if m["contenido"] == token]


@REMOVIDO
def test_the_removed_members_sockets_leave_the_room_at_once(sockets, grupo, token):
    own = grupo.c.conversacion_con(grupo.d)
    removed, removed_too, staying = sockets(grupo.c), sockets(grupo.c), sockets(grupo.b)
    for s in (removed, removed_too, staying):
        s.join(grupo.conv)
    since = {id(s): s.mark() for s in (removed, removed_too)}
    expect(grupo.a.quitar(grupo.conv, grupo.c.rut), 200)
    for s in (removed, removed_too):
        s.wait("removido_de_conversacion", same_conversation(grupo.conv), since=since[id(s)])
    after = {id(s): s.mark() for s in (removed, removed_too)}
    m = grupo.a.enviar_ok(grupo.conv, token)
    staying.wait("mensaje_recibido", message_id(m["id"]))
    for s in (removed, removed_too):
        s.barrier(own)
        assert not s.received("mensaje_recibido", with_content(token), since=after[id(s)]), \
            "a removed member's socket still gets the group's messages"


@REMOVIDO
def test_the_removed_member_gets_no_more_group_events(sockets, grupo, token):
    own = grupo.c.conversacion_con(grupo.d)
    removed = sockets(grupo.c)
    removed.join(grupo.conv)
    m = grupo.a.enviar_ok(grupo.conv, token)
    removed.wait("mensaje_recibido", message_id(m["id"]))
    expect(grupo.a.quitar(grupo.conv, grupo.c.rut), 200)
    removed.wait("removido_de_conversacion", same_conversation(grupo.conv))
    removed.barrier(own)
    since = removed.mark()
    expect(grupo.a.reaccionar(m["id"], "👍"), 200)
    expect(grupo.a.fijar(m["id"]), 200)
    expect(grupo.a.editar(m["id"], f"{token} editado"), 200)
    expect(grupo.a.renombrar(grupo.conv, f"{token} nuevo"), 200)
    removed.barrier(own)
    got = [n for n, p in removed.events[since:] if isinstance(p, dict) and sid(p.get("conversacion_id")) == grupo.conv
           and n != "unido_conversacion"]
    assert got == [], f"the removed member still got {got}"


@SOCKET
def test_a_removed_members_socket_send_is_refused_and_reaches_nobody(sockets, escena, token):
    g = escena.grupo
    sender, staying = sockets(g.c), sockets(g.b)
    staying.join(g.conv)
    ack = sender.call("mensaje_enviar", {"conversacion_id": g.conv, "contenido": f"{token} tarde"})
    assert isinstance(ack, dict) and ack.get("success") is False and isinstance(ack.get("error"), str), ack
    staying.barrier(g.conv)
    assert not staying.received("mensaje_recibido", with_content(f"{token} tarde"))
    carla_stored_nothing(escena, token)


@SOCKET
def test_a_removed_member_may_not_rejoin_the_room(sockets, escena, token):
    g = escena.grupo
    s = sockets(g.c)
    since = s.mark()
    s.emit("unirse_conversacion", {"conversacion_id": g.conv})
    err = s.wait("error", since=since)
    assert isinstance(err, dict) and isinstance(err.get("mensaje"), str), err
    g.a.enviar_ok(g.conv, token)
    s.barrier(escena.own)
    assert not s.received("unido_conversacion", same_conversation(g.conv), since=since)
    assert not s.received("mensaje_recibido", with_content(token), since=since)


@SOCKET
def test_a_removed_member_may_not_mark_delivery_over_the_socket(sockets, escena):
    g = escena.grupo
    ack = sockets(g.c).call("marcar_entregado", {"conversacion_id": g.conv, "mensaje_id": escena.ajeno["id"]})
    assert isinstance(ack, dict) and ack.get("success") is False and isinstance(ack.get("error"), str), ack


@SOCKET
def test_a_removed_member_may_not_type_into_the_group(sockets, escena):
    g = escena.grupo
    staying, typing = sockets(g.b), sockets(g.c)
    staying.join(g.conv)
    since = typing.mark()
    typing.emit("escribiendo", {"conversacion_id": g.conv})
    typing.wait("error", since=since)
    staying.barrier(g.conv)
    assert not staying.received("usuario_escribiendo", same_conversation(g.conv))


@REMOVIDO
def test_a_removed_member_added_again_gets_nueva_conversacion_and_access(sockets, escena, token):
    g = escena.grupo
    s = sockets(g.c)
    since = s.mark()
    expect(g.a.agregar(g.conv, g.c.rut), 200)
    s.wait("nueva_conversacion", since=since,
           match=lambda p: sid((p.get("conversacion") or {}).get("id")) == g.conv)
    s.join(g.conv)
    m = g.b.enviar_ok(g.conv, token)
    s.wait("mensaje_recibido", message_id(m["id"]))
    assert g.c.mp(g.conv, m["id"]) is not None
