"""A client that stops reading: Engine.IO over a raw WebSocket, joins a conversation, then never
reads again while the test floods the room. Prints "listo" when joined; exits on stdin EOF.

    python lento.py BASE SECRET RUT CONVERSACION
"""
import json
import sys

import websocket

from flask_cookie import serializer


def main(base, secreto, rut, conversacion):
    _, firma = serializer(secreto)
    url = base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    ws = websocket.create_connection(url, header=[f"Cookie: session={firma.dumps({'usuario_id': rut})}"], origin=base)
    assert ws.recv().startswith("0{"), "Engine.IO open"
    ws.send("40")
    while not ws.recv().startswith("40"):
        pass
    ws.send("42" + json.dumps(["unirse_conversacion", {"conversacion_id": conversacion}]))
    while "unido_conversacion" not in ws.recv():
        pass
    # Shrink the receive buffer so the server's writes block soon after we stop reading.
    ws.sock.setsockopt(__import__("socket").SOL_SOCKET, __import__("socket").SO_RCVBUF, 4096)
    print("listo", flush=True)
    sys.stdin.read()
    ws.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
