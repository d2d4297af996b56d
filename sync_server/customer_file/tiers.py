"""Customer tiers (分级管理): worked out from the last 12 months, with a grace period.

A tier is reached with either its number of handed-back visits or its spend (what the
customer approved on those visits) over the last 12 months (``customer_tier_rules``,
set by the manager). A customer whose figures fall below their tier keeps it for the
shop's grace period (``shop.tier_grace_days``) and then drops to what the rules give;
a rise is immediate. A VIP by the desk's word (``customers.vip``, with a reason) is a
VIP whatever the figures. :func:`recompute_tiers` runs nightly (``checkin-server tiers
recompute``) and for one customer when their visit is handed back.

Devices learn one thing: whether the customer is a VIP (the customer record's synced
``tier``, ``vip`` or ``regular``), written through the sync engine when it changes.

After a merge of duplicates (``customer_file.merge``) the tier belongs to the customer
who stayed: it takes over the tier the merged file held (with its grace period), and
its figures count every visit filed under a file merged into it — also a visit a device
sends for the merged file afterwards, from an offline kiosk or a tablet's older copy.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.domain import CustomerTier
from shared.i18n import Text, plural_text
from shared.visit_status import VisitStatus
from sync_server.back_office_tables import ApprovalRow, QuoteRow
from sync_server.customer_file_tables import CustomerTierState, TierRule
from sync_server.shop import shop_settings
from sync_server.table_base import utcnow
from sync_server.visit_tables import Customer, Visit

REGULAR = "regular"
TIER_NAMES = ("regular", "silver", "gold", "vip")
TIER_LABELS = {
    "regular": Text("Regular", "server"),
    "silver": Text("Silver", "server"),
    "gold": Text("Gold", "server"),
    "vip": Text("VIP", "server"),
}
WINDOW = timedelta(days=365)


@dataclass(frozen=True)
class Figures:
    visits: int
    spend: Decimal


def tier_rules(session: Session) -> list[TierRule]:
    """The rules, lowest tier first."""
    return list(session.scalars(select(TierRule).order_by(TierRule.rank)))


def rank_of(tier: str, rules: list[TierRule]) -> int:
    return next((rule.rank for rule in rules if rule.tier == tier), 0)


def earned_tier(figures: Figures, rules: list[TierRule]) -> str:
    """The highest tier whose visits or spend the figures reach."""
    earned = REGULAR
    for rule in rules:
        by_visits = rule.min_visits > 0 and figures.visits >= rule.min_visits
        by_spend = rule.min_spend > 0 and figures.spend >= rule.min_spend
        if by_visits or by_spend:
            earned = rule.tier
    return earned


def merged_files(session: Session, customer_ids: Iterable[str] | None) -> dict[str, str]:
    """The files merged into these customers (every merged file for ``None``): merged
    file → the customer who stayed. A merge points the files merged earlier into the
    merged one at the customer who stays, so one step always reaches the survivor."""
    query = select(Customer.id, Customer.merged_into_id).where(Customer.merged_into_id.is_not(None))
    if customer_ids is not None:
        query = query.where(Customer.merged_into_id.in_(sorted(set(customer_ids))))
    return {merged: stayed for merged, stayed in session.execute(query) if stayed}


def survivors_of(session: Session, customer_ids: Iterable[str]) -> list[str]:
    """The customers these are now: a merged file's is the customer who stayed."""
    ids = sorted(set(customer_ids))
    stayed = dict(
        session.execute(
            select(Customer.id, Customer.merged_into_id).where(
                Customer.id.in_(ids), Customer.merged_into_id.is_not(None)
            )
        ).all()
    )
    return sorted({stayed.get(customer_id) or customer_id for customer_id in ids})


