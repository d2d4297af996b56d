"""A complaint case's rules: intake, the allowed steps, and the business-hour deadlines.

States: received → acknowledged → investigating → solution proposed → customer confirmed
(closed); reopened from any later state, and from reopened back to investigating. The
first response is met by the acknowledgement, the resolution by the customer's
confirmation. Both deadlines are counted in opening hours (``shared.shop_calendar``)
and stand still while the shop waits for the customer: the time paused is added to
them, counted in opening hours too. A deadline passed unmet is written down once
(``*_missed_at``) and stays missed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shared.i18n import Text, translate
from shared.shop_calendar import ShopCalendar
from sync_server.appointments.capacity import calendar_for
from sync_server.complaints.labels import complaint_settings
from sync_server.complaints.result_message import tell_result
from sync_server.complaints.tables import ComplaintCase, ComplaintLabel, ComplaintStep
from sync_server.search import plate_search_key
from sync_server.shop import shop_settings
from sync_server.visit_tables import Customer, Vehicle, Visit

STATES = ("received", "acknowledged", "investigating", "solution_proposed", "closed", "reopened")
OPEN_STATES = frozenset(STATES) - {"closed"}
CHANNELS = ("desk", "phone")
# How a case came in: the desk's two, and the customer's own (``intake``).
CHANNEL_NAMES = {
    "desk": Text("At the desk", "server"),
    "phone": Text("Phone call", "server"),
    "survey": Text("Survey answer", "server"),
    "status_page": Text("The customer's status page", "server"),
}
# action → (states it may be taken from, state after)
MOVES: dict[str, tuple[frozenset[str], str]] = {
    "acknowledge": (frozenset({"received"}), "acknowledged"),
    "investigate": (frozenset({"acknowledged", "reopened"}), "investigating"),
    "propose": (frozenset({"investigating"}), "solution_proposed"),
    "confirm": (frozenset({"solution_proposed"}), "closed"),
    "reopen": (
        frozenset({"acknowledged", "investigating", "solution_proposed", "closed"}),
        "reopened",
    ),
}
PAUSE_STATES = frozenset({"acknowledged", "investigating", "solution_proposed", "reopened"})

STATE_NAMES = {
    "received": Text("Received", "server"),
    "acknowledged": Text("Acknowledged", "server"),
    "investigating": Text("Investigating", "server"),
    "solution_proposed": Text("Solution proposed", "server"),
    "closed": Text("Customer confirmed (closed)", "server"),
    "reopened": Text("Reopened", "server"),
}
ACTION_NAMES = {
    "receive": Text("Received", "server"),
    "acknowledge": Text("Acknowledge", "server"),
    "investigate": Text("Start investigating", "server"),
    "propose": Text("Propose a solution", "server"),
    "confirm": Text("Customer confirmed", "server"),
    "reopen": Text("Reopen", "server"),
    "wait": Text("Wait for the customer", "server"),
    "resume": Text("The customer answered", "server"),
    "note": Text("Note", "server"),
}


class ComplaintRefused(ValueError):
    """A step or an intake that cannot be taken; ``errors`` by form field."""

    def __init__(self, errors: dict[str, Text]) -> None:
        super().__init__(", ".join(text.render("en") for text in errors.values()))
        self.errors = errors


class NamedText(Text):
    """A message whose parameters are themselves messages, each shown in the reader's
    language (a step's and a state's name)."""

    def render(self, lang: str) -> str:
        params = {
            key: value.render(lang) if isinstance(value, Text) else value
            for key, value in self.params.items()
        }
        return translate(self.message, lang, self.domain, **params)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _calendar(session: Session) -> ShopCalendar:
    return calendar_for(session, shop_settings(session))


def _due(calendar: ShopCalendar, start: datetime, minutes: int, paused_seconds: int) -> datetime:
    amount = timedelta(minutes=minutes, seconds=paused_seconds)
    return _utc(calendar.add_business_time(start, amount))


def receive(
    session: Session,
    *,
    customer_id: str,
    visit_id: str,
    channel: str,
    summary: str,
    category_id: str,
    user_id: int,
    now: datetime,
) -> ComplaintCase:
    """Take a complaint in; refused with a message per field, nothing written."""
    errors: dict[str, Text] = {}
    customer = session.get(Customer, customer_id.strip()) if customer_id.strip() else None
    if customer is None:
        errors["customer"] = Text("Choose the customer who complains.", "server")
    visit = session.get(Visit, visit_id.strip()) if visit_id.strip() else None
    if visit_id.strip() and (visit is None or customer is None or visit.customer_id != customer.id):
        errors["visit"] = Text("This visit is not one of this customer's.", "server")
    if channel not in CHANNELS:
        errors["channel"] = Text("Say how the complaint came in.", "server")
    if not summary.strip():
        errors["summary"] = Text("Write what the customer says is wrong.", "server")
    elif len(summary) > 4000:
        errors["summary"] = Text("Keep the summary under 4000 characters.", "server")
    category = _label(session, category_id, "category")
    if category_id.strip() and category is None:
        errors["category"] = Text("Choose a category from the list.", "server")
    if errors:
        raise ComplaintRefused(errors)
    rules = complaint_settings(session)
    calendar = _calendar(session)
    case = ComplaintCase(
        customer_id=customer.id,  # type: ignore[union-attr]
        visit_id=visit.id if visit else None,
        channel=channel,
        summary=summary.strip(),
        category_id=category.id if category else None,
        state="received",
        received_at=_utc(now),
        first_response_due=_due(calendar, now, rules.first_response_minutes, 0),
        resolution_started_at=_utc(now),
        resolution_due=_due(calendar, now, rules.resolution_minutes, 0),
        paused_seconds=0,
        created_by_user_id=user_id,
    )
    session.add(case)
    session.flush()
    session.add(
        ComplaintStep(
            case_id=case.id,
            action="receive",
            state_after="received",
            user_id=user_id,
            at=_utc(now),
            notes=summary.strip(),
        )
    )
    return case


def _label(session: Session, label_id: str, kind: str) -> ComplaintLabel | None:
    if not label_id.strip().isdigit():
        return None
    label = session.get(ComplaintLabel, int(label_id))
    return label if label is not None and label.kind == kind else None


def allowed_actions(case: ComplaintCase) -> list[str]:
    actions = [action for action, (sources, _after) in MOVES.items() if case.state in sources]
    if case.state in PAUSE_STATES:
        actions.append("resume" if case.waiting_since else "wait")
    return [*actions, "note"]


def take_step(
    session: Session,
    case: ComplaintCase,
    action: str,
    *,
    user_id: int,
    notes: str,
    now: datetime,
    root_cause_id: str = "",
) -> ComplaintStep:
    """Take ``action`` on ``case``; a step not allowed from its state is refused."""
    now = _utc(now)
    record_missed(session, case, now)
    if action not in allowed_actions(case):
        name = ACTION_NAMES.get(action, Text("this step", "server"))
        raise ComplaintRefused(
            {
                "action": NamedText(
                    "“{step}” cannot be taken while the case is “{state}”.",
                    "server",
                    {"step": name, "state": STATE_NAMES[case.state]},
                )
            }
        )
    if len(notes) > 4000:
        raise ComplaintRefused({"notes": Text("Keep the notes under 4000 characters.", "server")})
    if action in {"reopen", "note"} and not notes.strip():
        raise ComplaintRefused({"notes": Text("Write why, for the next person to read.", "server")})
    if action == "confirm":
        cause = _label(session, root_cause_id, "root_cause")
        if cause is None:
            raise ComplaintRefused(
                {"root_cause": Text("Choose the root cause before closing.", "server")}
            )
        case.root_cause_id = cause.id
    if case.waiting_since is not None and action not in {"note", "wait"}:
        _stop_waiting(session, case, now)
    if action == "wait":
        case.waiting_since = now
    elif action in MOVES:
        case.state = MOVES[action][1]
    if action == "acknowledge":
        case.first_responded_at = now
    elif action == "confirm":
        case.resolved_at = now
    elif action == "reopen":
        rules = complaint_settings(session)
        case.resolved_at = None
        case.resolution_started_at = now
        case.paused_seconds = 0
        case.resolution_due = _due(_calendar(session), now, rules.resolution_minutes, 0)
    step = ComplaintStep(
        case_id=case.id,
        action=action,
        state_after=case.state,
        user_id=user_id,
        at=now,
        notes=notes.strip(),
    )
    session.add(step)
    if action == "confirm":
        session.flush()
        tell_result(session, case, notes, now)
    return step


def _stop_waiting(session: Session, case: ComplaintCase, now: datetime) -> None:
    calendar = _calendar(session)
    waited = calendar.business_time_between(case.waiting_since, now)  # type: ignore[arg-type]
    case.waiting_since = None
    seconds = int(waited.total_seconds())
    case.paused_seconds += seconds
    rules = complaint_settings(session)
    if case.first_responded_at is None:
        case.first_response_due = _due(
            calendar, case.received_at, rules.first_response_minutes, case.paused_seconds
        )
    case.resolution_due = _due(
        calendar, case.resolution_started_at, rules.resolution_minutes, case.paused_seconds
    )


@dataclass(frozen=True)
class Clock:
    """Where a case's deadlines stand at one moment."""

    first_response_due: datetime | None  # None: met
    resolution_due: datetime | None
    first_response_overdue: bool
    resolution_overdue: bool
    paused: bool

    @property
    def overdue(self) -> bool:
        return self.first_response_overdue or self.resolution_overdue


