"""Synced records projected into typed tables: one explicit projector per kind.

``sync_records`` is the merge engine's state and the changes feed; the back office reads
typed tables only. :func:`project` is called by ``merge.apply_change`` in the same
transaction as the change, with the merged record as a ``shared.domain`` object, and
writes its row (and, for a quote or an approval, its lines, options and decisions).
Each projector names its columns itself: a record's field that is not written here is
not a column, on purpose.

While a device's push is applied as a batch, new rows are ``NewRow`` values written at
the end in one multi-row INSERT per table (``batch.flush_batch``); rows that existed
are changed through the ORM. :func:`rebuild` projects every sync record again
(``checkin-server projections rebuild``): the typed tables then hold exactly what the
changes made them hold, record by record.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shared import domain
from shared.wire import WireError, from_wire
from sync_server import approval_months
from sync_server.back_office_tables import ApprovalRow, QuoteRow
from sync_server.record_tables import (
    ConsentRow,
    DamageMarkRow,
    SignatureRow,
    VisitNoteRow,
    VisitPhotoRow,
    WalkaroundRow,
)
from sync_server.search import search_columns
from sync_server.sync import approval_upkeep
from sync_server.sync.batch import NewRow, batch_cache, cached_get
from sync_server.sync.contact_changes import SERVER_ORIGIN, record_contact_changes
from sync_server.sync.projection_rows import CHILDREN, ROWS, approved_total
from sync_server.sync.tables import SyncRecord
from sync_server.table_base import Base
from sync_server.visit_tables import Appointment, Customer, Vehicle, Visit

log = logging.getLogger(__name__)

# The typed table each kind of record is projected into (its row has the record's id).
PROJECTIONS: Mapping[str, type[Base]] = {
    "customer": Customer,
    "vehicle": Vehicle,
    "appointment": Appointment,
    "visit": Visit,
    "consent": ConsentRow,
    "signature": SignatureRow,
    "walkaround": WalkaroundRow,
    "damage_mark": DamageMarkRow,
    "photo": VisitPhotoRow,
    "note": VisitNoteRow,
    "quote": QuoteRow,
    "approval": ApprovalRow,
}
assert set(ROWS) == set(PROJECTIONS)
# Parents before children: the order a rebuild projects kinds in.
KIND_ORDER: tuple[str, ...] = tuple(PROJECTIONS)

# Fields of a record that name another record which must be on the server first, with
# its table; a change that refers to one the server lacks is refused (422), clearly.
REFERENCES: Mapping[str, tuple[tuple[str, type[Base]], ...]] = {
    "vehicle": (("customer_id", Customer),),
    "appointment": (("customer_id", Customer), ("vehicle_id", Vehicle)),
    "visit": (("customer_id", Customer), ("vehicle_id", Vehicle), ("appointment_id", Appointment)),
    "consent": (("visit_id", Visit),),
    "signature": (("visit_id", Visit),),
    "walkaround": (("visit_id", Visit),),
    "photo": (("visit_id", Visit),),
    "note": (("visit_id", Visit),),
}


def references(kind: str, record: Any) -> Iterator[tuple[str, type[Base], str]]:
    """(field, table, id) of each record this one needs the server to have."""
    for field_name, model in REFERENCES.get(kind, ()):
        target = getattr(record, field_name)
        if target is not None:
            yield field_name, model, target


def prefetch_keys(
    kind: str, record_id: str, fields: Mapping[str, Any]
) -> Iterator[tuple[type[Base], Any]]:
    """The typed rows a change of this record reads, so a batch loads them at once."""
    model = PROJECTIONS.get(kind)
    if model is not None:
        yield model, record_id
    for field_name, target in REFERENCES.get(kind, ()):
        value = fields.get(field_name)
        if isinstance(value, str):
            yield target, value


# --- writing rows --------------------------------------------------------------------


def _upsert(session: Session, model: type[Base], key: Any, values: dict[str, Any]) -> Any:

    row = cached_get(session, model, key)
    if row is None:
        cache = batch_cache(session)
        if cache is not None:
            return cache.add_new(model, key, values)
        row = model(**values)
        session.add(row)
        return row
    for name, value in values.items():
        setattr(row, name, value)
    if not isinstance(row, NewRow):
        session.add(row)
    return row


def _replace_children(
    session: Session,
    parent: Any,
    model: type[Base],
    parent_column: str,
    child_column: str,
    rows: list[dict[str, Any]],
) -> None:
    """Make ``model``'s rows of this parent exactly ``rows`` (matched by child id)."""
    parent_id = rows[0][parent_column] if rows else parent.id
    cache = batch_cache(session)
    if cache is not None and isinstance(parent, NewRow):
        # The parent is new in this batch: its children are new rows too.
        pending = cache.new_rows.get(model, [])
        cache.new_rows[model] = [r for r in pending if getattr(r, parent_column) != parent_id]
        for values in rows:
            cache.add_new(model, (parent_id, values[child_column]), values)
        return
    column = getattr(model, parent_column)
    existing = {
        getattr(row, child_column): row
        for row in session.scalars(select(model).where(column == parent_id))
    }
    # Rows added earlier in this transaction and not flushed yet (no autoflush in a push).
    for row in session.new:
        if isinstance(row, model) and getattr(row, parent_column) == parent_id:
            existing[getattr(row, child_column)] = row
    for values in rows:
        row = existing.pop(values[child_column], None)
        if row is None:
            session.add(model(**values))
        else:
            for name, value in values.items():
                setattr(row, name, value)
    for row in existing.values():
        session.delete(row)