def figures_of(
    session: Session, customer_ids: Iterable[str] | None, now: datetime
) -> dict[str, Figures]:
    """Handed-back visits over the last 12 months and what was approved on them (the
    latest approval of each visit), by customer; ``None`` for every customer. A visit
    filed under a merged file counts for the customer who stayed."""
    since = now - WINDOW
    visits = (
        select(Visit.id, Visit.customer_id)
        .where(Visit.status == VisitStatus.delivered, Visit.checked_in_at >= since)
        .where(Visit.checked_in_at <= now)
    )
    ids = None if customer_ids is None else sorted(set(customer_ids))
    stayed = merged_files(session, ids)
    if ids is not None:
        visits = visits.where(Visit.customer_id.in_([*ids, *stayed]))
    counts: dict[str, int] = defaultdict(int)
    owner: dict[str, str] = {}
    for visit_id, filed_under in session.execute(visits):
        customer_id = stayed.get(filed_under, filed_under)
        counts[customer_id] += 1
        owner[visit_id] = customer_id
    spend: dict[str, Decimal] = defaultdict(Decimal)
    if owner:
        approvals = (
            select(QuoteRow.visit_id, ApprovalRow.approved_at, ApprovalRow.approved_total)
            .join(QuoteRow, QuoteRow.id == ApprovalRow.quote_id)
            .where(ApprovalRow.approved_total.is_not(None))
            .where(ApprovalRow.approved_at >= since - timedelta(days=60))
        )
        if ids is not None:
            approvals = approvals.where(QuoteRow.visit_id.in_(list(owner)))
        latest: dict[str, tuple[datetime, Decimal]] = {}
        for visit_id, approved_at, total in session.execute(approvals):
            if visit_id in owner and (visit_id not in latest or approved_at > latest[visit_id][0]):
                latest[visit_id] = (approved_at, total)
        for visit_id, (_at, total) in latest.items():
            spend[owner[visit_id]] += total
    every = set(counts) | set(spend) | set(ids or ())
    return {
        customer_id: Figures(counts.get(customer_id, 0), spend.get(customer_id, Decimal(0)))
        for customer_id in every
    }


def next_state(
    state: CustomerTierState | None,
    earned: str,
    rules: list[TierRule],
    now: datetime,
    grace_days: int,
) -> tuple[str, datetime | None]:
    """The tier a customer holds now and until when a lower earned tier is held off."""
    if state is None:
        return earned, None
    held = state.tier
    if rank_of(earned, rules) >= rank_of(held, rules):
        return earned, None
    if state.grace_until is None:
        if grace_days <= 0:
            return earned, None
        return held, now + timedelta(days=grace_days)
    if now >= state.grace_until:
        return earned, None
    return held, state.grace_until


def recompute_tiers(
    session: Session, customer_ids: Iterable[str] | None = None, now: datetime | None = None
) -> int:
    """Work out the tiers again (every customer, or these); returns how many changed.
    A customer whose VIP status changed is written through the sync engine, so devices
    learn it. The caller commits."""
    from sync_server.sync.records import lock_feed, update_server_record

    now = now or utcnow()
    rules = tier_rules(session)
    grace_days = shop_settings(session).tier_grace_days
    ids = None if customer_ids is None else survivors_of(session, customer_ids)
    figures = figures_of(session, ids, now)
    customers = select(Customer.id, Customer.vip, Customer.tier).where(
        Customer.merged_into_id.is_(None)
    )
    if ids is not None:
        customers = customers.where(Customer.id.in_(ids))
    states_query = select(CustomerTierState)
    if ids is not None:
        states_query = states_query.where(CustomerTierState.customer_id.in_(ids))
    states = {state.customer_id: state for state in session.scalars(states_query)}
    changed = 0
    locked = False
    for customer_id, manual_vip, synced_tier in session.execute(customers).all():
        own = figures.get(customer_id, Figures(0, Decimal(0)))
        earned = earned_tier(own, rules)
        state = states.get(customer_id)
        if (
            state is None
            and earned == REGULAR
            and not manual_vip
            and customer_id not in figures
            and _synced_tier(synced_tier) != CustomerTier.vip
        ):
            continue  # nothing to say about a customer without visits
        tier, grace_until = next_state(state, earned, rules, now, grace_days)
        if state is None:
            state = CustomerTierState(customer_id=customer_id, tier=tier, tier_since=now)
            session.add(state)
            changed += 1
        elif state.tier != tier:
            state.tier_since = now
            changed += 1
        state.tier, state.earned_tier, state.grace_until = tier, earned, grace_until
        state.visits_12m, state.spend_12m, state.computed_at = own.visits, own.spend, now
        wanted = CustomerTier.vip if (manual_vip or tier == "vip") else CustomerTier.regular
        if _synced_tier(synced_tier) != wanted:
            if not locked:
                lock_feed(session)
                locked = True
            update_server_record(session, "customer", customer_id, {"tier": wanted.value})
    session.flush()
    return changed


