"""The shop's nightly backup, and a restore that loses nothing devices still hold.

``checkin-server backup --to DIR`` writes one folder ``DIR/backup-<UTC time>/`` with

* the database: SQLite copied through its online backup API (a consistent copy while
  the server runs), or PostgreSQL dumped by ``pg_dump`` (custom format);
* every stored photo (read from the photo folder or the bucket) under
  ``photos/ab/<sha256>``, each checked against its hash while it is copied (a photo
  already in an earlier backup in ``DIR`` is hard-linked, not copied again: photos
  never change), listed in ``photos.sha256`` (``sha256sum -c``);
* ``manifest.json``: when, which database, the server's identity and feed epoch.

``checkin-server restore BACKUP`` (server stopped) puts the database back (SQLite
through the backup API again; PostgreSQL by ``pg_restore --clean``), brings back every
photo of the backup that is missing or damaged, into the folder or the bucket (never
deleting newer ones), migrates the schema, and starts a **new feed epoch**: devices
then offer the server everything it lacks, and it is whole again
(``sync_server.sync.epoch``, docs/sync.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import URL, Engine

from shared.atomic_file import atomic_write, fsync_file, fsync_folder, write_atomically
from sync_server.sync.blobs import BlobMissing, sniff_content_type
from sync_server.sync.tables import Blob

MANIFEST = "manifest.json"
PHOTO_LIST = "photos.sha256"
SQLITE_FILE = "database.sqlite3"
PG_DUMP_FILE = "database.pgdump"
BACKUP_PREFIX = "backup-"
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore could not be made; the message says why, for the shop."""


@dataclass(frozen=True)
class BackupReport:
    folder: Path
    database: str  # "sqlite" or "postgresql"
    photos: int
    photos_linked: int  # already in an earlier backup: hard-linked
    photos_missing: list[str]  # a row without its file (reported, not fatal)


@dataclass(frozen=True)
class RestoreReport:
    folder: Path
    photos_restored: int
    feed_epoch: str


# --- backup ------------------------------------------------------------------------------


