"""The changes feed: one sequence number per write, in commit order, and its pages.

Every record carries the sequence number of its last change; a device reads the feed
from the last number it saw (``feed_page``). Writers take the feed lock first
(:func:`lock_feed`), so numbers are handed out in the order transactions commit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, event, select, update
from sqlalchemy.orm import Session

from sync_server.models import SyncCounter, SyncRecord

_FEED_COUNTER = "sync_feed_counter"


def lock_feed(session: Session) -> None:
    """Take the writers' lock first thing in a writing transaction (see ``SyncCounter``).

    Holding it, this transaction alone hands out sequence numbers: it keeps the counter
    row and counts in memory; the row is written with the transaction's flush.
    """
    locked = session.execute(
        update(SyncCounter).where(SyncCounter.id == 1).values(value=SyncCounter.value)
    )
    if locked.rowcount == 0:
        session.add(SyncCounter(id=1, value=0))
        session.flush()
    counter = session.get(SyncCounter, 1, populate_existing=True)
    session.info[_FEED_COUNTER] = counter


@event.listens_for(Session, "after_transaction_end")
def _forget_feed_counter(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_FEED_COUNTER, None)


_BATCH_SEQ = "sync_feed_batch_seq"


def count_in_memory(session: Session) -> None:
    """Hand out the following numbers in memory (a batch): :func:`write_counted` writes
    the last one to the counter row once, instead of once per change."""
    session.info[_BATCH_SEQ] = None


def write_counted(session: Session) -> None:
    """Write the last number counted in memory to the counter row; counting in memory ends."""
    seq = session.info.pop(_BATCH_SEQ, None)
    if seq is not None:
        session.info[_FEED_COUNTER].value = seq


def stop_counting_in_memory(session: Session) -> None:
    session.info.pop(_BATCH_SEQ, None)


def next_seq(session: Session) -> int:
    counter: SyncCounter | None = session.info.get(_FEED_COUNTER)
    if counter is None:  # no lock taken by this transaction: take the next one in SQL
        return session.execute(
            update(SyncCounter)
            .where(SyncCounter.id == 1)
            .values(value=SyncCounter.value + 1)
            .returning(SyncCounter.value)
        ).scalar_one()
    if _BATCH_SEQ in session.info:  # counted here, written to the row once, by a batch
        seq = session.info[_BATCH_SEQ]
        seq = (counter.value if seq is None else seq) + 1
        session.info[_BATCH_SEQ] = seq
        return seq
    counter.value += 1
    return counter.value


@dataclass(frozen=True)
class FeedPage:
    """One page of the changes feed: its entries, where it ends, and whether more follow."""

    changes: list[dict[str, Any]]
    next_since: int
    more: bool


# A page skips the reader's own echoes without counting them, but reads at most this
# many records per entry it may return, so that a page stays quick to make.
FEED_SCAN_FACTOR = 10


def feed_page(
    session: Session, since: int, kinds: frozenset[str], limit: int, *, reader: str = ""
) -> FeedPage:
    """The records of ``kinds`` changed after ``since``, in feed order: at most ``limit``.

    A record whose every field ``reader`` (a device uid) wrote itself holds nothing it
    lacks: it is left out (its fields are not even decoded) and does not count towards
    ``limit``, but the page ends after it, so the reader's cursor moves past it. A page
    reads at most ``FEED_SCAN_FACTOR * limit`` records; ``more`` says whether others
    follow.
    """
    query = (
        select(
            SyncRecord.seq,
            SyncRecord.kind,
            SyncRecord.id,
            SyncRecord.clocks,
            cast(SyncRecord.fields, String),
        )
        .where(SyncRecord.kind.in_(sorted(kinds)))
        .order_by(SyncRecord.seq)
        .limit(limit + 1)
    )
    own = f"-{reader}"
    changes: list[dict[str, Any]] = []
    next_since, scanned = since, 0
    while True:
        rows = session.execute(query.where(SyncRecord.seq > next_since)).all()
        for seq, kind, record_id, clocks, fields in rows:
            if len(changes) == limit or scanned == FEED_SCAN_FACTOR * limit:
                return FeedPage(changes, next_since, True)
            next_since, scanned = seq, scanned + 1
            if reader and clocks and all(c.endswith(own) for c in clocks.values()):
                continue
            changes.append(
                {"seq": seq, "kind": kind, "id": record_id, "fields": json.loads(fields),
                 "clocks": clocks}
            )  # fmt: skip
        if len(rows) <= limit:
            return FeedPage(changes, next_since, False)
