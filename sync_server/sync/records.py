"""Applying changes to synced records: the one write path for everything devices send,
and for the server's own edits too.

A change sets some fields of one record. Each field keeps the hybrid logical clock of
the change that last set it; a field changes only when a newer clock arrives (last
writer wins, the same on every node), and whichever value loses is kept as a
``FieldConflict``. The merged record is checked as a whole by ``shared.wire`` before
anything is written, then projected into its typed table (customers, visits, ...), all
in the caller's transaction, together with the change's idempotency record.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import String, cast, event, select, update
from sqlalchemy.orm import Session

from shared.hlc import DEFAULT_MAX_OFFSET_MS, HybridClock
from shared.i18n import Text
from shared.visit_status import VisitStatus, allowed_events, next_status
from shared.wire import WireError, from_wire, to_wire
from sync_server.models import (
    AppliedChange,
    ApprovalRow,
    Base,
    FieldConflict,
    QuoteRow,
    SyncCounter,
    SyncRecord,
    utcnow,
)
from sync_server.sync import projections, trust
from sync_server.sync.projections import PROJECTIONS

log = logging.getLogger(__name__)

SERVER_ORIGIN = "server"
HLC_PATTERN = re.compile(r"\d{16}-\d{4}-[A-Za-z0-9_.:-]{1,40}")
UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")

# What each kind of caller may send. Appointments, quotes and approvals are made on the
# server only. A kiosk creates check-ins; it never changes what others made.
DEVICE_KINDS = frozenset(
    {
        "customer",
        "vehicle",
        "visit",
        "consent",
        "signature",
        "walkaround",
        "damage_mark",
        "photo",
        "note",
    }
)
KIOSK_KINDS = frozenset({"customer", "vehicle", "visit", "consent", "signature", "photo"})
# Parts that are records of their own (merged by union), not fields of their parent.
CHILD_COLLECTIONS: Mapping[str, frozenset[str]] = {"walkaround": frozenset({"marks", "photos"})}
# Typed tables: one per kind, written by ``projections`` (appointments, quotes and
# approvals are the server's own kinds).


@dataclass(frozen=True)
class Change:
    change_id: str
    kind: str
    id: str
    hlc: str
    fields: dict[str, Any]
    # The clock each field had on the device when it was edited: an edit made knowing
    # the current value replaces it; one made without knowing it is a real conflict.
    base: dict[str, str | None] | None = None

    def content_sha256(self) -> str:
        """What makes two pushes of this change id the same change.

        The change arrived as plain JSON, so the standard encoder with sorted keys is a
        stable form of it (and much faster than the general canonical encoder).
        """
        content = {
            "kind": self.kind,
            "id": self.id,
            "hlc": self.hlc,
            "fields": self.fields,
            "base": self.base,
        }
        encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(encoded.encode("utf-8")).hexdigest()

    def knew(self, name: str, current_hlc: str) -> bool:
        return self.base is not None and self.base.get(name) == current_hlc


class ChangeRefused(Exception):
    """A change that cannot be applied, with the HTTP-like status of its result."""

    def __init__(
        self,
        status: int,
        kind: str,
        message: Text,
        errors: list[dict[str, Any]] | None = None,
        *,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(kind)
        self.status = status
        self.kind = kind
        self.message = message
        self.errors = errors or []
        self.extra = extra or {}  # more members of the problem document


def read_change(raw: Any) -> Change:
    """A change from its JSON form, or ``ChangeRefused`` (422) saying what is wrong."""
    if not isinstance(raw, dict):
        raise ChangeRefused(
            422, "change-malformed", Text("Each change must be a JSON object.", "server")
        )
    problems = []
    change_id, kind, record_id = raw.get("change_id"), raw.get("kind"), raw.get("id")
    hlc, fields = raw.get("hlc"), raw.get("fields")
    if not (isinstance(change_id, str) and UUID_PATTERN.fullmatch(change_id)):
        problems.append("change_id")
    if not (isinstance(kind, str) and kind in DEVICE_KINDS | set(PROJECTIONS)):
        problems.append("kind")
    if not (isinstance(record_id, str) and UUID_PATTERN.fullmatch(record_id)):
        problems.append("id")
    if not (isinstance(hlc, str) and HLC_PATTERN.fullmatch(hlc)):
        problems.append("hlc")
    if not (isinstance(fields, dict) and fields):
        problems.append("fields")
    base = raw.get("base")
    if base is not None and not (
        isinstance(base, dict)
        and all(
            v is None or (isinstance(v, str) and HLC_PATTERN.fullmatch(v)) for v in base.values()
        )
    ):
        problems.append("base")
    if problems:
        raise ChangeRefused(
            422,
            "change-malformed",
            Text(
                "This change is not in the sync format: check {names}.",
                "server",
                {"names": ", ".join(problems)},
            ),
            [{"field": name, "code": "invalid"} for name in problems],
        )
    assert isinstance(fields, dict)
    return Change(change_id, kind, record_id, hlc, fields, base)


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


def next_seq(session: Session) -> int:
    counter: SyncCounter | None = session.info.get(_FEED_COUNTER)
    if counter is None:  # no lock taken by this transaction: take the next one in SQL
        return session.execute(
            update(SyncCounter)
            .where(SyncCounter.id == 1)
            .values(value=SyncCounter.value + 1)
            .returning(SyncCounter.value)
        ).scalar_one()
    cache: BatchCache | None = session.info.get(_BATCH)
    if cache is not None:  # counted here, written to the row once, by flush_batch
        if cache.seq is None:
            cache.seq = counter.value
        cache.seq += 1
        return cache.seq
    counter.value += 1
    return counter.value


# The server's own clock. It observes every clock it meets, and before an edit it
# observes the clocks of the record it edits, so an edit made at the desk after seeing a
# record always wins over what it saw, even when a device's clock runs ahead.
# A clock beyond the accepted range (sync_server/sync/trust.py) never moves it.
_server_clock = HybridClock(
    SERVER_ORIGIN, now_ms=lambda: trust.server_now_ms(), max_ahead_ms=DEFAULT_MAX_OFFSET_MS
)
_server_clock_lock = threading.Lock()


_newest_observed = ""


def observe_clock(hlc: str) -> None:
    """Remember a device's clock that passed every check; the server's clock merges
    the newest one before its next tick (cheaper than a merge per change)."""
    global _newest_observed
    # HLCs compare as strings: one not above the newest seen so far changes nothing.
    if hlc <= _newest_observed:
        return
    with _server_clock_lock:
        _newest_observed = max(_newest_observed, hlc)


def server_hlc(seen: Iterable[str] = ()) -> str:
    """A clock for the server's own edit, newer than every clock in ``seen``."""
    with _server_clock_lock:
        if _newest_observed:
            _server_clock.observe(_newest_observed)
        for hlc in seen:
            _server_clock.observe(hlc)
        return _server_clock.tick()


