"""Hybrid logical clocks: the order of changes made on kiosks, tablets and the server.

Every change a device saves carries an HLC, written ``"%016d-%04d-%s" % (wall_ms,
counter, node_id)``. Because the two numbers have a fixed width, comparing two HLCs as
plain strings orders them by wall time, then counter, then node id, so every node (and
the server's SQL ``ORDER BY``) agrees on which of two edits of a field came last.

A clock never goes backwards even when the machine's wall clock does (a kiosk whose
battery-less RTC resets on a power cut, an NTP correction): it keeps the highest time
it has issued or observed and counts up from there. The state a device must persist is
one HLC string (:meth:`HybridClock.state`); restoring it after a restart guarantees the
device never issues an HLC at or below one it issued before.

Limits, so that one bad clock cannot stop a shop (docs/sync.md "Clock rules"):

* No HLC beyond the end of year 9999 (:data:`LATEST_WALL_MS`) is ever observed or
  issued: :meth:`HybridClock.observe` refuses it (the clock does not move) and
  :meth:`HybridClock.tick` raises :class:`HLCOutOfRange` rather than overflow the format.
* A clock may be given a *max offset* (``max_ahead_ms``, as CockroachDB's max-offset): an
  HLC more than that ahead of this node's (corrected) time is refused too, and a
  persisted state beyond it is forgotten. A device learns how far its wall clock is off
  the server's (``offset_ms``) and ticks from the corrected time.

Pure Python and thread-safe; the server uses it with the node id ``server``.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

HLC = str
"""An HLC string; compare with ``<``/``>`` (see the module docstring)."""

WALL_DIGITS = 16
COUNTER_DIGITS = 4
MAX_WALL_MS = 10**WALL_DIGITS - 1
MAX_COUNTER = 10**COUNTER_DIGITS - 1
SERVER_NODE_ID = "server"
# 9999-12-31T23:59:59.999Z: no clock of a real edit lies beyond it.
LATEST_WALL_MS = 253_402_300_799_999
# How far ahead of the server's time a device's clock may run (the server's default).
DEFAULT_MAX_OFFSET_MS = 5 * 60 * 1000

# Device uids (UUIDs), "server", "dev-7c2a…": the characters the server accepts.
_NODE_PATTERN = r"[A-Za-z0-9_.:-]{1,40}"
_NODE_RE = re.compile(_NODE_PATTERN)
# The one definition of an HLC's form (``shared.sync_protocol`` uses it too); ASCII
# digits only: ``\d`` would take any script's digits.
HLC_PATTERN = re.compile(rf"([0-9]{{{WALL_DIGITS}}})-([0-9]{{{COUNTER_DIGITS}}})-({_NODE_PATTERN})")
_HLC_RE = HLC_PATTERN


class HLCOutOfRange(ValueError):
    """An HLC beyond the limits this clock accepts (see the module docstring)."""


class HLCParts(NamedTuple):
    """The three parts of an HLC."""

    wall_ms: int
    counter: int
    node_id: str


def wall_clock_ms() -> int:
    """Milliseconds since the Unix epoch by this machine's wall clock."""
    return time.time_ns() // 1_000_000


def check_node_id(node_id: str) -> str:
    """``node_id`` if it can be part of an HLC; ``ValueError`` otherwise."""
    if not isinstance(node_id, str) or not _NODE_RE.fullmatch(node_id):
        raise ValueError(
            f"HLC node id must be 1-64 printable ASCII characters without spaces, got {node_id!r}"
        )
    return node_id


def format_hlc(wall_ms: int, counter: int, node_id: str) -> HLC:
    """The HLC string for these parts (checked, so the string always parses back)."""
    if not 0 <= wall_ms <= MAX_WALL_MS:
        raise ValueError(f"HLC wall time out of range: {wall_ms}")
    if not 0 <= counter <= MAX_COUNTER:
        raise ValueError(f"HLC counter out of range: {counter}")
    return f"{wall_ms:016d}-{counter:04d}-{check_node_id(node_id)}"


def limit_hlc(wall_ms: int) -> HLC:
    """The highest HLC string with this wall time: ``hlc > limit_hlc(w)`` means the
    HLC's wall time is beyond ``w`` (a plain string comparison, no parsing)."""
    return f"{max(0, min(wall_ms, MAX_WALL_MS)):016d}-{MAX_COUNTER:04d}-~"


