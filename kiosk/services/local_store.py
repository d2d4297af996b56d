"""The device's durable local database: records, the outbox of changes, and photo files.

Everything a customer or an advisor enters is written here first, and only here, before
the screen says "saved"; the sync engine (``kiosk.services.sync``) later pushes the
outbox to the shop server and merges what the server publishes back in. See
``docs/sync.md`` for the protocol this store serves.

Durability, and why:

* SQLite in ``DATA_DIR/device.sqlite3`` with ``journal_mode=WAL`` and
  ``synchronous=FULL``: kiosks get power-cycled, and with ``FULL`` a committed
  transaction survives a power cut, not only a crash of the app.
* :meth:`LocalStore.save` is **one** ``BEGIN IMMEDIATE`` transaction: it ticks the
  hybrid logical clock (and stores the clock's state), merges the fields into the local
  record with a clock per field, and adds the outbox entry. Either all of it is on disk
  or none of it, and :meth:`save` returns only after ``COMMIT``.
* Photos and signature images are content-addressed files ``blobs/ab/<sha256>``,
  written to a temporary file in the same folder, fsynced, renamed into place, and the
  folder fsynced, so a file under its final name is always complete.

Threads: the UI thread (saving a check-in) and the sync thread (pushing, pulling) both
use one store. It holds **one connection guarded by a re-entrant lock** rather than a
connection per thread: SQLite admits one writer at a time anyway, the clock must be
ticked and persisted in commit order (two connections could commit clock states out of
order), and every locked section is a short local transaction: the sync engine never
holds the lock while it talks to the network.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import sqlite3
import tempfile
import threading
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from shared.hlc import HLC, HybridClock, limit_hlc, parse, wall_clock_ms

log = logging.getLogger(__name__)

DATABASE_FILE = "device.sqlite3"
BLOBS_DIR = "blobs"
# A file per photo upload started and not yet answered (see LocalStore.uploads_cut_short).
UPLOADING_DIR = "uploading"

# The image types a photo or a signature may have (the server accepts these only).
BLOB_CONTENT_TYPES: Mapping[str, bytes] = {
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
}

_META_HLC = "hlc"
_META_PULL_CURSOR = "pull_cursor"
_META_LAST_SUCCESS = "last_success_at"
_META_LAST_ERROR = "last_error"
_META_LAST_ERROR_DETAIL = "last_error_detail"
_META_LAST_ERROR_AT = "last_error_at"

_SHA256_HEX = frozenset("0123456789abcdef")
_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# Schema migrations, applied in order; ``PRAGMA user_version`` is the number applied.
# Never edit a released step: add a new one.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE records (
            kind TEXT NOT NULL,
            id TEXT NOT NULL,
            fields TEXT NOT NULL,
            clocks TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (kind, id)
        )""",
        """CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            change_id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            hlc TEXT NOT NULL,
            fields TEXT NOT NULL,
            blob_refs TEXT NOT NULL DEFAULT '[]',
            byte_size INTEGER NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'parked')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            problem TEXT,
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX outbox_state_seq ON outbox (state, seq)",
        """CREATE TABLE blobs (
            sha256 TEXT PRIMARY KEY,
            content_type TEXT NOT NULL,
            size INTEGER NOT NULL,
            uploaded INTEGER NOT NULL DEFAULT 0,
            problem TEXT,
            created_at TEXT NOT NULL
        )""",
        # Which records refer to which photo: a photo is uploaded only once something
        # refers to it (a picture taken and then discarded stays on the device).
        """CREATE TABLE blob_refs (
            sha256 TEXT NOT NULL REFERENCES blobs (sha256),
            kind TEXT NOT NULL,
            record_id TEXT NOT NULL,
            PRIMARY KEY (sha256, kind, record_id)
        )""",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ),
    # The clock each changed field had when the change was made (docs/sync.md "base"):
    # lets the server tell a knowing edit from a real conflict.
    ("ALTER TABLE outbox ADD COLUMN base TEXT",),
    # Changes the server acknowledged, kept so that they can be offered again when the
    # server was restored from an older backup (kiosk.services.feed_recovery).
    (
        """CREATE TABLE sent_changes (
            seq INTEGER PRIMARY KEY,
            change_id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            hlc TEXT NOT NULL,
            fields TEXT NOT NULL,
            blob_refs TEXT NOT NULL,
            byte_size INTEGER NOT NULL,
            base TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT NOT NULL
        )""",
    ),
)
SCHEMA_VERSION = len(_MIGRATIONS)

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
        return _wire_change(
            self.change_id, self.kind, self.record_id, self.hlc, self.fields, self.base
        )


@dataclass(frozen=True)
class BlobInfo:
    """A photo or signature image in the blob store."""

    sha256: str
    size: int
    content_type: str


@dataclass(frozen=True)
class ParkedBlob:
    """A photo the server refused (e.g. not a valid image), kept for staff to look at."""

    sha256: str
    size: int
    content_type: str
    problem: dict[str, Any]


@dataclass(frozen=True)
class SyncCounts:
    """What is waiting to reach the server, for the status bar and the back office."""

    pending_changes: int
    pending_bytes: int
    pending_blobs: int
    pending_blob_bytes: int
    parked: int
    parked_blobs: int = 0


@dataclass(frozen=True)
class SyncHistory:
    """When the last sync round succeeded and what went wrong since (survives restarts)."""

    last_success_at: datetime | None
    last_error: str | None
    last_error_detail: str | None
    last_error_at: datetime | None


class LocalStore:
    """The device's records, outbox and blob store in ``data_dir``.

    ``node_id`` is this device's id (the uid the server gave it when paired); it goes
    into every HLC this device issues. ``now_ms`` is the wall clock (tests fake it).
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        node_id: str,
        *,
        now_ms: Callable[[], int] = wall_clock_ms,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.blobs_dir = self.data_dir / BLOBS_DIR
        self.uploading_dir = self.data_dir / UPLOADING_DIR
        self.uploading_dir.mkdir(mode=0o700, exist_ok=True)
        self.database_path = self.data_dir / DATABASE_FILE
        self._lock = threading.RLock()
        # Autocommit mode (isolation_level=None): every transaction is begun and ended
        # here explicitly, never implicitly by the sqlite3 module.
        self._db = sqlite3.connect(
            self.database_path, isolation_level=None, check_same_thread=False, timeout=30
        )
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
            self.clock = HybridClock(node_id, now_ms=now_ms)
            saved_clock = self._meta(_META_HLC)
            if saved_clock:
                self.clock.restore(saved_clock)
        except BaseException:
            self._db.close()
            raise

    # -- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def node_id(self) -> str:
        return self.clock.node_id

    # -- records -----------------------------------------------------------------------

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
        _check_name("kind", kind)
        if not isinstance(record_id, str) or not _UUID_RE.fullmatch(record_id):
            # The server refuses anything else; say so now, not in a parked change later.
            raise ValueError(f"record ids are lowercase UUIDs made on the device: {record_id!r}")
        if not isinstance(fields, Mapping) or not fields:
            raise ValueError("a change sets at least one field")
        if not all(isinstance(name, str) and name for name in fields):
            raise ValueError("field names must be non-empty strings")
        field_values = _json_copy(dict(fields))
        refs = tuple(dict.fromkeys(blob_refs))  # keep order, drop repeats
        change_id = str(uuid.uuid4())
        now = _utcnow_text()
        with self._transaction() as db:
            missing = [sha for sha in refs if not self._has_blob(db, sha)]
            if missing:
                raise ValueError(
                    f"save {kind} {record_id}: photo(s) not in the blob store: "
                    f"{', '.join(missing)} (put_blob first)"
                )
            hlc = self._tick(db)
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
            wire = _wire_change(change_id, kind, record_id, hlc, field_values, base)
            byte_size = len(_dumps(wire).encode("utf-8"))
            cursor = db.execute(
                """INSERT INTO outbox (change_id, kind, entity_id, hlc, fields, blob_refs,
                       byte_size, state, created_at, base)
                   VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)""",
                (
                    change_id,
                    kind,
                    record_id,
                    hlc,
                    _dumps(field_values),
                    _dumps(list(refs)),
                    byte_size,
                    now,
                    _dumps(base),
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
            fields=field_values,
            blob_refs=refs,
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

    def clocks(self, kind: str, record_id: str) -> dict[str, HLC]:
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
        ``deleted`` tombstone) are found too; the caller decides what to show.
        """
        where = ["kind = ?"]
        params: list[Any] = [kind]
        for name, value in exact_field_matches.items():
            # SQLite narrows the search for text values; the exact test is below.
            if isinstance(value, str):
                where.append("json_extract(fields, ?) = ?")
                params += [_json_path(name), value]
        sql = f"SELECT id, fields FROM records WHERE {' AND '.join(where)} ORDER BY updated_at DESC"
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        found = []
        for record_id, fields_json in rows:
            fields = json.loads(fields_json)
            if all(
                name in fields and _same_json(fields[name], value)
                for name, value in exact_field_matches.items()
            ):
                found.append({**fields, "id": record_id})
        return found

    # -- blobs -------------------------------------------------------------------------

    def put_blob(self, data: bytes, content_type: str) -> BlobInfo:
        """Keep a photo or signature image; durable on return. Same bytes, same file.

        Only JPEG and PNG are kept (``ValueError`` otherwise): the server takes nothing
        else, and an unsendable file would sit in the queue forever.
        """
        magic = BLOB_CONTENT_TYPES.get(content_type)
        if magic is None:
            raise ValueError(
                f"content type {content_type!r} is not kept; use one of "
                f"{', '.join(BLOB_CONTENT_TYPES)}"
            )
        if not isinstance(data, bytes | bytearray | memoryview) or not bytes(data[:8]).startswith(
            magic
        ):
            raise ValueError(f"the data is not a {content_type} image")
        data = bytes(data)
        sha = hashlib.sha256(data).hexdigest()
        path = self.blob_path(sha)
        if not _file_holds(path, sha, len(data)):
            _write_atomically(path, data)
        info = BlobInfo(sha, len(data), content_type)
        with self._transaction() as db:
            db.execute(
                """INSERT OR IGNORE INTO blobs (sha256, content_type, size, uploaded, created_at)
                   VALUES (?, ?, ?, 0, ?)""",
                (sha, content_type, len(data), _utcnow_text()),
            )
        return info

    def blob_path(self, sha256: str) -> Path:
        """Where the blob with this SHA-256 is (or would be) kept."""
        _check_sha256(sha256)
        return self.blobs_dir / sha256[:2] / sha256

    def blob_info(self, sha256: str) -> BlobInfo | None:
        with self._lock:
            row = self._db.execute(
                "SELECT sha256, size, content_type FROM blobs WHERE sha256 = ?", (sha256,)
            ).fetchone()
        return BlobInfo(*row) if row else None

    def pending_blobs(self) -> list[BlobInfo]:
        """Photos some record refers to that have not reached the server (not parked)."""
        with self._lock:
            rows = self._db.execute(
                """SELECT sha256, size, content_type FROM blobs
                   WHERE uploaded = 0 AND problem IS NULL
                     AND sha256 IN (SELECT sha256 FROM blob_refs)
                   ORDER BY created_at, sha256"""
            ).fetchall()
        return [BlobInfo(*row) for row in rows]

    def mark_blob_uploaded(self, sha256: str) -> None:
        """The server has this photo now."""
        self.mark_blobs_uploaded([sha256])

    def mark_blobs_uploaded(self, sha256s: Iterable[str]) -> None:
        """The server has these photos now (one transaction for them all).

        Nothing is lost if the device dies before this: the next round asks the server
        which photos it lacks before it sends any.
        """
        with self._transaction() as db:
            db.executemany(
                "UPDATE blobs SET uploaded = 1, problem = NULL WHERE sha256 = ?",
                [(sha,) for sha in sha256s],
            )

    def note_upload_started(self, sha256: str) -> None:
        """This photo's upload starts now (an empty marker file; no fsync needed)."""
        _check_sha256(sha256)
        (self.uploading_dir / sha256).touch()

    def note_upload_answered(self, sha256: str) -> None:
        """The server answered this photo's upload (whatever it said)."""
        (self.uploading_dir / sha256).unlink(missing_ok=True)

    def uploads_cut_short(self) -> set[str]:
        """Photos whose upload was started and never answered, in this app's life or in
        one that ended abruptly (the process killed, the tablet rebooted).

        The server may have received such a photo whole and still be storing it when
        the device asks which photos it lacks: the sync engine asks about these again
        after the others, so it does not send a photo the server already has.
        """
        return {path.name for path in self.uploading_dir.iterdir() if _is_sha256(path.name)}

    def park_blob(self, sha256: str, problem: Mapping[str, Any]) -> None:
        """The server refused this photo: stop sending it and keep why, for staff."""
        with self._transaction() as db:
            db.execute(
                "UPDATE blobs SET problem = ? WHERE sha256 = ?", (_dumps(dict(problem)), sha256)
            )

    def parked_blobs(self) -> list[ParkedBlob]:
        with self._lock:
            rows = self._db.execute(
                """SELECT sha256, size, content_type, problem FROM blobs
                   WHERE problem IS NOT NULL ORDER BY created_at, sha256"""
            ).fetchall()
        return [
            ParkedBlob(sha, size, ctype, json.loads(problem)) for sha, size, ctype, problem in rows
        ]

    def unpark_blob(self, sha256: str) -> None:
        """Staff pressed "retry": send this photo again on the next round."""
        with self._transaction() as db:
            db.execute("UPDATE blobs SET problem = NULL WHERE sha256 = ?", (sha256,))

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
        now = _utcnow_text()
        with self._transaction() as db:
            deleted = 0
            for chunk in _chunks(ids, 500):
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
        problem_json = _dumps(dict(problem))
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
        entries = [_pulled_entry(entry) for entry in changes]
        _check_cursor(next_since)
        now = _utcnow_text()
        with self._transaction() as db:
            self._sync_clock_from_disk(db)
            changed = sum(self._merge_pulled(db, entry, now) for entry in entries)
            self._set_meta(db, _META_HLC, self.clock.state())
            self._set_meta(db, _META_PULL_CURSOR, str(next_since))
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
        entries = [_pulled_entry(entry) for entry in records]
        _check_cursor(next_since)
        covered = sorted(set(kinds) | {entry[0] for entry in entries})
        listed = {(kind, record_id) for kind, record_id, _, _ in entries}
        now = _utcnow_text()
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
            self._set_meta(db, _META_HLC, self.clock.state())
            self._set_meta(db, _META_PULL_CURSOR, str(next_since))
        return changed

    def _merge_pulled(self, db: sqlite3.Connection, entry: _PulledEntry, now: str) -> bool:
        """Merge one pulled record field by field (newer HLC wins); True if it changed."""
        kind, record_id, incoming, incoming_clocks = entry
        row = db.execute(
            "SELECT fields, clocks FROM records WHERE kind = ? AND id = ?", (kind, record_id)
        ).fetchone()
        record, clocks = (json.loads(row[0]), json.loads(row[1])) if row else ({}, {})
        before = (dict(record), dict(clocks))
        beyond = limit_hlc(self.clock.latest_accepted_ms())  # a poisoned clock loses
        for name, value in incoming.items():
            # A field the server sends without a clock never beats a local edit.
            theirs, mine = incoming_clocks.get(name, ""), clocks.get(name, "")
            if name not in record or theirs > mine or (mine > beyond and theirs):
                record[name] = value
                clocks[name] = theirs
        for hlc in incoming_clocks.values():
            self.clock.observe(hlc)
        if row is not None and (record, clocks) == before:
            return False
        self._put_record(db, kind, record_id, record, clocks, now)
        return True

    # -- sync history ------------------------------------------------------------------

    def note_sync_success(self, at: datetime | None = None) -> None:
        """A whole sync round went through: remember when, and forget the last error."""
        at = at or datetime.now(UTC)
        with self._transaction() as db:
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

    # -- plumbing ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: ``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any error."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                # COMMIT itself can fail (disk full) and leave the transaction open.
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    def _tick(self, db: sqlite3.Connection) -> HLC:
        # The clock state on disk is authoritative: persist each tick with the change
        # it stamps, so no HLC is ever issued twice, even across a crash.
        self._sync_clock_from_disk(db)
        hlc = self.clock.tick()
        self._set_meta(db, _META_HLC, self.clock.state())
        return hlc

    def _sync_clock_from_disk(self, db: sqlite3.Connection) -> None:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (_META_HLC,)).fetchone()
        if row:
            self.clock.restore(row[0])

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    @staticmethod
    def _set_meta(db: sqlite3.Connection, key: str, value: str) -> None:
        db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    @staticmethod
    def _put_record(
        db: sqlite3.Connection,
        kind: str,
        record_id: str,
        record: dict[str, Any],
        clocks: dict[str, HLC],
        now: str,
    ) -> None:
        db.execute(
            """INSERT INTO records (kind, id, fields, clocks, updated_at) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (kind, id) DO UPDATE SET fields = excluded.fields,
                   clocks = excluded.clocks, updated_at = excluded.updated_at""",
            (kind, record_id, _dumps(record), _dumps(clocks), now),
        )

    @staticmethod
    def _has_blob(db: sqlite3.Connection, sha256: str) -> bool:
        if not _is_sha256(sha256):
            return False
        return db.execute("SELECT 1 FROM blobs WHERE sha256 = ?", (sha256,)).fetchone() is not None

    def _migrate(self) -> None:
        with self._lock:
            (version,) = self._db.execute("PRAGMA user_version").fetchone()
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.database_path} was written by a newer version of the app "
                    f"(schema {version}, this app knows {SCHEMA_VERSION}); update the app"
                )
            for number in range(version, SCHEMA_VERSION):
                with self._transaction() as db:
                    for statement in _MIGRATIONS[number]:
                        db.execute(statement)
                    # user_version lives in the file header: it commits with the tables.
                    db.execute(f"PRAGMA user_version = {number + 1}")
                log.info("Local store %s migrated to schema %d", self.database_path, number + 1)