def clock(case: ComplaintCase, now: datetime) -> Clock:
    """The deadlines as they stand at ``now`` (a waiting case's deadlines do not run)."""
    paused = case.waiting_since is not None
    first = None if case.first_responded_at else case.first_response_due
    resolution = None if case.state == "closed" else case.resolution_due
    return Clock(
        first_response_due=first,
        resolution_due=resolution,
        first_response_overdue=case.first_response_missed_at is not None
        or (first is not None and not paused and _utc(now) > first),
        resolution_overdue=case.resolution_missed_at is not None
        or (resolution is not None and not paused and _utc(now) > resolution),
        paused=paused,
    )


def record_missed(session: Session, case: ComplaintCase, now: datetime) -> bool:
    """Write down a deadline that has passed unmet; once written it is never cleared.

    While the case waits for the customer the deadline is judged with the time waited
    so far added, so a pause never makes a deadline look missed."""
    now = _utc(now)
    changed = False
    extra = timedelta(0)
    if case.waiting_since is not None:
        extra = _calendar(session).business_time_between(case.waiting_since, now)
    if case.first_response_missed_at is None:
        met = case.first_responded_at
        due = case.first_response_due
        if (met or now) > due and (met is not None or now > _calendar_shift(session, due, extra)):
            case.first_response_missed_at = due
            changed = True
    if case.resolution_missed_at is None:
        met = case.resolved_at
        due = case.resolution_due
        if (met or now) > due and (met is not None or now > _calendar_shift(session, due, extra)):
            case.resolution_missed_at = due
            changed = True
    return changed


