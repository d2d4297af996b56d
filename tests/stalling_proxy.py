"""A TCP proxy on loopback that passes a connection's first bytes and then holds it:
for killing a process mid-request (``stalled`` is set once the limit is reached; once
the client has gone, the upstream connection is closed, its request cut short there,
and ``closed`` is set)."""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType

BUFFER = 64 * 1024


class StallingProxy:
    def __init__(self, upstream_port: int, *, stall_after_bytes: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.stall_after_bytes = stall_after_bytes
        self.stalled = threading.Event()
        self.closed = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="stalling-proxy", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

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

    def __enter__(self) -> StallingProxy:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stopping.set()
        self._listener.close()
        self._thread.join(timeout=2)