def parse(hlc: HLC) -> HLCParts:
    """``(wall_ms, counter, node_id)`` of an HLC; ``ValueError`` saying what is wrong."""
    if not isinstance(hlc, str):
        raise ValueError(f"an HLC is a string, got {type(hlc).__name__}")
    match = _HLC_RE.fullmatch(hlc)
    if match is None:
        raise ValueError(
            f"malformed HLC {hlc[:100]!r}: expected 16 digits of wall time in ms, '-', "
            f"4 digits of counter, '-', and a node id (e.g. "
            f"'0001763803123456-0000-server')"
        )
    return HLCParts(int(match[1]), int(match[2]), match[3])


class HybridClock:
    """The hybrid logical clock of one node (a device or the server).

    ``now_ms`` returns the wall clock in milliseconds; tests pass a fake one.
    ``offset_ms`` is added to it (a device's wall clock corrected to the server's time);
    ``max_ahead_ms``, when set, is how far ahead of the corrected time an observed HLC
    may be (see the module docstring).
    """

    def __init__(
        self,
        node_id: str,
        now_ms: Callable[[], int] = wall_clock_ms,
        state: HLC | None = None,
        *,
        max_ahead_ms: int | None = None,
    ) -> None:
        self.node_id = check_node_id(node_id)
        self._now_ms = now_ms
        self._lock = threading.Lock()
        self.offset_ms = 0
        self.max_ahead_ms = max_ahead_ms
        # The highest (wall, counter) issued or observed; the next tick is above it.
        self._wall_ms = 0
        self._counter = 0
        if state:
            self.restore(state)

    def now_ms(self) -> int:
        """This node's wall clock, corrected by ``offset_ms``."""
        return self._now_ms() + self.offset_ms

    def wall_ms(self) -> int:
        """This node's wall clock as the machine reads it (not corrected)."""
        return self._now_ms()

    def latest_accepted_ms(self) -> int:
        """The highest wall time an observed HLC may have now."""
        if self.max_ahead_ms is None:
            return LATEST_WALL_MS
        return min(LATEST_WALL_MS, self.now_ms() + self.max_ahead_ms)

    def accepts(self, hlc: HLC) -> bool:
        """Whether ``hlc`` is within this clock's limits (malformed: ``ValueError``)."""
        return parse(hlc).wall_ms <= self.latest_accepted_ms()

    def tick(self) -> HLC:
        """A new HLC for a local event: above every HLC issued or observed so far."""
        with self._lock:
            now = self.now_ms()
            if now > self._wall_ms:
                wall, counter = now, 0
            elif self._counter < MAX_COUNTER:
                wall, counter = self._wall_ms, self._counter + 1
            else:
                # More than 10,000 events in one millisecond (or a clock stuck far behind):
                # borrow the next millisecond rather than widen the format.
                wall, counter = self._wall_ms + 1, 0
            if wall > LATEST_WALL_MS:
                raise HLCOutOfRange(
                    f"HLC wall time {wall} is beyond the year 9999: the clock was poisoned"
                )
            self._wall_ms, self._counter = wall, counter
            return format_hlc(wall, counter, self.node_id)

    def observe(self, remote_hlc: HLC) -> bool:
        """Merge an HLC received from another node: later ticks will be above it.

        An HLC beyond this clock's limits is refused: the clock does not move and the
        answer is False. A malformed one raises ``ValueError``.
        """
        wall_ms, counter, _node = parse(remote_hlc)
        if wall_ms > self.latest_accepted_ms():
            return False
        with self._lock:
            if (wall_ms, counter) > (self._wall_ms, self._counter):
                self._wall_ms, self._counter = wall_ms, counter
        return True

    def forget_beyond_limits(self) -> bool:
        """Drop a state beyond this clock's limits (a clock poisoned before the limits
        were known): the next tick starts from the corrected time. True if dropped."""
        limit = self.latest_accepted_ms()
        with self._lock:
            if self._wall_ms <= limit:
                return False
            self._wall_ms, self._counter = 0, 0
            return True

    def state(self) -> HLC:
        """What to persist: the highest HLC issued or observed, under this node's id."""
        with self._lock:
            return format_hlc(self._wall_ms, self._counter, self.node_id)

    def restore(self, state: HLC) -> bool:
        """Continue from a persisted :meth:`state` (never moves the clock back).

        The state may name another node (the device was paired again and got a new id):
        only its time matters. A state beyond this clock's limits is ignored (False).
        """
        return self.observe(state)

    def __repr__(self) -> str:
        return f"HybridClock({self.node_id!r}, state={self.state()!r})"