def _calendar_shift(session: Session, due: datetime, extra: timedelta) -> datetime:
    if not extra:
        return due
    return _utc(_calendar(session).add_business_time(due, extra))


def record_all_missed(session: Session, now: datetime) -> None:
    """Write down every open case's missed deadlines (the list does this as it is read)."""
    for case in session.scalars(select(ComplaintCase).where(ComplaintCase.state != "closed")):
        record_missed(session, case, now)


def case_list(session: Session, state: str = "") -> Sequence[ComplaintCase]:
    query = select(ComplaintCase).order_by(ComplaintCase.received_at.desc()).limit(500)
    if state == "open":
        query = query.where(ComplaintCase.state != "closed")
    elif state in STATES:
        query = query.where(ComplaintCase.state == state)
    return session.scalars(query).all()


def steps_of(session: Session, case_id: int) -> Sequence[ComplaintStep]:
    return session.scalars(
        select(ComplaintStep).where(ComplaintStep.case_id == case_id).order_by(ComplaintStep.id)
    ).all()


def find_customers(session: Session, query: str) -> Sequence[Customer]:
    """Customers by phone, name or plate, for the intake form (at most 20)."""
    text = query.strip()
    if len(text) < 2:
        return []
    like = f"%{text}%"
    matches = [Customer.phone.like(like), Customer.name.ilike(like)]
    plate_key = plate_search_key(text)
    if len(plate_key) >= 2:
        by_plate = select(Vehicle.customer_id).where(Vehicle.plate_search.like(f"%{plate_key}%"))
        matches.append(Customer.id.in_(by_plate))
    found = select(Customer).where(or_(*matches))
    return session.scalars(found.order_by(Customer.name).limit(20)).all()


def visits_of(session: Session, customer_ids: Sequence[str]) -> Sequence[Visit]:
    if not customer_ids:
        return []
    query = select(Visit).where(Visit.customer_id.in_(customer_ids))
    return session.scalars(query.order_by(Visit.checked_in_at.desc()).limit(100)).all()


def cases_of_customer(
    session: Session, customer_id: str, limit: int = 100
) -> Sequence[tuple[ComplaintCase, ComplaintLabel | None, str]]:
    """A customer's cases, newest first, each with its category and its visit's ticket
    ("" without a visit), in one query."""
    query = (
        select(ComplaintCase, ComplaintLabel, Visit.ticket_number)
        .outerjoin(ComplaintLabel, ComplaintLabel.id == ComplaintCase.category_id)
        .outerjoin(Visit, Visit.id == ComplaintCase.visit_id)
        .where(ComplaintCase.customer_id == customer_id)
        .order_by(ComplaintCase.received_at.desc(), ComplaintCase.id.desc())
        .limit(limit)
    )
    return [(case, label, ticket or "") for case, label, ticket in session.execute(query)]
