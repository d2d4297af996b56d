"""The server's time as this device knows it: how far the device's wall clock is off,
learned from every answer of the server (docs/sync.md "Clock rules").

Every API answer carries the server's time (``X-Server-Time-Ms``) and how far ahead of
it a change may be clocked (``X-Max-Clock-Offset-Ms``). The device takes the middle of
the request's round trip as the moment the server read its clock (as NTP does), keeps
the difference as its clock's ``offset_ms`` and so ticks from corrected time: a tablet
whose wall clock is a year ahead or a day behind still orders its edits as they really
happened, and never drags another clock ahead. A clock state beyond the accepted range
(a clock poisoned before the rule, or ticked offline from a wrong wall clock) is
forgotten as soon as the device knows the range.

No Kivy here; the sync status shows :attr:`ServerTime.offset_ms` and
:attr:`ServerTime.warning`.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

from shared.hlc import HybridClock
from shared.sync_protocol import MAX_OFFSET_HEADER, SERVER_TIME_HEADER

if TYPE_CHECKING:
    from kiosk.services.local_store import LocalStore

# An answer that took longer than this says little about when the server read its
# clock (a photo upload): it sets the offset only while none is known yet.
MAX_SAMPLE_ROUND_TRIP_MS = 2_000
# The device's own wall clock is this far off the server's or more: staff should fix it.
WARN_OFFSET_MS = 60_000
# Room for the error of the estimate when the device checks clocks it receives.
OBSERVE_MARGIN_MS = 60_000
# Smaller offsets are within the estimate's noise (and NTP's): the wall clock is kept.
MIN_CORRECTION_MS = 1_000


class ServerTime:
    """Keeps ``clock`` (the device's HLC) on the server's time."""

    def __init__(self, clock: HybridClock) -> None:
        self.clock = clock
        self.known = False
        self.max_offset_ms: int | None = None
        self._estimate = 0  # server time minus wall clock, as last taken
        self._round_trip = 0  # of the answer it was taken from
        self._lock = threading.Lock()

    def wall_ms(self) -> int:
        """The device's own wall clock (what requests are timed with)."""
        return self.clock.wall_ms()

    @property
    def offset_ms(self) -> int:
        """Server time minus this device's wall clock, in ms (0 until known)."""
        return self.clock.offset_ms

    @property
    def warning(self) -> bool:
        """Whether the device's wall clock is far enough off to tell staff."""
        return self.known and abs(self.clock.offset_ms) >= WARN_OFFSET_MS

    def learn(self, headers: Mapping[str, str], sent_ms: int, received_ms: int) -> bool:
        """Take the server's time from an answer's headers; True when it was used.

        The server read its clock somewhere in the round trip: the estimate is off by at
        most half of it. A new estimate replaces the one in use when its round trip was
        shorter (more precise), or when the two cannot both be right (the device's wall
        clock was set meanwhile).
        """
        try:
            server_ms = int(headers[SERVER_TIME_HEADER])
        except (KeyError, TypeError, ValueError):
            return False
        round_trip = received_ms - sent_ms
        if round_trip < 0:
            return False
        estimate = server_ms - (sent_ms + received_ms) // 2
        with self._lock:
            if self.known:
                apart = abs(estimate - self._estimate)
                if round_trip > MAX_SAMPLE_ROUND_TRIP_MS or (
                    round_trip > self._round_trip and apart <= (round_trip + self._round_trip) // 2
                ):
                    return False
            self._estimate, self._round_trip = estimate, round_trip
            self.clock.offset_ms = estimate if abs(estimate) >= MIN_CORRECTION_MS else 0
            self.known = True
            with contextlib.suppress(KeyError, TypeError, ValueError):
                self.max_offset_ms = int(headers[MAX_OFFSET_HEADER])
            if self.max_offset_ms is not None:
                self.clock.max_ahead_ms = self.max_offset_ms + OBSERVE_MARGIN_MS
            self.clock.forget_beyond_limits()
        return True


def restamp(store: LocalStore, change_id: str) -> str | None:
    """Give a queued change a new clock from the corrected time, in one transaction.

    The server refused the change because its clock was ahead (the device's wall clock
    was wrong when the change was saved): nothing in it is wrong but the clock. The
    fields of the local record that still carry the old clock take the new one too.
    Returns the new HLC (``None`` when the change is no longer queued).
    """
    with store._transaction() as db:
        row = db.execute(
            "SELECT kind, entity_id, hlc FROM outbox WHERE change_id = ? AND state = 'pending'",
            (change_id,),
        ).fetchone()
        if row is None:
            return None
        kind, record_id, old = row
        new = store._tick(db)
        db.execute("UPDATE outbox SET hlc = ? WHERE change_id = ?", (new, change_id))
        record = db.execute(
            "SELECT clocks FROM records WHERE kind = ? AND id = ?", (kind, record_id)
        ).fetchone()
        if record is not None:
            clocks = json.loads(record[0])
            clocks = {name: new if hlc == old else hlc for name, hlc in clocks.items()}
            db.execute(
                "UPDATE records SET clocks = ? WHERE kind = ? AND id = ?",
                (json.dumps(clocks, separators=(",", ":")), kind, record_id),
            )
    return new