# --- helpers ---------------------------------------------------------------------------

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


def _wire_change(
    change_id: str,
    kind: str,
    record_id: str,
    hlc: HLC,
    fields: dict[str, Any],
    base: dict[str, HLC | None] | None = None,
) -> dict[str, Any]:
    wire = {"change_id": change_id, "kind": kind, "id": record_id, "hlc": hlc, "fields": fields}
    if base is not None:
        wire["base"] = base
    return wire


_PulledEntry = tuple[str, str, dict[str, Any], dict[str, HLC]]


def _check_cursor(next_since: object) -> None:
    if isinstance(next_since, bool) or not isinstance(next_since, int) or next_since < 0:
        raise ValueError(f"next_since must be a whole number >= 0, got {next_since!r}")


def _pulled_entry(entry: Mapping[str, Any]) -> _PulledEntry:
    """Check one entry of a pulled page before anything of the page is written."""
    if not isinstance(entry, Mapping):
        raise ValueError(f"a pulled change must be an object, got {type(entry).__name__}")
    kind, record_id = entry.get("kind"), entry.get("id")
    fields, clocks = entry.get("fields"), entry.get("clocks") or {}
    if not isinstance(kind, str) or not kind or not isinstance(record_id, str) or not record_id:
        raise ValueError(f"a pulled change needs a kind and an id: {dict(entry)!r:.200}")
    if not isinstance(fields, dict) or not isinstance(clocks, dict):
        raise ValueError(f"pulled {kind} {record_id}: fields and clocks must be objects")
    for name, hlc in clocks.items():
        try:
            parse(hlc)
        except ValueError as exc:
            raise ValueError(f"pulled {kind} {record_id}, field {name}: {exc}") from None
    return kind, record_id, fields, clocks


