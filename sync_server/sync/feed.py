"""The changes feed: one sequence number per write, in commit order, and its pages.

Every record carries the sequence number of its last change; a device reads the feed
from the last number it saw (``feed_page``). A reader must never see a number while a
smaller one is still to commit, or its cursor would pass it for good. So numbers are
handed out in the order transactions commit:

* **Desk and back-office writers** take the feed lock first (:func:`lock_feed`, the
  ``sync_counter`` row) and hold it to their commit; they are short, and some of them
  (booking) also rely on it to check capacity alone.
* **A device's push on PostgreSQL** (:func:`start_feed_writes`) takes no lock for its
  work: several processes apply pushes at once. Its records get *draft* numbers
  (negative, unique among the open transactions: the backend's process id times 512
  plus a count; no reader ever sees one, since they only exist inside the open
  transaction). Just before its commit (:func:`_number_drafts`) it takes the counter
  row, numbers its drafts after the last number given out, and commits: the counter
  row lock is held for two statements and the commit, not for the push. Two pushes
  that change the same record wait for each other (an advisory lock per record,
  :func:`lock_records`), as a lost update would otherwise follow.

Why no reader skips a number: numbers are given out only under the counter row lock,
held until the transaction that took them is committed and visible (PostgreSQL makes
a transaction visible before it releases its locks). So when a transaction takes
numbers, every transaction that took smaller ones has committed; a snapshot that shows
number *n* shows every number below *n* that will ever exist. Every wait is bounded:
``lock_timeout`` (``FEED_LOCK_TIMEOUT_MS``) answers 503 with ``Retry-After``
(``sync_server.problems``), and a process frozen while it holds the counter row loses
its database session after ``FEED_TAIL_IDLE_TIMEOUT_MS`` (the push rolls back; its
device sends it again). SQLite has one writer at a time: a push takes the feed lock
first, as before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import String, cast, event, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from sync_server.sync.bulk_rows import insert_rows
from sync_server.sync.tables import SyncCounter, SyncRecord

_FEED_COUNTER = "sync_feed_counter"
_DRAFTS = "sync_feed_drafts"

# How long a writer waits for a lock on PostgreSQL before its request answers 503.
FEED_LOCK_TIMEOUT_MS = 3000
# A process frozen between numbering its drafts and its commit loses its session then.
FEED_TAIL_IDLE_TIMEOUT_MS = 2000
# Draft numbers per transaction: a push has at most 500 changes.
DRAFTS_PER_TRANSACTION = 512


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def bound_lock_waits(session: Session, timeout_ms: int = FEED_LOCK_TIMEOUT_MS) -> None:
    """On PostgreSQL, no lock of this transaction is waited for longer than ``timeout_ms``
    (``SET LOCAL lock_timeout``): the request answers 503 with ``Retry-After`` instead."""
    if is_postgresql(session):
        session.execute(text(f"SET LOCAL lock_timeout = {int(timeout_ms)}"))


def lock_feed(session: Session) -> None:
    """Take the writers' lock first thing in a writing transaction (see ``SyncCounter``).

    Holding it, this transaction alone hands out sequence numbers: it keeps the counter
    row and counts in memory; the row is written with the transaction's flush. On
    PostgreSQL the wait for it is bounded (:func:`bound_lock_waits`).
    """
    if _DRAFTS in session.info:
        return  # a push numbers its records at its commit (``start_feed_writes``)
    bound_lock_waits(session)
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
        session.info.pop(_DRAFTS, None)
        session.info.pop(_AT_NUMBERING, None)


_AT_NUMBERING = "sync_feed_at_numbering"


def at_numbering(session: Session, work: Callable[[Session], None]) -> bool:
    """In a push on PostgreSQL, do ``work`` at its commit, right after it has taken the
    counter row (no desk writer is then between its lock and its commit) and returns
    True; elsewhere the transaction holds the feed lock already: returns False (the
    caller does the work now)."""
    if _DRAFTS not in session.info:
        return False
    session.info.setdefault(_AT_NUMBERING, []).append(work)
    return True


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


def start_feed_writes(session: Session) -> None:
    """Begin a device's push: on SQLite take the feed lock (one writer at a time); on
    PostgreSQL number this transaction's records at its commit (drafts until then), so
    that pushes through several processes are applied at the same time."""
    if not is_postgresql(session):
        lock_feed(session)
        return
    bound_lock_waits(session)
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    session.info[_DRAFTS] = _Drafts(pid)


class _Drafts:
    """The draft numbers this transaction gave out, in order, and the records new in
    it, which are inserted at its commit with their numbers (:func:`insert_at_commit`)."""

    def __init__(self, backend_pid: int) -> None:
        self.first = -(backend_pid * DRAFTS_PER_TRANSACTION)  # fits a 32-bit integer
        self.given: list[int] = []
        self.new_records: dict[tuple[str, str], Any] = {}

    def holds(self, number: int) -> bool:
        """Whether ``number`` is a draft this transaction gave out and has not numbered."""
        return self.first - len(self.given) <= number < self.first

    def next(self) -> int:
        if len(self.given) == DRAFTS_PER_TRANSACTION - 1:
            raise RuntimeError("too many records in one push for its draft numbers")
        draft = self.first - len(self.given) - 1
        self.given.append(draft)
        return draft


def numbers_at_commit(session: Session) -> bool:
    """Whether this transaction's records get their feed numbers at its commit (a push
    on PostgreSQL)."""
    return _DRAFTS in session.info


def insert_at_commit(session: Session, rows: list[Any]) -> None:
    """Keep these new sync records (a batch's ``NewRow`` values, their numbers drafts)
    to be inserted when they are numbered (:func:`number_records`): each row is written
    once, with its number, instead of inserted with a draft and updated (a second copy
    of the row and of its index entries). Until then :func:`held_record` finds them.
    Not inside a savepoint: a change applied alone must fail in its own."""
    drafts: _Drafts = session.info[_DRAFTS]
    drafts.new_records.update(((row.kind, row.id), row) for row in rows)


def held_record(session: Session, key: tuple[str, str]) -> Any | None:
    """A new sync record of this transaction not inserted yet (``insert_at_commit``)."""
    drafts: _Drafts | None = session.info.get(_DRAFTS)
    return drafts.new_records.get(key) if drafts is not None else None


def record_lock_key(kind: str, record_id: str) -> int:
    """The advisory lock key (a signed 64-bit number) of one record."""
    digest = hashlib.blake2b(f"sync-record:{kind}:{record_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_records(session: Session, keys: list[tuple[str, str]]) -> None:
    """In a push on PostgreSQL, lock the records it changes (existing or not) until its
    commit, in one order for every transaction (so two never wait for each other in a
    circle); a push that changes none of the same records goes on at the same time."""
    if _DRAFTS not in session.info or not keys:
        return
    lock_keys = sorted({record_lock_key(kind, record_id) for kind, record_id in keys})
    session.execute(
        text(
            "SELECT count(pg_advisory_xact_lock(k)) FROM "
            "(SELECT k FROM unnest(CAST(:keys AS bigint[])) AS k ORDER BY k) AS ordered"
        ),
        {"keys": lock_keys},
    )


@event.listens_for(Session, "before_commit")
def _number_drafts(session: Session) -> None:
    """Give this push's records their feed numbers, last thing before its commit."""
    if not session.in_nested_transaction():
        number_records(session)


def number_records(session: Session) -> None:
    """In a push on PostgreSQL, last thing before its commit: take the counter row,
    give the push's records their numbers (inserting its new records, numbered) and
    hold the row to the commit. Called by the push itself where a failure of the
    insert can still be told apart (``sync.api``), else at the commit; once only."""
    drafts: _Drafts | None = session.info.get(_DRAFTS)
    if drafts is None or not drafts.given:
        return
    session.flush()
    count = len(drafts.given)
    idle_ms = FEED_TAIL_IDLE_TIMEOUT_MS
    session.execute(text(f"SET LOCAL idle_in_transaction_session_timeout = {idle_ms}"))
    last = session.execute(
        text(
            "INSERT INTO sync_counter (id, value) VALUES (1, :count) "
            "ON CONFLICT (id) DO UPDATE SET value = sync_counter.value + :count "
            "RETURNING value"
        ),
        {"count": count},
    ).scalar_one()
    for work in session.info.pop(_AT_NUMBERING, []):
        work(session)
    numbers = {draft: last - count + 1 + index for index, draft in enumerate(drafts.given)}
    held = list(drafts.new_records.values())
    drafts.given.clear()
    drafts.new_records.clear()
    if held:
        for row in held:
            row.seq = numbers.pop(row.seq)
        insert_rows(session, SyncRecord.__table__, [row.column_values() for row in held])
    if numbers:  # records written with a draft (they existed before, or in a savepoint)
        session.execute(
            text(
                "UPDATE sync_records SET seq = numbered.seq FROM "
                "(SELECT unnest(CAST(:drafts AS integer[])) AS draft, "
                "unnest(CAST(:numbers AS integer[])) AS seq) AS numbered "
                "WHERE sync_records.seq = numbered.draft"
            ),
            {"drafts": list(numbers), "numbers": list(numbers.values())},
        )
        for instance in list(session.identity_map.values()):
            if isinstance(instance, SyncRecord) and instance.seq in numbers:
                set_committed_value(instance, "seq", numbers[instance.seq])


def next_seq(session: Session, current: int | None = None) -> int:
    """The number of a record's new change; ``current`` is the record's number now.

    In a push on PostgreSQL a record changed twice keeps the draft of its first change
    (its place among the push's records, which readers see all at once anyway): no
    number is left without a record, and a new record stays one row to insert."""
    drafts: _Drafts | None = session.info.get(_DRAFTS)
    if drafts is not None:
        if current is not None and drafts.holds(current):
            return current
        return drafts.next()
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


class FeedEntry(NamedTuple):
    """One record of a page of the feed, its fields as the database holds them: JSON
    text, passed on to the reader as it is (a page is hundreds of records; decoding
    and encoding them again would cost more than reading them)."""

    seq: int
    kind: str
    id: str
    clocks_json: str
    fields_json: str

    def fields(self) -> dict[str, Any]:
        return json.loads(self.fields_json)

    def written_only_by(self, device: str) -> bool:
        """Whether device ``device`` (its uid) stamped every field: an echo of its own
        writes, which it lacks nothing of."""
        own = f"-{device}"
        if own not in self.clocks_json:
            return False
        stamps = json.loads(self.clocks_json).values()
        return bool(stamps) and all(stamp.endswith(own) for stamp in stamps)

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "kind": self.kind,
            "id": self.id,
            "fields": self.fields(),
            "clocks": json.loads(self.clocks_json),
        }

    def as_json(self) -> str:
        """The entry as the pull answer carries it (the members of :meth:`as_dict`)."""
        return (
            f'{{"seq":{self.seq},"kind":{json.dumps(self.kind)},"id":{json.dumps(self.id)},'
            f'"fields":{self.fields_json},"clocks":{self.clocks_json}}}'
        )


