"""Live events across server processes: each process LISTENs on PostgreSQL.

One thread per process keeps its own connection (outside the pool) listening on
:data:`tracking.CHANNEL` and hands each notice to the process's broadcaster. A lost
connection (the database restarted, the network dropped) is opened again with a
growing wait; the streams are then told ``resync``, since notices sent meanwhile are
gone (NOTIFY is not stored). Started when the process's first stream opens.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from sync_server.live.broadcaster import RESYNC, VISIT, Broadcaster
from sync_server.live.tracking import CHANNEL

log = logging.getLogger(__name__)

POLL_S = 1.0  # how often the thread looks whether it should stop
MAX_RECONNECT_WAIT_S = 30.0


def conninfo(database_url: str) -> str:
    """psycopg's connection string for the app's SQLAlchemy ``DATABASE_URL``."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class PostgresRelay:
    """Relays NOTIFY from the database to ``broadcaster`` (see the module docstring)."""

    def __init__(self, database_url: str, broadcaster: Broadcaster) -> None:
        self._conninfo = conninfo(database_url)
        self._broadcaster = broadcaster
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()
        self.listening = threading.Event()

    def start(self) -> None:
        with self._guard:
            if self._thread is not None or self._stopping.is_set():
                return
            self._thread = threading.Thread(target=self._run, name="live-listen", daemon=True)
            self._thread.start()

    def wait_listening(self, timeout: float) -> bool:
        return self.listening.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        wait = 0.5
        heard_before = False
        while not self._stopping.is_set():
            try:
                with psycopg.connect(
                    self._conninfo, autocommit=True, keepalives=1, keepalives_idle=30
                ) as connection:
                    connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
                    if heard_before:
                        self._broadcaster.publish(RESYNC)  # notices meanwhile are lost
                    heard_before = True
                    self.listening.set()
                    wait = 0.5
                    while not self._stopping.is_set():
                        for notice in connection.notifies(timeout=POLL_S):
                            self._relay(notice.payload)
            except psycopg.Error as error:
                self.listening.clear()
                if self._stopping.is_set():
                    break
                log.warning(
                    "Live events: the database connection is lost (%s); again in %.1f s",
                    type(error).__name__,
                    wait,
                )
                self._stopping.wait(wait)
                wait = min(wait * 2, MAX_RECONNECT_WAIT_S)
        self.listening.clear()

    def _relay(self, payload: str) -> None:
        try:
            data: Any = json.loads(payload)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            log.warning("Live events: a notice that is not ours on %s", CHANNEL)
            self._broadcaster.publish(RESYNC)
            return
        self._broadcaster.publish(VISIT, data)
