"""The JSON shapes of CONTRACT.md §4 and §5, as assertions. Ids that may be strings or numbers
are compared as strings; strings the front-ends index are never null."""

from .http import sid

USER_KEYS = {"id", "nombre", "apellido", "nombre_completo", "email", "rol", "iniciales"}
CONVERSATION_KEYS = {"id", "nombre", "es_grupal", "participantes", "ultimo_mensaje", "no_leidos",
                     "mensajes_no_leidos", "fecha_creacion", "ultimo_mensaje_timestamp",
                     "ultima_actualizacion"}
LAST_MESSAGE_KEYS = {"id", "contenido", "fecha_envio", "usuario_id", "editado"}
MESSAGE_KEYS = {"id", "conversacion_id", "usuario_id", "contenido", "fecha_envio", "editado",
                "eliminado", "usuario"}
SENDER_KEYS = {"id", "nombre", "apellido", "nombre_completo", "email"}


def iniciales(nombre):
    return nombre[:2].upper() if nombre else "U"


def is_id(value):
    """Message ids keep the column's JSON type: an integer or a string."""
    return (type(value) is int) or (isinstance(value, str) and value != "")


def assert_user(u):
    """U = {id, nombre, apellido: "", nombre_completo, email, rol, iniciales}."""
    assert USER_KEYS <= set(u), f"missing {USER_KEYS - set(u)} in {u}"
    for key in ("id", "nombre", "apellido", "nombre_completo", "email", "iniciales"):
        assert isinstance(u[key], str), f"{key} must be a string: {u}"
    assert u["apellido"] == ""
    assert u["nombre_completo"] == u["nombre"]
    assert u["iniciales"] == iniciales(u["nombre"]), u


def assert_user_is(u, user, keys=USER_KEYS):
    """`u` describes `user`, as far as the suite knows the user."""
    assert u["id"] == user.rut, u
    assert u["nombre"] == user.nombre, u
    assert u["nombre_completo"] == user.nombre, u
    assert u["apellido"] == "", u
    if "iniciales" in keys:
        assert u["iniciales"] == iniciales(user.nombre), u
    if user.correo is not None:
        assert u["email"] == user.correo, u
    if "rol" in keys and user.rol is not None:
        assert u["rol"] == user.rol, u


def assert_conversation(c):
    """C = {id (string), nombre, es_grupal, participantes: [U], ultimo_mensaje, no_leidos,
    mensajes_no_leidos, fecha_creacion, ultimo_mensaje_timestamp, ultima_actualizacion}."""
    assert CONVERSATION_KEYS <= set(c), f"missing {CONVERSATION_KEYS - set(c)} in {c}"
    assert isinstance(c["id"], str), f"conversation ids are JSON strings: {c['id']!r}"
    assert isinstance(c["es_grupal"], bool), c
    assert isinstance(c["participantes"], list), c
    for u in c["participantes"]:
        assert_user(u)
    assert type(c["no_leidos"]) is int and c["no_leidos"] >= 0, c
    assert c["no_leidos"] == c["mensajes_no_leidos"], c
    assert isinstance(c["fecha_creacion"], str), c
    assert isinstance(c["ultima_actualizacion"], str), c
    if c["ultimo_mensaje"] is not None:
        assert LAST_MESSAGE_KEYS <= set(c["ultimo_mensaje"]), c["ultimo_mensaje"]
        assert is_id(c["ultimo_mensaje"]["id"]), c["ultimo_mensaje"]


def assert_message(m, conversacion_id, sender, contenido=None, keys=MESSAGE_KEYS):
    """The keys every message carries (REST M, the enviar answer and mensaje_recibido);
    `sender` is a User or a ChatUser; `keys` the keys to require (all by default)."""
    sender = getattr(sender, "user", sender)
    assert keys <= set(m), f"missing {keys - set(m)} in {m}"
    assert is_id(m["id"]), m
    assert sid(m["conversacion_id"]) == sid(conversacion_id), m
    assert m["usuario_id"] == sender.rut, m
    assert isinstance(m["contenido"], str), m
    if contenido is not None:
        assert m["contenido"] == contenido, m
    assert isinstance(m["fecha_envio"], str) and m["fecha_envio"], m
    assert m["editado"] is False and m.get("eliminado", False) is False, m
    assert SENDER_KEYS <= set(m["usuario"]), m["usuario"]
    assert_user_is(m["usuario"], sender, keys=SENDER_KEYS)
