"""A TCP proxy on loopback between a client and a real server: it accepts connections on
``.port`` and gives each one to its subclass, which decides what passes
(``FaultProxy`` breaks them on purpose, ``StallingProxy`` holds them part way)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from types import TracebackType

BUFFER = 64 * 1024


class LoopbackProxy:
    """Listens on ``127.0.0.1:<port>`` and forwards to ``upstream``. A subclass sets its
    own state before calling ``__init__`` (connections may come at once) and says in
    :meth:`take` what to do with each connection."""

    name = "loopback-proxy"

    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def take(self, client: socket.socket) -> Callable[[], None]:
        """What to do with a new connection, run on a thread of its own. Called on the
        accepting thread, so connections are taken in the order they came."""
        raise NotImplementedError

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            handler = self.take(client)
            threading.Thread(target=handler, name=f"{self.name}-conn", daemon=True).start()

    def close(self) -> None:
        self._stopping.set()
        self._listener.close()
        self._thread.join(timeout=2)

    def __enter__(self) -> LoopbackProxy:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