def take_over_tier(session: Session, surviving_id: str, merged_id: str) -> None:
    """At a merge: the customer who stays holds the higher of the two tiers, with the
    merged file's grace period when that tier was held on grace, so a merge never
    drops a VIP the shop has promised to keep (the caller recomputes, then commits)."""
    theirs = session.get(CustomerTierState, merged_id)
    if theirs is None:
        return
    mine = session.get(CustomerTierState, surviving_id)
    rules = tier_rules(session)
    if mine is not None and rank_of(mine.tier, rules) >= rank_of(theirs.tier, rules):
        return
    if mine is None:
        mine = CustomerTierState(customer_id=surviving_id)
        session.add(mine)
    mine.tier, mine.earned_tier = theirs.tier, theirs.earned_tier
    mine.tier_since, mine.grace_until = theirs.tier_since, theirs.grace_until
    session.flush()


def _synced_tier(value: object) -> CustomerTier:
    try:
        return CustomerTier(getattr(value, "value", value))
    except ValueError:
        return CustomerTier.regular


def set_manual_vip(session: Session, customer_id: str, vip: bool, reason: str) -> None:
    """The desk makes a customer a VIP (a reason is required) or takes it back, through
    ``sync_server.appointments.vip.set_vip`` (which raises its ``SettingsError`` for a
    missing or overlong reason); the tier is worked out again at once, so a customer
    the rules make a VIP stays one. The caller commits."""
    from sync_server.appointments.vip import set_vip
    from sync_server.sync.records import lock_feed

    lock_feed(session)
    set_vip(session, customer_id, vip, reason)
    recompute_tiers(session, [customer_id])


@dataclass(frozen=True)
class TierView:
    """A customer's tier and why, for the customer page."""

    tier: str
    reasons: list[str]


def tier_view(session: Session, customer: Customer, render: Callable[[Text], str]) -> TierView:
    """The tier and the reasons, in the reader's words (``render``)."""
    state = session.get(CustomerTierState, customer.id)
    rules = tier_rules(session)
    reasons: list[Text] = []
    tier = state.tier if state else REGULAR
    if customer.vip:
        reasons.append(
            Text("VIP by the desk's decision: {reason}", "server", {"reason": customer.vip_reason})
        )
    if state is None:
        reasons.append(Text("Not worked out yet: it is, every night.", "server"))
        return TierView("vip" if customer.vip else tier, [render(text) for text in reasons])
    reasons.append(
        plural_text(
            "{visits} handed-back visit and {spend} approved in the last 12 months.",
            "{visits} handed-back visits and {spend} approved in the last 12 months.",
            state.visits_12m,
            "server",
            visits=state.visits_12m,
            spend=f"¥{state.spend_12m:,.2f}",
        )
    )
    rule = next((rule for rule in rules if rule.tier == state.earned_tier), None)
    if rule is not None:
        reasons.append(
            plural_text(
                "{tier} needs {visits} visit or {spend}.",
                "{tier} needs {visits} visits or {spend}.",
                rule.min_visits,
                "server",
                tier=render(TIER_LABELS[rule.tier]),
                visits=rule.min_visits,
                spend=f"¥{rule.min_spend:,.0f}",
            )
        )
    if state.grace_until is not None:
        reasons.append(
            Text(
                "The figures now give {earned}; the tier is kept until {day} (grace period).",
                "server",
                {
                    "earned": render(TIER_LABELS.get(state.earned_tier, TIER_LABELS[REGULAR])),
                    "day": state.grace_until.date().isoformat(),
                },
            )
        )
    return TierView("vip" if customer.vip else state.tier, [render(text) for text in reasons])


def save_rules(
    session: Session, thresholds: dict[str, tuple[int, Decimal]], grace_days: int
) -> None:
    """Replace the thresholds of each tier and the grace period (the caller checked
    them and commits)."""
    rules = {rule.tier: rule for rule in tier_rules(session)}
    for rank, tier in enumerate(TIER_NAMES[1:], start=1):
        visits, spend = thresholds[tier]
        rule = rules.get(tier)
        if rule is None:
            session.add(TierRule(tier=tier, rank=rank, min_visits=visits, min_spend=spend))
        else:
            rule.min_visits, rule.min_spend = visits, spend
    shop_settings(session).tier_grace_days = grace_days
    session.flush()


def customers_by_tier(session: Session) -> dict[str, int]:
    """How many customers hold each tier (for the settings page)."""
    rows = session.execute(
        select(CustomerTierState.tier, func.count()).group_by(CustomerTierState.tier)
    )
    return {tier: count for tier, count in rows}


__all__ = [
    "TIER_LABELS",
    "TIER_NAMES",
    "Figures",
    "TierView",
    "customers_by_tier",
    "earned_tier",
    "figures_of",
    "merged_files",
    "next_state",
    "recompute_tiers",
    "save_rules",
    "set_manual_vip",
    "survivors_of",
    "take_over_tier",
    "tier_rules",
    "tier_view",
]
