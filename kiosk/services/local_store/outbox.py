"""The outbox: changes saved on this device and waiting for the server.

Every change goes into the outbox in the same transaction as the record it changes
(``records.py``); the sync engine sends the oldest first, drops what the server applied
and parks what it refused, with the reason, for staff.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from kiosk.services.local_store.database import StoreDatabase, chunks, dumps, utcnow_text
from shared.hlc import HLC
from shared.sync_protocol import change_message

ChangeState = Literal["pending", "parked"]


@dataclass(frozen=True)
class Change:
    """One saved change of one record: some of its fields, stamped with an HLC."""

    seq: int
    change_id: str
    kind: str
    record_id: str
    hlc: HLC
    fields: dict[str, Any]
    blob_refs: tuple[str, ...]
    byte_size: int
    state: ChangeState = "pending"
    attempts: int = 0
    last_error: str | None = None
    problem: dict[str, Any] | None = None
    created_at: str = ""
    base: dict[str, HLC | None] | None = None

    def to_wire(self) -> dict[str, Any]:
        """The change as ``POST /sync/push`` carries it (docs/sync.md)."""
        return change_message(
            self.change_id, self.kind, self.record_id, self.hlc, self.fields, self.base
        )


@dataclass(frozen=True)
class SyncCounts:
    """What is waiting to reach the server, for the status bar and the back office."""

    pending_changes: int
    pending_bytes: int
    pending_blobs: int
    pending_blob_bytes: int
    parked: int
    parked_blobs: int = 0


class OutboxMixin(StoreDatabase):
    """Reading and settling the outbox."""

    # -- outbox ------------------------------------------------------------------------

    def pending_changes(self, limit: int = 200, max_bytes: int = 1_000_000) -> list[Change]:
        """The oldest changes waiting for the server (parked ones skipped).

        At most ``limit`` changes of at most ``max_bytes`` together, except that the
        oldest change is always included, however large, so it cannot block the queue.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_CHANGE_COLUMNS} FROM outbox WHERE state = 'pending' "
                "ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()
        batch: list[Change] = []
        total = 0
        for row in rows:
            change = _change_from_row(row)
            if batch and total + change.byte_size > max_bytes:
                break
            batch.append(change)
            total += change.byte_size
        return batch

    def acknowledge(self, change_ids: Iterable[str]) -> int:
        """The server has applied these changes: move them from the outbox to the
        changes sent (offered again if the server is restored from a backup)."""
        ids = list(change_ids)
        now = utcnow_text()
        # Lost to a power cut, they are sent again, and the server knows them by id.
        with self._transaction(durable=False) as db:
            deleted = 0
            for chunk in chunks(ids, 500):
                marks = ",".join("?" * len(chunk))
                db.execute(
                    "INSERT OR IGNORE INTO sent_changes (seq, change_id, kind, entity_id, hlc, "
                    "fields, blob_refs, byte_size, base, created_at, sent_at) "
                    "SELECT seq, change_id, kind, entity_id, hlc, fields, blob_refs, byte_size, "
                    f"base, created_at, ? FROM outbox WHERE change_id IN ({marks})",
                    [now, *chunk],
                )
                deleted += db.execute(
                    f"DELETE FROM outbox WHERE change_id IN ({marks})", chunk
                ).rowcount
        return deleted

    def park(self, change_id: str, problem: Mapping[str, Any]) -> None:
        """The server refused this change: keep it aside with the reason, for staff.

        Later changes keep flowing; a parked change is not sent again until
        :meth:`unpark`.
        """
        problem_json = dumps(dict(problem))
        with self._transaction() as db:
            db.execute(
                """UPDATE outbox SET state = 'parked', problem = ?, attempts = attempts + 1,
                       last_error = ? WHERE change_id = ?""",
                (problem_json, _problem_summary(problem), change_id),
            )

    def note_attempt_failed(self, change_ids: Iterable[str], error: str) -> None:
        """These changes were sent but not settled (e.g. a 5xx result): try again later."""
        ids = list(change_ids)
        with self._transaction() as db:
            db.executemany(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE change_id = ?",
                [(error, change_id) for change_id in ids],
            )

    def parked(self) -> list[Change]:
        """Changes the server refused, oldest first, each with its ``problem``."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_CHANGE_COLUMNS} FROM outbox WHERE state = 'parked' ORDER BY seq"
            ).fetchall()
        return [_change_from_row(row) for row in rows]

    def unpark(self, change_id: str) -> None:
        """Staff pressed "retry": send this change again on the next round."""
        with self._transaction() as db:
            db.execute(
                "UPDATE outbox SET state = 'pending', problem = NULL WHERE change_id = ?",
                (change_id,),
            )

    def status(self) -> SyncCounts:
        """Counts and sizes of what waits for the server."""
        with self._lock:
            pending, pending_bytes = self._db.execute(
                "SELECT count(*), coalesce(sum(byte_size), 0) FROM outbox WHERE state = 'pending'"
            ).fetchone()
            (parked,) = self._db.execute(
                "SELECT count(*) FROM outbox WHERE state = 'parked'"
            ).fetchone()
            blobs, blob_bytes = self._db.execute(
                """SELECT count(*), coalesce(sum(size), 0) FROM blobs
                   WHERE uploaded = 0 AND problem IS NULL
                     AND sha256 IN (SELECT sha256 FROM blob_refs)"""
            ).fetchone()
            (parked_blobs,) = self._db.execute(
                "SELECT count(*) FROM blobs WHERE problem IS NOT NULL"
            ).fetchone()
        return SyncCounts(pending, pending_bytes, blobs, blob_bytes, parked, parked_blobs)


_CHANGE_COLUMNS = (
    "seq, change_id, kind, entity_id, hlc, fields, blob_refs, byte_size, state, attempts, "
    "last_error, problem, created_at, base"
)


def _change_from_row(row: Sequence[Any]) -> Change:
    (seq, change_id, kind, entity_id, hlc, fields, blob_refs, byte_size, state, attempts,
     last_error, problem, created_at, base) = row  # fmt: skip
    return Change(
        seq=seq,
        change_id=change_id,
        kind=kind,
        record_id=entity_id,
        hlc=hlc,
        fields=json.loads(fields),
        blob_refs=tuple(json.loads(blob_refs)),
        byte_size=byte_size,
        state=state,
        attempts=attempts,
        last_error=last_error,
        problem=json.loads(problem) if problem else None,
        created_at=created_at,
        base=json.loads(base) if base else None,
    )


def _problem_summary(problem: Mapping[str, Any]) -> str:
    parts = [str(problem.get(key)) for key in ("status", "title") if problem.get(key)]
    return " ".join(parts) or "refused"