def blob_refs(value: Any) -> Iterator[str]:
    """Every photo hash a record's fields refer to."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("sha256", "photo_sha256") and isinstance(item, str):
                if SHA256_PATTERN.fullmatch(item):
                    yield item
            elif isinstance(item, dict | list):
                yield from blob_refs(item)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict | list):
                yield from blob_refs(item)


def _check_permission(change: Change, origin: str, role: str, existing: SyncRecord | None) -> None:
    if role == "server":
        return
    allowed = KIOSK_KINDS if role == "kiosk" else DEVICE_KINDS
    if change.kind not in allowed:
        raise ChangeRefused(
            403,
            "kind-not-allowed",
            Text("This device may not send records of this kind.", "server"),
        )
    if role == "kiosk" and existing is not None and existing.created_by != origin:
        raise ChangeRefused(
            403,
            "record-not-yours",
            Text("A kiosk may only change the check-ins it made itself.", "server"),
        )
    if change.kind in CHILD_COLLECTIONS and CHILD_COLLECTIONS[change.kind] & change.fields.keys():
        raise ChangeRefused(
            422,
            "child-records-inline",
            Text(
                "Send marks and photos as records of their own, not inside the walk-around.",
                "server",
            ),
        )


# Devices may move a visit's status only this way; everything else is the desk's.
DEVICE_STATUS_EVENTS = frozenset({"complete_walkaround"})


def _check_status_change(change: Change, role: str, existing: SyncRecord | None) -> None:
    """A visit's status moves only along the status machine (shared.visit_status)."""
    if change.kind != "visit" or "status" not in change.fields or existing is None:
        return
    current, wanted = existing.fields.get("status"), change.fields["status"]
    if current == wanted:
        return
    event = (
        next(
            (
                event
                for event in allowed_events(VisitStatus(current))
                if next_status(VisitStatus(current), event) == wanted
            ),
            None,
        )
        if current in VisitStatus.__members__.values()
        else None
    )
    if event is None:
        raise ChangeRefused(
            422,
            "status-transition",
            Text(
                "A visit cannot go from {current} to {wanted}.",
                "server",
                {"current": current, "wanted": wanted},
            ),
            [{"field": "status", "code": "transition_refused"}],
        )
    if role != "server" and event.value not in DEVICE_STATUS_EVENTS:
        raise ChangeRefused(
            403,
            "status-is-the-desks",
            Text("Only the service desk moves a visit to this step.", "server"),
        )


