"""Live events: a check-in shows on every open board and tablet queue within a second.

Server-sent events (``text/event-stream``) carry only "visits changed" with the visits'
ids; a reader then fetches what it may see (the board its cards, a tablet its feed).
``tracking`` notes what a transaction changed and tells the process's ``broadcaster``
once it commits — through PostgreSQL ``LISTEN/NOTIFY`` when several processes share the
database (``postgres``), directly on SQLite. ``stream`` writes one open stream.

Each open stream holds one of waitress's worker threads, so a process takes at most
``LIVE_MAX_STREAMS`` (more get 503 with ``Retry-After``) and ``serve`` adds that many
threads to its pool: ordinary requests always keep theirs. One reader — a person signed
in, a paired tablet — holds at most ``LIVE_MAX_STREAMS_PER_READER`` of them (more get 429
with ``Retry-After``), so a single browser cannot take every place from the rest of the
shop. Who may listen is the view's business (``web/board.py``: signed-in staff;
``api/live.py``: paired tablets).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, current_app, request

from shared.i18n import Text, plural_text
from sync_server.access import current_caller
from sync_server.live.broadcaster import RESYNC, VISIT, Broadcaster, LiveEvent, ReaderFull
from sync_server.live.stream import StreamBody, event_stream
from sync_server.live.tracking import watch
from sync_server.problems import Problem

if TYPE_CHECKING:
    from sync_server.live.postgres import PostgresRelay

log = logging.getLogger(__name__)

DEFAULT_MAX_STREAMS = 20
DEFAULT_MAX_STREAMS_PER_READER = 4  # a board in a few tabs; a tablet needs one
DEFAULT_HEARTBEAT_S = 15
DEFAULT_STREAM_MAX_S = 600
RETRY_MS = 2000  # a reader whose stream ended opens a new one after this long
RETRY_AFTER_S = 30  # a reader refused for too many streams tries again after this long
# A new stream waits this long at most for the process to be listening on PostgreSQL.
LISTEN_WAIT_S = 5.0


class Live:
    """One process's live events (see the module docstring)."""

    def __init__(self, app: Flask) -> None:
        config = app.config
        self.max_streams = int(config.get("LIVE_MAX_STREAMS", DEFAULT_MAX_STREAMS))
        self.heartbeat_s = float(config.get("LIVE_HEARTBEAT_SECONDS", DEFAULT_HEARTBEAT_S))
        self.stream_max_s = float(config.get("LIVE_STREAM_MAX_SECONDS", DEFAULT_STREAM_MAX_S))
        self.max_per_reader = int(
            config.get("LIVE_MAX_STREAMS_PER_READER", DEFAULT_MAX_STREAMS_PER_READER)
        )
        self.broadcaster = Broadcaster(self.max_streams, self.max_per_reader)
        url = str(config["DATABASE_URL"])
        self.relay: PostgresRelay | None = None
        if url.startswith("postgresql"):
            from sync_server.live.postgres import PostgresRelay  # psycopg: PostgreSQL only

            self.relay = PostgresRelay(url, self.broadcaster)

    def publish(self, name: str, data: dict[str, Any]) -> LiveEvent:
        return self.broadcaster.publish(name, data)

    def open_stream(self) -> Response:
        """The caller's event stream, or a 503 problem when this process has
        ``LIVE_MAX_STREAMS`` open, a 429 when the caller holds its
        ``LIVE_MAX_STREAMS_PER_READER`` (the caller's access is checked by the view)."""
        caller = current_caller()
        reader = (caller.kind, caller.id) if caller is not None else None
        try:
            subscription = self.broadcaster.subscribe(reader)
        except ReaderFull as full:
            log.warning("Live events: %s holds %d streams, one more refused", reader, full.held)
            raise Problem(
                429,
                "too-many-streams-of-yours",
                plural_text(
                    "This account already follows the shop live in {count} window. Close "
                    "one; this one refreshes by itself meanwhile.",
                    "This account already follows the shop live in {count} windows. Close "
                    "one of them; this one refreshes by itself meanwhile.",
                    full.held,
                    "server",
                    count=full.held,
                ),
                title=Text("Too many live windows", "server"),
                headers={"Retry-After": str(RETRY_AFTER_S)},
                extra={"retry_after_seconds": RETRY_AFTER_S},
            ) from None
        if subscription is None:
            log.warning("Live events: %d streams open, one more refused", self.max_streams)
            raise Problem(
                503,
                "too-many-streams",
                Text(
                    "Too many screens are following the shop live on this server. This "
                    "one refreshes by itself meanwhile and tries again shortly.",
                    "server",
                ),
                title=Text("Too many live screens", "server"),
                headers={"Retry-After": str(RETRY_AFTER_S)},
                extra={"retry_after_seconds": RETRY_AFTER_S},
            )
        if self.relay is not None:
            self.relay.start()
            if not self.relay.wait_listening(LISTEN_WAIT_S):
                log.warning("Live events: not listening on the database yet")
        client_gone = request.environ.get("waitress.client_disconnected") or (lambda: False)
        body = event_stream(
            subscription,
            client_gone=client_gone,
            heartbeat_s=self.heartbeat_s,
            max_s=self.stream_max_s,
            retry_ms=RETRY_MS,
            number=self.broadcaster.next_number(),
        )
        return Response(
            StreamBody(subscription, body),
            mimetype="text/event-stream",
            headers={
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",  # nginx: pass each event on at once
            },
            direct_passthrough=True,
        )

    def shutdown(self) -> None:
        """The process is stopping: end every stream, stop listening."""
        self.broadcaster.close()
        if self.relay is not None:
            self.relay.stop()


def live(app: Flask | None = None) -> Live:
    return (app or current_app).extensions["live"]  # type: ignore[no-any-return]


def init_app(app: Flask) -> None:
    """After ``db.init_app``: every session of the app tells the streams what changed."""
    state = Live(app)
    app.extensions["live"] = state
    watch(app.extensions["db_sessionmaker"], state.publish)


__all__ = ["RESYNC", "VISIT", "Live", "LiveEvent", "init_app", "live"]
