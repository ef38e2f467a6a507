"""A Socket.IO test client (python-socketio) that records every event it receives and waits
for the ones a test expects, with a timeout instead of sleeps (CONTRACT.md §5)."""

import threading
import time

import socketio

from .http import sid

# The error text of a refused event when the user is over a rate limit.
RATE_LIMITED = "Demasiadas solicitudes"


class SocketClient:
    def __init__(self, settings, cookie=None, origin=None, transports=None):
        self.settings = settings
        self.cookie = cookie
        self.origin = settings.origin if origin is None else origin
        self.transports = list(transports or settings.sio_transports)
        self.events = []  # (name, payload) in arrival order
        self.connect_error = None
        self._cond = threading.Condition()
        # suppress_origin: websocket-client would add its own Origin next to ours; the one in
        # `headers` is the only one sent, over both transports.
        self.sio = socketio.Client(reconnection=False, request_timeout=settings.timeout,
                                   websocket_extra_options={"suppress_origin": True})
        # Closing a long-polling client waits for its pending GET, which a server may hold until
        # its next ping (25 s by default), also when connect() closes a refused client. The
        # close packet is still sent; only the wait for the background reader is skipped.
        graceful_close = self.sio.eio.disconnect
        self.sio.eio.disconnect = lambda abort=False, reason=None: graceful_close(abort=True, reason=reason)
        self.sio.on("*", self._on_event)
        self.sio.on("connect_error", self._on_connect_error)

    def _on_event(self, name, *args):
        payload = args[0] if len(args) == 1 else (list(args) if args else None)
        with self._cond:
            self.events.append((name, payload))
            self._cond.notify_all()

    def _on_connect_error(self, data=None):
        with self._cond:
            self.connect_error = data
            self._cond.notify_all()

    def connect(self):
        """Connects (raises socketio.exceptions.ConnectionError when refused)."""
        headers = {}
        if self.cookie:
            headers["Cookie"] = self.cookie
        if self.origin:
            headers["Origin"] = self.origin
        self.sio.connect(self.settings.base_url, headers=headers, transports=self.transports,
                         socketio_path=self.settings.socketio_path, wait_timeout=self.settings.timeout)
        return self

    def close(self):
        try:
            self.sio.disconnect()
        except Exception:  # already gone: nothing to release
            pass

    @property
    def connected(self):
        return self.sio.connected

    # Sending.

    def emit(self, event, data):
        self.sio.emit(event, data)

    def call(self, event, data):
        """Emits with an ack callback; the ack's payload."""
        return self.sio.call(event, data, timeout=self.settings.timeout)

    # Receiving.

    def mark(self):
        """A position in the event log: `wait`/`received` can look only at later events."""
        with self._cond:
            return len(self.events)

    def received(self, name, match=None, since=0):
        with self._cond:
            return [p for n, p in self.events[since:] if n == name and (match is None or match(p))]

    def wait(self, name, match=None, since=0, timeout=None):
        """The payload of the first event `name` (after `since`) that `match` accepts; fails
        the test when none arrives within the timeout."""
        deadline = time.monotonic() + (timeout or self.settings.timeout)
        with self._cond:
            while True:
                for n, p in self.events[since:]:
                    if n == name and (match is None or match(p)):
                        return p
                    if n == "error" and isinstance(p, dict) and RATE_LIMITED in (p.get("mensaje"), p.get("msg")):
                        raise AssertionError(f"rate limited by the server while waiting for {name!r} "
                                             "(raise its limits, see README.md)")
                left = deadline - time.monotonic()
                if left <= 0:
                    got = [n for n, _ in self.events[since:]]
                    raise AssertionError(f"no {name!r} event within {timeout or self.settings.timeout}s; received {got}")
                self._cond.wait(left)

    def join(self, conversacion_id):
        """unirse_conversacion, waiting for its unido_conversacion reply."""
        since = self.mark()
        self.emit("unirse_conversacion", {"conversacion_id": conversacion_id})
        return self.wait("unido_conversacion", match=same_conversation(conversacion_id), since=since)

    def barrier(self, conversacion_id):
        """A round trip through the server on this socket. The server writes a socket's packets
        in order, so once the reply is here every event the server had already sent to this
        socket is here too: `received` after a barrier is complete, no sleeping needed."""
        self.join(conversacion_id)

    def names(self, since=0):
        """Names of the v1 events received after `since`. A server that also serves Weigence's
        v2 widget (CONTRACT-v2.md, as weigence-chat does by default) adds that generation's
        events, which v1 pages ignore; they are left out here."""
        with self._cond:
            return [n for n, _ in self.events[since:] if n not in EVENTOS_V2]


# Events only the v2 generation sends (CONTRACT-v2.md §2; `mensaje_visto` and `error` are
# shared by both).
EVENTOS_V2 = frozenset({
    "ws_connected", "joined", "mensaje_nuevo", "reaccion_agregada", "reaccion_eliminada",
    "mensaje_eliminado", "mensaje_fijado", "mensaje_desfijado",
})


def same_conversation(conversacion_id):
    return lambda p: isinstance(p, dict) and sid(p.get("conversacion_id")) == sid(conversacion_id)


def message_id(mensaje_id):
    return lambda p: isinstance(p, dict) and sid(p.get("id")) == sid(mensaje_id)


def with_content(text):
    return lambda p: isinstance(p, dict) and p.get("contenido") == text
