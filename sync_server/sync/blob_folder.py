"""The photo store in a folder on the server's disk: the default.

Files under ``root``: ``originals/ab/<sha256>`` and ``thumbnails/ab/<sha256>.jpg``, with
uploads spooled in ``incoming/``. An upload is fsynced and renamed into place only once
it has passed every check (``shared.atomic_file``); its folder is fsynced before its
row is written, so a row never names a file a power cut could take away.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from shared.atomic_file import atomic_write, fsync_folder
from sync_server.sync.blobs import (
    CHUNK_BYTES,
    STALE_TEMP_S,
    BlobContent,
    BlobMissing,
    BlobStore,
    _remove_older_than,
    thumbnail_jpeg,
)


class FolderBlobStore(BlobStore):
    """Files under ``root`` (``BLOB_DIR``, or ``blobs/`` in the instance folder)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        super().__init__(root / "incoming")

    def describe(self) -> str:
        return f"folder {self.root}"

    def original_path(self, sha256: str) -> Path:
        return self.root / "originals" / sha256[:2] / sha256

    def thumbnail_path(self, sha256: str) -> Path:
        return self.root / "thumbnails" / sha256[:2] / f"{sha256}.jpg"

    def has(self, sha256: str) -> bool:
        return self.original_path(sha256).exists()

    def open_original(self, sha256: str) -> BlobContent:
        path = self.original_path(sha256)
        try:
            stream = path.open("rb")
        except FileNotFoundError:
            raise BlobMissing(sha256) from None
        return BlobContent(stream, path.stat().st_size, path)

    def remove_stale_temp_files(self, older_than_s: float = STALE_TEMP_S) -> int:
        """Also a half-written thumbnail ``.part`` a killed server left behind."""
        removed = super().remove_stale_temp_files(older_than_s)
        return removed + _remove_older_than(
            list(self.root.glob("thumbnails/*/*.part")), older_than_s
        )

    @contextlib.contextmanager
    def _receiving(self, sha256: str, content_type: str, sync_folder: bool) -> Iterator[IO[bytes]]:
        with atomic_write(
            self.original_path(sha256),
            temp_folder=self.incoming,
            suffix=".part",
            sync_folder=sync_folder,
        ) as temp_file:
            yield temp_file

    def sync_folders(self, sha256s: Iterable[str]) -> None:
        """Make the names of these originals durable (one fsync per folder)."""
        for folder in {self.original_path(sha).parent for sha in sha256s}:
            fsync_folder(folder)

    def make_thumbnail(self, sha256: str) -> None:
        self.thumbnail_file(sha256)

    def thumbnail_file(self, sha256: str) -> Path:
        """The thumbnail's file, made now if it is not there yet."""
        target = self.thumbnail_path(sha256)
        if target.exists():
            return target
        jpeg = thumbnail_jpeg(self.original_path(sha256))
        # Not fsynced folder by folder: a thumbnail lost in a power cut is made again.
        with atomic_write(target, suffix=".part", sync_folder=False) as temp_file:
            temp_file.write(jpeg)
        return target

    def thumbnail_bytes(self, sha256: str) -> bytes:
        return self.thumbnail_file(sha256).read_bytes()

    def put_file(self, sha256: str, path: Path, content_type: str) -> None:
        target = self.original_path(sha256)
        digest = hashlib.sha256()
        with path.open("rb") as reader, atomic_write(target, suffix=".part") as writer:
            while block := reader.read(CHUNK_BYTES):
                digest.update(block)
                writer.write(block)
            if digest.hexdigest() != sha256:
                raise ValueError(f"{path} does not match its hash {sha256}: it is damaged")
