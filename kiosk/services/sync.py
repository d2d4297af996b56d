"""Syncing this device with the shop server, on a background thread (docs/sync.md).

Three layers, each testable alone:

* :class:`SyncTransport` speaks the protocol over HTTP. Single requests are retried by
  urllib3's ``Retry`` on the ``requests`` session (connection errors, read errors and
  5xx, with exponential backoff and jitter); that is safe for every call here because
  pushes are idempotent by ``change_id`` and photos by their SHA-256. It turns answers
  into :class:`DeviceUnpaired` (401), :class:`RequestRefused` (another 4xx) and
  :class:`ServerUnreachable` (still failing after the retries).
* :class:`SyncEngine` runs one round: push the outbox, upload the photos the server
  lacks, pull what changed. A change or photo the server refuses is parked for staff
  and never blocks the rest; a network failure ends the round with everything still
  queued, and the next round sends the same changes again, which the server applies
  once.
* :class:`BackgroundSync` runs rounds on a daemon thread every ``interval_s``, at once
  when asked, with exponential backoff and jitter after failures, and publishes a
  :class:`SyncState` for the status bar. A check-in just saved is pushed at once on a
  second thread (:meth:`BackgroundSync.push_now`), even while a round pulls.

Split by job: ``sync_transport`` (HTTP), ``sync_engine`` (one round), this module (the
background thread); everything is imported from here.

No Kivy here: the UI passes an ``on_state`` callback that hands the state to its own
thread (``Clock.schedule_once``).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from kiosk.services.server_time import ServerTime
from kiosk.services.sync_engine import (
    MARK_SENT_EVERY,
    MAX_CHANGE_BYTES,
    MAX_RESTARTS_PER_ROUND,
    MISSING_BLOBS_CHUNK,
    PARALLEL_UPLOADS,
    SNAPSHOT_KINDS,
    SyncEngine,
    SyncReport,
)
from kiosk.services.sync_transport import (
    PULL_PAGE_SIZE,
    SEND_BLOCK_BYTES,
    SYNC_FAILED,
    DeviceUnpaired,
    RequestRefused,
    ServerOutOfSpace,
    ServerRestored,
    ServerUnreachable,
    SyncError,
    SyncTransport,
    UnexpectedResponse,
    default_retry,
)
from shared.sync_protocol import (
    API_PREFIX,
    EPOCH_HEADER,
)

log = logging.getLogger(__name__)


# --- background thread ------------------------------------------------------------------


@dataclass(frozen=True)
class SyncState:
    """What the status bar shows; ``last_error`` is a stable code (``server_client``)."""

    pending_changes: int = 0
    pending_bytes: int = 0
    pending_blobs: int = 0
    pending_blob_bytes: int = 0
    parked: int = 0
    last_success_at: datetime | None = None
    last_error: str | None = None
    running: bool = False
    parked_blobs: int = 0
    last_error_detail: str | None = None
    # How far this device's wall clock is off the server's (None until known), and
    # whether it is far enough to tell staff; edits are clocked from corrected time.
    clock_offset_ms: int | None = None
    clock_warning: bool = False


StateCallback = Callable[[SyncState], None]


class BackgroundSync:
    """Runs :meth:`SyncEngine.sync_once` on a daemon thread and reports its state.

    ``on_state`` is called on the sync thread; the UI must hand the state over to its
    own thread. After a failed round the wait grows (``interval_s`` × 2ⁿ, at most
    ``max_backoff_s``, with jitter so that a shop's devices do not all retry at once);
    :meth:`request_sync` starts a round at once regardless.
    """

    def __init__(
        self,
        engine: SyncEngine,
        interval_s: float = 15,
        on_state: StateCallback | None = None,
        *,
        max_backoff_s: float = 300,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.engine = engine
        self.interval_s = interval_s
        self.max_backoff_s = max(max_backoff_s, interval_s)
        self.on_state = on_state
        self._jitter = jitter
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._push_wake = threading.Event()
        self._push_thread: threading.Thread | None = None
        self._in_round = False
        self._state = SyncState()
        self.failures = 0

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="background-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> bool:
        """Stop after the current round; True when the threads have ended within ``timeout``."""
        self._stopping.set()
        self._wake.set()
        self._push_wake.set()
        ended = True
        for thread in (self._thread, self._push_thread):
            if thread is not None:
                thread.join(timeout)
                ended = ended and not thread.is_alive()
        return ended

    def push_now(self) -> None:
        """Send what was just saved (a check-in) now, without waiting for a round to
        end, then run a round (photos, pull). Returns at once; a second thread pushes."""
        if self._stopping.is_set():
            return
        if self._push_thread is None or not self._push_thread.is_alive():
            self._push_thread = threading.Thread(
                target=self._push_loop, name="push-now", daemon=True
            )
            self._push_thread.start()
        self._push_wake.set()

    def _push_loop(self) -> None:
        while True:
            self._push_wake.wait()
            if self._stopping.is_set():
                return
            self._push_wake.clear()
            try:
                report = self.engine.push_now()
                log.info("Pushed %d change(s) at once", report.pushed)
            except SyncError as error:
                log.info("Immediate push stopped (%s); the next round sends it", error.code)
            except Exception:
                log.exception("Immediate push failed; the next round sends it")
            self._publish(running=self._in_round)
            self.request_sync()  # the rest: the signature's image, the pull

    def request_sync(self) -> None:
        """Sync now (e.g. a check-in was just saved) instead of at the next interval."""
        self._wake.set()

    def state(self) -> SyncState:
        return self._state

    def next_delay(self) -> float:
        """Seconds until the next round, after :attr:`failures` failed rounds in a row."""
        if self.failures == 0:
            return self.interval_s
        ceiling = min(self.max_backoff_s, self.interval_s * 2 ** min(self.failures - 1, 30))
        return ceiling / 2 + self._jitter() * ceiling / 2

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            self._in_round = True
            self._publish(running=True)
            try:
                self.engine.sync_once()
                self.failures = 0
            except SyncError as error:
                self.failures += 1
                log.info("Sync round stopped (%s): %s", error.code, error)
            except Exception:
                # A bug must not end syncing for good: log it and try again later.
                self.failures += 1
                log.exception("Sync round failed")
                self._note_unexpected_failure()
            self._in_round = False
            self._publish(running=False)
            self._wake.wait(self.next_delay())

    def _note_unexpected_failure(self) -> None:
        try:
            self.engine.store.note_sync_error(SYNC_FAILED, "unexpected error; see the log")
        except Exception:
            log.exception("Could not record the sync failure")

    def _publish(self, *, running: bool) -> None:
        try:
            store = self.engine.store
            server_time: ServerTime | None = getattr(self.engine, "server_time", None)
            known = server_time is not None and server_time.known
            counts, history = store.status(), store.sync_history()
            self._state = SyncState(
                pending_changes=counts.pending_changes,
                pending_bytes=counts.pending_bytes,
                pending_blobs=counts.pending_blobs,
                pending_blob_bytes=counts.pending_blob_bytes,
                parked=counts.parked,
                last_success_at=history.last_success_at,
                last_error=history.last_error,
                running=running,
                parked_blobs=counts.parked_blobs,
                last_error_detail=history.last_error_detail,
                clock_offset_ms=server_time.offset_ms if server_time and known else None,
                clock_warning=bool(server_time and server_time.warning),
            )
        except Exception:
            log.exception("Could not read the sync state")
            self._state = replace(self._state, running=running)
        if self.on_state is not None:
            try:
                self.on_state(self._state)
            except Exception:
                log.exception("Sync state callback failed")


__all__ = [
    "BackgroundSync",
    "DeviceUnpaired",
    "RequestRefused",
    "ServerUnreachable",
    "SyncEngine",
    "SyncError",
    "SyncReport",
    "SyncState",
    "SyncTransport",
    "UnexpectedResponse",
    "default_retry",
]


__all__ = [
    "API_PREFIX",
    "EPOCH_HEADER",
    "MARK_SENT_EVERY",
    "MAX_CHANGE_BYTES",
    "MAX_RESTARTS_PER_ROUND",
    "MISSING_BLOBS_CHUNK",
    "PARALLEL_UPLOADS",
    "PULL_PAGE_SIZE",
    "SEND_BLOCK_BYTES",
    "SNAPSHOT_KINDS",
    "SYNC_FAILED",
    "BackgroundSync",
    "DeviceUnpaired",
    "RequestRefused",
    "ServerOutOfSpace",
    "ServerRestored",
    "ServerUnreachable",
    "SyncEngine",
    "SyncError",
    "SyncReport",
    "SyncState",
    "SyncTransport",
    "UnexpectedResponse",
    "default_retry",
]
