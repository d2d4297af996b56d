"""Photos and signature images: content-addressed files ``blobs/ab/<sha256>``.

Each file is written to a temporary file in the same folder, fsynced, renamed into
place, and the folder fsynced, so a file under its final name is always complete. A
photo is written before the record that refers to it is saved, so a crash can leave a
temporary file or a photo nothing refers to: :meth:`BlobsMixin.remove_leftovers` clears
those when the store opens.

A small picture made with its records — the customer's signature at a check-in — is
instead *staged*: its bytes go into the ``staged_blobs`` table in the same transaction
as the records (``save_many(..., blobs=...)``), so the check-in costs one fsync, not
three, and is all there or not at all. The file is written from the table when first
needed (:meth:`BlobsMixin.blob_file`: the upload, a printed sheet) or when the store
next opens, and only then is the staged copy dropped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from kiosk.services.local_store.database import (
    StoreDatabase,
    check_sha256,
    dumps,
    is_sha256,
    utcnow_text,
)
from shared.atomic_file import TEMP_PREFIX, write_atomically

log = logging.getLogger(__name__)

# The image types a photo or a signature may have (the server accepts these only).
BLOB_CONTENT_TYPES: Mapping[str, bytes] = {
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
}


@dataclass(frozen=True)
class BlobInfo:
    """A photo or signature image in the blob store."""

    sha256: str
    size: int
    content_type: str


@dataclass(frozen=True)
class PreparedBlob:
    """An image checked and hashed, not stored yet (``BlobsMixin.prepare_blob``)."""

    info: BlobInfo
    data: bytes


@dataclass(frozen=True)
class ParkedBlob:
    """A photo the server refused (e.g. not a valid image), kept for staff to look at."""

    sha256: str
    size: int
    content_type: str
    problem: dict[str, Any]


class BlobsMixin(StoreDatabase):
    """The blob store and what the sync engine needs to know of each photo."""

    # -- blobs -------------------------------------------------------------------------

    @staticmethod
    def prepare_blob(data: bytes, content_type: str) -> PreparedBlob:
        """Check an image and hash it, writing nothing (``put_blob`` keeps it at once;
        ``save_many(..., blobs=[...])`` with the records that refer to it).

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
        return PreparedBlob(BlobInfo(sha, len(data), content_type), data)

    def put_blob(self, data: bytes, content_type: str) -> BlobInfo:
        """Keep a photo or signature image; durable on return. Same bytes, same file.

        Only JPEG and PNG are kept (``ValueError`` otherwise).
        """
        prepared = self.prepare_blob(data, content_type)
        data, sha = prepared.data, prepared.info.sha256
        path = self.blob_path(sha)
        UnfinishedSave.note_photo(self.data_dir, sha)
        if not _file_holds(path, sha, len(data)):
            write_atomically(path, data)
        info = BlobInfo(sha, len(data), content_type)
        # No fsync of its own: the file is durable already, and the row matters only
        # once a record refers to it, whose (durable) commit comes after it in the log.
        with self._transaction(durable=False) as db:
            db.execute(
                """INSERT OR IGNORE INTO blobs (sha256, content_type, size, uploaded, created_at)
                   VALUES (?, ?, ?, 0, ?)""",
                (sha, content_type, len(data), utcnow_text()),
            )
        return info

    def blob_path(self, sha256: str) -> Path:
        """Where the blob with this SHA-256 is (or would be) kept."""
        check_sha256(sha256)
        return self.blobs_dir / sha256[:2] / sha256

    def blob_file(self, sha256: str) -> Path:
        """The blob's file, written out first if it is still staged (see the module)."""
        path = self.blob_path(sha256)
        with self._lock:
            row = self._db.execute(
                "SELECT data FROM staged_blobs WHERE sha256 = ?", (sha256,)
            ).fetchone()
        if row is not None:
            self._write_staged(sha256, bytes(row[0]))
        return path

    def write_staged_blobs(self) -> int:
        """Write every staged picture out to its file (the store opening); how many."""
        with self._lock:
            shas = [sha for (sha,) in self._db.execute("SELECT sha256 FROM staged_blobs")]
        for sha in shas:
            self.blob_file(sha)
        return len(shas)

    def _write_staged(self, sha256: str, data: bytes) -> None:
        path = self.blob_path(sha256)
        if not _file_holds(path, sha256, len(data)):
            write_atomically(path, data)
        # The file is durable now: the staged copy may go (lost to a power cut, it is
        # written again from the table at the next opening).
        with self._transaction(durable=False) as db:
            db.execute("DELETE FROM staged_blobs WHERE sha256 = ?", (sha256,))

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
        with self._transaction(durable=False) as db:
            db.executemany(
                "UPDATE blobs SET uploaded = 1, problem = NULL WHERE sha256 = ?",
                [(sha,) for sha in sha256s],
            )

    def note_upload_started(self, sha256: str) -> None:
        """This photo's upload starts now (an empty marker file; no fsync needed)."""
        check_sha256(sha256)
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
        return {path.name for path in self.uploading_dir.iterdir() if is_sha256(path.name)}

    def park_blob(self, sha256: str, problem: Mapping[str, Any]) -> None:
        """The server refused this photo: stop sending it and keep why, for staff."""
        with self._transaction() as db:
            db.execute(
                "UPDATE blobs SET problem = ? WHERE sha256 = ?", (dumps(dict(problem)), sha256)
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

    # -- leftovers of a crash ----------------------------------------------------------

    def unfinished_save(self) -> UnfinishedSave:
        """Hold the photos of a save in progress: call it before the first ``put_blob``
        of a user action and ``end()`` it (or leave the ``with`` block) after its records
        are saved. :meth:`remove_leftovers` never takes a photo newer than the oldest
        save still held, so a picture waiting for its record is safe."""
        return UnfinishedSave(self.data_dir)

    def remove_leftovers(self) -> LeftoversRemoved:
        """Remove what a crash during a save left in ``blobs/``: temporary
        ``.incoming-*`` files and photos no record and no outbox entry refers to, older
        than the oldest unfinished save (or than now, when none is held).

        A photo some record or change still needs is never touched. Runs when the store
        opens; reads only the names of the files, and the age of those it may remove.
        """
        try:
            self.write_staged_blobs()  # saved with their records: their files come first
        except OSError as error:  # disk full: they stay staged, and are sent from there
            log.warning("Staged pictures not written out yet: %s", error)
        cutoff, held = UnfinishedSave.oldest(self.data_dir)
        with self._lock:
            needed = {sha for (sha,) in self._db.execute("SELECT sha256 FROM blob_refs")}
            needed.update(sha for (sha,) in self._db.execute("SELECT sha256 FROM staged_blobs"))
            for (refs,) in self._db.execute("SELECT blob_refs FROM outbox WHERE blob_refs != '[]'"):
                needed.update(json.loads(refs))
            known = {sha for (sha,) in self._db.execute("SELECT sha256 FROM blobs")}
        needed |= held
        temp_files: list[Path] = []
        photos: list[Path] = []
        with contextlib.suppress(FileNotFoundError):
            for folder in os.scandir(self.blobs_dir):
                if not folder.is_dir(follow_symlinks=False):
                    continue
                for entry in os.scandir(folder.path):
                    if entry.name.startswith(TEMP_PREFIX):
                        temp_files.append(Path(entry.path))
                    elif is_sha256(entry.name) and entry.name not in needed:
                        photos.append(Path(entry.path))
        temp_files = [path for path in temp_files if _older_than(path, cutoff)]
        photos = [path for path in photos if _older_than(path, cutoff)]
        gone = {path.name for path in photos}
        # Rows first (committed), files after: a crash in between leaves a file without
        # a row, which the next opening removes.
        orphan_rows = [
            sha for sha in known - needed if sha in gone or not self.blob_path(sha).exists()
        ]
        if orphan_rows:
            with self._transaction() as db:
                db.executemany(
                    "DELETE FROM blobs WHERE sha256 = ?", [(sha,) for sha in orphan_rows]
                )
        for path in (*temp_files, *photos):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        return LeftoversRemoved(temp_files=len(temp_files), photos=len(photos))

    def forget_blobs(self, sha256s: Iterable[str]) -> int:
        """Remove photos no record refers to any more (after pruning): row, then file."""
        candidates = sorted(set(sha256s))
        if not candidates:
            return 0
        with self._transaction() as db:
            unneeded = [
                sha
                for sha in candidates
                if db.execute("SELECT 1 FROM blob_refs WHERE sha256 = ? LIMIT 1", (sha,)).fetchone()
                is None
            ]
            db.executemany(
                "DELETE FROM staged_blobs WHERE sha256 = ?", [(sha,) for sha in unneeded]
            )
            db.executemany("DELETE FROM blobs WHERE sha256 = ?", [(sha,) for sha in unneeded])
        for sha in unneeded:
            self.blob_path(sha).unlink(missing_ok=True)
            (self.uploading_dir / sha).unlink(missing_ok=True)
        return len(unneeded)


@dataclass(frozen=True)
class LeftoversRemoved:
    """What :meth:`BlobsMixin.remove_leftovers` cleared."""

    temp_files: int
    photos: int


class UnfinishedSave:
    """A save whose photos are on disk and whose records are not saved yet (see
    :meth:`BlobsMixin.unfinished_save`). Kept per data folder, for this process: when
    it began, and the photos kept while it is held (a photo kept again keeps its old
    file, and so its old age)."""

    _lock = threading.Lock()
    _held: ClassVar[dict[Path, dict[int, tuple[float, set[str]]]]] = {}

    def __init__(self, data_dir: Path) -> None:
        self._folder = data_dir.resolve()
        self._key = id(self)
        with self._lock:
            self._held.setdefault(self._folder, {})[self._key] = (time.time(), set())

    def end(self) -> None:
        with self._lock:
            self._held.get(self._folder, {}).pop(self._key, None)

    def __enter__(self) -> UnfinishedSave:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.end()

    @classmethod
    def note_photo(cls, data_dir: Path, sha256: str) -> None:
        with cls._lock:
            for _, photos in cls._held.get(data_dir.resolve(), {}).values():
                photos.add(sha256)

    @classmethod
    def oldest(cls, data_dir: Path) -> tuple[float, set[str]]:
        """When the oldest save still held began (now, when none is), and the photos
        the saves held keep."""
        with cls._lock:
            held = list(cls._held.get(data_dir.resolve(), {}).values())
        photos = {sha for _, shas in held for sha in shas}
        return min((began for began, _ in held), default=time.time()), photos


def _older_than(path: Path, cutoff: float) -> bool:
    try:
        return path.stat().st_mtime < cutoff
    except FileNotFoundError:
        return False


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
