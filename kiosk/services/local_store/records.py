"""Records: saving fields of records (with their outbox entries) and looking them up.

:meth:`RecordsMixin.save_many` is **one** ``BEGIN IMMEDIATE`` transaction for a whole
user action (a check-in's customer, car, visit, consent and signature; a walk-around
with its photos and marks): the clock ticks once per record (and its state is stored),
each record takes its fields with a clock per field, and each change goes into the
outbox. Either all of it is on disk or none of it, and it returns only after ``COMMIT``.

Look-ups by a record's visit, walk-around, car, customer, appointment, status or
check-in time use an index (``database.INDEXED_FIELDS``); nothing a screen or a sync
round runs reads every record.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Collection, Mapping, Sequence
from typing import Any, NamedTuple

from kiosk.services.local_store.blobs import PreparedBlob
from kiosk.services.local_store.database import (
    INDEXED_FIELDS,
    META_HLC,
    StoreDatabase,
    check_name,
    chunks,
    dumps,
    field_expression,
    json_copy,
    utcnow_text,
)
from kiosk.services.local_store.outbox import Change
from shared.hlc import HLC
from shared.sync_protocol import change_message, is_uuid


class RecordChange(NamedTuple):
    """One record's part of a user action, for :meth:`RecordsMixin.save_many`."""

    kind: str
    record_id: str
    fields: Mapping[str, Any]
    blob_refs: Sequence[str] = ()


