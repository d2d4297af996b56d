"""A TCP proxy on loopback that breaks connections on purpose, for sync fault tests.

Put it between a device and a real server process; each new connection gets the next
fault from a plan (or a seeded random one):

- ``cut_request``: forward N bytes of the request, then close both sides;
- ``reset``: accept, then reset the connection at once (RST);
- ``drop_response``: forward the whole request, wait for the server's answer — the
  server has committed by then — and close without passing it on;
- ``delay``: pass everything through, late;
- ``pass``: pass everything through.

The proxy counts what it saw, so a test can assert that faults really happened.
"""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from loopback_proxy import BUFFER, LoopbackProxy


@dataclass(frozen=True)
class Fault:
    kind: str  # "pass", "cut_request", "reset", "drop_response", "delay"
    after_bytes: int = 0
    seconds: float = 0.0


PASS = Fault("pass")


@dataclass
class ProxyCounts:
    connections: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    bytes_up: int = 0
    bytes_down: int = 0


class FaultProxy(LoopbackProxy):
    """``FaultProxy(upstream_port)``: listens on ``.port`` and forwards to the server."""

    name = "fault-proxy"

    def __init__(
        self,
        upstream_port: int,
        plan: Iterable[Fault] = (),
        *,
        fault_rate: float = 0.0,
        seed: int = 0,
        upstream_host: str = "127.0.0.1",
    ) -> None:
        self._plan = list(plan)
        self._fault_rate = fault_rate
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.counts = ProxyCounts()
        super().__init__(upstream_port, upstream_host)

    def set_plan(self, plan: Iterable[Fault], fault_rate: float | None = None) -> None:
        with self._lock:
            self._plan = list(plan)
            if fault_rate is not None:
                self._fault_rate = fault_rate

    def _next_fault(self) -> Fault:
        with self._lock:
            self.counts.connections += 1
            if self._plan:
                fault = self._plan.pop(0)
            elif self._fault_rate and self._random.random() < self._fault_rate:
                fault = self._random.choice(
                    [
                        Fault("cut_request", after_bytes=self._random.randint(1, 4000)),
                        Fault("reset"),
                        Fault("drop_response"),
                        Fault("delay", seconds=self._random.uniform(0.05, 0.3)),
                    ]
                )
            else:
                fault = PASS
            self.counts.faults[fault.kind] = self.counts.faults.get(fault.kind, 0) + 1
            return fault

    def take(self, client: socket.socket) -> Callable[[], None]:
        fault = self._next_fault()  # in the order the connections came
        return lambda: self._handle(client, fault)

    def _handle(self, client: socket.socket, fault: Fault) -> None:
        if fault.kind == "reset":
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()
            return
        try:
            upstream = socket.create_connection(self.upstream, timeout=30)
        except OSError:
            client.close()
            return
        if fault.kind == "delay":
            time.sleep(fault.seconds)
        done = threading.Event()
        up = threading.Thread(
            target=self._pump_up, args=(client, upstream, fault, done), daemon=True
        )
        up.start()
        self._pump_down(upstream, client, fault, done)
        up.join(timeout=5)
        for sock in (client, upstream):
            with contextlib.suppress(OSError):
                sock.close()

    def _pump_up(
        self, client: socket.socket, upstream: socket.socket, fault: Fault, done: threading.Event
    ) -> None:
        sent = 0
        try:
            while not done.is_set():
                data = client.recv(BUFFER)
                if not data:
                    break
                if fault.kind == "cut_request" and sent + len(data) >= fault.after_bytes:
                    upstream.sendall(data[: max(0, fault.after_bytes - sent)])
                    self._add(up=fault.after_bytes - sent)
                    break
                upstream.sendall(data)
                sent += len(data)
                self._add(up=len(data))
        except OSError:
            pass
        finally:
            done.set()
            for sock in (client, upstream):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def _pump_down(
        self, upstream: socket.socket, client: socket.socket, fault: Fault, done: threading.Event
    ) -> None:
        try:
            while True:
                data = upstream.recv(BUFFER)
                if not data:
                    break
                if fault.kind == "drop_response":
                    # The server answered, so it has committed: the device never hears it.
                    break
                client.sendall(data)
                self._add(down=len(data))
        except OSError:
            pass
        finally:
            done.set()
            for sock in (client, upstream):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def _add(self, up: int = 0, down: int = 0) -> None:
        with self._lock:
            self.counts.bytes_up += up
            self.counts.bytes_down += down