# --- projecting: the row, its children, and what else the record changes -------------


def project(session: Session, kind: str, record: Any, origin: str = SERVER_ORIGIN) -> None:
    """Write the typed rows of this record (merged and checked) in the caller's
    transaction; ``origin`` (a device's uid or ``server``) is who sent the change."""
    model = PROJECTIONS.get(kind)
    if model is None:
        return
    values = ROWS[kind](record)
    values.update(search_columns(kind, values))  # the board's normalised search columns
    if kind == "customer":  # every change of contact details is kept, with who made it
        record_contact_changes(
            session, record.id, cached_get(session, model, record.id), values, origin
        )
    if kind == "approval":
        values["approved_total"] = approved_total(
            record, _synced(session, "quote", record.quote_id)
        )
    if kind == "walkaround":
        _log_new_version(cached_get(session, model, record.id), record)
    # The monthly approval summary: what the change's approvals counted for before it.
    summary = approval_upkeep.kept(session)
    before = approval_upkeep.Before(session, kind, record) if summary and kind in _COUNTED else None
    if summary and kind == "visit":
        visit_before = approval_upkeep.visit_changing(
            session, cached_get(session, model, record.id)
        )
    row = _upsert(session, model, record.id, values)
    for child_model, parent_column, child_column, rows in CHILDREN.get(kind, ()):
        _replace_children(session, row, child_model, parent_column, child_column, rows(record))
    if kind == "visit":
        _mark_appointment_arrived(session, record)
        if summary:
            approval_upkeep.visit_changed(session, record.id, visit_before, row)
    elif kind == "consent":
        _take_customer_language(session, record)
    elif kind == "quote":
        _total_approvals_of(session, record, before.approvals if before else None)
    if before is not None:
        before.after(session, kind, record)


# Kinds whose change may change what approvals count for in the monthly summary (a
# visit's is its advisor, moved by ``approval_upkeep.visit_changed``); a rebuild of any
# of them works the summary out again.
_COUNTED = ("approval", "quote")
COUNTED_KINDS = frozenset({"visit", *_COUNTED})


def _log_new_version(row: Any | None, record: domain.Walkaround) -> None:
    """A check-in sheet's new version is an edit made after the customer signed (the
    tablet raises the version for nothing else): worth a line for the operator. Whether
    a signature covers the sheet now is computed when read (``sync_server.walkarounds``)."""
    if record.version > max(row.version if row is not None else 0, 1):
        log.warning(
            "check-in sheet of visit %s changed after the customer signed (version %d)",
            record.visit_id,
            record.version,
        )


