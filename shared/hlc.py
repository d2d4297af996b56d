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

# Device uids (UUIDs), "server", "dev-7c2a…": the characters the server accepts.
_NODE_PATTERN = r"[A-Za-z0-9_.:-]{1,40}"
_NODE_RE = re.compile(_NODE_PATTERN)
_HLC_RE = re.compile(rf"(\d{{{WALL_DIGITS}}})-(\d{{{COUNTER_DIGITS}}})-({_NODE_PATTERN})")


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
    """

    def __init__(
        self,
        node_id: str,
        now_ms: Callable[[], int] = wall_clock_ms,
        state: HLC | None = None,
    ) -> None:
        self.node_id = check_node_id(node_id)
        self._now_ms = now_ms
        self._lock = threading.Lock()
        # The highest (wall, counter) issued or observed; the next tick is above it.
        self._wall_ms = 0
        self._counter = 0
        if state:
            self.restore(state)

    def tick(self) -> HLC:
        """A new HLC for a local event: above every HLC issued or observed so far."""
        with self._lock:
            now = self._now_ms()
            if now > self._wall_ms:
                self._wall_ms, self._counter = now, 0
            elif self._counter < MAX_COUNTER:
                self._counter += 1
            else:
                # More than 10,000 events in one millisecond (or a clock stuck far behind):
                # borrow the next millisecond rather than widen the format.
                self._wall_ms, self._counter = self._wall_ms + 1, 0
            return format_hlc(self._wall_ms, self._counter, self.node_id)

    def observe(self, remote_hlc: HLC) -> None:
        """Merge an HLC received from another node: later ticks will be above it."""
        wall_ms, counter, _node = parse(remote_hlc)
        with self._lock:
            if (wall_ms, counter) > (self._wall_ms, self._counter):
                self._wall_ms, self._counter = wall_ms, counter

    def state(self) -> HLC:
        """What to persist: the highest HLC issued or observed, under this node's id."""
        with self._lock:
            return format_hlc(self._wall_ms, self._counter, self.node_id)

    def restore(self, state: HLC) -> None:
        """Continue from a persisted :meth:`state` (never moves the clock back).

        The state may name another node (the device was paired again and got a new id):
        only its time matters.
        """
        self.observe(state)

    def __repr__(self) -> str:
        return f"HybridClock({self.node_id!r}, state={self.state()!r})"
