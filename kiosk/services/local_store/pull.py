"""The pull side: merging what the server publishes, and the history of sync rounds.

A tablet merges pages of the changes feed field by field (the newer clock wins, so local
edits not yet pushed stay); a kiosk replaces its appointments with the day's snapshot.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kiosk.services.local_store.database import META_HLC, StoreDatabase, chunks, utcnow_text
from shared.hlc import HLC, limit_hlc, parse

_META_PULL_CURSOR = "pull_cursor"
_META_LAST_SUCCESS = "last_success_at"
_META_LAST_ERROR = "last_error"
_META_LAST_ERROR_DETAIL = "last_error_detail"
_META_LAST_ERROR_AT = "last_error_at"
# A car's deferred work from the server, per car (the key ends with its id).
_META_DEFERRED = "deferred_work:"


@dataclass(frozen=True)
class SyncHistory:
    """When the last sync round succeeded and what went wrong since (survives restarts)."""

    last_success_at: datetime | None
    last_error: str | None
    last_error_detail: str | None
    last_error_at: datetime | None


class PullMixin(StoreDatabase):
    """Taking in the server's records; remembering how sync rounds went."""

    # -- pull side ---------------------------------------------------------------------

    def pull_cursor(self) -> int:
        """The server sequence number up to which this device has applied changes."""
        with self._lock:
            value = self._meta(_META_PULL_CURSOR)
        return int(value) if value else 0

    def apply_pulled(self, changes: Sequence[Mapping[str, Any]], next_since: int) -> int:
        """Merge a page of ``GET /sync/changes`` and move the cursor, in one transaction.

        Each entry is a record's whole state (``kind``, ``id``, ``fields``, ``clocks``).
        A field takes the server's value only if the server's HLC for it is newer than
        this device's, so local edits not yet pushed (newer clocks) stay. Applying the
        same page twice changes nothing. Returns how many records changed here.
        """
        _check_cursor(next_since)
        return self._apply(changes, next_since)

    def cache_records(self, records: Sequence[Mapping[str, Any]]) -> int:
        """Merge records fetched outside the feed (a car's history), as :meth:`apply_pulled`
        does, without moving the cursor. Returns how many records changed here."""
        return self._apply(records, None)

    def cache_vehicle_history(
        self,
        vehicle_id: str,
        records: Sequence[Mapping[str, Any]],
        deferred_work: Sequence[Mapping[str, Any]],
    ) -> int:
        """Merge a car's history (as :meth:`cache_records`) and keep its deferred work
        (the server's list, replacing the last one), in one transaction. Returns how many
        records changed here, plus one if the deferred work changed."""
        value = json.dumps(list(deferred_work), sort_keys=True, ensure_ascii=False)
        return self._apply(records, None, deferred=(_META_DEFERRED + vehicle_id, value))

    def cached_deferred_work(self, vehicle_id: str) -> list[dict[str, Any]] | None:
        """The deferred work last fetched for this car (None: never fetched here)."""
        with self._lock:
            value = self._meta(_META_DEFERRED + vehicle_id)
        if value is None:
            return None
        loaded = json.loads(value)
        return loaded if isinstance(loaded, list) else []

    def _apply(
        self,
        changes: Sequence[Mapping[str, Any]],
        next_since: int | None,
        *,
        deferred: tuple[str, str] | None = None,
    ) -> int:
        entries = _pulled_entries(changes)
        now = utcnow_text()
        # Lost to a power cut, the page is pulled again from the cursor saved with it.
        with self._transaction(durable=False) as db:
            self._sync_clock_from_disk(db)
            changed = self._merge_page(db, entries, now)
            self._set_meta(db, META_HLC, self.clock.state())
            if next_since is not None:
                self._set_meta(db, _META_PULL_CURSOR, str(next_since))
            if deferred is not None and self._meta(deferred[0]) != deferred[1]:
                self._set_meta(db, *deferred)
                changed += 1
        return changed

    def replace_snapshot(
        self,
        kinds: Collection[str],
        records: Sequence[Mapping[str, Any]],
        next_since: int = 0,
    ) -> int:
        """Take a complete set of records of ``kinds`` from the server, in one transaction.

        A kiosk is not sent a changes feed but a snapshot of today's appointments: the
        records listed replace this device's copies, and records of these kinds the
        snapshot no longer lists (yesterday's, cancelled ones) are removed. A record
        with changes still waiting in the outbox is merged by clocks instead, never
        dropped. Returns how many records changed or went.
        """
        entries = _pulled_entries(records)
        _check_cursor(next_since)
        covered = sorted(set(kinds) | {entry[0] for entry in entries})
        listed = {(kind, record_id) for kind, record_id, _, _ in entries}
        now = utcnow_text()
        changed = 0
        with self._transaction() as db:
            self._sync_clock_from_disk(db)
            unsent = set(db.execute("SELECT DISTINCT kind, entity_id FROM outbox").fetchall())
            for entry in entries:
                kind, record_id, fields, clocks = entry
                if (kind, record_id) in unsent:
                    changed += self._merge_pulled(db, entry, now)
                    continue
                row = db.execute(
                    "SELECT fields, clocks FROM records WHERE kind = ? AND id = ?",
                    (kind, record_id),
                ).fetchone()
                if row is None or (json.loads(row[0]), json.loads(row[1])) != (fields, clocks):
                    changed += 1
                    self._put_record(db, kind, record_id, fields, clocks, now)
                for hlc in clocks.values():
                    self.clock.observe(hlc)
            marks = ",".join("?" * len(covered))
            stale = [
                (kind, record_id)
                for kind, record_id in db.execute(
                    f"SELECT kind, id FROM records WHERE kind IN ({marks})", covered
                ).fetchall()
                if (kind, record_id) not in listed and (kind, record_id) not in unsent
            ]
            for kind, record_id in stale:
                db.execute("DELETE FROM records WHERE kind = ? AND id = ?", (kind, record_id))
                db.execute(
                    "DELETE FROM blob_refs WHERE kind = ? AND record_id = ?", (kind, record_id)
                )
            changed += len(stale)
            self._set_meta(db, META_HLC, self.clock.state())
            self._set_meta(db, _META_PULL_CURSOR, str(next_since))
        return changed

    def _merge_page(self, db: sqlite3.Connection, entries: Sequence[_PulledEntry], now: str) -> int:
        """Merge pulled records field by field (newer HLC wins); how many changed.

        The page's records are read in a few queries, merged in memory and written
        with one statement run for each record that changed (a page of the feed is
        hundreds of records: one look-up each would cost more than the merge)."""
        current = self._records_of(db, {(kind, record_id) for kind, record_id, _, _ in entries})
        changed: dict[tuple[str, str], tuple[dict[str, Any], dict[str, HLC]]] = {}
        beyond = limit_hlc(self.clock.latest_accepted_ms())  # a poisoned clock loses
        for kind, record_id, incoming, incoming_clocks in entries:
            key = (kind, record_id)
            known = current.get(key)
            record, clocks = (dict(known[0]), dict(known[1])) if known else ({}, {})
            for name, value in incoming.items():
                # A field the server sends without a clock never beats a local edit.
                theirs, mine = incoming_clocks.get(name, ""), clocks.get(name, "")
                if name not in record or theirs > mine or (mine > beyond and theirs):
                    record[name] = value
                    clocks[name] = theirs
            if known is not None and (record, clocks) == known:
                continue
            current[key] = changed[key] = (record, clocks)
        # Observing the latest clock the clock accepts is observing them all (it only
        # moves forward): one call instead of one per field.
        seen = {hlc for _, _, _, incoming_clocks in entries for hlc in incoming_clocks.values()}
        for hlc in sorted(seen, reverse=True):
            if self.clock.observe(hlc):
                break
        self._put_records(db, changed, now)
        return len(changed)

    def _merge_pulled(self, db: sqlite3.Connection, entry: _PulledEntry, now: str) -> bool:
        """Merge one pulled record (see :meth:`_merge_page`); True if it changed."""
        return self._merge_page(db, [entry], now) == 1

    @staticmethod
    def _records_of(
        db: sqlite3.Connection, keys: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[dict[str, Any], dict[str, HLC]]]:
        """The fields and clocks of the records with these keys that this device has."""
        by_kind: dict[str, list[str]] = {}
        for kind, record_id in keys:
            by_kind.setdefault(kind, []).append(record_id)
        found: dict[tuple[str, str], tuple[dict[str, Any], dict[str, HLC]]] = {}
        for kind, ids in by_kind.items():
            for chunk in chunks(sorted(ids), 500):
                marks = ",".join("?" * len(chunk))
                for record_id, fields, clocks in db.execute(
                    f"SELECT id, fields, clocks FROM records WHERE kind = ? AND id IN ({marks})",
                    [kind, *chunk],
                ):
                    found[(kind, record_id)] = (json.loads(fields), json.loads(clocks))
        return found

    # -- sync history ------------------------------------------------------------------

    def note_sync_success(self, at: datetime | None = None) -> None:
        """A whole sync round went through: remember when, and forget the last error."""
        at = at or datetime.now(UTC)
        # Lost to a power cut, the next round notes it again: no fsync of its own.
        with self._transaction(durable=False) as db:
            self._set_meta(db, _META_LAST_SUCCESS, at.isoformat())
            db.execute(
                "DELETE FROM meta WHERE key IN (?, ?, ?)",
                (_META_LAST_ERROR, _META_LAST_ERROR_DETAIL, _META_LAST_ERROR_AT),
            )

    def note_sync_error(self, code: str, detail: str = "", at: datetime | None = None) -> None:
        """A sync round stopped: remember why (``code`` is stable, ``detail`` for logs)."""
        at = at or datetime.now(UTC)
        with self._transaction() as db:
            self._set_meta(db, _META_LAST_ERROR, code)
            self._set_meta(db, _META_LAST_ERROR_DETAIL, detail[:1000])
            self._set_meta(db, _META_LAST_ERROR_AT, at.isoformat())

    def sync_history(self) -> SyncHistory:
        with self._lock:
            success = self._meta(_META_LAST_SUCCESS)
            error = self._meta(_META_LAST_ERROR)
            detail = self._meta(_META_LAST_ERROR_DETAIL)
            error_at = self._meta(_META_LAST_ERROR_AT)
        return SyncHistory(
            datetime.fromisoformat(success) if success else None,
            error,
            detail,
            datetime.fromisoformat(error_at) if error_at else None,
        )


