"""What the tablet's sync progress bar shows, from the background sync's states. No Kivy.

The bar fills as the backlog drains: the share of the bytes (photos and changes) that
have been sent since the backlog was last empty. New work added while sending grows
the total, so the bar never jumps backwards by more than the new work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from kiosk.services.server_client import SERVER_OUT_OF_SPACE, SERVER_UNREACHABLE
from kiosk.services.sync import SyncState
from shared.i18n import Text


def megabytes(size: int) -> str:
    """``1.3 MB``, ``0.2 MB``, ``120 KB``: a size an advisor can read at a glance."""
    if size < 100_000:
        return f"{max(1, round(size / 1000))} KB" if size else "0 KB"
    return f"{size / 1_000_000:.1f} MB"


def clock_offset_words(offset_ms: int) -> str:
    """``+365 d``, ``-1 d``, ``+3 h``, ``-5 min``: server time minus the device's."""
    sign = "-" if offset_ms > 0 else "+"  # the device's clock is behind when positive
    minutes = abs(offset_ms) // 60_000
    if minutes >= 24 * 60:
        return f"{sign}{minutes // (24 * 60)} d"
    if minutes >= 60:
        return f"{sign}{minutes // 60} h"
    return f"{sign}{minutes} min"


@dataclass(frozen=True, slots=True)
class ProgressReading:
    fraction: float  # 0..1 of the current backlog sent; 1 when nothing is waiting
    headline: Text
    detail: Text | None
    problem: bool  # offline or refused items: shown in amber


class SyncProgress:
    """Turns :class:`SyncState` reports into the bar's fraction and its words."""

    def __init__(self) -> None:
        self._backlog_bytes = 0
        self.state = SyncState()

    def update(self, state: SyncState) -> ProgressReading:
        self.state = state
        waiting = _waiting_bytes(state)
        if waiting == 0:
            self._backlog_bytes = 0
        else:
            self._backlog_bytes = max(self._backlog_bytes, waiting)
        return self.reading()

    def reading(self, now: datetime | None = None) -> ProgressReading:
        state = self.state
        waiting = _waiting_bytes(state)
        fraction = 1.0 if waiting == 0 else 1 - waiting / max(self._backlog_bytes, waiting)
        problem = (
            bool(state.parked or state.parked_blobs)
            or (waiting > 0 and state.last_error in (SERVER_UNREACHABLE, SERVER_OUT_OF_SPACE))
            or state.clock_warning
        )
        if waiting == 0 and not (state.parked or state.parked_blobs):
            headline = Text("Everything is sent to the shop server.", "kiosk")
        elif waiting == 0:
            headline = Text("Sent, except items the server refused.", "kiosk")
        elif state.running:
            headline = Text(
                "Sending. Left: photos {photos} · changes {changes} · {size}",
                "kiosk",
                {
                    "photos": state.pending_blobs,
                    "changes": state.pending_changes,
                    "size": megabytes(waiting),
                },
            )
        else:
            headline = Text(
                "Waiting to send: photos {photos} · changes {changes} · {size}",
                "kiosk",
                {
                    "photos": state.pending_blobs,
                    "changes": state.pending_changes,
                    "size": megabytes(waiting),
                },
            )
        return ProgressReading(fraction, headline, self._detail(state, now), problem)

    @staticmethod
    def _detail(state: SyncState, now: datetime | None) -> Text | None:
        if state.clock_warning and state.clock_offset_ms is not None:
            return Text(
                "This tablet's clock is {offset} off the shop server's. Edits are timed "
                "by the server's clock; set the date and time to automatic.",
                "kiosk",
                {"offset": clock_offset_words(state.clock_offset_ms)},
            )
        refused = state.parked + state.parked_blobs
        if refused:
            return Text(
                "{n} items were refused by the server; the service manager can see why.",
                "kiosk",
                {"n": refused},
            )
        if state.last_error == SERVER_OUT_OF_SPACE and _waiting_bytes(state):
            return Text(
                "The shop server's disk is full; everything is kept on this tablet and "
                "sent when space is freed. Tell the service manager.",
                "kiosk",
            )
        if state.last_error == SERVER_UNREACHABLE and _waiting_bytes(state):
            return Text(
                "The shop server cannot be reached; everything is kept on this tablet "
                "and sent when it can.",
                "kiosk",
            )
        if state.last_success_at is not None:
            now = now or datetime.now(UTC)
            minutes = max(0, int((now - state.last_success_at).total_seconds() // 60))
            if minutes == 0:
                return Text("Last synced just now.", "kiosk")
            return Text("Last synced {minutes} min ago.", "kiosk", {"minutes": minutes})
        return None


def _waiting_bytes(state: SyncState) -> int:
    return state.pending_bytes + state.pending_blob_bytes
