"""Groups: create, read, rename, add, remove, leave, admins; their system messages and events."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from compat.http import expect, sid
from compat.propia import (GROUP_KEYS, admin_ruts, assert_grupo, expect_refused, member_ruts, mentions,
                           unknown_like)
from compat.realtime import message_id, same_conversation
from compat.shapes import assert_conversation

CREAR = pytest.mark.extension("grupos", "POST /api/chat/grupos")
VER = pytest.mark.extension("grupos", "GET /api/chat/grupos/{id}")
RENOMBRAR = pytest.mark.extension("grupos", "PATCH /api/chat/grupos/{id}")
AGREGAR = pytest.mark.extension("grupos", "POST /api/chat/grupos/{id}/miembros")
QUITAR = pytest.mark.extension("grupos", "DELETE /api/chat/grupos/{id}/miembros/{rut}")
SALIR = pytest.mark.extension("grupos", "POST /api/chat/grupos/{id}/salir")
ADMINS = pytest.mark.extension("grupos", "PUT /api/chat/grupos/{id}/admins/{rut}")
NUEVA = pytest.mark.extension("grupos", "nueva_conversacion")
MENSAJES = pytest.mark.extension("grupos", "messages and system messages to every member")
ACTUALIZADO = pytest.mark.extension("grupos", "grupo_actualizado")

G_EVENT_KEYS = GROUP_KEYS - {"soy_admin"}


def group_ids(user):
    return {sid(c["id"]) for c in expect(user.conversaciones(), 200)["conversaciones"] if c["es_grupal"]}


# Create.

@CREAR
def test_crear_answers_201_with_the_group(new_user, token):
    a, b, c = new_user("Ana"), new_user("Bruno"), new_user("Carla")
    body = expect(a.crear_grupo({"nombre": f"Grupo {token}", "miembros": [b.rut, c.rut]}), 201)
    assert body["success"] is True, body
    g = body["grupo"]
    assert_grupo(g, nombre=f"Grupo {token}", creador=a, miembros=[a, b, c], admins=[a], soy_admin=True)
    assert member_ruts(g)[0] == a.rut, f"members in join order, the creator first: {g}"


@CREAR
def test_crear_lists_the_group_for_every_member_and_nobody_else(grupo):
    for user in (grupo.a, grupo.b, grupo.c):
        c = user.conversacion(grupo.conv)
        assert c is not None, f"the group is not in {user}'s list"
        assert_conversation(c)
        assert c["es_grupal"] is True and c["nombre"] == grupo.g["nombre"], c
        assert {p["id"] for p in c["participantes"]} == {grupo.a.rut, grupo.b.rut, grupo.c.rut} - {user.rut}, c
    assert grupo.d.conversacion(grupo.conv) is None


@CREAR
def test_crear_stores_a_system_message_by_the_creator(grupo):
    first = grupo.b.mensajes_propios(grupo.conv)[0]
    assert first["tipo"] == "sistema" and first["usuario_id"] == grupo.a.rut, first
    assert grupo.g["nombre"] in first["contenido"], first
    v1 = grupo.c.historial(grupo.conv)
    assert v1 and v1[0]["tipo"] == "sistema" and sid(v1[0]["id"]) == sid(first["id"]), v1


@CREAR
def test_the_creator_may_list_itself_among_the_members(new_user, token):
    a, b, c = new_user("Ana"), new_user("Bruno"), new_user("Carla")
    g = expect(a.crear_grupo({"nombre": token, "miembros": [a.rut, b.rut, c.rut]}), 201)["grupo"]
    assert_grupo(g, miembros=[a, b, c], admins=[a])


@CREAR
@pytest.mark.parametrize("make_body", [
    pytest.param(lambda a, b, c: {"nombre": "x", "miembros": [b.rut]}, id="one-other"),
    pytest.param(lambda a, b, c: {"nombre": "x", "miembros": [b.rut, b.rut]}, id="the-same-other-twice"),
    pytest.param(lambda a, b, c: {"nombre": "x", "miembros": [a.rut, b.rut]}, id="me-and-one-other"),
    pytest.param(lambda a, b, c: {"nombre": "x", "miembros": []}, id="no-members"),
    pytest.param(lambda a, b, c: {"nombre": "x"}, id="no-miembros"),
    pytest.param(lambda a, b, c: {"nombre": "x", "miembros": b.rut}, id="miembros-not-a-list"),
    pytest.param(lambda a, b, c: {"nombre": "x", "miembros": [b.rut, None]}, id="a-null-rut"),
    pytest.param(lambda a, b, c: {"miembros": [b.rut, c.rut]}, id="no-nombre"),
    pytest.param(lambda a, b, c: {"nombre": "   ", "miembros": [b.rut, c.rut]}, id="blank-nombre"),
    pytest.param(lambda a, b, c: {"nombre": "", "miembros": [b.rut, c.rut]}, id="empty-nombre"),
    pytest.param(lambda a, b, c: {"nombre": "x" * 101, "miembros": [b.rut, c.rut]}, id="nombre-101-chars"),
    pytest.param(lambda a, b, c: {"nombre": 5, "miembros": [b.rut, c.rut]}, id="number-nombre"),
    pytest.param(lambda a, b, c: {"nombre": "x", "miembros": [b.rut, c.rut] + [f"{i}-9" for i in range(50)]},
                 id="51-members"),
    pytest.param(lambda a, b, c: [b.rut, c.rut], id="a-list-body"),
])
def test_crear_refuses_bad_input_with_400_and_creates_nothing(new_user, make_body):
    a, b, c = new_user("Ana"), new_user("Bruno"), new_user("Carla")
    expect_refused(a.crear_grupo(make_body(a, b, c)), 400)
    assert group_ids(a) == set() and group_ids(b) == set()


@CREAR
def test_crear_accepts_a_name_of_100_characters(new_user):
    a, b, c = new_user("Ana"), new_user("Bruno"), new_user("Carla")
    g = expect(a.crear_grupo({"nombre": "ñ" * 100, "miembros": [b.rut, c.rut]}), 201)["grupo"]
    assert g["nombre"] == "ñ" * 100


@CREAR
def test_crear_with_an_unknown_member_is_404_and_creates_nothing(new_user, unknown_rut):
    a, b = new_user("Ana"), new_user("Bruno")
    expect_refused(a.crear_grupo({"nombre": "x", "miembros": [b.rut, unknown_rut]}), 404)
    assert group_ids(a) == set() and group_ids(b) == set()


@CREAR
def test_crear_without_a_session_is_401(http, new_user):
    b, c = new_user("Bruno"), new_user("Carla")
    r = http.post("/api/chat/grupos", json={"nombre": "x", "miembros": [b.rut, c.rut]},
                  headers={"Origin": http.origin})
    expect_refused(r, 401)
    assert group_ids(b) == set()


@CREAR
def test_crear_with_a_non_json_body_is_415(new_user):
    a, b, c = new_user("Ana"), new_user("Bruno"), new_user("Carla")
    r = a.crear_grupo(data=f'{{"nombre": "x", "miembros": ["{b.rut}", "{c.rut}"]}}',
                      headers={"Content-Type": "text/plain"})
    expect_refused(r, 415)
    assert group_ids(a) == set()


@CREAR
def test_crear_with_malformed_json_is_400(new_user):
    a = new_user("Ana")
    expect_refused(a.crear_grupo(data="{nombre", headers={"Content-Type": "application/json"}), 400)


@NUEVA
def test_crear_sends_nueva_conversacion_to_the_other_members_only(sockets, new_user, token):
    a, b, c, d = (new_user(n) for n in ("Ana", "Bruno", "Carla", "Diego"))
    own = d.conversacion_con(a)
    socks = {user.rut: sockets(user) for user in (a, b, c, d)}
    since = {rut: s.mark() for rut, s in socks.items()}
    g = a.grupo_nuevo(f"Grupo {token}", [b, c])
    for user in (b, c):
        payload = socks[user.rut].wait("nueva_conversacion", since=since[user.rut],
                                       match=lambda p: sid((p.get("conversacion") or {}).get("id")) == g["id"])
        conv = payload["conversacion"]
        assert_conversation(conv)
        assert conv["es_grupal"] is True and conv["nombre"] == g["nombre"], conv
    socks[d.rut].barrier(own)
    assert not socks[d.rut].received("nueva_conversacion", since=since[d.rut])


# Read.

@VER
def test_every_member_reads_the_group_and_soy_admin_is_theirs(grupo):
    assert_grupo(grupo.a.ver_grupo(grupo.conv), conv=grupo.conv, soy_admin=True,
                 miembros=[grupo.a, grupo.b, grupo.c], admins=[grupo.a], creador=grupo.a)
    for user in (grupo.b, grupo.c):
        body = expect(user.grupo(grupo.conv), 200)
        assert body["success"] is True, body
        assert_grupo(body["grupo"], conv=grupo.conv, soy_admin=False, miembros=[grupo.a, grupo.b, grupo.c])


@VER
def test_a_non_member_may_not_read_the_group(grupo):
    expect_refused(grupo.d.grupo(grupo.conv), 403)


@VER
def test_an_unknown_group_is_404(grupo):
    expect_refused(grupo.a.grupo(unknown_like(grupo.conv)), 404)


@VER
def test_reading_a_group_without_a_session_is_401(http, grupo):
    expect_refused(http.get(f"/api/chat/grupos/{grupo.conv}"), 401)


# Rename.

@RENOMBRAR
def test_an_admin_renames_the_group_with_a_system_message(grupo, token):
    body = expect(grupo.a.renombrar(grupo.conv, f"Nuevo {token}"), 200)
    assert body["success"] is True, body
    assert_grupo(body["grupo"], conv=grupo.conv, nombre=f"Nuevo {token}")
    assert grupo.b.ver_grupo(grupo.conv)["nombre"] == f"Nuevo {token}"
    assert grupo.c.conversacion(grupo.conv)["nombre"] == f"Nuevo {token}"
    last = grupo.b.sistema(grupo.conv)[-1]
    assert last["usuario_id"] == grupo.a.rut and f"Nuevo {token}" in last["contenido"], last


@RENOMBRAR
def test_a_member_who_is_not_admin_may_not_rename(grupo, token):
    expect_refused(grupo.b.renombrar(grupo.conv, f"Nuevo {token}"), 403)
    assert grupo.a.ver_grupo(grupo.conv)["nombre"] == grupo.g["nombre"]
    assert len(grupo.a.sistema(grupo.conv)) == 1


@RENOMBRAR
def test_a_non_member_may_not_rename(grupo, token):
    expect_refused(grupo.d.renombrar(grupo.conv, f"Nuevo {token}"), 403)
    assert grupo.a.ver_grupo(grupo.conv)["nombre"] == grupo.g["nombre"]


@RENOMBRAR
@pytest.mark.parametrize("body", [
    pytest.param({"nombre": ""}, id="empty"),
    pytest.param({"nombre": "  "}, id="blank"),
    pytest.param({"nombre": "x" * 101}, id="101-chars"),
    pytest.param({"nombre": None}, id="null"),
    pytest.param({}, id="missing"),
    pytest.param(["x"], id="a-list"),
])
def test_renaming_with_a_bad_name_is_400_and_changes_nothing(grupo, body):
    expect_refused(grupo.a.renombrar(grupo.conv, body=body), 400)
    assert grupo.a.ver_grupo(grupo.conv)["nombre"] == grupo.g["nombre"]


@RENOMBRAR
def test_renaming_with_a_non_json_body_is_415(grupo):
    expect_refused(grupo.a.renombrar(grupo.conv, data='{"nombre": "x"}', headers={"Content-Type": "text/plain"}),
                   415)


@RENOMBRAR
def test_renaming_an_unknown_group_is_404(grupo):
    expect_refused(grupo.a.renombrar(unknown_like(grupo.conv), "x"), 404)


@RENOMBRAR
def test_renaming_without_a_session_is_401(http, grupo):
    r = http.request("PATCH", f"/api/chat/grupos/{grupo.conv}", json={"nombre": "x"},
                     headers={"Origin": http.origin})
    expect_refused(r, 401)


@ACTUALIZADO
def test_grupo_actualizado_reaches_the_room_and_every_members_own_room(sockets, grupo, token):
    joined, own = sockets(grupo.b), sockets(grupo.c)
    joined.join(grupo.conv)
    since_joined, since_own = joined.mark(), own.mark()
    expect(grupo.a.renombrar(grupo.conv, f"Nuevo {token}"), 200)
    for s, since in ((joined, since_joined), (own, since_own)):
        p = s.wait("grupo_actualizado", same_conversation(grupo.conv), since=since)
        assert_grupo(p["grupo"], conv=grupo.conv, nombre=f"Nuevo {token}", keys=G_EVENT_KEYS)


# Add.

@AGREGAR
def test_an_admin_adds_a_member_who_gets_nueva_conversacion_at_once(sockets, grupo):
    newcomer = sockets(grupo.d)
    since = newcomer.mark()
    body = expect(grupo.a.agregar(grupo.conv, grupo.d.rut), 200)
    assert body["success"] is True, body
    assert_grupo(body["grupo"], conv=grupo.conv, miembros=[grupo.a, grupo.b, grupo.c, grupo.d], admins=[grupo.a])
    assert member_ruts(body["grupo"])[-1] == grupo.d.rut, "members in join order"
    p = newcomer.wait("nueva_conversacion", since=since,
                      match=lambda p: sid((p.get("conversacion") or {}).get("id")) == grupo.conv)
    assert p["conversacion"]["es_grupal"] is True
    newcomer.join(grupo.conv)
    assert_grupo(grupo.d.ver_grupo(grupo.conv), soy_admin=False)


@AGREGAR
def test_adding_stores_a_system_message_and_the_earlier_history_is_not_unread_for_the_newcomer(grupo, token):
    grupo.b.enviar_ok(grupo.conv, token)
    expect(grupo.a.agregar(grupo.conv, grupo.d.rut), 200)
    last = grupo.d.sistema(grupo.conv)[-1]
    assert last["usuario_id"] == grupo.a.rut and mentions(last["contenido"], grupo.d), last
    # The history before the newcomer is not unread; the system message announcing them may be.
    assert grupo.d.no_leidos(grupo.conv) in (0, 1)


@AGREGAR
def test_adding_a_member_twice_is_409(grupo):
    expect(grupo.a.agregar(grupo.conv, grupo.d.rut), 200)
    expect_refused(grupo.a.agregar(grupo.conv, grupo.d.rut), 409)
    expect_refused(grupo.a.agregar(grupo.conv, grupo.b.rut), 409)
    assert member_ruts(grupo.a.ver_grupo(grupo.conv)).count(grupo.d.rut) == 1


@AGREGAR
def test_20_concurrent_adds_of_one_user_give_one_membership(http, grupo):
    def add(_):
        return grupo.a.on(http.fresh()).agregar(grupo.conv, grupo.d.rut).status_code

    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(add, range(20)))
    assert sorted(statuses) == [200] + [409] * 19, statuses
    g = grupo.a.ver_grupo(grupo.conv)
    assert member_ruts(g).count(grupo.d.rut) == 1, g
    added = [m for m in grupo.a.sistema(grupo.conv) if mentions(m["contenido"], grupo.d)]
    assert len(added) == 1, added


@AGREGAR
def test_a_member_who_is_not_admin_may_not_add(grupo):
    expect_refused(grupo.b.agregar(grupo.conv, grupo.d.rut), 403)
    assert grupo.d.rut not in member_ruts(grupo.a.ver_grupo(grupo.conv))
    assert grupo.d.conversacion(grupo.conv) is None


@AGREGAR
def test_a_non_member_may_not_add_anyone(grupo):
    expect_refused(grupo.d.agregar(grupo.conv, grupo.d.rut), 403)
    assert grupo.d.rut not in member_ruts(grupo.a.ver_grupo(grupo.conv))


@AGREGAR
def test_adding_an_unknown_user_is_404(grupo, unknown_rut):
    expect_refused(grupo.a.agregar(grupo.conv, unknown_rut), 404)
    assert len(grupo.a.ver_grupo(grupo.conv)["miembros"]) == 3


@AGREGAR
def test_adding_to_an_unknown_group_is_404(grupo):
    expect_refused(grupo.a.agregar(unknown_like(grupo.conv), grupo.d.rut), 404)


@AGREGAR
@pytest.mark.parametrize("body", [
    pytest.param({}, id="missing"), pytest.param({"usuario_id": ""}, id="empty"),
    pytest.param({"usuario_id": None}, id="null"), pytest.param({"usuario_id": [1]}, id="a-list-rut"),
    pytest.param([], id="a-list"),
])
def test_adding_without_a_usuario_id_is_400(grupo, body):
    expect_refused(grupo.a.agregar(grupo.conv, body=body), 400)


@AGREGAR
def test_adding_with_a_non_json_body_is_415(grupo):
    r = grupo.a.agregar(grupo.conv, data=f'{{"usuario_id": "{grupo.d.rut}"}}', headers={"Content-Type": "text/plain"})
    expect_refused(r, 415)
    assert len(grupo.a.ver_grupo(grupo.conv)["miembros"]) == 3


@AGREGAR
def test_adding_without_a_session_is_401(http, grupo):
    r = http.post(f"/api/chat/grupos/{grupo.conv}/miembros", json={"usuario_id": grupo.d.rut},
                  headers={"Origin": http.origin})
    expect_refused(r, 401)


# Remove.

@QUITAR
def test_an_admin_removes_a_member_with_a_system_message(sockets, grupo):
    removed = sockets(grupo.c)
    since = removed.mark()
    body = expect(grupo.a.quitar(grupo.conv, grupo.c.rut), 200)
    assert body["success"] is True, body
    assert_grupo(body["grupo"], conv=grupo.conv, miembros=[grupo.a, grupo.b])
    p = removed.wait("removido_de_conversacion", same_conversation(grupo.conv), since=since)
    assert sid(p["conversacion_id"]) == grupo.conv
    last = grupo.b.sistema(grupo.conv)[-1]
    assert last["usuario_id"] == grupo.a.rut and mentions(last["contenido"], grupo.c), last
    assert grupo.c.conversacion(grupo.conv) is None


@QUITAR
def test_a_member_who_is_not_admin_may_not_remove(grupo):
    expect_refused(grupo.b.quitar(grupo.conv, grupo.c.rut), 403)
    assert grupo.c.rut in member_ruts(grupo.a.ver_grupo(grupo.conv))


@QUITAR
def test_a_non_member_may_not_remove(grupo):
    expect_refused(grupo.d.quitar(grupo.conv, grupo.c.rut), 403)
    assert grupo.c.rut in member_ruts(grupo.a.ver_grupo(grupo.conv))


@QUITAR
def test_another_admin_may_not_remove_the_creator(grupo):
    expect(grupo.a.admin(grupo.conv, grupo.b.rut, True), 200)
    expect_refused(grupo.b.quitar(grupo.conv, grupo.a.rut), 403)
    assert grupo.a.rut in member_ruts(grupo.a.ver_grupo(grupo.conv))


@QUITAR
def test_an_admin_the_creator_made_removes_a_member(grupo):
    expect(grupo.a.admin(grupo.conv, grupo.b.rut, True), 200)
    expect(grupo.b.quitar(grupo.conv, grupo.c.rut), 200)
    assert member_ruts(grupo.a.ver_grupo(grupo.conv)) == [grupo.a.rut, grupo.b.rut]


@QUITAR
def test_removing_someone_who_is_not_a_member_is_404(grupo):
    before = grupo.a.ver_grupo(grupo.conv)
    expect_refused(grupo.a.quitar(grupo.conv, grupo.d.rut), 404)
    assert grupo.a.ver_grupo(grupo.conv)["miembros"] == before["miembros"]
    assert len(grupo.a.sistema(grupo.conv)) == 1


@QUITAR
def test_removing_without_a_session_is_401(http, grupo):
    r = http.request("DELETE", f"/api/chat/grupos/{grupo.conv}/miembros/{grupo.c.rut}",
                     headers={"Origin": http.origin})
    expect_refused(r, 401)
    assert grupo.c.rut in member_ruts(grupo.a.ver_grupo(grupo.conv))


# Leave.

@SALIR
def test_a_member_leaves_with_a_system_message(sockets, grupo):
    leaving = sockets(grupo.c)
    since = leaving.mark()
    body = expect(grupo.c.salir(grupo.conv), 200)
    assert body["success"] is True, body
    assert member_ruts(grupo.a.ver_grupo(grupo.conv)) == [grupo.a.rut, grupo.b.rut]
    leaving.wait("removido_de_conversacion", same_conversation(grupo.conv), since=since)
    last = grupo.a.sistema(grupo.conv)[-1]
    assert last["usuario_id"] == grupo.c.rut, last
    assert grupo.c.conversacion(grupo.conv) is None


@SALIR
def test_the_last_admin_leaving_hands_the_role_on(grupo):
    expect(grupo.a.salir(grupo.conv), 200)
    g = grupo.b.ver_grupo(grupo.conv)
    assert set(member_ruts(g)) == {grupo.b.rut, grupo.c.rut}, g
    assert len(admin_ruts(g)) == 1, f"exactly one remaining member becomes admin: {g}"
    heir = grupo.b if admin_ruts(g) == {grupo.b.rut} else grupo.c
    expect(heir.agregar(grupo.conv, grupo.d.rut), 200)


@SALIR
def test_an_admin_leaving_while_another_admin_remains_hands_nothing_on(grupo):
    expect(grupo.a.admin(grupo.conv, grupo.b.rut, True), 200)
    expect(grupo.a.salir(grupo.conv), 200)
    assert admin_ruts(grupo.b.ver_grupo(grupo.conv)) == {grupo.b.rut}


@SALIR
def test_a_non_member_may_not_leave(grupo):
    expect_refused(grupo.d.salir(grupo.conv), 403)
    assert len(grupo.a.sistema(grupo.conv)) == 1


@SALIR
def test_leaving_without_a_session_is_401(http, grupo):
    expect_refused(http.post(f"/api/chat/grupos/{grupo.conv}/salir", headers={"Origin": http.origin}), 401)


# Admins.

@ADMINS
def test_an_admin_makes_and_unmakes_an_admin_with_system_messages(grupo):
    body = expect(grupo.a.admin(grupo.conv, grupo.b.rut, True), 200)
    assert body["success"] is True, body
    assert_grupo(body["grupo"], admins=[grupo.a, grupo.b])
    assert grupo.b.ver_grupo(grupo.conv)["soy_admin"] is True
    expect(grupo.b.agregar(grupo.conv, grupo.d.rut), 200)
    expect(grupo.a.admin(grupo.conv, grupo.b.rut, False), 200)
    assert admin_ruts(grupo.a.ver_grupo(grupo.conv)) == {grupo.a.rut}
    expect_refused(grupo.b.renombrar(grupo.conv, "x"), 403)
    made, unmade = grupo.a.sistema(grupo.conv)[-3], grupo.a.sistema(grupo.conv)[-1]
    for m in (made, unmade):
        assert m["usuario_id"] == grupo.a.rut and mentions(m["contenido"], grupo.b), m
    assert made["contenido"] != unmade["contenido"]


@ADMINS
def test_a_member_who_is_not_admin_may_not_make_admins(grupo):
    expect_refused(grupo.b.admin(grupo.conv, grupo.b.rut, True), 403)
    expect_refused(grupo.b.admin(grupo.conv, grupo.c.rut, True), 403)
    assert admin_ruts(grupo.a.ver_grupo(grupo.conv)) == {grupo.a.rut}


@ADMINS
def test_a_non_member_may_not_make_admins(grupo):
    expect_refused(grupo.d.admin(grupo.conv, grupo.b.rut, True), 403)
    assert admin_ruts(grupo.a.ver_grupo(grupo.conv)) == {grupo.a.rut}


@ADMINS
def test_the_creator_cannot_be_demoted_by_another_admin(grupo):
    expect(grupo.a.admin(grupo.conv, grupo.b.rut, True), 200)
    expect_refused(grupo.b.admin(grupo.conv, grupo.a.rut, False), 403)
    assert admin_ruts(grupo.a.ver_grupo(grupo.conv)) == {grupo.a.rut, grupo.b.rut}


@ADMINS
def test_making_a_non_member_admin_is_404(grupo):
    expect_refused(grupo.a.admin(grupo.conv, grupo.d.rut, True), 404)
    assert grupo.d.rut not in member_ruts(grupo.a.ver_grupo(grupo.conv))


@ADMINS
@pytest.mark.parametrize("body", [
    pytest.param({}, id="missing"), pytest.param({"es_admin": "true"}, id="string"),
    pytest.param({"es_admin": 1}, id="number"), pytest.param({"es_admin": None}, id="null"),
])
def test_es_admin_must_be_a_boolean(grupo, body):
    expect_refused(grupo.a.admin(grupo.conv, grupo.b.rut, body=body), 400)
    assert admin_ruts(grupo.a.ver_grupo(grupo.conv)) == {grupo.a.rut}


@ADMINS
def test_making_admins_without_a_session_is_401(http, grupo):
    r = http.request("PUT", f"/api/chat/grupos/{grupo.conv}/admins/{grupo.b.rut}", json={"es_admin": True},
                     headers={"Origin": http.origin})
    expect_refused(r, 401)


# Groups that are not groups.

@RENOMBRAR
def test_a_1_to_1_conversation_reads_as_a_group_of_two_but_cannot_be_renamed_or_grown(uno_a_uno):
    a, b, c, conv = uno_a_uno
    g = a.ver_grupo(conv)
    assert g["es_grupal"] is False and set(member_ruts(g)) == {a.rut, b.rut}, g
    expect_refused(a.renombrar(conv, "x"), 400)
    expect_refused(a.agregar(conv, c.rut), 400)
    assert c.conversacion(conv) is None
    assert a.conversacion(conv)["nombre"] is None


# Messages of a group.

@MENSAJES
def test_a_group_message_reaches_every_member_once_and_the_list_shows_its_author(sockets, grupo, token):
    socks = [sockets(user) for user in (grupo.a, grupo.b, grupo.c)]
    for s in socks:
        s.join(grupo.conv)
    m = grupo.c.enviar_ok(grupo.conv, token)
    for s in socks:
        s.wait("mensaje_recibido", message_id(m["id"]))
    for s in socks:
        s.barrier(grupo.conv)
        assert len(s.received("mensaje_recibido", message_id(m["id"]))) == 1, "exactly once"
    for user in (grupo.a, grupo.b):
        entry = user.conversacion(grupo.conv)
        assert entry["ultimo_mensaje"]["usuario_id"] == grupo.c.rut, entry
        assert entry["ultimo_mensaje"]["contenido"] == token, entry
        assert entry["no_leidos"] >= 1, entry


@MENSAJES
def test_system_messages_arrive_live_as_mensaje_recibido(sockets, grupo, token):
    watcher = sockets(grupo.b)
    watcher.join(grupo.conv)
    since = watcher.mark()
    expect(grupo.a.renombrar(grupo.conv, f"Nuevo {token}"), 200)
    p = watcher.wait("mensaje_recibido", lambda p: isinstance(p, dict) and p.get("tipo") == "sistema", since=since)
    assert sid(p["conversacion_id"]) == grupo.conv and p["usuario_id"] == grupo.a.rut, p
    assert f"Nuevo {token}" in p["contenido"], p
    last = grupo.b.sistema(grupo.conv)[-1]
    assert sid(last["id"]) == sid(p["id"]), last
