"""The tablet hears the shop's changes as they happen (server-sent events).

:class:`LiveEvents` keeps ``GET /api/v1/events`` open on a background thread. The
server sends only "visits changed" with their ids (``visit``), ``hello`` when the stream
opens and ``resync`` when events were lost; each is passed to ``on_change``, which asks
the background sync for a round at once: the tablet pulls its feed and redraws its queue.
Without the stream (offline, the server refusing more streams) the periodic sync round
still refreshes the queue; the listener tries again with a growing wait, or after the
server's ``Retry-After``. A refused pairing (401) or a device not allowed events (403,
a kiosk) ends it: the connection check deals with pairing.

No Kivy here: ``on_change`` runs on the listener's thread.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from sseclient import SSEClient

from shared.sync_protocol import API_PREFIX

log = logging.getLogger(__name__)

EVENTS_PATH = f"{API_PREFIX}/events"
# The server sends a heartbeat every 15 s: a stream silent this long is dead.
READ_TIMEOUT_S = 40.0
CONNECT_TIMEOUT_S = 3.05
MAX_WAIT_S = 60.0
KNOWN_EVENTS = frozenset({"hello", "visit", "resync"})


@dataclass(frozen=True)
class LiveNotice:
    """One event from the server: its name and data (visit ids, never personal data)."""

    name: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def visit_ids(self) -> list[str]:
        ids = self.data.get("visits")
        return [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []


class _Refused(Exception):
    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


class LiveEvents:
    """Listens to the server's live events for this tablet (see the module docstring)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        on_change: Callable[[LiveNotice], None],
        *,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.url = base_url.rstrip("/") + EVENTS_PATH
        self._token = token
        self.on_change = on_change
        self._jitter = jitter
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._response: requests.Response | None = None
        self._lock = threading.Lock()
        self.connected = threading.Event()
        self.notices = 0  # events received since start
        self.failures = 0  # failed attempts in a row

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="live-events", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> bool:
        """Close the stream and end the thread; True when it ended within ``timeout``."""
        self._stopping.set()
        with self._lock:
            response = self._response
        if response is not None:
            _shut(response)
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def next_wait(self) -> float:
        """Seconds before the next attempt after :attr:`failures` failures in a row."""
        ceiling = min(MAX_WAIT_S, 2.0 ** min(self.failures, 10))
        return ceiling / 2 + self._jitter() * ceiling / 2

    def _run(self) -> None:
        session = requests.Session()
        try:
            while not self._stopping.is_set():
                wait = 0.0
                try:
                    self._listen(session)
                    self.failures = 0
                    wait = 1.0  # the server ended the stream (its time was up): reopen
                except _Refused as refused:
                    if refused.status in (401, 403):
                        log.warning("Live events refused (%s): not listening", refused)
                        return
                    self.failures += 1
                    wait = refused.retry_after or self.next_wait()
                    log.info("Live events refused (%s); again in %.0f s", refused, wait)
                except Exception as error:
                    # The network, or the stream closed under the reader by stop(); a
                    # bug must not end listening for good either.
                    if self._stopping.is_set():
                        return
                    self.failures += 1
                    wait = self.next_wait()
                    if isinstance(error, requests.RequestException | OSError | ValueError):
                        log.info(
                            "Live events lost (%s); again in %.1f s", type(error).__name__, wait
                        )
                    else:
                        log.exception("Live events failed; again in %.1f s", wait)
                finally:
                    self.connected.clear()
                self._stopping.wait(wait)
        finally:
            session.close()

    def _listen(self, session: requests.Session) -> None:
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "text/event-stream"}
        response = session.get(
            self.url, headers=headers, stream=True, timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S)
        )
        with self._lock:
            self._response = response
        try:
            if response.status_code != 200:
                raise _Refused(response.status_code, _retry_after(response))
            if self._stopping.is_set():
                return
            self.connected.set()
            for event in SSEClient(response.iter_content(chunk_size=None)).events():
                if event.event not in KNOWN_EVENTS:
                    continue
                self.failures = 0
                self.notices += 1
                try:
                    self.on_change(LiveNotice(event.event, _data(event.data)))
                except Exception:
                    log.exception("A live event could not be handled")
        finally:
            with self._lock:
                self._response = None
            response.close()


def _data(raw: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _retry_after(response: requests.Response) -> float | None:
    try:
        return max(1.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


def _shut(response: requests.Response) -> None:
    """Wake a thread blocked reading the stream: shut its socket down."""
    connection = getattr(response.raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    response.close()