def _check_name(what: str, value: object) -> None:
    if not isinstance(value, str) or not value or len(value) > 100:
        raise ValueError(f"{what} must be a non-empty string of at most 100 characters")


def _check_sha256(value: str) -> None:
    if not _is_sha256(value):
        raise ValueError(f"not a SHA-256 (64 lowercase hex digits): {value!r:.80}")


def _is_sha256(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _SHA256_HEX


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _json_copy(value: Any) -> Any:
    """A deep copy through JSON: refuses what has no JSON form (NaN, dates, objects)."""
    try:
        return json.loads(_dumps(value))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"field values must be plain JSON: {exc}") from None


def _same_json(stored: Any, wanted: Any) -> bool:
    # True == 1 in Python; a field holding true must not match 1.
    return type(stored) is type(wanted) and stored == wanted


def _json_path(field_name: str) -> str:
    return '$."' + field_name.replace('"', '""') + '"'


def _problem_summary(problem: Mapping[str, Any]) -> str:
    parts = [str(problem.get(key)) for key in ("status", "title") if problem.get(key)]
    return " ".join(parts) or "refused"


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _utcnow_text() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _file_holds(path: Path, sha256: str, size: int) -> bool:
    """Whether ``path`` exists with exactly this content (a damaged file is rewritten)."""
    try:
        if path.stat().st_size != size:
            return False
        digest = hashlib.sha256()
        with path.open("rb") as existing:
            for block in iter(lambda: existing.read(1 << 20), b""):
                digest.update(block)
    except FileNotFoundError:
        return False
    return digest.hexdigest() == sha256


def _write_atomically(path: Path, data: bytes) -> None:
    """Temp file in the same folder → fsync → rename → fsync folder."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".incoming-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent)
    _fsync_dir(path.parent.parent)  # the new ab/ folder's own entry, on first use


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable (POSIX; Windows has no directory handles)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
