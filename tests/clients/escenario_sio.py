"""Contract scenario (CONTRACT.md §5) with the real python-socketio client, one transport mode.

    python escenario_sio.py BASE SECRET CONVERSACION ANA BRUNO CARLA polling|websocket|upgrade

Ana and Bruno are the conversation's members, Carla is not. Every check raises on failure
(exit 1); success prints one "ok" line per check.
"""
import sys
import threading
import time

import requests
import socketio

from flask_cookie import serializer

ESPERA = 5.0


class Cliente:
    """A python-socketio client that records every event it receives."""

    def __init__(self, base, cookie, transportes, origen=None, nombre_cookie="session"):
        self.sio = socketio.Client(reconnection=False)
        self.eventos = []
        self.cambio = threading.Condition()
        self.sio.on("*", self._registrar)
        headers = {"Origin": origen or base}
        if cookie:
            headers["Cookie"] = f"{nombre_cookie}={cookie}"
        self.sio.connect(base, headers=headers, transports=transportes, wait_timeout=ESPERA)

    def _registrar(self, evento, datos=None):
        with self.cambio:
            self.eventos.append((evento, datos))
            self.cambio.notify_all()

    def esperar(self, evento, condicion=lambda d: True, timeout=ESPERA):
        limite = time.monotonic() + timeout
        with self.cambio:
            while True:
                for nombre, datos in self.eventos:
                    if nombre == evento and condicion(datos):
                        return datos
                restante = limite - time.monotonic()
                if restante <= 0:
                    raise AssertionError(f"no llegó {evento}; recibidos: {[e for e, _ in self.eventos]}")
                self.cambio.wait(restante)

    def cuantos(self, evento, condicion=lambda d: True):
        with self.cambio:
            return sum(1 for nombre, datos in self.eventos if nombre == evento and condicion(datos))


def ok(texto):
    print(f"ok: {texto}", flush=True)


def rechazo(base, cookie, origen=None, transportes=("websocket",)):
    """Tries to connect; returns what the client reports as the refusal (the CONNECT_ERROR
    data when Socket.IO refused it), or fails when the connection is accepted."""
    sio = socketio.Client(reconnection=False)
    datos = []
    sio.on("connect_error", lambda d=None: datos.append(d))
    headers = {"Origin": origen or base}
    if cookie:
        headers["Cookie"] = f"session={cookie}"
    try:
        sio.connect(base, headers=headers, transports=list(transportes), wait_timeout=ESPERA)
    except socketio.exceptions.ConnectionError:
        return datos[0] if datos else None
    sio.disconnect()
    raise AssertionError("the connection was accepted")


