"""Sends messages over Socket.IO (WebSocket) and waits for each acknowledgement.

    python envios_sio.py BASE COOKIE CONVERSACION N REQUEST_ID

COOKIE is the `session=...` pair; REQUEST_ID goes in the handshake's X-Request-Id header.
Fails (exit 1) when a send is not acknowledged as stored.
"""
import sys

import socketio


def main(base, cookie, conversacion, n, request_id):
    sio = socketio.Client(reconnection=False)
    headers = {"Origin": base, "Cookie": cookie, "X-Request-Id": request_id}
    sio.connect(base, headers=headers, transports=["websocket"], wait_timeout=5)
    for i in range(int(n)):
        ack = sio.call("mensaje_enviar", {"conversacion_id": conversacion, "contenido": f"envío {i}"}, timeout=10)
        if not isinstance(ack, dict) or ack.get("success") is False or "id" not in ack:
            raise AssertionError(f"send {i} not stored: {ack!r}")
    sio.disconnect()
    print(f"ok: {n} messages acknowledged", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