def _mark_appointment_arrived(session: Session, record: domain.Visit) -> None:
    if record.appointment_id:
        appointment = cached_get(session, Appointment, record.appointment_id)
        if appointment is not None and appointment.status == "booked":
            appointment.status = "arrived"


def _take_customer_language(session: Session, record: domain.Consent) -> None:
    """The language the customer chose with their latest consent is theirs."""

    visit = cached_get(session, Visit, record.visit_id)
    customer = cached_get(session, Customer, visit.customer_id) if visit is not None else None
    # A customer new in this batch is a plain NewRow without the column set yet.
    if customer is not None and getattr(customer, "language", None) != record.language:
        customer.language = record.language


def _total_approvals_of(
    session: Session, record: domain.Quote, approvals: list[ApprovalRow] | None = None
) -> None:
    """Approvals of this quote that arrived before it get their totals now (``approvals``:
    those rows, when read already)."""
    if batch_cache(session) is not None:
        return  # quotes and approvals are the server's own records, never in a push
    if approvals is None:
        approvals = list(
            session.scalars(select(ApprovalRow).where(ApprovalRow.quote_id == record.id))
        )
    for row in approvals:
        approval = _synced(session, "approval", row.id)
        if approval is not None:
            row.approved_total = approved_total(approval, record)


def _synced(session: Session, kind: str, record_id: str) -> Any | None:
    """Another record as the merge engine holds it now (None if absent or unreadable)."""

    state = cached_get(session, SyncRecord, (kind, record_id))
    if state is None:
        return None
    try:
        return from_wire(kind, {**state.fields, "id": record_id})
    except WireError:
        return None


# --- rebuilding ----------------------------------------------------------------------

# Tables a rebuild may empty of rows whose record is gone: nothing else refers to them
# and no one edits them but the projection.
_PURE_TABLES: Mapping[str, tuple[type[Base], ...]] = {
    "consent": (ConsentRow,),
    "signature": (SignatureRow,),
    "walkaround": (WalkaroundRow,),
    "damage_mark": (DamageMarkRow,),
    "photo": (VisitPhotoRow,),
    "note": (VisitNoteRow,),
}


def rebuild(session: Session, kinds: Iterable[str] | None = None) -> dict[str, int]:
    """Project every sync record of ``kinds`` (all by default) again, in feed order;
    rows of the projection-only tables whose record is gone are removed. Returns the
    number of records projected per kind. The caller holds the feed lock and commits."""
    wanted = [kind for kind in KIND_ORDER if kinds is None or kind in set(kinds)]
    counts: dict[str, int] = {}
    approval_upkeep.pause(session, True)
    try:
        _project_again(session, wanted, counts)
    finally:
        approval_upkeep.pause(session, False)
    if COUNTED_KINDS & set(wanted):
        approval_months.rebuild(session)
    return counts


def _project_again(session: Session, wanted: list[str], counts: dict[str, int]) -> None:
    for kind in wanted:
        ids = set()
        count = 0
        query = select(SyncRecord.id, SyncRecord.fields).where(SyncRecord.kind == kind)
        for record_id, fields in session.execute(query.order_by(SyncRecord.seq)).all():
            ids.add(record_id)
            try:
                record = from_wire(kind, {**fields, "id": record_id})
            except WireError:
                log.warning("%s %s does not read as a record; not projected", kind, record_id)
                continue
            missing = [
                name
                for name, model, target in references(kind, record)
                if session.get(model, target) is None
            ]
            if missing:
                log.warning("%s %s refers to no %s; not projected", kind, record_id, missing)
                continue
            project(session, kind, record)
            count += 1
        session.flush()
        for model in _PURE_TABLES.get(kind, ()):
            key = model.id  # type: ignore[attr-defined]
            stale = [i for i in session.scalars(select(key)) if i not in ids]
            for start in range(0, len(stale), 400):
                session.execute(
                    delete(model)
                    .where(key.in_(stale[start : start + 400]))
                    .execution_options(synchronize_session=False)
                )
        counts[kind] = count
