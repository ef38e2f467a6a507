"""Real python-socketio clients driven by a Rust test over stdin/stdout (one JSON object a line).

    python puente_sio.py

Each request line is an object with "op"; each gets exactly one answer line, in order, with
"ok" (false plus "error" on failure). The test keeps every socket's received events, numbered,
so it can wait for an event after a mark and list what arrived (for "nothing more came"
checks behind a barrier event). Ops:

    conectar    {id, base, cookie, transporte?}          open a socket ("session=..." cookie)
    emitir      {id, evento, datos, ack?}                -> {marca, ack}: mark = events so far
    esperar     {id, eventos, donde?, desde?, timeout?}  -> {evento, datos, indice}: the first
                event named in `eventos` at index >= desde whose payload contains `donde`
    eventos     {id, evento?, desde?}                    -> {eventos: [[nombre, datos], ...]}
    rafaga      {id, nombre, evento, datos, n, prefijo}  start n acked emits in a thread, each
                with datos["contenido"] = prefijo + i
    rafaga_fin  {nombre}                                 -> {acks: [...]} once they all ended
    desconectar {id}
"""
import json
import sys
import threading
import time

import socketio

ESPERA = 10.0


class Socket:
    """One python-socketio client recording every event it receives."""

    def __init__(self, base, cookie, transporte):
        self.sio = socketio.Client(reconnection=False)
        self.eventos = []
        self.cambio = threading.Condition()
        self.sio.on("*", self._registrar)
        headers = {"Origin": base, "Cookie": cookie}
        self.sio.connect(base, headers=headers, transports=[transporte], wait_timeout=ESPERA)

    def _registrar(self, evento, datos=None):
        with self.cambio:
            self.eventos.append((evento, datos))
            self.cambio.notify_all()

    def marca(self):
        with self.cambio:
            return len(self.eventos)

    def esperar(self, nombres, donde, desde, timeout):
        limite = time.monotonic() + timeout
        with self.cambio:
            while True:
                for i in range(desde, len(self.eventos)):
                    nombre, datos = self.eventos[i]
                    if nombre in nombres and contiene(datos, donde):
                        return {"ok": True, "evento": nombre, "datos": datos, "indice": i}
                restante = limite - time.monotonic()
                if restante <= 0:
                    return {"ok": False, "error": f"no llegó {nombres} con {donde}",
                            "recibidos": self.eventos[desde:]}
                self.cambio.wait(restante)


def igual(a, b):
    """Ids travel as numbers or strings depending on the table variant: compare scalars as text."""
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return a == b
    return str(a) == str(b)


def contiene(datos, donde):
    if not donde:
        return True
    if not isinstance(datos, dict):
        return False
    for clave, valor in donde.items():
        if isinstance(valor, dict):
            if not contiene(datos.get(clave), valor):
                return False
        elif clave not in datos or not igual(datos[clave], valor):
            return False
    return True


def main():
    sockets = {}
    rafagas = {}
    for linea in sys.stdin:
        if not linea.strip():
            continue
        pedido = json.loads(linea)
        try:
            respuesta = atender(pedido, sockets, rafagas)
        except Exception as e:  # noqa: BLE001 - every failure goes back to the test as text
            respuesta = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        print(json.dumps(respuesta), flush=True)
    for s in sockets.values():
        s.sio.disconnect()


def atender(p, sockets, rafagas):
    op = p["op"]
    if op == "conectar":
        sockets[p["id"]] = Socket(p["base"], p["cookie"], p.get("transporte", "websocket"))
        return {"ok": True}
    if op == "rafaga_fin":
        hilo, acks = rafagas.pop(p["nombre"])
        hilo.join()
        return {"ok": True, "acks": acks}
    s = sockets[p["id"]]
    if op == "emitir":
        marca = s.marca()
        if p.get("ack", True):
            ack = s.sio.call(p["evento"], p.get("datos"), timeout=ESPERA)
        else:
            s.sio.emit(p["evento"], p.get("datos"))
            ack = None
        return {"ok": True, "marca": marca, "ack": ack}
    if op == "esperar":
        return s.esperar(p["eventos"], p.get("donde"), p.get("desde", 0), p.get("timeout", ESPERA))
    if op == "eventos":
        with s.cambio:
            lista = s.eventos[p.get("desde", 0):]
            if p.get("evento"):
                lista = [e for e in lista if e[0] == p["evento"]]
            return {"ok": True, "eventos": [list(e) for e in lista]}
    if op == "rafaga":
        acks = []

        def enviar():
            for i in range(int(p["n"])):
                datos = dict(p["datos"], contenido=f"{p['prefijo']}{i}")
                try:
                    acks.append(s.sio.call(p["evento"], datos, timeout=ESPERA))
                except Exception as e:  # noqa: BLE001
                    acks.append({"success": False, "error": f"sin ack: {e}"})

        hilo = threading.Thread(target=enviar)
        hilo.start()
        rafagas[p["nombre"]] = (hilo, acks)
        return {"ok": True}
    if op == "desconectar":
        sockets.pop(p["id"]).sio.disconnect()
        return {"ok": True}
    return {"ok": False, "error": f"op desconocida {op}"}


if __name__ == "__main__":
    main()
