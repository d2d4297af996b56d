"""The one way this product replaces a file on disk: whole, or not at all, and durably.

A file is written to a temporary file in a folder on the same disk, flushed and
fsynced, renamed over its final name, and the folder fsynced so that the rename itself
survives a power cut. Until the rename the final name holds the previous file (or none);
after it, the whole new one. On any error the temporary file is removed and the previous
file is left as it was.

Used by the device (photos and signature pictures in ``blobs/``, its settings and
advisors' files, printed sheets) and the server (uploaded photos, thumbnails, backups
and their restore). Crash clean-ups know the temporary files by ``TEMP_PREFIX`` and
their folder's suffix.

Folders: a folder made for a file is made durable too (its entry in its parent is
fsynced), once per folder and process.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = [
    "TEMP_PREFIX",
    "TEMP_SUFFIX",
    "atomic_write",
    "ensure_folder",
    "fsync_file",
    "fsync_folder",
    "spool_file",
    "write_atomically",
]

# What a temporary file's name starts and ends with (unless its caller names another
# suffix): clean-ups after a crash remove such files.
TEMP_PREFIX = ".incoming-"
TEMP_SUFFIX = ".tmp"

_durable_folders: set[Path] = set()
_durable_lock = threading.Lock()


def fsync_folder(folder: str | os.PathLike[str]) -> None:
    """Make the renames and new names in ``folder`` durable (POSIX; no-op on Windows)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def fsync_file(path: str | os.PathLike[str]) -> None:
    """Flush a file another program wrote (a database copy, a dump) to the disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def ensure_folder(folder: str | os.PathLike[str], mode: int = 0o700) -> Path:
    """``folder``, made if need be (parents too), with its own name durable.

    The entry in the parent is fsynced once per folder and process, also when the
    folder was already there: a process that died before syncing it may have made it.
    """
    path = Path(folder)
    with _durable_lock:
        if path in _durable_folders:
            return path
    path.mkdir(mode=mode, parents=True, exist_ok=True)
    fsync_folder(path.parent)
    with _durable_lock:
        _durable_folders.add(path)
    return path


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str],
    *,
    temp_folder: str | os.PathLike[str] | None = None,
    suffix: str = TEMP_SUFFIX,
    sync_folder: bool = True,
    folder_mode: int = 0o700,
) -> Iterator[IO[bytes]]:
    """A binary file to write ``path``'s new content into; it replaces ``path`` on exit.

    The file's ``name`` is the temporary file's path, for checks before it is kept;
    an exception inside the block keeps the previous file and removes the temporary
    one. ``temp_folder`` (on the same disk) holds the temporary file instead of
    ``path``'s own folder. With ``sync_folder=False`` the caller fsyncs the folder
    itself (:func:`fsync_folder`), once for many files. The temporary file, and so the
    new file, is readable by its owner only (0600).
    """
    target = Path(path)
    folder = ensure_folder(target.parent, folder_mode)
    staging = ensure_folder(temp_folder, folder_mode) if temp_folder is not None else folder
    temp = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed or removed below
        mode="wb", dir=staging, prefix=TEMP_PREFIX, suffix=suffix, delete=False
    )
    try:
        with temp:
            yield temp
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp.name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp.name)
        raise
    if sync_folder:
        fsync_folder(folder)


@contextlib.contextmanager
def spool_file(
    folder: str | os.PathLike[str], *, suffix: str = TEMP_SUFFIX, folder_mode: int = 0o700
) -> Iterator[IO[bytes]]:
    """A temporary file in ``folder`` that never takes a final name: written, read back
    and removed on exit (the server's upload checked on its own disk before it is put
    into a bucket). Named like the others, so a crash's clean-up finds it."""
    staging = ensure_folder(folder, folder_mode)
    with tempfile.NamedTemporaryFile(
        mode="w+b", dir=staging, prefix=TEMP_PREFIX, suffix=suffix
    ) as temp:
        yield temp


def write_atomically(
    path: str | os.PathLike[str],
    content: bytes | str,
    *,
    sync_folder: bool = True,
    folder_mode: int = 0o700,
) -> Path:
    """Replace ``path`` with ``content`` (text is written as UTF-8); returns the path."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    with atomic_write(path, sync_folder=sync_folder, folder_mode=folder_mode) as file:
        file.write(data)
    return Path(path)
