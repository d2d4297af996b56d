"""Which photo store a server uses: ``BLOB_STORE`` (an ``s3://`` bucket) or a folder.

Every process of a shop must use the same store: with several ``serve`` processes, a
bucket (or one folder they all mount as ``BLOB_DIR``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sync_server.sync.blob_bucket import SCHEME, BucketBlobStore
from sync_server.sync.blob_folder import FolderBlobStore
from sync_server.sync.blobs import BlobStore


def folder_root(config: Mapping[str, Any], instance_path: str | Path) -> Path:
    """The local photo folder: ``BLOB_DIR``, or ``blobs/`` in the instance folder."""
    return Path(config.get("BLOB_DIR") or Path(instance_path) / "blobs")


def blob_store_for(config: Mapping[str, Any], instance_path: str | Path) -> BlobStore:
    """The store the settings name; the folder by default."""
    where = str(config.get("BLOB_STORE") or "").strip()
    if not where or where == "folder":
        return FolderBlobStore(folder_root(config, instance_path))
    if where.startswith(SCHEME):
        # Uploads are spooled and checked on this machine's disk before they are sent.
        return BucketBlobStore.from_config(config, Path(instance_path) / "blob-spool")
    raise RuntimeError(f"BLOB_STORE must be empty (a folder) or s3://bucket/prefix, not {where!r}")
