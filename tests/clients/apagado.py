"""Graceful shutdown: after SIGTERM a WebSocket client gets an Engine.IO close ("server
disconnect", not a transport error) and a long-polling client is disconnected at once (its close
packet arrives only if a poll is pending at that moment, so its reason may be either). The caller
(the server's parent) checks that the process exits.

    python apagado.py BASE SECRET RUT PID
"""
import os
import signal
import sys
import time

import socketio

from flask_cookie import serializer


def main(base, secreto, rut, pid):
    pid = int(pid)
    _, firma = serializer(secreto)
    cookie = firma.dumps({"usuario_id": rut})
    razones = {}
    clientes = {}
    for transporte in ("websocket", "polling"):
        cliente = socketio.Client(reconnection=False)
        cliente.on("disconnect", lambda razon=None, t=transporte: razones.setdefault(t, razon))
        cliente.connect(base, headers={"Cookie": f"session={cookie}"}, transports=[transporte])
        clientes[transporte] = cliente
    inicio = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    while len(razones) < len(clientes) and time.monotonic() - inicio < 10:
        time.sleep(0.02)
    tiempo = time.monotonic() - inicio
    assert razones.get("websocket") == "server disconnect", razones
    assert razones.get("polling") in ("server disconnect", "transport error"), razones
    print(f"ok: both sockets disconnected {tiempo:.2f} s after SIGTERM: {razones}")


if __name__ == "__main__":
    main(*sys.argv[1:])