# Work starts only after the customer's explicit authorisation: these steps need a stored
# approval of the visit's latest quote version, whoever asks for them.
AUTHORISED_STATUSES = frozenset({VisitStatus.approved.value, VisitStatus.in_progress.value})


def latest_quote_is_approved(session: Session, visit_id: str) -> bool:
    """True when the newest quote version of the visit has a stored customer approval."""
    latest = session.scalars(
        select(QuoteRow)
        .where(QuoteRow.visit_id == visit_id)
        .order_by(QuoteRow.version.desc())
        .limit(1)
    ).first()
    if latest is None:
        return False
    return (
        session.scalars(
            select(ApprovalRow.id).where(
                ApprovalRow.quote_id == latest.id, ApprovalRow.quote_version == latest.version
            )
        ).first()
        is not None
    )


def _check_customer_authorised(
    session: Session, change: Change, existing: SyncRecord | None
) -> None:
    if change.kind != "visit" or "status" not in change.fields or existing is None:
        return
    current, wanted = existing.fields.get("status"), change.fields["status"]
    if current == wanted or wanted not in AUTHORISED_STATUSES:
        return
    if wanted == VisitStatus.in_progress.value and current != VisitStatus.approved.value:
        return  # back from a failed quality check: the work was authorised before
    session.flush()
    if not latest_quote_is_approved(session, change.id):
        raise ChangeRefused(
            422,
            "approval-missing",
            Text(
                "Work cannot start before the customer has approved the latest quote.",
                "server",
            ),
            [{"field": "status", "code": "approval_missing"}],
        )


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
        self.seq: int | None = None  # the last sequence number the batch handed out

    def add_new(self, model: type[Base], key: Any, values: dict[str, Any]) -> NewRow:
        row = NewRow(model, values)
        self.rows[(model, key)] = row
        self.new_rows.setdefault(model, []).append(row)
        return row

    def prefetch(self, session: Session, changes: list[Change]) -> None:
        wanted: dict[type[Base], set[Any]] = {AppliedChange: set(), SyncRecord: set()}
        for change in changes:
            wanted[AppliedChange].add(change.change_id)
            wanted[SyncRecord].add((change.kind, change.id))
            for model, key in projections.prefetch_keys(change.kind, change.id, change.fields):
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


def start_batch(session: Session, changes: list[Change]) -> None:
    """Apply the following changes as one batch (a device's push), until
    :func:`flush_batch` writes it; the caller holds the feed lock."""
    cache = BatchCache()
    cache.prefetch(session, changes)
    session.info[_BATCH] = cache


def end_batch(session: Session) -> None:
    session.info.pop(_BATCH, None)


def batch_cache(session: Session) -> BatchCache | None:
    """The batch being applied in this session, if any."""
    return session.info.get(_BATCH)


# A batch's new rows are written in one multi-row INSERT per table at its end; the unit
# of work would insert them one object at a time.


