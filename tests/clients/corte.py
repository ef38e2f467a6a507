"""Keeps a Socket.IO connection open across a database outage driven by the test.

    python corte.py BASE SECRET RUT CONVERSACION

Prints "listo" once connected. After "corte" on stdin (the database is down) a send gets
`Servicio no disponible` without a disconnect; after "fin" (it is back) a send works again.
"""
import sys

import socketio

from flask_cookie import serializer


def enviar(cliente, conversacion, texto):
    return cliente.call("mensaje_enviar", {"conversacion_id": conversacion, "contenido": texto}, timeout=15)


def main(base, secreto, rut, conversacion):
    _, firma = serializer(secreto)
    desconexiones = []
    cliente = socketio.Client(reconnection=False)
    cliente.on("disconnect", lambda *a: desconexiones.append(a))
    cliente.connect(base, headers={"Cookie": "session=" + firma.dumps({"usuario_id": rut})}, transports=["websocket"])
    print("listo", flush=True)

    sys.stdin.readline()
    respuesta = enviar(cliente, conversacion, "durante el corte")
    assert respuesta == {"success": False, "error": "Servicio no disponible"}, respuesta
    print("ok: during the outage a socket send answers Servicio no disponible", flush=True)

    sys.stdin.readline()
    assert not desconexiones and cliente.connected, desconexiones
    respuesta = enviar(cliente, conversacion, "después del corte")
    assert respuesta.get("contenido") == "después del corte", respuesta
    print("ok: the socket stayed connected through the outage and works again", flush=True)
    cliente.disconnect()


if __name__ == "__main__":
    main(*sys.argv[1:])
