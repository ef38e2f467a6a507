"""v2 Socket.IO scenario (CONTRACT-v2.md §2, with the fixes of §7) with the real python-socketio
client, as Weigence's floating widget uses it: cookie `weigence_session`, one transport mode.

    python escenario_v2.py BASE SECRET ANA BRUNO CARLA polling|websocket

Every check raises on failure (exit 1); success prints one "ok" line per check.
"""
import sys
import time

import requests

from escenario_sio import ESPERA, Cliente, ok
from flask_cookie import serializer


def cliente_v2(base, cookie, transportes):
    """A client that sends its session as `weigence_session`, as the v2 widget's page does."""
    return Cliente(base, cookie, transportes, nombre_cookie="weigence_session")


def hasta(condicion):
    limite = time.monotonic() + ESPERA
    while not condicion() and time.monotonic() < limite:
        time.sleep(0.02)
    assert condicion()


def main(base, secreto, ana, bruno, carla, modo):
    transportes = [modo]
    _, firma = serializer(secreto)
    cookie = {rut: firma.dumps({"usuario_id": rut, "usuario_logueado": True, "usuario_nombre": nombre})
              for rut, nombre in ((ana, "Ana Pérez"), (bruno, "Bruno Soto"), (carla, "Carla Díaz"))}
    http = lambda rut: {"weigence_session": cookie[rut]}

    a = cliente_v2(base, cookie[ana], transportes)
    b = cliente_v2(base, cookie[bruno], transportes)
    c = cliente_v2(base, cookie[carla], transportes)
    for rut, cliente in ((ana, a), (bruno, b), (carla, c)):
        assert cliente.esperar("ws_connected") == {"usuario_id": rut}
    assert a.sio.transport() == modo
    ok("ws_connected on connect")

    h = requests.get(f"{base}/api/chat/history/{bruno}", cookies=http(ana), timeout=ESPERA).json()
    conv = h["conversacion_id"]
    sala = str(conv)
    es_sala = lambda d: d.get("conversacion_id") == sala
    a.sio.emit("join", {"conversacion_id": conv})
    assert a.esperar("joined", es_sala) == {"conversacion_id": sala}
    ok("join -> joined with the string room")

    c.sio.emit("join", {"conversacion_id": conv})
    assert c.esperar("error") == {"msg": "No perteneces a la conversacion"}
    c.sio.emit("join", {})
    hasta(lambda: c.cuantos("error", lambda d: d == {"msg": "Datos insuficientes"}) == 1)
    c.sio.emit("send", {"conversacion_id": sala, "contenido": "intrusa"})
    hasta(lambda: c.cuantos("error", lambda d: d == {"msg": "No se pudo enviar el mensaje"}) == 1)
    c.sio.emit("seen", {"conversacion_id": sala, "ultimo_id": 1})
    hasta(lambda: c.cuantos("error", lambda d: d == {"msg": "No se pudo marcar como leido"}) == 1)
    ok("a non-participant's join, send and seen get error {msg}")

    # Bruno has not opened the chat: mensaje_nuevo reaches him through his own room.
    a.sio.emit("send", {"conversacion_id": sala, "contenido": "hola widget"})
    m = a.esperar("mensaje_nuevo", lambda d: d["contenido"] == "hola widget")
    recibido = b.esperar("mensaje_nuevo", lambda d: d["contenido"] == "hola widget")
    assert recibido["id"] == m["id"] and recibido["usuario_nombre"] == "Ana Pérez", recibido
    assert str(recibido["conversacion_id"]) == sala and recibido["reply_to"] is None
    ok("send -> mensaje_nuevo to the room and to the other user's own room")

    b.sio.emit("join", {"conversacion_id": sala})
    b.esperar("joined", es_sala)
    b.sio.emit("send", {"conversacion_id": sala, "contenido": "respuesta", "reply_to": m["id"]})
    r = a.esperar("mensaje_nuevo", lambda d: d["contenido"] == "respuesta")
    assert r["reply_to"] == m["id"] and r["reply_to_content"] == "hola widget", r
    assert r["reply_to_user_name"] == "Ana Pérez", r
    time.sleep(0.3)
    assert b.cuantos("mensaje_nuevo", lambda d: d["id"] == r["id"]) == 1, "room + own room: once"
    ok("a reply carries its quote; a socket in both rooms gets it once")

    for malo, texto in [({}, "Faltan datos"), ({"conversacion_id": sala}, "Faltan datos"), ("basura", "Faltan datos"),
                        ({"conversacion_id": sala, "contenido": "  "}, "No se pudo enviar el mensaje")]:
        antes = a.cuantos("error", lambda d: d == {"msg": texto})
        a.sio.emit("send", malo)
        hasta(lambda: a.cuantos("error", lambda d: d == {"msg": texto}) == antes + 1)
    antes = a.cuantos("error")
    a.sio.emit("send", {"conversacion_id": sala, "contenido": "x" * 2001})
    hasta(lambda: a.cuantos("error", lambda d: d == {"msg": "Mensaje demasiado largo"}) == 1)
    assert a.sio.connected
    ok("bad sends get error {msg}; the length limit holds on the socket too")

    b.sio.emit("seen", {"conversacion_id": sala, "ultimo_id": r["id"]})
    visto = a.esperar("mensaje_visto", lambda d: d["usuario_id"] == bruno)
    assert visto["conversacion_id"] == sala and visto["ultimo_id"] == r["id"], visto
    b.sio.emit("seen", {"conversacion_id": sala, "ultimo_id": m["id"]})
    time.sleep(0.3)
    assert a.cuantos("mensaje_visto", lambda d: d["usuario_id"] == bruno) == 1, "backwards: no move, no event"
    h = requests.get(f"{base}/api/chat/history/{ana}", cookies=http(bruno), timeout=ESPERA).json()
    assert h["last_seen_me"] == r["id"], h
    ok("seen -> mensaje_visto, forward only")

    ruta = f"{base}/api/chat/mensajes/{m['id']}"
    assert requests.post(f"{ruta}/reaccion", cookies=http(bruno), json={"emoji": "👍"}, timeout=ESPERA).ok
    ev = a.esperar("reaccion_agregada")
    assert ev["mensaje_id"] == m["id"] and ev["usuario_id"] == bruno and ev["emoji"] == "👍", ev
    assert ev["reacciones"] == {"👍": 1}, ev
    assert requests.delete(f"{ruta}/reaccion", cookies=http(bruno), timeout=ESPERA).ok
    assert a.esperar("reaccion_eliminada")["reacciones"] == {}
    assert requests.post(f"{ruta}/fijar", cookies=http(bruno), timeout=ESPERA).ok
    fijado = a.esperar("mensaje_fijado")
    assert fijado["mensaje_id"] == m["id"] and fijado["contenido"] == "hola widget", fijado
    assert fijado["usuario_nombre"] == "Ana Pérez", fijado
    assert requests.post(f"{ruta}/desfijar", cookies=http(ana), timeout=ESPERA).ok
    assert b.esperar("mensaje_desfijado")["mensaje_id"] == m["id"]
    assert requests.delete(ruta, cookies=http(ana), timeout=ESPERA).ok
    assert b.esperar("mensaje_eliminado")["mensaje_id"] == m["id"]
    assert c.cuantos("reaccion_agregada") == 0 and c.cuantos("mensaje_nuevo") == 0
    ok("reactions, pins and deletes are announced to the room; the outsider hears nothing")

    a.sio.emit("leave", {"conversacion_id": sala})
    time.sleep(0.3)
    b.sio.emit("send", {"conversacion_id": sala, "contenido": "tras leave"})
    b.esperar("mensaje_nuevo", lambda d: d["contenido"] == "tras leave")
    a.esperar("mensaje_nuevo", lambda d: d["contenido"] == "tras leave")
    time.sleep(0.3)
    assert a.cuantos("mensaje_nuevo", lambda d: d["contenido"] == "tras leave") == 1
    ok("leave is handled (the member still hears through their own room, once)")

    for cliente in (a, b, c):
        cliente.sio.disconnect()


if __name__ == "__main__":
    if len(sys.argv) != 7:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(*sys.argv[1:])
