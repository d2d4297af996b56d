"""A TCP proxy on loopback that passes a connection's first bytes and then holds it:
for killing a process mid-request (``stalled`` is set once the limit is reached; once
the client has gone, the upstream connection is closed, its request cut short there,
and ``closed`` is set)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

from loopback_proxy import BUFFER, LoopbackProxy


class StallingProxy(LoopbackProxy):
    name = "stalling-proxy"

    def __init__(self, upstream_port: int, *, stall_after_bytes: int) -> None:
        self.stall_after_bytes = stall_after_bytes
        self.stalled = threading.Event()
        self.closed = threading.Event()
        super().__init__(upstream_port)

    def take(self, client: socket.socket) -> Callable[[], None]:
        return lambda: self._handle(client)

    def _handle(self, client: socket.socket) -> None:
        upstream = socket.create_connection(self.upstream, timeout=30)
        down = threading.Thread(target=self._pump_down, args=(upstream, client), daemon=True)
        down.start()
        sent = 0
        try:
            while data := client.recv(BUFFER):
                if sent >= self.stall_after_bytes:
                    continue  # held: read and dropped until the client goes away
                part = data[: self.stall_after_bytes - sent]
                upstream.sendall(part)
                sent += len(part)
                if sent >= self.stall_after_bytes:
                    self.stalled.set()
        except OSError:
            pass
        finally:
            for sock in (upstream, client):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            if sent >= self.stall_after_bytes:
                self.closed.set()

    def _pump_down(self, upstream: socket.socket, client: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := upstream.recv(BUFFER):
                client.sendall(data)
