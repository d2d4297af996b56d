"""Run blocking work (network, disk) off the Kivy thread; hand results back on it.

The worker thread never touches a widget: its result or exception is passed to the
callbacks through ``Clock.schedule_once``, which runs them on the main thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from kivy.clock import Clock

log = logging.getLogger(__name__)

T = TypeVar("T")


class BackgroundWork:
    """Starts worker threads and remembers them, so shutdown can wait for them."""

    def __init__(self) -> None:
        self._threads: list[threading.Thread] = []
        self.closed = False

    def run(
        self,
        work: Callable[[], T],
        on_success: Callable[[T], None],
        on_failure: Callable[[Exception], None],
        name: str = "kiosk-work",
    ) -> threading.Thread:
        def worker() -> None:
            try:
                result = work()
            except Exception as exc:  # reported to the UI, which decides what to show
                log.debug("%s failed: %r", name, exc)
                error = exc  # `exc` is unbound after the except block; the lambda runs later
                Clock.schedule_once(lambda _dt: self._deliver(on_failure, error))
            else:
                Clock.schedule_once(lambda _dt: self._deliver(on_success, result))

        self._threads = [thread for thread in self._threads if thread.is_alive()]
        thread = threading.Thread(target=worker, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()
        return thread

    def _deliver(self, callback: Callable[[T], None], value: T) -> None:
        # After shutdown nobody is looking: drop late answers instead of touching
        # widgets that are no longer on screen.
        if not self.closed:
            callback(value)

    @property
    def busy(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def close(self, timeout: float = 15.0) -> None:
        """Stop delivering results and wait (bounded) for running workers."""
        self.closed = True
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
