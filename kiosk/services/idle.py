"""When a check-in left half done on a shared screen must be wiped.

After ``timeout_s`` without a touch the kiosk asks "Are you still there?" for
``countdown_s`` seconds; a touch in that time keeps everything, no touch wipes it.
Kivy-free: the UI feeds touches and asks for the state with its own clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

DEFAULT_TIMEOUT_S = 60.0
DEFAULT_COUNTDOWN_S = 10.0


class IdleState(StrEnum):
    active = "active"
    asking = "asking"  # "Are you still there?"
    expired = "expired"


@dataclass(frozen=True)
class IdleReading:
    state: IdleState
    seconds_left: float = 0.0


class IdleWatch:
    """Tracks the last touch; :meth:`reading` says what the screen should show."""

    def __init__(
        self,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        countdown_s: float = DEFAULT_COUNTDOWN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.timeout_s = timeout_s
        self.countdown_s = countdown_s
        self._clock = clock
        self._last_touch = clock()

    def touched(self) -> None:
        self._last_touch = self._clock()

    def reading(self) -> IdleReading:
        idle = self._clock() - self._last_touch
        if idle < self.timeout_s:
            return IdleReading(IdleState.active)
        left = self.timeout_s + self.countdown_s - idle
        if left > 0:
            return IdleReading(IdleState.asking, left)
        return IdleReading(IdleState.expired)