class RecordsMixin(StoreDatabase):
    """Saving and reading records."""

    def save(
        self,
        kind: str,
        record_id: str,
        fields: Mapping[str, Any],
        blob_refs: Sequence[str] = (),
    ) -> Change:
        """Save some fields of a record and queue the change for the server.

        One transaction: the clock ticks, the record takes the fields, the outbox takes
        the change. Returns after ``COMMIT``, so the caller may now say "saved".
        ``record_id`` is a lowercase UUID (``str(uuid.uuid4())``). ``blob_refs`` names the
        photos (by SHA-256) that these fields refer to; each must already be in the blob
        store (:meth:`put_blob`), else ``ValueError``.
        """
        return self.save_many([RecordChange(kind, record_id, fields, blob_refs)])[0]

    def save_many(
        self,
        changes: Sequence[RecordChange | tuple[Any, ...]],
        *,
        blobs: Sequence[PreparedBlob] = (),
    ) -> list[Change]:
        """Save the records of one user action in **one** transaction, in this order.

        Each item is ``(kind, record_id, fields[, blob_refs])`` as for :meth:`save`.
        ``blobs`` are pictures made with these records (``prepare_blob``), kept in the
        same transaction (staged; see ``local_store/blobs.py``): no file to fsync first.
        Everything is checked before anything is written; after a crash either every
        record, outbox entry and picture is there or none is.
        """
        items = [_checked(RecordChange(*change)) for change in changes]
        if not items:
            return []
        now = utcnow_text()
        saved: list[Change] = []
        with self._transaction() as db:
            self._stage_blobs(db, blobs, now)
            missing = sorted(
                {sha for item in items for sha in item.blob_refs if not self._has_blob(db, sha)}
            )
            if missing:
                raise ValueError(
                    f"save {items[0].kind} {items[0].record_id}: photo(s) not in the blob "
                    f"store: {', '.join(missing)} (put_blob first)"
                )
            # The clock's state on disk is authoritative: read once, ticked once per
            # record, stored once with the records it stamps (so never issued twice).
            self._sync_clock_from_disk(db)
            for item in items:
                saved.append(self._save_one(db, item, now, self.clock.tick()))
            self._set_meta(db, META_HLC, self.clock.state())
        return saved

    def _stage_blobs(self, db: sqlite3.Connection, blobs: Sequence[PreparedBlob], now: str) -> None:
        """The pictures' rows, and their bytes staged unless their file is there."""
        for blob in blobs:
            info = blob.info
            db.execute(
                """INSERT OR IGNORE INTO blobs (sha256, content_type, size, uploaded, created_at)
                   VALUES (?, ?, ?, 0, ?)""",
                (info.sha256, info.content_type, info.size, now),
            )
            if not (self.blobs_dir / info.sha256[:2] / info.sha256).exists():
                db.execute(
                    "INSERT OR IGNORE INTO staged_blobs (sha256, data) VALUES (?, ?)",
                    (info.sha256, blob.data),
                )

    def _save_one(self, db: sqlite3.Connection, item: RecordChange, now: str, hlc: HLC) -> Change:
        kind, record_id, field_values, refs = item
        change_id = str(uuid.uuid4())
        row = db.execute(
            "SELECT fields, clocks FROM records WHERE kind = ? AND id = ?", (kind, record_id)
        ).fetchone()
        record, clocks = (json.loads(row[0]), json.loads(row[1])) if row else ({}, {})
        base = {name: clocks.get(name) for name in field_values}
        for name, value in field_values.items():
            record[name] = value
            clocks[name] = hlc
        self._put_record(db, kind, record_id, record, clocks, now)
        db.executemany(
            "INSERT OR IGNORE INTO blob_refs (sha256, kind, record_id) VALUES (?, ?, ?)",
            [(sha, kind, record_id) for sha in refs],
        )
        wire = change_message(change_id, kind, record_id, hlc, dict(field_values), base)
        byte_size = len(dumps(wire).encode("utf-8"))
        cursor = db.execute(
            """INSERT INTO outbox (change_id, kind, entity_id, hlc, fields, blob_refs,
                   byte_size, state, created_at, base)
               VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)""",
            (
                change_id,
                kind,
                record_id,
                hlc,
                dumps(field_values),
                dumps(list(refs)),
                byte_size,
                now,
                dumps(base),
            ),
        )
        seq = cursor.lastrowid
        assert seq is not None
        return Change(
            seq=seq,
            change_id=change_id,
            kind=kind,
            record_id=record_id,
            hlc=hlc,
            fields=dict(field_values),
            blob_refs=tuple(refs),
            byte_size=byte_size,
            created_at=now,
            base=base,
        )

    def get(self, kind: str, record_id: str) -> dict[str, Any] | None:
        """The fields of a record as this device knows it, or ``None``."""
        with self._lock:
            row = self._db.execute(
                "SELECT fields FROM records WHERE kind = ? AND id = ?", (kind, record_id)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def get_many(self, kind: str, record_ids: Collection[str]) -> dict[str, dict[str, Any]]:
        """The records of ``kind`` with these ids that this device has, by id (one query
        per 500 ids, by primary key)."""
        wanted = sorted({record_id for record_id in record_ids if isinstance(record_id, str)})
        found: dict[str, dict[str, Any]] = {}
        with self._lock:
            for chunk in chunks(wanted, 500):
                marks = ",".join("?" * len(chunk))
                for record_id, fields in self._db.execute(
                    f"SELECT id, fields FROM records WHERE kind = ? AND id IN ({marks})",
                    [kind, *chunk],
                ):
                    found[record_id] = {**json.loads(fields), "id": record_id}
        return found

    def clocks(self, kind: str, record_id: str) -> dict[str, Any]:
        """The HLC of each field of a record (empty when the record is unknown)."""
        with self._lock:
            row = self._db.execute(
                "SELECT clocks FROM records WHERE kind = ? AND id = ?", (kind, record_id)
            ).fetchone()
        return json.loads(row[0]) if row else {}

    def find(self, kind: str, /, **exact_field_matches: Any) -> list[dict[str, Any]]:
        """Records of ``kind`` whose fields equal all the given values.

        Each result is the record's fields with its ``id`` added. Exact matches only
        (e.g. a kiosk finds today's appointment by the keyed hash of a plate), in the
        order the records were last changed, newest first. Deleted records (the
        ``deleted`` tombstone) are found too; the caller decides what to show. A match
        on an indexed field (``database.INDEXED_FIELDS``) reads only the matching rows.
        """
        where = ["kind = ?"]
        params: list[Any] = [kind]
        for name, value in exact_field_matches.items():
            # SQLite narrows the search for text values; the exact test is below.
            if isinstance(value, str):
                if name in INDEXED_FIELDS:
                    where.append(f"{field_expression(name)} = ?")
                    params.append(value)
                else:
                    where.append("json_extract(fields, ?) = ?")
                    params += [_json_path(name), value]
        return self._select(where, params, exact_field_matches)

    def find_in(
        self,
        kind: str,
        field_name: str,
        values: Collection[str],
        *,
        only: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Records of ``kind`` whose indexed ``field_name`` is one of ``values`` (e.g. the
        walk-arounds of the open visits), newest change first, through the index.

        ``only`` names the fields wanted (and present) in each result besides ``id``: the
        rest of a record (a signature's strokes, say) is then not even decoded."""
        wanted = sorted(set(values))
        expression = field_expression(field_name)
        found: list[dict[str, Any]] = []
        for chunk in chunks(wanted, 500):
            marks = ",".join("?" * len(chunk))
            where = [f"kind = ? AND {expression} IN ({marks})"]
            if only is None:
                found += self._select(where, [kind, *chunk], {})
            else:
                found += self._select_only(where, [kind, *chunk], only)
        return found

    def _select_only(
        self, where: list[str], params: list[Any], names: Sequence[str]
    ) -> list[dict[str, Any]]:
        for name in names:
            if not _PLAIN_NAME.fullmatch(name):
                raise ValueError(f"not a plain field name: {name!r}")
        # json_object keeps JSON types (true stays true, not 1) in one small document.
        members = ", ".join(f"'{name}', json_extract(fields, '$.{name}')" for name in names)
        sql = (
            f"SELECT id, json_object({members}) FROM records WHERE {' AND '.join(where)} "
            "ORDER BY updated_at DESC"
        )
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [
            {**{k: v for k, v in json.loads(picked).items() if v is not None}, "id": record_id}
            for record_id, picked in rows
        ]

    def versions_in(
        self, kind: str, field_name: str, values: Collection[str]
    ) -> list[tuple[str, str, str]]:
        """``(id, field value, version)`` of the records :meth:`find_in` would return,
        without reading their fields: the version (when the record last changed here,
        and its size) tells a caller whether something it worked out from them still
        holds."""
        wanted = sorted(set(values))
        expression = field_expression(field_name)
        found: list[tuple[str, str, str]] = []
        with self._lock:
            for chunk in chunks(wanted, 500):
                marks = ",".join("?" * len(chunk))
                found += self._db.execute(
                    f"SELECT id, {expression}, updated_at || '/' || length(fields) "
                    f"FROM records WHERE kind = ? AND {expression} IN ({marks})",
                    [kind, *chunk],
                ).fetchall()
        return found

    def find_missing(self, kind: str, field_name: str) -> list[dict[str, Any]]:
        """Records of ``kind`` without the indexed ``field_name`` (or with ``null``)."""
        return self._select([f"kind = ? AND {field_expression(field_name)} IS NULL"], [kind], {})

    def find_between(
        self,
        kind: str,
        field_name: str,
        low: str,
        high: str,
        *,
        only: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Records of ``kind`` whose indexed text ``field_name`` is in ``[low, high)``
        (e.g. visits checked in today), through the index; ``only`` as for
        :meth:`find_in`."""
        expression = field_expression(field_name)
        where = [f"kind = ? AND {expression} >= ? AND {expression} < ?"]
        if only is None:
            return self._select(where, [kind, low, high], {})
        return self._select_only(where, [kind, low, high], only)

    def _select(
        self, where: list[str], params: list[Any], exact: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        sql = f"SELECT id, fields FROM records WHERE {' AND '.join(where)} ORDER BY updated_at DESC"
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        found = []
        for record_id, fields_json in rows:
            fields = json.loads(fields_json)
            if all(
                name in fields and _same_json(fields[name], value) for name, value in exact.items()
            ):
                found.append({**fields, "id": record_id})
        return found


def _checked(item: RecordChange) -> RecordChange:
    """One record change as it will be written, or ``ValueError`` before anything is."""
    kind, record_id, fields, blob_refs = item
    check_name("kind", kind)
    if not is_uuid(record_id):
        # The server refuses anything else; say so now, not in a parked change later.
        raise ValueError(f"record ids are lowercase UUIDs made on the device: {record_id!r}")
    if not isinstance(fields, Mapping) or not fields:
        raise ValueError("a change sets at least one field")
    if not all(isinstance(name, str) and name for name in fields):
        raise ValueError("field names must be non-empty strings")
    refs = tuple(dict.fromkeys(blob_refs))  # keep order, drop repeats
    return RecordChange(kind, record_id, json_copy(dict(fields)), refs)


_PLAIN_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


def _same_json(stored: Any, wanted: Any) -> bool:
    # True == 1 in Python; a field holding true must not match 1.
    return type(stored) is type(wanted) and stored == wanted


def _json_path(field_name: str) -> str:
    return '$."' + field_name.replace('"', '""') + '"'
