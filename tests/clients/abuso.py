"""Abuse limits over Socket.IO against a server started with RATE_LIMIT_BURST=10,
RATE_LIMIT_PER_MINUTE=60, MAX_SOCKETS_PER_USER=3 and MAX_BODY_BYTES=16384.

    python abuso.py BASE SECRET CONVERSACION ANA BRUNO
"""
import sys
import time

import socketio

from escenario_sio import Cliente, ok
from flask_cookie import serializer


def main(base, secreto, conversacion, ana, bruno):
    _, firma = serializer(secreto)
    cookie = {rut: firma.dumps({"usuario_id": rut}) for rut in (ana, bruno)}

    a = Cliente(base, cookie[ana], ["websocket"])
    b = Cliente(base, cookie[bruno], ["websocket"])
    for _ in range(30):
        a.sio.emit("escribiendo", {"conversacion_id": conversacion})
    a.esperar("error", lambda d: d["mensaje"] == "Demasiadas solicitudes")
    assert a.sio.connected
    ok("socket events share the per-user rate limit (error, not a disconnect)")

    extra = [Cliente(base, cookie[bruno], ["websocket"]) for _ in range(2)]
    cuarto = socketio.Client(reconnection=False)
    rechazos = []
    cuarto.on("connect_error", lambda datos=None: rechazos.append(datos))
    try:
        cuarto.connect(base, headers={"Cookie": f"session={cookie[bruno]}", "Origin": base}, transports=["websocket"])
        raise AssertionError("a fourth socket was accepted")
    except socketio.exceptions.ConnectionError:
        pass
    assert rechazos == [{"message": "Demasiadas conexiones"}], rechazos
    extra[0].sio.disconnect()
    time.sleep(0.3)
    extra.append(Cliente(base, cookie[bruno], ["websocket"]))
    ok("a user's sockets are capped; closing one makes room")

    desconectado = []
    b.sio.on("disconnect", lambda *r: desconectado.append(r))
    b.sio.emit("mensaje_enviar", {"conversacion_id": conversacion, "contenido": "x" * 40_000})
    limite = time.monotonic() + 5
    while not desconectado and time.monotonic() < limite:
        time.sleep(0.05)
    assert desconectado, "an oversized frame closes only that socket"
    assert extra[1].sio.connected and a.sio.connected
    ok("an oversized frame closes that socket only; the user's other sockets and other users stay")
    for c in [a, *extra[1:]]:
        c.sio.disconnect()


if __name__ == "__main__":
    main(*sys.argv[1:])
