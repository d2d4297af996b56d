"""The local store's SQLite database: connection, lock, transactions, migrations, clock.

SQLite in ``DATA_DIR/device.sqlite3`` with ``journal_mode=WAL`` and ``synchronous=FULL``:
kiosks get power-cycled, and with ``FULL`` a committed transaction survives a power cut,
not only a crash of the app. What is entered on the device (``save_many``) commits with
its fsync of the log. A write the device can have again if a power cut takes it (a page
pulled from the server, an acknowledgement, the row of a photo whose record is saved
after it) commits without one (``durable=False``): the log is one file written in
order, so the next durable commit makes it durable too, and a power cut can only take a
suffix of such writes, never a saved check-in.

Checkpoints (copying the log into the database file) run on a thread of their own,
not in a save: with a year of check-ins a save touches ~70 pages of the indexes, and
SQLite's automatic checkpoint, every 1,000 pages, made every 14th save on the kiosk
wait for copying and fsyncing some 4 MB. SQLite's own stays as a backstop at 4,000
pages, reached only when writes never pause (the checkpointer cannot then finish).

Threads: the UI thread (saving a check-in) and the sync thread (pushing, pulling) both
use one store. It holds **one connection guarded by a re-entrant lock** rather than a
connection per thread: SQLite admits one writer at a time anyway, the clock must be
ticked and persisted in commit order (two connections could commit clock states out of
order), and every locked section is a short local transaction: the sync engine never
holds the lock while it talks to the network.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from shared.hlc import HLC, HybridClock, wall_clock_ms
from shared.sync_protocol import is_sha256

log = logging.getLogger(__name__)

DATABASE_FILE = "device.sqlite3"
BLOBS_DIR = "blobs"
# A file per photo upload started and not yet answered (see LocalStore.uploads_cut_short).
UPLOADING_DIR = "uploading"

META_HLC = "hlc"


# The record fields the store keeps an index on: every look-up a screen or a sync round
# makes goes by one of these (a visit's walk-around, a walk-around's marks, a car's
# visits, the open visits, today's check-ins). ``find`` writes each as this very literal
# path, because SQLite uses an expression index only for the identical expression.
INDEXED_FIELDS: tuple[str, ...] = (
    "visit_id",
    "walkaround_id",
    "vehicle_id",
    "customer_id",
    "appointment_id",
    "status",
    "checked_in_at",
)


def field_expression(name: str) -> str:
    """The SQL of an indexed field of a record (``json_extract`` with a literal path)."""
    if name not in INDEXED_FIELDS:
        raise ValueError(f"{name!r} is not an indexed field")
    return f"json_extract(fields, '$.{name}')"


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
    # A year of a busy shop must not slow a screen down: index every look-up path.
    (
        *(
            f"CREATE INDEX records_by_{name} ON records (kind, {field_expression(name)})"
            for name in INDEXED_FIELDS
        ),
        "CREATE INDEX outbox_by_record ON outbox (kind, entity_id)",
        "CREATE INDEX blob_refs_by_record ON blob_refs (kind, record_id)",
    ),
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
    # A signature picture saved in the same transaction as its records (one fsync for
    # the check-in); written out to ``blobs/`` afterwards (``BlobsMixin.blob_file``).
    (
        """CREATE TABLE staged_blobs (
            sha256 TEXT PRIMARY KEY REFERENCES blobs (sha256),
            data BLOB NOT NULL
        )""",
    ),
)
SCHEMA_VERSION = len(_MIGRATIONS)

_PUT_RECORD = """INSERT INTO records (kind, id, fields, clocks, updated_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (kind, id) DO UPDATE SET fields = excluded.fields,
        clocks = excluded.clocks, updated_at = excluded.updated_at"""


class StoreDatabase:
    """The connection, its lock and the clock: what every part of the store builds on.

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
            # A new database gives pages freed by pruning back to the disk (prune.py);
            # SQLite takes this only before the first table is made.
            self._db.execute("PRAGMA auto_vacuum=INCREMENTAL")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            # Checkpoints are the checkpointer's job; SQLite's own, at a 16 MB log, only
            # backs it up when writes never pause (a first pull, pruning a year).
            self._db.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_CHECKPOINT_PAGES}")
            self._db.execute(f"PRAGMA journal_size_limit={LOG_SIZE_LIMIT}")
            self._checkpointer = LogCheckpointer(self.database_path)
            self._migrate()
            self.clock = HybridClock(node_id, now_ms=now_ms)
            saved_clock = self._meta(META_HLC)
            if saved_clock:
                self.clock.restore(saved_clock)
        except BaseException:
            self._db.close()
            raise

    # -- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        # The checkpointer's connection first: the last connection to close copies
        # the log into the database and removes it.
        self._checkpointer.stop()
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def node_id(self) -> str:
        return self.clock.node_id

    # -- plumbing ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """A write transaction: ``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any error.

        ``durable=False`` for what the device can have again after a power cut (see
        the module's notes): committed without an fsync of its own."""
        with self._lock:
            db = self._db
            if not durable:
                db.execute("PRAGMA synchronous=NORMAL")
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                    db.execute("COMMIT")
                except BaseException:
                    # COMMIT itself can fail (disk full) and leave the transaction open.
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
            finally:
                if not durable:
                    db.execute("PRAGMA synchronous=FULL")
        self._checkpointer.nudge()

    def _tick(self, db: sqlite3.Connection) -> HLC:
        # The clock state on disk is authoritative: persist each tick with the change
        # it stamps, so no HLC is ever issued twice, even across a crash.
        self._sync_clock_from_disk(db)
        hlc = self.clock.tick()
        self._set_meta(db, META_HLC, self.clock.state())
        return hlc

    def _sync_clock_from_disk(self, db: sqlite3.Connection) -> None:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (META_HLC,)).fetchone()
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
        db.execute(_PUT_RECORD, (kind, record_id, dumps(record), dumps(clocks), now))

    @staticmethod
    def _put_records(
        db: sqlite3.Connection,
        records: Mapping[tuple[str, str], tuple[dict[str, Any], dict[str, HLC]]],
        now: str,
    ) -> None:
        """:meth:`_put_record` for each of ``{(kind, id): (fields, clocks)}``."""
        db.executemany(
            _PUT_RECORD,
            [
                (kind, record_id, dumps(record), dumps(clocks), now)
                for (kind, record_id), (record, clocks) in records.items()
            ],
        )

    @staticmethod
    def _has_blob(db: sqlite3.Connection, sha256: str) -> bool:
        if not is_sha256(sha256):
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


