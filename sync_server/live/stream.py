"""One open event stream (``text/event-stream``), as the bytes a worker thread sends.

It opens with a ``hello`` event (the reader fetches what it shows, since it may have
missed changes while it was not listening) and the reconnection delay, then sends each
event as it comes and a comment line every ``heartbeat_s`` seconds of quiet, which keeps
proxies from closing it and finds a reader that went away. It ends when the reader goes
away, when the process stops, or after ``max_s`` seconds (the browser or the tablet
opens a new one, whose access is checked again: a signed-out session or a revoked
tablet hears nothing more).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

from sync_server.live.broadcaster import LiveEvent, Subscription

# How often a waiting stream looks whether its reader went away.
POLL_S = 1.0
HELLO = "hello"


def event_bytes(event: LiveEvent) -> bytes:
    data = json.dumps(event.data, separators=(",", ":"), sort_keys=True)
    return f"id: {event.number}\nevent: {event.name}\ndata: {data}\n\n".encode()


class StreamBody:
    """The response body of one stream: gives the subscription back when the server
    closes it, even if it never started sending (a generator's ``finally`` would not
    run then)."""

    def __init__(self, subscription: Subscription, stream: Iterator[bytes]) -> None:
        self._subscription = subscription
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        return self._stream

    def close(self) -> None:
        try:
            self._stream.close()  # type: ignore[attr-defined]
        finally:
            self._subscription.close()


def event_stream(
    subscription: Subscription,
    *,
    client_gone: Callable[[], bool],
    heartbeat_s: float,
    max_s: float,
    retry_ms: int,
    number: int = 0,
) -> Iterator[bytes]:
    """The stream's bytes; the subscription is given back however it ends."""
    try:
        hello = LiveEvent(HELLO, {}, number)
        yield f"retry: {retry_ms}\n".encode() + event_bytes(hello)
        started = last_sent = time.monotonic()
        while not client_gone():
            now = time.monotonic()
            if now - started >= max_s:
                return
            wait = min(POLL_S, max(0.0, heartbeat_s - (now - last_sent)))
            event = subscription.next(wait)
            if subscription.closed:
                return
            if event is not None:
                yield event_bytes(event)
                last_sent = time.monotonic()
            elif time.monotonic() - last_sent >= heartbeat_s:
                yield b": heartbeat\n\n"
                last_sent = time.monotonic()
    finally:
        subscription.close()