_PulledEntry = tuple[str, str, dict[str, Any], dict[str, HLC]]


def _check_cursor(next_since: object) -> None:
    if isinstance(next_since, bool) or not isinstance(next_since, int) or next_since < 0:
        raise ValueError(f"next_since must be a whole number >= 0, got {next_since!r}")


def _pulled_entries(entries: Sequence[Mapping[str, Any]]) -> list[_PulledEntry]:
    """Check every entry of a pulled page before anything of it is written (each
    distinct clock parsed once: a record's fields mostly share their clock)."""
    checked: set[str] = set()
    return [_pulled_entry(entry, checked) for entry in entries]


def _pulled_entry(entry: Mapping[str, Any], checked: set[str] | None = None) -> _PulledEntry:
    """Check one entry of a pulled page before anything of the page is written."""
    if not isinstance(entry, Mapping):
        raise ValueError(f"a pulled change must be an object, got {type(entry).__name__}")
    kind, record_id = entry.get("kind"), entry.get("id")
    fields, clocks = entry.get("fields"), entry.get("clocks") or {}
    if not isinstance(kind, str) or not kind or not isinstance(record_id, str) or not record_id:
        raise ValueError(f"a pulled change needs a kind and an id: {dict(entry)!r:.200}")
    if not isinstance(fields, dict) or not isinstance(clocks, dict):
        raise ValueError(f"pulled {kind} {record_id}: fields and clocks must be objects")
    checked = set() if checked is None else checked
    for name, hlc in clocks.items():
        if isinstance(hlc, str) and hlc in checked:
            continue
        try:
            parse(hlc)
        except ValueError as exc:
            raise ValueError(f"pulled {kind} {record_id}, field {name}: {exc}") from None
        checked.add(hlc)
    return kind, record_id, fields, clocks
