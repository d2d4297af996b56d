"""What a transaction changed on the board, told to the live streams once it commits.

Session events on the app's sessions note the visits (and the customers, cars,
walk-arounds, photos, signatures and messages shown beside them) that a flush or a bulk
INSERT of a push wrote (on PostgreSQL a push's new rows arrive by ``COPY``, which
``sync_server.sync.bulk_rows`` reports here). At commit:

* **PostgreSQL**: the transaction itself sends ``pg_notify`` on :data:`CHANNEL`, so the
  notice leaves only if the change commits, and every server process on the database
  (this one too) hears it through its LISTEN connection (``postgres.py``);
* **SQLite** (one process): after the commit, the process's own broadcaster is told.

A rolled-back transaction tells nobody. The notice carries the visits' ids only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from sync_server.live.broadcaster import VISIT
from sync_server.sync.bulk_rows import on_copy

log = logging.getLogger(__name__)

CHANNEL = "checkin_live"
# At most this many visit ids in one notice (PostgreSQL's payload limit is 8000 bytes);
# beyond, ``more`` says there were others and readers fetch everything anyway.
MAX_IDS = 50
# The tables the board and the tablets' queue show, and the column naming the visit.
WATCHED: dict[str, str | None] = {
    "visits": "id",
    "walkarounds": "visit_id",
    "visit_photos": "visit_id",
    "signatures": "visit_id",
    "outbound_messages": "visit_id",
    "damage_marks": None,
    "customers": None,
    "vehicles": None,
}
_KEY = "live_changes"


class _Changes:
    """The board-visible changes of one transaction."""

    def __init__(self) -> None:
        self.visit_ids: set[str] = set()
        self.any = False

    def note(self, table: str, rows: Iterable[Any]) -> None:
        self.any = True
        column = WATCHED[table]
        if column is None:
            return
        for row in rows:
            value = row.get(column) if isinstance(row, dict) else getattr(row, column, None)
            if isinstance(value, str):
                self.visit_ids.add(value)

    def payload(self) -> dict[str, Any]:
        ids = sorted(self.visit_ids)
        data: dict[str, Any] = {"visits": ids[:MAX_IDS]}
        if len(ids) > MAX_IDS:
            data["more"] = True
        return data


def _changes(session: Session) -> _Changes:
    changes = session.info.get(_KEY)
    if changes is None:
        changes = session.info[_KEY] = _Changes()
    return changes


def _after_flush(session: Session, _context: Any) -> None:
    by_table: dict[str, list[Any]] = {}
    for instance in (*session.new, *session.deleted):
        table = getattr(instance, "__tablename__", None)
        if table in WATCHED:
            by_table.setdefault(table, []).append(instance)
    for instance in session.dirty:
        table = getattr(instance, "__tablename__", None)
        if table in WATCHED and session.is_modified(instance, include_collections=False):
            by_table.setdefault(table, []).append(instance)
    for table, rows in by_table.items():
        _changes(session).note(table, rows)


def _on_execute(state: ORMExecuteState) -> None:
    """A bulk INSERT or UPDATE run through the session (a push's new rows)."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(getattr(state.statement, "table", None), "name", None)
    if table not in WATCHED:
        return
    parameters = state.parameters
    rows = parameters if isinstance(parameters, list) else [parameters or {}]
    _changes(state.session).note(table, rows)


def _on_copy(session: Session, table: str, rows: Any) -> None:
    """A push's new rows streamed in by ``COPY`` (PostgreSQL), which no ORM event sees."""
    if table in WATCHED:
        _changes(session).note(table, rows)


on_copy(_on_copy)


def watch(sessions: sessionmaker[Session], publish: Callable[[str, dict[str, Any]], None]) -> None:
    """Tell ``publish`` (the process's broadcaster) about every committed change to the
    board made through ``sessions``; on PostgreSQL, through NOTIFY instead."""

    def before_commit(session: Session) -> None:
        bind = session.get_bind()
        if bind.dialect.name != "postgresql":
            return
        session.flush()  # the last flush's changes count too
        changes = session.info.get(_KEY)
        if changes is None or not changes.any:
            return
        payload = json.dumps(changes.payload(), separators=(",", ":"))
        session.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {
                "channel": CHANNEL,
                "payload": payload,
            },
        )
        session.info.pop(_KEY, None)

    def after_commit(session: Session) -> None:
        changes = session.info.pop(_KEY, None)
        if changes is None or not changes.any:
            return
        try:
            publish(VISIT, changes.payload())
        except Exception:  # the commit stands whatever the streams do
            log.exception("Live event not published")

    def after_rollback(session: Session) -> None:
        session.info.pop(_KEY, None)

    event.listen(sessions, "after_flush", _after_flush)
    event.listen(sessions, "do_orm_execute", _on_execute)
    event.listen(sessions, "before_commit", before_commit)
    event.listen(sessions, "after_commit", after_commit)
    event.listen(sessions, "after_rollback", after_rollback)
