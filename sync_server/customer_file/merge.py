"""Merging duplicate customers: the likely duplicates, a preview of what moves, the merge.

Likely duplicates share a phone number, a car's VIN, or a name (written the same once
case, spaces and punctuation are set aside). A merge moves everything of the duplicate
to the customer who stays: cars, visits and appointments through the sync engine
(``update_server_record``, so devices see the new owner in their feed; consents,
signatures and walk-arounds belong to the visits and follow them), and every other row
that names the customer (contact history, and any table added later with a
``customer_id``) directly. Contact details the surviving customer lacks are taken from
the duplicate, as a desk edit. Nothing is deleted: the duplicate stays, marked merged
into the other (``customers.merged_into_id``), and ``customer_merges`` keeps what moved.
The tier goes with the person: the customer who stays keeps a VIP by hand or the higher
tier held (``tiers.take_over_tier``); the merged file is a VIP no more on its own.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shared.i18n import Text
from sync_server.customer_file.tiers import recompute_tiers, take_over_tier
from sync_server.customer_file_tables import CustomerMerge, CustomerTierState
from sync_server.customers import acting_person
from sync_server.models import Base
from sync_server.table_base import utcnow
from sync_server.visit_tables import Appointment, Customer, CustomerContactChange, Vehicle, Visit

# Synced kinds whose records name their customer: moved through the sync engine.
SYNCED = (("vehicle", Vehicle), ("visit", Visit), ("appointment", Appointment))
# Tables that name a customer but are about the customer as such, not moved.
NOT_MOVED = {CustomerMerge.__tablename__, CustomerTierState.__tablename__}
_NAME_NOISE = re.compile(r"[\s\W_]+")
DUPLICATES_SHOWN = 200


class MergeRefused(ValueError):
    def __init__(self, message: Text) -> None:
        super().__init__(message.message)
        self.message = message


def name_key(name: str) -> str:
    """``Zhang Wei``, ``zhang  wei`` and ``ZHANG-WEI`` give ``zhangwei``."""
    return _NAME_NOISE.sub("", unicodedata.normalize("NFKC", name or "").casefold())


@dataclass
class DuplicateGroup:
    """Customers that look like one person, and why."""

    reason: str  # "phone", "vin" or "name"
    key: str
    customers: list[Customer]


def likely_duplicates(session: Session, limit: int = DUPLICATES_SHOWN) -> list[DuplicateGroup]:
    """Groups of customers (not merged) sharing a phone, a VIN or a name."""
    live = Customer.merged_into_id.is_(None)
    groups: list[DuplicateGroup] = []
    seen: set[frozenset[str]] = set()

    def add(reason: str, key: str, ids: list[str]) -> None:
        members = frozenset(ids)
        if len(members) < 2 or members in seen:
            return
        seen.add(members)
        customers = list(
            session.scalars(
                select(Customer)
                .where(Customer.id.in_(sorted(members)))
                .order_by(Customer.created_at)
            )
        )
        groups.append(DuplicateGroup(reason, key, customers))

    phones = select(Customer.phone).where(live, Customer.phone != "").group_by(Customer.phone)
    phones = phones.having(func.count() > 1).limit(limit)
    shared_phones = list(session.scalars(phones))
    by_phone: dict[str, list[str]] = defaultdict(list)
    if shared_phones:
        for customer_id, phone in session.execute(
            select(Customer.id, Customer.phone).where(live, Customer.phone.in_(shared_phones))
        ):
            by_phone[phone].append(customer_id)
    for phone, ids in sorted(by_phone.items()):
        add("phone", phone, ids)

    vins = (
        select(Vehicle.vin)
        .join(Customer, Customer.id == Vehicle.customer_id)
        .where(live, Vehicle.vin != "")
        .group_by(Vehicle.vin)
        .having(func.count(func.distinct(Vehicle.customer_id)) > 1)
        .limit(limit)
    )
    shared_vins = list(session.scalars(vins))
    by_vin: dict[str, list[str]] = defaultdict(list)
    if shared_vins:
        for customer_id, vin in session.execute(
            select(Vehicle.customer_id, Vehicle.vin)
            .join(Customer, Customer.id == Vehicle.customer_id)
            .where(live, Vehicle.vin.in_(shared_vins))
        ):
            by_vin[vin].append(customer_id)
    for vin, ids in sorted(by_vin.items()):
        add("vin", vin, ids)

    by_name: dict[str, list[str]] = defaultdict(list)
    for customer_id, name in session.execute(
        select(Customer.id, Customer.name).where(live, Customer.name != "")
    ):
        key = name_key(name)
        if key:
            by_name[key].append(customer_id)
    for key, ids in sorted(by_name.items()):
        if len(groups) >= limit:
            break
        add("name", key, ids)
    return groups[:limit]


@dataclass
class MergePreview:
    """What a merge would move from ``merged`` to ``surviving``."""

    surviving: Customer
    merged: Customer
    moves: dict[str, list[str]] = field(default_factory=dict)  # table → row ids
    consents: int = 0
    filled: dict[str, str] = field(default_factory=dict)  # contact details taken over

    @property
    def total(self) -> int:
        return sum(len(ids) for ids in self.moves.values())


def _other_tables() -> list[tuple[str, object]]:
    """Every other table with a ``customer_id`` column, and that column."""
    synced = {model.__tablename__ for _kind, model in SYNCED}
    found = []
    for table in Base.metadata.sorted_tables:
        if table.name in synced or table.name in NOT_MOVED or "customer_id" not in table.c:
            continue
        found.append((table.name, table))
    return found


def _key_of(table: object) -> object:
    primary = list(table.primary_key.columns)  # type: ignore[attr-defined]
    return primary[0] if len(primary) == 1 else None


def merge_preview(session: Session, surviving_id: str, merged_id: str) -> MergePreview:
    """What would move; raises :class:`MergeRefused` when these two cannot be merged."""
    from sync_server.record_tables import ConsentRow

    surviving = session.get(Customer, surviving_id)
    merged = session.get(Customer, merged_id)
    if surviving is None or merged is None:
        raise MergeRefused(Text("One of these customers is not on the server.", "server"))
    if surviving.id == merged.id:
        raise MergeRefused(Text("Choose two different customers.", "server"))
    for customer in (surviving, merged):
        if customer.merged_into_id:
            raise MergeRefused(
                Text(
                    "{name} was already merged into another customer.",
                    "server",
                    {"name": customer.name or customer.phone or customer.id[:8]},
                )
            )
    preview = MergePreview(surviving, merged)
    for _kind, model in SYNCED:
        preview.moves[model.__tablename__] = list(
            session.scalars(select(model.id).where(model.customer_id == merged.id))  # type: ignore[attr-defined]
        )
    for name, table in _other_tables():
        key = _key_of(table)
        column = table.c.customer_id  # type: ignore[attr-defined]
        if key is None:
            count = session.scalar(
                select(func.count()).select_from(table).where(column == merged.id)
            )  # type: ignore[arg-type]
            preview.moves[name] = ["?"] * (count or 0)
        else:
            preview.moves[name] = [
                str(v) for v in session.scalars(select(key).where(column == merged.id))
            ]  # type: ignore[call-overload]
    visit_ids = preview.moves.get(Visit.__tablename__, [])
    if visit_ids:
        preview.consents = (
            session.scalar(
                select(func.count())
                .select_from(ConsentRow)
                .where(ConsentRow.visit_id.in_(visit_ids))
            )
            or 0
        )
    for name in ("name", "phone", "email"):
        if not getattr(surviving, name) and getattr(merged, name):
            preview.filled[name] = getattr(merged, name)
    return preview


def merge_customers(
    session: Session, surviving_id: str, merged_id: str, user_id: int
) -> CustomerMerge:
    """Move everything of ``merged_id`` to ``surviving_id`` (see the module's words); the
    caller commits. Raises :class:`MergeRefused`."""
    from sync_server.sync.records import lock_feed, update_server_record

    lock_feed(session)
    preview = merge_preview(session, surviving_id, merged_id)
    surviving, merged = preview.surviving, preview.merged
    now = utcnow()
    with acting_person(session, user_id):
        for kind, model in SYNCED:
            for record_id in preview.moves[model.__tablename__]:
                update_server_record(session, kind, record_id, {"customer_id": surviving.id})
        if preview.filled:
            update_server_record(session, "customer", surviving.id, dict(preview.filled))
    for _name, table in _other_tables():
        column = table.c.customer_id  # type: ignore[attr-defined]
        session.execute(update(table).where(column == merged.id).values(customer_id=surviving.id))  # type: ignore[arg-type]
    session.add(
        CustomerContactChange(
            customer_id=surviving.id,
            field="merged_from",
            old_value=f"{merged.name} {merged.phone}".strip()[:254],
            new_value=merged.id,
            changed_at=now,
            source="person",
            user_id=user_id,
        )
    )
    if merged.vip and not surviving.vip:
        surviving.vip, surviving.vip_reason = True, merged.vip_reason
    take_over_tier(session, surviving.id, merged.id)
    # Files merged earlier into this one now point at the customer who stays.
    session.execute(
        update(Customer)
        .where(Customer.merged_into_id == merged.id)
        .values(merged_into_id=surviving.id)
    )
    merged.merged_into_id, merged.merged_at = surviving.id, now
    record = CustomerMerge(
        surviving_id=surviving.id,
        merged_id=merged.id,
        merged_by_user_id=user_id,
        merged_at=now,
        moved={name: ids for name, ids in preview.moves.items() if ids},
    )
    session.add(record)
    session.flush()
    recompute_tiers(session, [surviving.id], now=now)
    return record


__all__ = [
    "DuplicateGroup",
    "MergePreview",
    "MergeRefused",
    "likely_duplicates",
    "merge_customers",
    "merge_preview",
    "name_key",
]
