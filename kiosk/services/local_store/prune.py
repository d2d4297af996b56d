"""Letting finished visits leave the device, so a year of a busy shop never piles up.

A tablet keeps the shop's working set: a delivered (or cancelled) visit, with its
walk-around, marks, photos, signatures and notes, leaves the device some days after it
finished here — and only once the server has every change of it and every photo: a
record with anything in the outbox (waiting or parked), or a photo not uploaded yet,
keeps its whole visit on the device. A kiosk keeps only its check-ins of the last days
the same way. The customer and the car go too when no visit or appointment left here
refers to them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kiosk.services.local_store.blobs import BlobsMixin
from kiosk.services.local_store.database import chunks, field_expression

# The records hanging off a visit (``visit_id``) and off its walk-around (``walkaround_id``).
_VISIT_PARTS = ("walkaround", "photo", "signature", "consent", "note")
_WALKAROUND_PARTS = ("damage_mark",)
_FINISHED = ("delivered", "cancelled")


@dataclass(frozen=True)
class PruneReport:
    """What one pruning removed, and how many visits it had to keep (not synced yet)."""

    visits: int = 0
    records: int = 0
    photos: int = 0
    kept_unsynced: int = 0


class PruneMixin(BlobsMixin):
    """Removing finished, fully synced visits."""

    def prune_finished_visits(
        self, keep_days: float, now: datetime | None = None, *, checked_in_too: bool = False
    ) -> PruneReport:
        """Remove visits finished here more than ``keep_days`` ago whose every change
        and photo the server has. With ``checked_in_too`` (a kiosk), any visit checked
        in before then goes, whatever its status (a kiosk never learns of deliveries).
        """
        cutoff = ((now or datetime.now(UTC)) - timedelta(days=keep_days)).astimezone(UTC)
        cutoff_text = cutoff.isoformat(timespec="milliseconds")
        status = field_expression("status")
        marks = ",".join("?" * len(_FINISHED))
        with self._lock:
            candidates = [
                visit_id
                for (visit_id,) in self._db.execute(
                    f"SELECT id FROM records WHERE kind = 'visit' AND {status} IN ({marks}) "
                    "AND updated_at < ?",
                    (*_FINISHED, cutoff_text),
                )
            ]
            if checked_in_too:
                checked_in = field_expression("checked_in_at")
                # Through the check-in time index; a day's margin for offsets, exact below.
                day_after = (cutoff + timedelta(days=1)).strftime("%Y-%m-%d")
                candidates += [
                    visit_id
                    for visit_id, checked_in_at in self._db.execute(
                        f"SELECT id, {checked_in} FROM records "
                        f"WHERE kind = 'visit' AND {checked_in} < ?",
                        (day_after,),
                    )
                    if _before(checked_in_at, cutoff)
                ]
        visits = removed = kept = 0
        photos: set[str] = set()
        # Short transactions: a check-in saved meanwhile waits for one of them at most.
        for chunk in chunks(sorted(set(candidates)), 20):
            with self._transaction() as db:
                for visit_id in chunk:
                    gone = _remove_visit(db, visit_id)
                    if gone is None:
                        kept += 1
                        continue
                    visits += 1
                    removed += gone[0]
                    photos.update(gone[1])
        forgotten = self.forget_blobs(photos)
        if visits:
            # Give the freed pages back (a new database; else a no-op). executescript
            # steps the pragma to its end: execute() would free one page per call.
            with self._lock:
                self._db.executescript("PRAGMA incremental_vacuum;")
        return PruneReport(visits=visits, records=removed, photos=forgotten, kept_unsynced=kept)


def _before(moment: object, cutoff: datetime) -> bool:
    if not isinstance(moment, str):
        return False
    try:
        when = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        return False
    return (when if when.tzinfo else when.replace(tzinfo=UTC)) < cutoff


def _remove_visit(db: sqlite3.Connection, visit_id: str) -> tuple[int, set[str]] | None:
    """Delete one visit and its parts, or ``None`` (nothing deleted) if the server does
    not have all of it yet. The customer and the car go too if nothing else needs them."""
    row = db.execute(
        "SELECT json_extract(fields, '$.customer_id'), json_extract(fields, '$.vehicle_id') "
        "FROM records WHERE kind = 'visit' AND id = ?",
        (visit_id,),
    ).fetchone()
    if row is None:
        return 0, set()
    customer_id, vehicle_id = row
    parts = [("visit", visit_id), *_children(db, _VISIT_PARTS, "visit_id", [visit_id])]
    walkaround_ids = [record_id for kind, record_id in parts if kind == "walkaround"]
    parts += _children(db, _WALKAROUND_PARTS, "walkaround_id", walkaround_ids)
    if _unsynced(db, parts):
        return None
    photos = _photos_of(db, parts)
    if db.execute(
        f"SELECT 1 FROM blobs WHERE uploaded = 0 AND sha256 IN ({','.join('?' * len(photos))})",
        sorted(photos),
    ).fetchone():
        return None
    for kind, record_id in parts:
        _delete(db, kind, record_id)
    removed = len(parts)
    for kind, key, record_id in (
        ("vehicle", "vehicle_id", vehicle_id),
        ("customer", "customer_id", customer_id),
    ):
        if (
            isinstance(record_id, str)
            and not _still_needed(db, key, record_id)
            and not _unsynced(db, [(kind, record_id)])
        ):
            removed += _delete(db, kind, record_id)
    return removed, photos


def _children(
    db: sqlite3.Connection, kinds: Sequence[str], key: str, parent_ids: Sequence[str]
) -> list[tuple[str, str]]:
    if not parent_ids:
        return []
    found: list[tuple[str, str]] = []
    for kind in kinds:
        found += [
            (kind, record_id)
            for (record_id,) in db.execute(
                f"SELECT id FROM records WHERE kind = ? AND {field_expression(key)} "
                f"IN ({','.join('?' * len(parent_ids))})",
                (kind, *parent_ids),
            )
        ]
    return found


def _unsynced(db: sqlite3.Connection, parts: Sequence[tuple[str, str]]) -> bool:
    return any(
        db.execute("SELECT 1 FROM outbox WHERE kind = ? AND entity_id = ? LIMIT 1", part).fetchone()
        for part in parts
    )


def _photos_of(db: sqlite3.Connection, parts: Sequence[tuple[str, str]]) -> set[str]:
    photos: set[str] = set()
    for part in parts:
        photos.update(
            sha
            for (sha,) in db.execute(
                "SELECT sha256 FROM blob_refs WHERE kind = ? AND record_id = ?", part
            )
        )
    return photos


def _still_needed(db: sqlite3.Connection, key: str, record_id: str) -> bool:
    """Whether a visit, appointment or car left on the device refers to this record."""
    expression = field_expression(key)
    kinds = (
        ("visit", "appointment", "vehicle") if key == "customer_id" else ("visit", "appointment")
    )
    return any(
        db.execute(
            f"SELECT 1 FROM records WHERE kind = ? AND {expression} = ? LIMIT 1", (kind, record_id)
        ).fetchone()
        for kind in kinds
    )


def _delete(db: sqlite3.Connection, kind: str, record_id: str) -> int:
    db.execute("DELETE FROM blob_refs WHERE kind = ? AND record_id = ?", (kind, record_id))
    return db.execute("DELETE FROM records WHERE kind = ? AND id = ?", (kind, record_id)).rowcount
