"""Two server instances sharing Redis: rooms, emits and presence span both.

    python escenario_redis.py BASE_A BASE_B SECRET CONVERSACION ANA BRUNO

Ana connects to instance A, Bruno to instance B. Exit 1 on the first failed check.
"""
import sys
import time

import requests

from escenario_sio import Cliente, ok
from flask_cookie import serializer


def conectados(base, cookie):
    r = requests.get(f"{base}/api/usuarios/conectados", cookies={"session": cookie}, timeout=5)
    assert r.status_code == 200, r.text
    return set(r.json()["conectados"])


def main(base_a, base_b, secreto, conversacion, ana, bruno):
    _, firma = serializer(secreto)
    cookie = {rut: firma.dumps({"usuario_id": rut}) for rut in (ana, bruno)}
    a = Cliente(base_a, cookie[ana], ["websocket"])
    b = Cliente(base_b, cookie[bruno], ["websocket"])
    for cliente in (a, b):
        cliente.sio.emit("unirse_conversacion", {"conversacion_id": conversacion})
        cliente.esperar("unido_conversacion")
    a.esperar("usuario_conectado", lambda d: d["usuario_id"] == bruno)
    ok("a user connecting on instance B is announced to a contact on instance A")

    guardado = a.sio.call("mensaje_enviar", {"conversacion_id": conversacion, "contenido": "desde A"}, timeout=5)
    b.esperar("mensaje_recibido", lambda d: d["id"] == guardado["id"])
    ok("a socket message sent through A reaches a member on B")

    r = requests.post(f"{base_b}/api/chat/mensaje/enviar", cookies={"session": cookie[bruno]},
                      json={"conversacion_id": conversacion, "contenido": "REST en B"}, timeout=5)
    assert r.status_code == 201, r.text
    a.esperar("mensaje_recibido", lambda d: d["id"] == r.json()["mensaje"]["id"])
    ok("a REST message sent through B reaches a member on A")

    b.sio.emit("escribiendo", {"conversacion_id": conversacion})
    a.esperar("usuario_escribiendo", lambda d: d["usuario_id"] == bruno)
    ok("typing crosses instances")

    for base in (base_a, base_b):
        assert {ana, bruno} <= conectados(base, cookie[ana]), base
    ok("both instances list both users online")

    a.sio.disconnect()
    b.esperar("usuario_desconectado", lambda d: d["usuario_id"] == ana)
    limite = time.monotonic() + 5
    while ana in conectados(base_b, cookie[bruno]) and time.monotonic() < limite:
        time.sleep(0.1)
    assert ana not in conectados(base_b, cookie[bruno])
    assert bruno in conectados(base_a, cookie[bruno])
    ok("after Ana's last socket closes on A, B no longer lists her")
    b.sio.disconnect()


if __name__ == "__main__":
    if len(sys.argv) != 7:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(*sys.argv[1:])
