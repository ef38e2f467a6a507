"""CONTRACT.md §4 GET /api/chat/usuarios."""

import pytest

from compat import known
from compat.http import expect
from compat.shapes import assert_user, assert_user_is

pytestmark = pytest.mark.contract("4", "GET /api/chat/usuarios")


def test_usuarios_lists_every_other_user_with_the_documented_shape(trio):
    body = expect(trio.a.usuarios(), 200)
    assert isinstance(body.get("usuarios"), list), body
    for u in body["usuarios"]:
        assert_user(u)
    by_id = {u["id"]: u for u in body["usuarios"]}
    assert trio.a.rut not in by_id, "the caller is not listed"
    assert_user_is(by_id[trio.b.rut], trio.b.user)
    assert_user_is(by_id[trio.c.rut], trio.c.user)


@pytest.mark.known_difference(known.USUARIOS_UNORDERED)
def test_usuarios_are_ordered_by_name(new_user):
    caller = new_user("Zoe")
    carla, ana, bruno = new_user("Carla"), new_user("Ana"), new_user("Bruno")
    ids = [u["id"] for u in expect(caller.usuarios(), 200)["usuarios"]]
    ours = [i for i in ids if i in (ana.rut, bruno.rut, carla.rut)]
    assert ours == [ana.rut, bruno.rut, carla.rut]


def test_iniciales_are_the_first_two_characters_upper_cased(new_user):
    caller = new_user("Zoe")
    accented = new_user("ñandú")
    listed = [u for u in expect(caller.usuarios(), 200)["usuarios"] if u["id"] == accented.rut]
    assert listed and listed[0]["iniciales"] == "ÑA", listed
