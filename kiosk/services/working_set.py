"""What a device keeps beyond the feed: cars' histories in, finished visits out.

Run after each sync round's pull (``SyncEngine.after_pull``), on the sync thread:

* a tablet caches the history of the cars of its open visits (their earlier visits,
  walk-arounds and damage marks, and the work declined on them not done since,
  ``GET /vehicles/<id>/history``), and of any car whose
  walk-around was just opened (:meth:`DeviceWorkingSet.want_history`): the walk-around
  shows earlier damage and the last odometer reading from this cache, offline too. A
  walk-around that opens also fetches its car's history at once, on a worker thread
  (:meth:`DeviceWorkingSet.fetch_history`), and shows it when it comes;
* once an hour, visits finished more than ``keep_days`` ago leave the device, only
  once the server has every change and photo of them
  (``LocalStore.prune_finished_visits``); a kiosk lets its check-ins go the same way.

No Kivy.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from kiosk.services.deferred_work import read_deferred_work
from kiosk.services.local_store import LocalStore, PruneReport
from kiosk.services.sync import SyncEngine, SyncError, SyncTransport
from kiosk.services.tablet_queue import OPEN_STATUSES

log = logging.getLogger(__name__)

# Cars' histories fetched per sync round at most (the rest come in the next rounds).
HISTORIES_PER_ROUND = 20
PRUNE_EVERY_S = 3600.0


class DeviceWorkingSet:
    """The hook a device's sync engine runs after each pull (see the module docstring)."""

    def __init__(
        self,
        keep_days: float,
        *,
        kiosk: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.keep_days = keep_days
        self.kiosk = kiosk
        self._clock = clock
        self._lock = threading.Lock()
        self._fetched: set[str] = set()
        self._wanted: list[str] = []
        self._last_prune: float | None = None
        self.last_prune: PruneReport | None = None

    def want_history(self, vehicle_id: str) -> None:
        """A walk-around of this car opened: fetch its history in the next round."""
        with self._lock:
            self._fetched.discard(vehicle_id)
            if vehicle_id not in self._wanted:
                self._wanted.append(vehicle_id)

    def __call__(self, engine: SyncEngine) -> None:
        if not self.kiosk:
            self.fetch_histories(engine)
        self.prune(engine.store)

    def fetch_histories(self, engine: SyncEngine) -> int:
        """Fetch and cache the histories due (see the module docstring); how many."""
        store = engine.store
        open_cars = {
            str(visit.get("vehicle_id"))
            for visit in store.find_in("visit", "status", OPEN_STATUSES)
            if visit.get("vehicle_id")
        }
        with self._lock:
            due = [*self._wanted, *sorted(open_cars - self._fetched - set(self._wanted))]
        fetched = 0
        for vehicle_id in due[:HISTORIES_PER_ROUND]:
            try:
                self.fetch_history(store, engine.transport, vehicle_id)
            except SyncError as error:
                log.info("History of car %s not fetched (%s)", vehicle_id, error.code)
                break  # offline or refused: the cache serves, the next round tries again
            fetched += 1
        return fetched

    def fetch_history(self, store: LocalStore, transport: SyncTransport, vehicle_id: str) -> int:
        """Fetch one car's history now and cache it (a walk-around of it just opened);
        returns how many records changed here. ``SyncError`` when the server cannot be
        asked: the car is then fetched in the next sync round, and the cache serves."""
        try:
            history = transport.vehicle_history(vehicle_id)
        except SyncError:
            self.want_history(vehicle_id)
            raise
        changed = 0
        try:
            deferred = [item.as_json() for item in read_deferred_work(history.deferred_work)]
            changed = store.cache_vehicle_history(vehicle_id, history.records, deferred)
        except ValueError:
            log.warning("History of car %s does not read; skipped", vehicle_id)
        with self._lock:
            self._fetched.add(vehicle_id)
            if vehicle_id in self._wanted:
                self._wanted.remove(vehicle_id)
        return changed

    def prune(self, store: LocalStore, *, force: bool = False) -> PruneReport | None:
        """Let finished, fully synced visits go (at most once per ``PRUNE_EVERY_S``)."""
        now = self._clock()
        if not force and self._last_prune is not None and now - self._last_prune < PRUNE_EVERY_S:
            return None
        self._last_prune = now
        report = store.prune_finished_visits(self.keep_days, checked_in_too=self.kiosk)
        if report.visits or report.kept_unsynced:
            log.info(
                "Pruned %d finished visits (%d records, %d photos); %d kept, not synced yet",
                report.visits, report.records, report.photos, report.kept_unsynced,
            )  # fmt: skip
        self.last_prune = report
        return report