class LogCheckpointer:
    """Copies the write-ahead log into the database file on a thread of its own.

    Nudged after every commit; waits :data:`CHECKPOINT_DELAY_SECONDS` for more, then
    runs a ``PASSIVE`` checkpoint on its own connection (it never waits for, nor
    blocks, a save). Started by the first nudge, so a store only read starts none."""

    def __init__(self, database_path: Path) -> None:
        self._path = database_path
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()

    def nudge(self) -> None:
        with self._guard:
            if self._stopping:
                return
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="store-checkpoint", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def stop(self) -> None:
        with self._guard:
            self._stopping = True
            thread = self._thread
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(30)

    def _run(self) -> None:
        try:
            db = sqlite3.connect(self._path, isolation_level=None, timeout=5)
        except sqlite3.Error:
            log.exception("The local store's log cannot be checkpointed")
            return
        try:
            while True:
                self._wake.wait()
                if not self._stopping:
                    time.sleep(CHECKPOINT_DELAY_SECONDS)  # let a burst of commits finish
                self._wake.clear()
                if self._stopping:  # set before the wake-up: never missed after clear()
                    return
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as error:  # busy, disk full: the next nudge retries
                    log.warning("Checkpoint of the local store failed: %s", error)
        finally:
            db.close()


CHECKPOINT_DELAY_SECONDS = 0.05
BACKSTOP_CHECKPOINT_PAGES = 4000
LOG_SIZE_LIMIT = 32 * 1024 * 1024  # bytes the log file keeps once checkpointed


# --- helpers shared by the parts of the store ------------------------------------------


def check_name(what: str, value: object) -> None:
    if not isinstance(value, str) or not value or len(value) > 100:
        raise ValueError(f"{what} must be a non-empty string of at most 100 characters")


def check_sha256(value: str) -> None:
    if not is_sha256(value):
        raise ValueError(f"not a SHA-256 (64 lowercase hex digits): {value!r:.80}")


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def json_copy(value: Any) -> Any:
    """A deep copy through JSON: refuses what has no JSON form (NaN, dates, objects)."""
    try:
        return json.loads(dumps(value))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"field values must be plain JSON: {exc}") from None


def chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def utcnow_text() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
