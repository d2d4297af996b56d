"""The device's durable local database: records, the outbox of changes, and photo files.

Everything a customer or an advisor enters is written here first, and only here, before
the screen says "saved"; the sync engine (``kiosk.services.sync``) later pushes the
outbox to the shop server and merges what the server publishes back in. See
``docs/sync.md`` for the protocol this store serves.

The store is one class, :class:`LocalStore`, built from one part per job:

* ``database``: the SQLite connection (WAL, ``synchronous=FULL``), its lock, write
  transactions (``BEGIN IMMEDIATE`` … ``COMMIT``), schema migrations and the clock;
* ``records``: saving a user action's records with their outbox entries in one
  transaction (``save_many``), and indexed look-ups;
* ``outbox``: the changes waiting for the server;
* ``blobs``: photo and signature files, and clearing what a crash left behind;
* ``pull``: merging the server's records, and the history of sync rounds;
* ``prune``: letting finished visits leave the device once the server has all of them.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from kiosk.services.local_store.blobs import (
    BLOB_CONTENT_TYPES,
    BlobInfo,
    BlobsMixin,
    ParkedBlob,
    PreparedBlob,
)
from kiosk.services.local_store.database import (
    BLOBS_DIR,
    DATABASE_FILE,
    INDEXED_FIELDS,
    SCHEMA_VERSION,
    UPLOADING_DIR,
)
from kiosk.services.local_store.outbox import Change, ChangeState, OutboxMixin, SyncCounts
from kiosk.services.local_store.prune import PruneMixin, PruneReport
from kiosk.services.local_store.pull import PullMixin, SyncHistory
from kiosk.services.local_store.records import RecordChange, RecordsMixin
from shared.hlc import wall_clock_ms

__all__ = [
    "BLOBS_DIR",
    "BLOB_CONTENT_TYPES",
    "DATABASE_FILE",
    "INDEXED_FIELDS",
    "SCHEMA_VERSION",
    "UPLOADING_DIR",
    "BlobInfo",
    "Change",
    "ChangeState",
    "LocalStore",
    "ParkedBlob",
    "PreparedBlob",
    "PruneReport",
    "RecordChange",
    "SyncCounts",
    "SyncHistory",
]


class LocalStore(RecordsMixin, OutboxMixin, PullMixin, PruneMixin, BlobsMixin):
    """The device's records, outbox and blob store in ``data_dir``.

    ``node_id`` is this device's id (the uid the server gave it when paired); it goes
    into every HLC this device issues. ``now_ms`` is the wall clock (tests fake it).
    Opening it clears what a crash left in the blob store (``remove_leftovers``).
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        node_id: str,
        *,
        now_ms: Callable[[], int] = wall_clock_ms,
    ) -> None:
        super().__init__(data_dir, node_id, now_ms=now_ms)
        try:
            self.remove_leftovers()
        except BaseException:
            self.close()
            raise
