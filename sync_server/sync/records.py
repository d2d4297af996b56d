"""The sync engine's public face: what the rest of the server calls to write synced
records and to read the changes feed.

The engine is split by job, one module each:

- ``changes``: a change as a device sends it, its checks of form, ``ChangeRefused``;
- ``policy``: who may send what (kinds per caller, the visit's status steps);
- ``feed``: the writers' lock, sequence numbers and the pages of the changes feed;
- ``batch``: a push applied as one batch (prefetch, bulk INSERT of new rows);
- ``projection_hook``: where a change meets its typed table (``projections``);
- ``merge``: per-field last-writer-wins, conflicts, the server's clock and own edits.

Callers outside ``sync_server/sync/`` import from here, so the split stays the engine's
own business.
"""

from __future__ import annotations

from sync_server.sync.batch import cached_get, end_batch, flush_batch
from sync_server.sync.changes import Change, ChangeRefused, blob_refs, read_change
from sync_server.sync.feed import (
    FeedPage,
    feed_page,
    lock_feed,
    lock_records,
    number_records,
    start_feed_writes,
)
from sync_server.sync.merge import (
    SERVER_ORIGIN,
    _server_clock,  # trust.init_app sets how far ahead it may run
    apply_change,
    put_server_record,
    server_hlc,
    start_batch,
    update_server_record,
)
from sync_server.sync.policy import DEVICE_KINDS, KIOSK_KINDS, latest_quote_is_approved

__all__ = [
    "DEVICE_KINDS",
    "KIOSK_KINDS",
    "SERVER_ORIGIN",
    "Change",
    "ChangeRefused",
    "FeedPage",
    "_server_clock",
    "apply_change",
    "blob_refs",
    "cached_get",
    "end_batch",
    "feed_page",
    "flush_batch",
    "latest_quote_is_approved",
    "lock_feed",
    "lock_records",
    "number_records",
    "put_server_record",
    "read_change",
    "server_hlc",
    "start_batch",
    "start_feed_writes",
    "update_server_record",
]