def make_backup(app: Flask, to_dir: Path) -> BackupReport:
    """Write a new backup folder under ``to_dir`` and return what it holds."""
    from sync_server.sync.epoch import feed_info

    engine: Engine = app.extensions["db_engine"]
    started = datetime.now(UTC)
    to_dir.mkdir(parents=True, exist_ok=True)
    final = to_dir / f"{BACKUP_PREFIX}{started:%Y%m%dT%H%M%S%fZ}"
    work = Path(tempfile.mkdtemp(prefix=".backup-", dir=to_dir))
    try:
        # The feed's identity first: a backup never claims a head it does not hold.
        sessionmaker = app.extensions["db_sessionmaker"]
        with sessionmaker() as session:
            feed = feed_info(session)
        if engine.dialect.name == "sqlite":
            _sqlite_copy(_sqlite_path(engine), work / SQLITE_FILE)
        elif engine.dialect.name == "postgresql":
            _pg_dump(engine.url, work / PG_DUMP_FILE)
        else:
            raise BackupError(f"cannot back up a {engine.dialect.name} database")
        fsync_file(work / (SQLITE_FILE if engine.dialect.name == "sqlite" else PG_DUMP_FILE))
        # Photos after the database: every photo row in the copy has its file here.
        with sessionmaker() as session:
            hashes = list(session.scalars(select(Blob.sha256).order_by(Blob.sha256)))
        store = app.extensions["blob_store"]
        earlier = sorted(to_dir.glob(f"{BACKUP_PREFIX}*"), reverse=True)
        copied, linked, missing = [], 0, []
        for sha in hashes:
            target = work / "photos" / sha[:2] / sha
            target.parent.mkdir(parents=True, exist_ok=True)
            if _link_from_earlier(earlier, sha, target):
                linked += 1
            else:
                try:
                    content = store.open_original(sha)  # a file, or an object in a bucket
                except BlobMissing:
                    missing.append(sha)
                    continue
                with content.stream:
                    _copy_checked(content.stream, target, sha)
            copied.append(sha)
        write_atomically(
            work / PHOTO_LIST,
            "".join(f"{sha}  photos/{sha[:2]}/{sha}\n" for sha in copied),
            sync_folder=False,
        )
        manifest = {
            "format": 1,
            "made_at": started.isoformat(),
            "database": engine.dialect.name,
            "server_id": feed["server_id"],
            "feed_epoch": feed["epoch"],
            "feed_head": feed["head"],
            "photos": len(copied),
        }
        write_atomically(work / MANIFEST, json.dumps(manifest, indent=2) + "\n", sync_folder=False)
        _fsync_tree(work)
        os.replace(work, final)  # the whole folder at once: a backup is complete or absent
        fsync_folder(to_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return BackupReport(final, engine.dialect.name, len(copied), linked, missing)


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("this SQLite database is in memory: nothing to back up")
    return Path(database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent copy, even while the server writes."""
    with (
        contextlib.closing(sqlite3.connect(source, timeout=30)) as live,
        contextlib.closing(sqlite3.connect(target)) as copy,
    ):
        live.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password, and the environment that carries it."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _pg_dump(url: URL, target: Path) -> None:
    uri, env = _libpq(url)
    _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
          f"--file={target}", f"--dbname={uri}"], env)  # fmt: skip


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BackupError(
            f"{command[0]} is not installed (Debian: apt install postgresql-client)"
        ) from None
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")


def _link_from_earlier(earlier: list[Path], sha: str, target: Path) -> bool:
    for folder in earlier:
        candidate = folder / "photos" / sha[:2] / sha
        if candidate.is_file():
            try:
                os.link(candidate, target)
            except OSError:
                return False  # another file system, say: copy instead
            return True
    return False


def _copy_checked(reader: IO[bytes], target: Path, sha: str) -> None:
    """Copy what ``reader`` gives to ``target``, hashing on the way; refuse a damaged photo."""
    digest = hashlib.sha256()
    # The folder is fsynced by the caller: the whole backup's tree.
    with atomic_write(target, suffix=".part", sync_folder=False) as writer:
        while block := reader.read(_CHUNK):
            digest.update(block)
            writer.write(block)
        if digest.hexdigest() != sha:
            raise BackupError(f"photo {sha} on disk does not match its hash: it is damaged")


def _fsync_tree(root: Path) -> None:
    for folder, _dirs, _files in os.walk(root):
        fsync_folder(folder)


# --- restore -----------------------------------------------------------------------------


def read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackupError(f"{folder} is not a backup of this server ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != 1:
        raise BackupError(f"{folder}: unknown backup format")
    return manifest


def restore_backup(app: Flask, folder: Path) -> RestoreReport:
    """Put ``folder`` back as the server's data; the server must not be running."""
    from sync_server.migrate import upgrade
    from sync_server.sync.epoch import start_new_epoch

    manifest = read_manifest(folder)
    engine: Engine = app.extensions["db_engine"]
    if manifest["database"] != engine.dialect.name:
        raise BackupError(
            f"this backup holds a {manifest['database']} database; "
            f"the server uses {engine.dialect.name}"
        )
    photos = _photo_list(folder)
    engine.dispose()
    if engine.dialect.name == "sqlite":
        _sqlite_restore(folder / SQLITE_FILE, _sqlite_path(engine))
    else:
        uri, env = _libpq(engine.url)
        dump = str(folder / PG_DUMP_FILE)
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
              "--single-transaction", f"--dbname={uri}", dump], env)  # fmt: skip
    store = app.extensions["blob_store"]
    restored = 0
    for sha in photos:
        if store.matches(sha):
            continue  # newer photos and unchanged ones stay as they are
        kept = folder / "photos" / sha[:2] / sha
        with kept.open("rb") as reader:
            content_type = sniff_content_type(reader.read(8))
        try:
            store.put_file(sha, kept, content_type)  # checked against its hash, durable
        except ValueError:
            raise BackupError(f"photo {sha} in the backup does not match its hash") from None
        restored += 1
    upgrade(app)  # an older backup may have an older schema
    with app.extensions["db_sessionmaker"]() as session:
        epoch = start_new_epoch(session, restored_from=folder.name)
    return RestoreReport(folder, restored, epoch)


def _photo_list(folder: Path) -> list[str]:
    try:
        lines = (folder / PHOTO_LIST).read_text(encoding="ascii").splitlines()
    except OSError as error:
        raise BackupError(f"{folder}: no photo list ({error})") from None
    return [line.split()[0] for line in lines if line.strip()]


def _sqlite_restore(backup_file: Path, live: Path) -> None:
    """Copy the backup over the live database through the backup API (which also
    takes care of its write-ahead log), checking the backup first."""
    with contextlib.closing(sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)) as source:
        (verdict,) = source.execute("PRAGMA integrity_check").fetchone()
        if verdict != "ok":
            raise BackupError(f"{backup_file} is damaged: {verdict}")
        with contextlib.closing(sqlite3.connect(live, timeout=30)) as target:
            source.backup(target)
