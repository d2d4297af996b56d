"""A device's push applied as one batch: what it reads, loaded in a few queries, and
the rows it creates, written in one multi-row INSERT per table at its end.

While a batch is open, :func:`cached_get` answers from its cache; the projections write
new typed rows as :class:`NewRow` values. The feed counts the batch's sequence numbers in
memory and writes the counter row once (``feed.count_in_memory``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync_server.models import Base
from sync_server.sync import feed
from sync_server.sync.bulk_rows import insert_rows
from sync_server.sync.tables import AppliedChange, SyncRecord

if TYPE_CHECKING:
    from sync_server.sync.changes import Change

_BATCH = "sync_batch_cache"


class NewRow:
    """A row a batch will insert: plain attributes, no ORM object (far cheaper).

    It stands in for the ORM object while the batch is applied (``existing.fields``,
    ``appointment.status`` ...) and becomes one row of a multi-row INSERT at the end.
    """

    def __init__(self, model: type[Base], values: dict[str, Any]) -> None:
        self.__dict__.update(values)
        self._new_row_model = model  # no column has this name; ``model`` is one

    def column_values(self) -> dict[str, Any]:
        values = self.__dict__
        row = {}
        for key, default in _insert_defaults(self._new_row_model):
            value = values.get(key)
            if value is None and default is not None:
                value = default()
            row[key] = value
        return row


def _insert_defaults(model: type[Base]) -> list[tuple[str, Any]]:
    """Each column of ``model``'s table with its Python-side default (a callable)."""
    cached = _DEFAULTS.get(model)
    if cached is None:
        cached = []
        for attribute in model.__mapper__.column_attrs:
            default = attribute.columns[0].default
            if default is None:
                cached.append((attribute.key, None))
            elif callable(default.arg):
                arg = default.arg
                cached.append((attribute.key, lambda arg=arg: arg(None)))
            else:
                value = default.arg
                cached.append((attribute.key, lambda value=value: value))
        _DEFAULTS[model] = cached
    return cached


_DEFAULTS: dict[type[Base], list[tuple[str, Any]]] = {}


class BatchCache:
    """What a push reads, loaded in a few queries instead of several per change, and
    the rows it creates.

    While a batch is applied, :func:`cached_get` answers from here: rows found by the
    prefetch, ``None`` for keys known to be absent, and the :class:`NewRow` rows the
    batch itself created, which :func:`flush_batch` inserts at the end.
    """

    def __init__(self) -> None:
        self.rows: dict[tuple[type[Base], Any], Any] = {}
        self.new_rows: dict[type[Base], list[NewRow]] = {}
        self.facts: dict[str, Any] = {}  # other look-ups made once for the batch
        # Work a projection leaves for the batch's end, by name: each one's
        # ``before_write(session)`` runs before the batch's rows are written, its
        # ``written(session)`` after.
        self.hooks: dict[str, Any] = {}

    def add_new(self, model: type[Base], key: Any, values: dict[str, Any]) -> NewRow:
        row = NewRow(model, values)
        self.rows[(model, key)] = row
        self.new_rows.setdefault(model, []).append(row)
        return row

    def prefetch(
        self,
        session: Session,
        changes: list[Change],
        related_rows: Callable[[Change], Iterable[tuple[type[Base], Any]]],
    ) -> None:
        wanted: dict[type[Base], set[Any]] = {AppliedChange: set(), SyncRecord: set()}
        for change in changes:
            wanted[AppliedChange].add(change.change_id)
            wanted[SyncRecord].add((change.kind, change.id))
            for model, key in related_rows(change):
                wanted.setdefault(model, set()).add(key)
        for model, keys in wanted.items():
            for key in keys:
                self.rows[(model, key)] = None
            if model is SyncRecord:
                for kind in {kind for kind, _ in keys}:
                    ids = [record_id for k, record_id in keys if k == kind]
                    for chunk in _chunks(ids):
                        query = select(SyncRecord).where(
                            SyncRecord.kind == kind, SyncRecord.id.in_(chunk)
                        )
                        for row in session.scalars(query):
                            self.rows[(SyncRecord, (row.kind, row.id))] = row
                for key in keys:  # new in an earlier batch of this push, not written yet
                    held = feed.held_record(session, key)
                    if held is not None:
                        self.rows[(SyncRecord, key)] = held
                continue
            if model is AppliedChange:
                # Only whether a change was seen, and its first answer: no ORM objects.
                columns = (
                    AppliedChange.change_id,
                    AppliedChange.content_sha256,
                    AppliedChange.result,
                )
                for chunk in _chunks(list(keys)):
                    query = select(*columns).where(AppliedChange.change_id.in_(chunk))
                    for change_id, content_sha256, result in session.execute(query):
                        self.rows[(AppliedChange, change_id)] = _SeenChange(content_sha256, result)
                continue
            key_column = model.id  # type: ignore[attr-defined]
            for chunk in _chunks(list(keys)):
                for row in session.scalars(select(model).where(key_column.in_(chunk))):
                    self.rows[(model, row.id)] = row


@dataclass(frozen=True)
class _SeenChange:
    content_sha256: str
    result: dict[str, Any]


def _chunks(items: list[Any], size: int = 400) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def start_batch(
    session: Session,
    changes: list[Change],
    related_rows: Callable[[Change], Iterable[tuple[type[Base], Any]]],
) -> None:
    """Apply the following changes as one batch (a device's push), until
    :func:`flush_batch` writes it; the caller holds the feed lock. ``related_rows`` names
    the typed rows each change will read, loaded with the rest."""
    cache = BatchCache()
    cache.prefetch(session, changes, related_rows)
    session.info[_BATCH] = cache
    feed.count_in_memory(session)


def end_batch(session: Session) -> None:
    session.info.pop(_BATCH, None)
    feed.stop_counting_in_memory(session)


def batch_cache(session: Session) -> BatchCache | None:
    """The batch being applied in this session, if any."""
    return session.info.get(_BATCH)


# A batch's new rows are written in one multi-row INSERT per table at its end; the unit
# of work would insert them one object at a time.


def flush_batch(session: Session) -> None:
    """Write the batch: brand-new rows in bulk, in foreign-key order, the rest (rows
    that existed before, conflicts, the feed counter) through the session; ends it."""
    cache: BatchCache | None = session.info.pop(_BATCH, None)
    for hook in cache.hooks.values() if cache is not None else ():
        hook.before_write(session)
    feed.write_counted(session)
    held: list[NewRow] = []
    if cache is not None and cache.new_rows:
        by_table = {model.__table__: rows for model, rows in cache.new_rows.items()}
        if feed.numbers_at_commit(session) and not session.in_nested_transaction():
            # A push on PostgreSQL: its new sync records are written once, numbered,
            # just before its commit (``feed.insert_at_commit``).
            held = by_table.pop(SyncRecord.__table__, [])
        with session.no_autoflush:
            for table in Base.metadata.sorted_tables:
                rows = by_table.get(table)
                if rows:
                    insert_rows(session, table, [row.column_values() for row in rows])
    session.flush()
    if held:  # only once the rest of the batch is written
        feed.insert_at_commit(session, held)
    for hook in cache.hooks.values() if cache is not None else ():
        hook.written(session)


def cached_get(session: Session, model: type[Base], key: Any) -> Any:
    cache: BatchCache | None = session.info.get(_BATCH)
    if cache is not None and (model, key) in cache.rows:
        return cache.rows[(model, key)]
    return session.get(model, key)
