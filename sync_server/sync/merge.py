"""Applying changes to synced records: the one write path for everything devices send,
and for the server's own edits too.

A change sets some fields of one record. Each field keeps the hybrid logical clock of
the change that last set it; a field changes only when a newer clock arrives (last
writer wins, the same on every node), and whichever value loses is kept as a
``FieldConflict``. The merged record is checked as a whole by ``shared.wire`` before
anything is written, then projected into its typed table (customers, visits, ...), all
in the caller's transaction, together with the change's idempotency record.

Who may send a change is ``policy``'s; its sequence number is the ``feed``'s; a push is
applied as a ``batch``; the typed row is written through ``projection_hook``.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from shared.hlc import DEFAULT_MAX_OFFSET_MS, HybridClock
from shared.i18n import Text
from shared.wire import WireError, from_wire, to_wire
from sync_server.sync import batch, policy, projection_hook, trust
from sync_server.sync.batch import BatchCache, cached_get
from sync_server.sync.changes import Change, ChangeRefused, issue_dict, stamped_by
from sync_server.sync.feed import next_seq
from sync_server.sync.tables import AppliedChange, FieldConflict, SyncRecord
from sync_server.table_base import utcnow

SERVER_ORIGIN = "server"

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


def start_batch(session: Session, changes: list[Change]) -> None:
    """Apply the following changes as one batch (a device's push), until
    ``batch.flush_batch`` writes it; the caller holds the feed lock."""
    batch.start_batch(session, changes, projection_hook.related_rows)
    trust.load_vip_phones(
        session, [change.fields.get("phone") for change in changes if change.kind == "customer"]
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
    policy.check_permission(change, origin, role, existing)
    token_settled = False  # the server set the visit's status token, not the device
    tier_settled = False  # the server set a new customer's tier, not the device
    if change.kind == "visit":
        trust.check_new_visit(change.fields, role, existing is None)
        fields = trust.settle_status_token(
            change.fields,
            role,
            existing.fields if existing else None,
            visit_id=change.id,
            device_uid=origin,
        )
        if fields is not change.fields:
            change, token_settled = replace(change, fields=fields), True
    elif change.kind == "customer":
        fields = trust.settle_customer_tier(
            change.fields, role, existing.fields if existing else None, session
        )
        if fields is not change.fields:
            change, tier_settled = replace(change, fields=fields), "tier" in fields
    customer_settled = False  # the server filed it under the customer who stayed
    if change.kind in trust.OWNED_BY_A_CUSTOMER:
        fields = trust.settle_merged_customer(session, change.fields)
        if fields is not change.fields:
            change, customer_settled = replace(change, fields=fields), True
    policy.check_status_change(change, role, existing)
    if change.kind == "visit":
        trust.check_walkaround_signed(
            session, change.fields, role, existing.fields if existing else None, change.id
        )
    policy.check_customer_authorised(session, change, existing)

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
                        change, name, current, current_hlc, stamped_by(current_hlc), value,
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
    if customer_settled and state.get("customer_id") == change.fields["customer_id"]:
        # The server's clock: a tablet takes the customer who stayed from its feed (with
        # that customer's record beside it). The push's result does not name them: a
        # kiosk, which has no feed, keeps the customer it filed its ticket under.
        clocks["customer_id"] = server_hlc([change.hlc])
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
    projection_hook.check_references(session, change.kind, record)
    projection_hook.check_columns(session, change.kind, record)

    now = utcnow()
    seq = next_seq(session, existing.seq if existing is not None else None)
    cache: BatchCache | None = batch.batch_cache(session)
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
    projection_hook.project(session, change.kind, record, origin)
    result: dict[str, Any] = {"change_id": change.change_id, "status": 201}
    if token_settled and "status_token" in change.fields:
        # The device's token was not the server's: it learns the one the customer's
        # link uses (a kiosk gets no feed), with the server's clock for it.
        result["server_fields"] = {"status_token": state["status_token"]}
        result["server_clocks"] = {"status_token": clocks["status_token"]}
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


def put_server_record(session: Session, kind: str, record: Any) -> dict[str, Any]:
    """Write a whole record as the server (demo data, back-office edits)."""
    fields = to_wire(record)
    fields.pop("id", None)
    for child in policy.CHILD_COLLECTIONS.get(kind, ()):
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
