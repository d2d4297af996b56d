"""After the shop's server was restored from an older backup: lose nothing.

A restore takes the server back in time: changes it acknowledged are gone, and its feed
hands out sequence numbers again that this device's cursor has already passed. The
server says which life of its feed it is in (``feed``: ``server_id``, ``epoch``,
``head``) on every pull, and refuses a push made for another epoch. When this device
sees a new epoch, or a cursor ahead of the feed's head, it

1. resets its pull cursor, so it reads the whole feed again;
2. offers every change it ever had acknowledged (``sent_changes``, kept by
   :meth:`LocalStore.acknowledge`) through ``POST /sync/changes/missing`` in batches,
   and puts those the server lacks back into the outbox, in their first order;
3. asks which of the photos it uploaded the server lacks (``POST /blobs/missing``) and
   queues those again;

then the ordinary round sends only what is missing. Until step 3 is done the store
remembers that a recovery is due, so a crash or a network failure midway only repeats
it. A friend of :class:`LocalStore`: it uses its transactions and its meta table.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from kiosk.services.local_store import LocalStore
from shared.sync_protocol import MAX_CHANGE_IDS_PER_ASK

log = logging.getLogger(__name__)

# Changes the server acknowledged are kept this long: a restore from a backup older
# than this loses what only this device held (the shop backs up nightly).
SENT_KEEP_DAYS = 60
ASK_CHANGES_CHUNK = MAX_CHANGE_IDS_PER_ASK
ASK_BLOBS_CHUNK = 1000  # at most MAX_HASHES_PER_ASK (shared.sync_protocol)
_META_SERVER_ID = "feed_server_id"
_META_EPOCH = "feed_epoch"
_META_RECOVERY_DUE = "feed_recovery_due"


def known_epoch(store: LocalStore) -> str:
    """The feed epoch this device last saw ("" before its first pull)."""
    with store._lock:
        return store._meta(_META_EPOCH) or ""


def recovery_due(store: LocalStore) -> bool:
    with store._lock:
        return bool(store._meta(_META_RECOVERY_DUE))


def note_feed(store: LocalStore, feed: Mapping[str, Any] | None) -> bool:
    """Take note of the server's ``feed``; True when the server was restored (or is
    another server): the cursor is reset and a recovery is due."""
    if not isinstance(feed, Mapping):
        return False
    server_id, epoch, head = feed.get("server_id"), feed.get("epoch"), feed.get("head")
    if not isinstance(server_id, str) or not isinstance(epoch, str) or not isinstance(head, int):
        return False
    with store._lock:
        known_server = store._meta(_META_SERVER_ID)
        known = store._meta(_META_EPOCH)
        cursor = int(store._meta("pull_cursor") or 0)
        restored = (known is not None and (known, known_server) != (epoch, server_id)) or (
            cursor > head
        )
        # Written (and fsynced) only when something changed: not on every page pulled.
        if restored or (known, known_server) != (epoch, server_id):
            with store._transaction() as db:
                store._set_meta(db, _META_SERVER_ID, server_id)
                store._set_meta(db, _META_EPOCH, epoch)
                if restored:
                    store._set_meta(db, "pull_cursor", "0")
                    store._set_meta(db, _META_RECOVERY_DUE, "1")
    if restored:
        log.warning(
            "The server's feed is new (epoch %s, head %s, our cursor %s): it was restored "
            "from a backup; offering it everything this device sent",
            epoch,
            head,
            cursor,
        )
    return restored


def recover(
    store: LocalStore,
    missing_changes: Callable[[Sequence[str]], list[str]],
    missing_blobs: Callable[[Sequence[str]], list[str]],
) -> tuple[int, int]:
    """Queue again what the server lacks; returns (changes, photos) queued again."""
    if not recovery_due(store):
        return 0, 0
    with store._lock:
        rows = store._db.execute("SELECT change_id FROM sent_changes ORDER BY seq")
        sent = [row[0] for row in rows]
    requeued = 0
    for start in range(0, len(sent), ASK_CHANGES_CHUNK):
        lacking = missing_changes(sent[start : start + ASK_CHANGES_CHUNK])
        requeued += _requeue(store, lacking)
    with store._lock:
        uploaded = [
            row[0]
            for row in store._db.execute(
                "SELECT sha256 FROM blobs WHERE uploaded = 1 "
                "AND sha256 IN (SELECT sha256 FROM blob_refs) ORDER BY created_at"
            )
        ]
    photos = 0
    for start in range(0, len(uploaded), ASK_BLOBS_CHUNK):
        lacking = missing_blobs(uploaded[start : start + ASK_BLOBS_CHUNK])
        with store._transaction() as db:
            db.executemany(
                "UPDATE blobs SET uploaded = 0 WHERE sha256 = ?", [(sha,) for sha in lacking]
            )
        photos += len(lacking)
    with store._transaction() as db:
        db.execute("DELETE FROM meta WHERE key = ?", (_META_RECOVERY_DUE,))
    log.warning("Recovery after a restore: %d changes and %d photos sent again", requeued, photos)
    return requeued, photos


def _requeue(store: LocalStore, change_ids: Sequence[str]) -> int:
    """Move these sent changes back into the outbox, with their first place in it."""
    if not change_ids:
        return 0
    marks = ",".join("?" * len(change_ids))
    with store._transaction() as db:
        moved = db.execute(
            "INSERT OR IGNORE INTO outbox (seq, change_id, kind, entity_id, hlc, fields, "
            "blob_refs, byte_size, base, created_at) SELECT seq, change_id, kind, entity_id, "
            f"hlc, fields, blob_refs, byte_size, base, created_at FROM sent_changes "
            f"WHERE change_id IN ({marks})",
            list(change_ids),
        ).rowcount
        db.execute(f"DELETE FROM sent_changes WHERE change_id IN ({marks})", list(change_ids))
    return moved


def forget_old_sent(store: LocalStore, now: datetime | None = None) -> int:
    """Drop acknowledged changes older than :data:`SENT_KEEP_DAYS` (at most once an
    hour); returns how many. Never while a recovery is due."""
    now = now or datetime.now(UTC)
    with store._lock:
        last = store._meta("sent_changes_pruned_at")
    if recovery_due(store) or (last and last > (now - timedelta(hours=1)).isoformat()):
        return 0
    cutoff = (now - timedelta(days=SENT_KEEP_DAYS)).isoformat(timespec="milliseconds")
    with store._transaction() as db:
        forgotten = db.execute("DELETE FROM sent_changes WHERE sent_at < ?", (cutoff,)).rowcount
        store._set_meta(db, "sent_changes_pruned_at", now.isoformat(timespec="milliseconds"))
    return forgotten