@dataclass(frozen=True)
class FeedPage:
    """One page of the changes feed: its entries, where it ends, and whether more follow."""

    entries: list[FeedEntry]
    next_since: int
    more: bool

    @property
    def changes(self) -> list[dict[str, Any]]:
        return [entry.as_dict() for entry in self.entries]

    def as_json(self, related: Sequence[FeedEntry] = (), **members: Any) -> str:
        """The pull answer: the page with ``related`` entries (if any) and these other
        members, as JSON; the entries' fields and clocks go as stored (JSON text, not
        decoded and encoded again: a page is hundreds of records)."""
        parts = [
            f'"changes":[{",".join(entry.as_json() for entry in self.entries)}]',
            f'"next_since":{self.next_since}',
            f'"more":{json.dumps(self.more)}',
            *(f"{json.dumps(name)}:{json.dumps(value)}" for name, value in members.items()),
        ]
        if related:
            parts.append(f'"related":[{",".join(entry.as_json() for entry in related)}]')
        return "{" + ",".join(parts) + "}"


# A page skips the reader's own echoes without counting them, but reads at most this
# many records per entry it may return, so that a page stays quick to make.
FEED_SCAN_FACTOR = 10


def feed_page(
    session: Session, since: int, kinds: frozenset[str], limit: int, *, reader: str = ""
) -> FeedPage:
    """The records of ``kinds`` changed after ``since``, in feed order: at most ``limit``.

    A record whose every field ``reader`` (a device uid) wrote itself holds nothing it
    lacks: it is left out and does not count towards ``limit``, but the page ends after
    it, so the reader's cursor moves past it. A page reads at most
    ``FEED_SCAN_FACTOR * limit`` records; ``more`` says whether others follow. Fields
    and clocks stay JSON text (:class:`FeedEntry`); only the clocks are read, for the
    echoes.
    """
    query = (
        select(
            SyncRecord.seq,
            SyncRecord.kind,
            SyncRecord.id,
            cast(SyncRecord.clocks, String),
            cast(SyncRecord.fields, String),
        )
        .where(SyncRecord.kind.in_(sorted(kinds)))
        .order_by(SyncRecord.seq)
        .limit(limit + 1)
    )
    entries: list[FeedEntry] = []
    next_since, scanned = since, 0
    while True:
        rows = session.execute(query.where(SyncRecord.seq > next_since)).all()
        for row in rows:
            if len(entries) == limit or scanned == FEED_SCAN_FACTOR * limit:
                return FeedPage(entries, next_since, True)
            entry = FeedEntry(*row)
            next_since, scanned = entry.seq, scanned + 1
            if not (reader and entry.written_only_by(reader)):
                entries.append(entry)
        if len(rows) <= limit:
            return FeedPage(entries, next_since, False)