def flush_batch(session: Session) -> None:
    """Write the batch: brand-new rows in bulk, in foreign-key order, the rest (rows
    that existed before, conflicts, the feed counter) through the session; ends it."""
    cache: BatchCache | None = session.info.pop(_BATCH, None)
    if cache is not None and cache.seq is not None:
        session.info[_FEED_COUNTER].value = cache.seq
    if cache is not None and cache.new_rows:
        by_table = {model.__table__: rows for model, rows in cache.new_rows.items()}
        with session.no_autoflush:
            for table in Base.metadata.sorted_tables:
                rows = by_table.get(table)
                if rows:
                    session.execute(table.insert(), [row.column_values() for row in rows])
    session.flush()


def cached_get(session: Session, model: type[Base], key: Any) -> Any:
    cache: BatchCache | None = session.info.get(_BATCH)
    if cache is not None and (model, key) in cache.rows:
        return cache.rows[(model, key)]
    return session.get(model, key)


def _check_references(session: Session, kind: str, record: Any) -> None:
    """Typed tables refer to each other: say so clearly instead of failing a constraint."""
    for field_name, model, target in projections.references(kind, record):
        if cached_get(session, model, target) is None:
            raise ChangeRefused(
                422,
                "reference-missing",
                Text(
                    "This record refers to one the server does not have ({field}).",
                    "server",
                    {"field": field_name},
                ),
                [{"field": field_name, "code": "reference_missing"}],
            )


@functools.cache
def _projected_columns(kind: str) -> tuple[str, ...]:
    """The record's fields that are columns of its typed table (its id aside): the
    values whose bounds the table sets (``trust.check_columns``)."""
    from dataclasses import fields as dataclass_fields

    from shared.wire import KINDS

    columns = {column.key for column in PROJECTIONS[kind].__table__.columns}
    return tuple(
        item.name
        for item in dataclass_fields(KINDS[kind])
        if item.name in columns and item.name != "id"
    )


def apply_change(session: Session, change: Change, *, origin: str, role: str) -> dict[str, Any]:
    """Apply one change inside the caller's transaction; returns its result.

    The caller must hold the feed lock (:func:`lock_feed`). A change applied before
    returns its first result again; the same change id with other content is refused.
    """
    content = change.content_sha256()
    # Stored clocks beyond this limit (from before the rule) lose to any change.
    accepted_until = trust.check_clock(change.hlc) if role != "server" else trust.accepted_until()
    seen = cached_get(session, AppliedChange, change.change_id)
    if seen is not None:
        if seen.content_sha256 != content:
            raise ChangeRefused(
                409,
                "change-id-reused",
                Text("This change id was already used for different content.", "server"),
            )
        return dict(seen.result)

    existing = cached_get(session, SyncRecord, (change.kind, change.id))
    _check_permission(change, origin, role, existing)
    token_settled = False  # the server set the visit's status token, not the device
    tier_settled = False  # the server set a new customer's tier, not the device
    if change.kind == "visit":
        trust.check_new_visit(change.fields, role, existing is None)
        fields = trust.settle_status_token(
            change.fields, role, existing.fields if existing else None
        )
        if fields is not change.fields:
            change, token_settled = replace(change, fields=fields), True
    elif change.kind == "customer":
        fields = trust.settle_customer_tier(
            change.fields, role, existing.fields if existing else None
        )
        if fields is not change.fields:
            change, tier_settled = replace(change, fields=fields), "tier" in fields
    _check_status_change(change, role, existing)
    _check_customer_authorised(session, change, existing)

    state = dict(existing.fields) if existing else {}
    clocks = dict(existing.clocks) if existing else {}
    losers: list[FieldConflict] = []
    for name, value in change.fields.items():
        current_hlc, current = clocks.get(name), state.get(name)
        if current_hlc is None or change.hlc > current_hlc or current_hlc > accepted_until:
            # The change wins. What it replaces was lost only if it was set (not empty)
            # and the device did not know it when it made the change.
            if (
                current_hlc is not None
                and current is not None
                and current != value
                and not change.knew(name, current_hlc)
            ):
                # Who set the losing value: the node that stamped its clock (a device's
                # uid, or "server"), not whoever touched the record last, which may be
                # this very change's device after an edit of another field.
                losers.append(
                    _conflict(
                        change, name, current, current_hlc, _stamped_by(current_hlc), value,
                        change.hlc,
                    )
                )  # fmt: skip
            state[name], clocks[name] = value, change.hlc
        elif change.hlc < current_hlc and value is not None and value != current:
            losers.append(_conflict(change, name, value, change.hlc, origin, current, current_hlc))

    if token_settled and "status_token" in state:
        # A server edit: its clock is the server's, so the device takes the token back.
        clocks["status_token"] = server_hlc([change.hlc])
    if tier_settled:
        clocks["tier"] = server_hlc([change.hlc])
    state["id"] = change.id
    try:
        record = from_wire(change.kind, state)
    except WireError as error:
        raise ChangeRefused(
            422,
            "validation",
            Text("Some fields of this record need attention.", "server"),
            [issue_dict(issue) for issue in error.issues],
        ) from None
    _check_references(session, change.kind, record)
    if change.kind in PROJECTIONS:
        trust.check_columns(
            session, PROJECTIONS[change.kind], _projected_columns(change.kind), record, cached_get
        )

    now = utcnow()
    seq = next_seq(session)
    cache: BatchCache | None = session.info.get(_BATCH)
    if existing is None and cache is not None:
        existing = cache.add_new(
            SyncRecord,
            (change.kind, change.id),
            {"kind": change.kind, "id": change.id, "created_by": origin, "created_at": now},
        )
    elif existing is None:
        existing = SyncRecord(kind=change.kind, id=change.id, created_by=origin, created_at=now)
        session.add(existing)
    existing.fields, existing.clocks = state, clocks
    existing.seq, existing.updated_by, existing.updated_at = seq, origin, now
    session.add_all(losers)
    projections.project(session, change.kind, record, origin)
    result = {"change_id": change.change_id, "status": 201}
    applied = {
        "change_id": change.change_id,
        "content_sha256": content,
        "kind": change.kind,
        "record_id": change.id,
        "origin": origin,
        "result": result,
        "applied_at": now,
    }
    if cache is not None:
        cache.add_new(AppliedChange, change.change_id, applied)
    else:
        session.add(AppliedChange(**applied))
        session.flush()
    if role != "server":
        observe_clock(change.hlc)  # only now: it passed every check
    return result