def main(base, secreto, conversacion, ana, bruno, carla, modo):
    transportes = {"polling": ["polling"], "websocket": ["websocket"], "upgrade": ["polling", "websocket"]}[modo]
    _, firma = serializer(secreto)
    cookie = {rut: firma.dumps({"usuario_id": rut, "usuario_logueado": True, "usuario_nombre": nombre})
              for rut, nombre in ((ana, "Ana Pérez"), (bruno, "Bruno Soto"), (carla, "Carla Díaz"))}

    a = Cliente(base, cookie[ana], transportes)
    b = Cliente(base, cookie[bruno], transportes)
    c = Cliente(base, cookie[carla], transportes)
    for cliente in (a, b, c):
        assert cliente.esperar("conectado")["mensaje"] == "Conectado al chat en tiempo real"
    ok("conectado on connect")
    if modo == "upgrade":
        limite = time.monotonic() + ESPERA
        while a.sio.transport() != "websocket" and time.monotonic() < limite:
            time.sleep(0.05)
        assert a.sio.transport() == "websocket", a.sio.transport()
        ok("polling upgraded to websocket")
    else:
        assert a.sio.transport() == transportes[0]

    es_conv = lambda d: str(d.get("conversacion_id")) == conversacion
    for cliente in (a, b):
        cliente.sio.emit("unirse_conversacion", {"conversacion_id": conversacion})
        assert cliente.esperar("unido_conversacion", es_conv)["mensaje"] == "Te has unido a la conversación"
    ok("members join the room")

    c.sio.emit("unirse_conversacion", {"conversacion_id": conversacion})
    assert c.esperar("error")["mensaje"] == "No tienes acceso a esta conversación"
    respuesta = c.sio.call("mensaje_enviar", {"conversacion_id": conversacion, "contenido": "intruso"}, timeout=ESPERA)
    assert respuesta["success"] is False, respuesta
    c.sio.emit("escribiendo", {"conversacion_id": conversacion})
    limite = time.monotonic() + ESPERA
    while c.cuantos("error") < 3 and time.monotonic() < limite:
        time.sleep(0.02)
    assert c.cuantos("error", lambda d: d["mensaje"] == "No tienes acceso a esta conversación") == 3
    ok("a non-participant's join, send and typing get error")

    guardado = a.sio.call("mensaje_enviar", {"conversacion_id": conversacion, "contenido": "hola por socket"}, timeout=ESPERA)
    assert guardado["contenido"] == "hola por socket" and guardado["es_mio"] is True, guardado
    del_socket = lambda d: d["id"] == guardado["id"]
    for cliente in (a, b):
        m = cliente.esperar("mensaje_recibido", del_socket)
        assert m["usuario_id"] == ana and str(m["conversacion_id"]) == conversacion
        assert m["usuario"]["nombre"] == "Ana Pérez"
    ok("socket send: ack carries the stored message, both members receive it")

    r = requests.post(f"{base}/api/chat/mensaje/enviar", cookies={"session": cookie[bruno]},
                      json={"conversacion_id": conversacion, "contenido": "hola por REST"}, timeout=ESPERA)
    assert r.status_code == 201, r.text
    por_rest = r.json()["mensaje"]["id"]
    for cliente in (a, b):
        cliente.esperar("mensaje_recibido", lambda d: d["id"] == por_rest)
    ok("REST send reaches both members")

    b.sio.emit("escribiendo", {"conversacion_id": conversacion})
    aviso = a.esperar("usuario_escribiendo")
    assert aviso == {"conversacion_id": conversacion, "usuario_id": bruno, "nombre": "Bruno Soto"}, aviso
    ok("typing reaches the other member")

    for malo in ["basura", [], {}, {"conversacion_id": conversacion}, {"conversacion_id": conversacion, "contenido": 5},
                 {"conversacion_id": conversacion, "contenido": "x" * 3000}, None]:
        antes = a.cuantos("error")
        if malo is None:
            a.sio.emit("mensaje_enviar")
        else:
            a.sio.emit("mensaje_enviar", malo)
        limite = time.monotonic() + ESPERA
        while a.cuantos("error") == antes and time.monotonic() < limite:
            time.sleep(0.02)
        assert a.cuantos("error", lambda d: d["mensaje"] == "Datos inválidos") == antes + 1, (malo, a.eventos[-3:])
    assert a.sio.connected and b.sio.connected
    ok("bad payloads get error Datos inválidos and nobody is disconnected")

    r = requests.post(f"{base}/api/chat/mensaje/marcar-leido", cookies={"session": cookie[bruno]},
                      json={"conversacion_id": conversacion}, timeout=ESPERA)
    assert r.status_code == 200, r.text
    visto = a.esperar("mensaje_visto", lambda d: d["usuario_id"] == bruno)
    assert str(visto["conversacion_id"]) == conversacion and str(visto["ultimo_id"]) == str(por_rest), visto
    ok("mensaje_visto after marcar-leido")

    r = requests.post(f"{base}/api/chat/conversacion/crear", cookies={"session": cookie[ana]},
                      json={"participantes": [ana, carla]}, timeout=ESPERA)
    assert r.status_code == 201, r.text
    nueva = c.esperar("nueva_conversacion")["conversacion"]
    assert nueva["id"] == r.json()["conversacion_id"] and nueva["participantes"][0]["id"] == ana, nueva
    ok("nueva_conversacion reaches the other participant")

    time.sleep(0.5)
    for cliente in (a, b):
        assert cliente.cuantos("mensaje_recibido", del_socket) == 1
        assert cliente.cuantos("mensaje_recibido", lambda d: d["id"] == por_rest) == 1
    assert b.cuantos("usuario_escribiendo") == 0, "the sender does not get its own typing"
    assert c.cuantos("mensaje_recibido") == 0 and c.cuantos("usuario_escribiendo") == 0
    ok("every message arrived exactly once; typing skipped the sender; the outsider heard nothing")

    b.sio.disconnect()
    a.esperar("usuario_desconectado", lambda d: d["usuario_id"] == bruno)
    ok("presence: the last socket closing is announced")
    a.sio.disconnect()
    c.sio.disconnect()

    assert rechazo(base, None, transportes=transportes) == {"message": "No autenticado"}
    alterada = cookie[ana][:-2] + ("AA" if not cookie[ana].endswith("AA") else "BB")
    assert rechazo(base, alterada, transportes=transportes) == {"message": "No autenticado"}
    # A valid cookie from a foreign origin is refused at the HTTP handshake (403).
    rechazo(base, cookie[ana], origen="https://evil.example", transportes=transportes)
    ok("no cookie, a tampered cookie and a foreign Origin are refused")


if __name__ == "__main__":
    if len(sys.argv) != 8:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(*sys.argv[1:])
