"""One process's fan-out of live events to its open streams, and the cap on them.

Each open stream holds a :class:`Subscription` (a small queue). :meth:`Broadcaster.publish`
puts an event on every queue without waiting: a stream that falls behind by more than
its queue holds gets one ``resync`` event instead of the ones it missed (its reader then
fetches everything again), so a slow reader never slows the others down.

A waitress worker thread serves each stream for as long as it stays open, so a process
takes at most ``max_streams`` at once (:meth:`Broadcaster.subscribe` answers None beyond).
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

# Events a stream may fall behind by before it is told to fetch everything again.
QUEUE_SIZE = 64


@dataclass(frozen=True)
class LiveEvent:
    """What a stream sends: an event name, a number (the SSE ``id``) and its data.

    ``visit``: visits changed (``data["visits"]``: their ids; empty when the change was
    to something else on the board, a customer's name say). ``resync``: events may have
    been missed; fetch everything again. Never any personal data."""

    name: str
    data: dict[str, Any] = field(default_factory=dict)
    number: int = 0


RESYNC = "resync"
VISIT = "visit"


class ReaderFull(Exception):
    """This reader already holds its share of the process's streams."""

    def __init__(self, held: int) -> None:
        super().__init__(held)
        self.held = held


class Subscription:
    """One open stream's queue of events."""

    def __init__(self, owner: Broadcaster, reader: Hashable = None) -> None:
        self._owner = owner
        self.reader = reader
        self._events: queue.Queue[LiveEvent | None] = queue.Queue(QUEUE_SIZE)
        self._overflowed = False
        self._lock = threading.Lock()
        self.closed = False

    def offer(self, event: LiveEvent | None) -> None:
        with self._lock:
            if self._overflowed and event is not None:
                return  # already told to fetch everything again
            try:
                self._events.put_nowait(event)
            except queue.Full:
                self._overflowed = True
                self._replace_with_resync(event)

    def _replace_with_resync(self, event: LiveEvent | None) -> None:
        while True:
            try:
                self._events.get_nowait()
            except queue.Empty:
                break
        self._events.put_nowait(LiveEvent(RESYNC, {}, self._owner.next_number()))
        if event is None:  # the end of the stream still gets through
            self._events.put_nowait(None)

    def next(self, timeout: float) -> LiveEvent | None:
        """The next event within ``timeout`` seconds; None on time-out or at shutdown
        (then :attr:`closed` is true)."""
        try:
            event = self._events.get(timeout=timeout)
        except queue.Empty:
            return None
        with self._lock:
            self._overflowed = False
        if event is None:
            self.closed = True
        return event

    def close(self) -> None:
        self._owner._leave(self)


class Broadcaster:
    """The live events of one server process (see the module docstring)."""

    def __init__(self, max_streams: int, max_per_reader: int | None = None) -> None:
        self.max_streams = max(0, max_streams)
        self.max_per_reader = self.max_streams if max_per_reader is None else max_per_reader
        self._subscriptions: set[Subscription] = set()
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)
        self._closed = False

    def next_number(self) -> int:
        return next(self._numbers)

    @property
    def open_streams(self) -> int:
        with self._lock:
            return len(self._subscriptions)

    def subscribe(self, reader: Hashable = None) -> Subscription | None:
        """A new stream's subscription, or None when ``max_streams`` are open (or the
        process is shutting down). ``reader`` names who listens (a person, a tablet):
        one reader holds at most ``max_per_reader`` streams, so one signed-in browser
        opening stream after stream cannot take every place (``ReaderFull``)."""
        with self._lock:
            if self._closed or len(self._subscriptions) >= self.max_streams:
                return None
            if reader is not None:
                held = sum(1 for open_ in self._subscriptions if open_.reader == reader)
                if held >= self.max_per_reader:
                    raise ReaderFull(held)
            subscription = Subscription(self, reader)
            self._subscriptions.add(subscription)
            return subscription

    def _leave(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscriptions.discard(subscription)

    def publish(self, name: str, data: dict[str, Any] | None = None) -> LiveEvent:
        event = LiveEvent(name, dict(data or {}), self.next_number())
        with self._lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            subscription.offer(event)
        return event

    def close(self) -> None:
        """The process is stopping: every stream ends, and no new one opens."""
        with self._lock:
            self._closed = True
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            subscription.offer(None)