def _stamped_by(hlc: str) -> str:
    """The node id in an HLC: the device (its uid) or the server that made the change."""
    return hlc.split("-", 2)[2] if HLC_PATTERN.fullmatch(hlc) else ""


def _conflict(
    change: Change,
    name: str,
    losing: Any,
    losing_hlc: str,
    losing_origin: str,
    winning: Any,
    winning_hlc: str,
) -> FieldConflict:
    return FieldConflict(
        kind=change.kind,
        record_id=change.id,
        field=name,
        losing_value=losing,
        losing_hlc=losing_hlc,
        losing_origin=losing_origin or "unknown",
        winning_value=winning,
        winning_hlc=winning_hlc,
    )


def issue_dict(issue: Any) -> dict[str, Any]:
    to_dict = getattr(issue, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    return {"field": getattr(issue, "field", ""), "code": getattr(issue, "code", "invalid")}


def put_server_record(session: Session, kind: str, record: Any) -> dict[str, Any]:
    """Write a whole record as the server (demo data, back-office edits)."""
    fields = to_wire(record)
    fields.pop("id", None)
    for child in CHILD_COLLECTIONS.get(kind, ()):
        fields.pop(child, None)
    row = session.get(SyncRecord, (kind, record.id))
    seen = row.clocks.values() if row else ()
    change = Change(str(uuid.uuid4()), kind, record.id, server_hlc(seen), fields)
    return apply_change(session, change, origin=SERVER_ORIGIN, role="server")


def update_server_record(
    session: Session, kind: str, record_id: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """Change some fields of a record as the server (a status step, an advisor's edit).

    Goes through :func:`apply_change`, so devices see it in the feed and the record is
    checked as a whole. The caller holds the feed lock and commits.
    """
    row = session.get(SyncRecord, (kind, record_id))
    base = {name: (row.clocks.get(name) if row else None) for name in fields}
    seen = row.clocks.values() if row else ()
    change = Change(str(uuid.uuid4()), kind, record_id, server_hlc(seen), fields, base)
    return apply_change(session, change, origin=SERVER_ORIGIN, role="server")


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
