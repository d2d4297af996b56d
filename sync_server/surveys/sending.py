"""The survey job, run before every pass of the message sender (the server's sender thread
and ``checkin-server send-messages`` alike), like the appointment reminders.

* Every visit handed back in the last ``LOOKBACK`` without a survey gets one: an
  unguessable link token, the customer's language, the time it goes out (the shop's
  setting: by default the next evening at 19:00 shop time, never in the quiet hours
  21:00–09:00), the advisor, the technicians of its job assignments and the job lines the
  customer approved. The visit is unique in ``surveys`` and rows are inserted with
  ``ON CONFLICT DO NOTHING``, so two processes never make two.
* A survey whose time has come is queued in the outbox (SMS, or e-mail when the customer
  chose e-mail) by claiming it first (``queued_at`` set where it was empty): a second run
  or a second process queues nothing twice. A customer who prefers the phone, or has
  neither e-mail nor a mobile, gets a call instead: a "survey by phone" call-back, where
  the advisor enters the answers on the customer's behalf (``callbacks``).
* A survey message that comes due in quiet hours (the sender was off, a retry slipped past
  21:00) waits for the morning.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.domain import ContactChannel, LineDecision
from shared.i18n import Text
from shared.shop_time import shop_zone
from sync_server.back_office_tables import ApprovalRow, JobAssignment, OutboundMessage, QuoteRow
from sync_server.messaging import _customer_language
from sync_server.record_tables import ApprovalDecisionRow, QuoteLineRow
from sync_server.shop_tables import Shop
from sync_server.surveys.callbacks import open_phone_survey
from sync_server.surveys.settings import QUIET_FROM, QUIET_UNTIL, survey_settings
from sync_server.surveys.tables import Survey, SurveyJobLine, SurveySettings, SurveyTechnician
from sync_server.table_base import utcnow
from sync_server.visit_tables import Customer, Vehicle, Visit
from sync_server.work_tables import HandBack

log = logging.getLogger(__name__)

# Hand-backs older than this get no survey (the customer would hardly remember).
LOOKBACK = timedelta(days=14)
CAP = 200
EVENT = "survey"
SUBJECT = Text("{shop}: how did we do?", "server")
BODY = Text(
    "Hello {name}, thank you for bringing {plate} to us. How did we do? It takes a minute: {link}",
    "server",
)


def survey_path(token: str) -> str:
    return f"/survey/{token}"


def is_quiet(moment: datetime, zone_name: str) -> bool:
    local = moment.astimezone(shop_zone(zone_name)).time()
    return local >= QUIET_FROM or local < QUIET_UNTIL


def quiet_ends(moment: datetime, zone_name: str) -> datetime:
    """When the quiet hours around ``moment`` end (UTC); ``moment`` itself if not quiet."""
    if not is_quiet(moment, zone_name):
        return moment
    zone = shop_zone(zone_name)
    local = moment.astimezone(zone)
    day = local.date() + timedelta(days=1) if local.time() >= QUIET_FROM else local.date()
    return datetime.combine(day, QUIET_UNTIL, zone).astimezone(UTC)


def send_time(handed_back_at: datetime, rules: SurveySettings, zone_name: str) -> datetime:
    """When the survey of a car handed back at ``handed_back_at`` goes out: the set number
    of days later at the set shop time (the next day at that time if it has already
    passed), moved out of the quiet hours."""
    zone = shop_zone(zone_name)
    local = handed_back_at.astimezone(zone)
    hour, minute = divmod(rules.send_at_minute, 60)
    day = local.date() + timedelta(days=rules.send_after_days)
    planned = datetime.combine(day, datetime.min.time(), zone).replace(hour=hour, minute=minute)
    if planned <= local:
        planned += timedelta(days=1)
    return quiet_ends(planned.astimezone(UTC), zone_name)


def _insert(session: Session, values: dict[str, Any]) -> int | None:
    """Insert a survey unless the visit has one; its id, or None when it had one."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = (
        module.insert(Survey)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["visit_id"])
        .returning(Survey.id)
    )
    return session.execute(statement).scalar()


def _approved_lines(session: Session, visit_id: str) -> list[QuoteLineRow]:
    approval_id = session.scalars(
        select(ApprovalRow.id)
        .join(QuoteRow, QuoteRow.id == ApprovalRow.quote_id)
        .where(QuoteRow.visit_id == visit_id)
        .order_by(ApprovalRow.approved_at.desc())
        .limit(1)
    ).first()
    if approval_id is None:
        return []
    return list(
        session.scalars(
            select(QuoteLineRow)
            .join(ApprovalRow, ApprovalRow.quote_id == QuoteLineRow.quote_id)
            .join(
                ApprovalDecisionRow,
                (ApprovalDecisionRow.line_id == QuoteLineRow.line_id)
                & (ApprovalDecisionRow.approval_id == ApprovalRow.id),
            )
            .where(
                ApprovalRow.id == approval_id,
                ApprovalDecisionRow.decision == LineDecision.approved,
            )
            .order_by(QuoteLineRow.position)
        )
    )


def open_survey(session: Session, visit: Visit, hand_back: HandBack) -> Survey | None:
    """The visit's survey, made now if it has none (with its technicians and job lines);
    None when the visit was not handed back."""
    existing = session.scalars(select(Survey).where(Survey.visit_id == visit.id)).first()
    if existing is not None:
        return existing
    shop = session.get(Shop, 1)
    rules = survey_settings(session)
    zone_name = shop.timezone if shop else "UTC"
    survey_id = _insert(
        session,
        {
            "visit_id": visit.id,
            "customer_id": visit.customer_id,
            "advisor_user_id": visit.advisor_user_id or hand_back.handed_back_by_user_id,
            "token": secrets.token_urlsafe(32),
            "language": _customer_language(session, visit.id, shop),
            "handed_back_at": hand_back.handed_back_at,
            "send_at": send_time(hand_back.handed_back_at, rules, zone_name),
            "comment": "",
            "hot": False,
            "created_at": utcnow(),
        },
    )
    if survey_id is not None:
        technicians = set(
            session.scalars(
                select(JobAssignment.technician_id).where(
                    JobAssignment.visit_id == visit.id, JobAssignment.technician_id.is_not(None)
                )
            )
        )
        session.add_all(
            SurveyTechnician(survey_id=survey_id, technician_id=technician)
            for technician in sorted(technicians)
        )
        session.add_all(
            SurveyJobLine(
                survey_id=survey_id,
                line_id=line.line_id,
                kind=str(getattr(line.kind, "value", line.kind)),
                description=line.description,
            )
            for line in _approved_lines(session, visit.id)
        )
        session.flush()
    return session.scalars(select(Survey).where(Survey.visit_id == visit.id)).first()


def survey_of_visit(session: Session, visit: Visit) -> Survey | None:
    """The survey of a handed-back visit (made if the job has not come to it yet)."""
    hand_back = session.scalars(select(HandBack).where(HandBack.visit_id == visit.id)).first()
    if hand_back is None:
        return None
    return open_survey(session, visit, hand_back)


def open_missing_surveys(session: Session, now: datetime, cap: int = CAP) -> int:
    """Make the surveys of recent hand-backs that have none; returns how many were made."""
    rows = session.execute(
        select(Visit, HandBack)
        .join(HandBack, HandBack.visit_id == Visit.id)
        .outerjoin(Survey, Survey.visit_id == Visit.id)
        .where(Survey.id.is_(None), HandBack.handed_back_at >= now - LOOKBACK)
        .order_by(HandBack.handed_back_at)
        .limit(cap)
    ).all()
    made = 0
    for visit, hand_back in rows:
        if open_survey(session, visit, hand_back) is not None:
            made += 1
    return made


def prefers_phone(visit: Visit, customer: Customer) -> bool:
    """The customer asked to be called (at this visit's check-in, or in their file)."""
    return ContactChannel.phone in (visit.contact_channel, customer.preferred_channel)


def _recipient(visit: Visit, customer: Customer) -> tuple[str, str] | None:
    if prefers_phone(visit, customer):
        return None
    if visit.contact_channel == "email" and customer.email:
        return "email", customer.email
    if customer.phone:
        return "sms", customer.phone
    if customer.email:
        return "email", customer.email
    return None


def queue_due_surveys(session: Session, now: datetime, base_url: str, cap: int = CAP) -> int:
    """Queue the links of the surveys whose time has come; returns how many."""
    shop = session.get(Shop, 1)
    if shop is None or is_quiet(now, shop.timezone):
        return 0
    due = session.scalars(
        select(Survey.id)
        .where(
            Survey.queued_at.is_(None),
            Survey.answered_at.is_(None),
            Survey.send_at <= now,
            Survey.handed_back_at >= now - LOOKBACK,
        )
        .order_by(Survey.send_at)
        .limit(cap)
    ).all()
    queued = 0
    for survey_id in due:
        claimed = session.execute(
            update(Survey)
            .where(Survey.id == survey_id, Survey.queued_at.is_(None))
            .values(queued_at=now)
        ).rowcount
        if not claimed:
            continue
        survey = session.get(Survey, survey_id)
        assert survey is not None
        visit = session.get(Visit, survey.visit_id)
        customer = session.get(Customer, survey.customer_id)
        vehicle = session.get(Vehicle, visit.vehicle_id) if visit else None
        if visit is None or customer is None or vehicle is None:
            continue
        reach = _recipient(visit, customer)
        if reach is None:  # a call instead (the status page still offers the link)
            open_phone_survey(session, survey, now)
            queued += 1
            continue
        params = {
            "shop": shop.name,
            "name": customer.name,
            "plate": vehicle.plate,
            "link": base_url + survey_path(survey.token),
        }
        message = OutboundMessage(
            visit_id=survey.visit_id,
            event=EVENT,
            channel=reach[0],
            recipient=reach[1],
            language=survey.language,
            subject=Text(SUBJECT.message, "server", params).render(survey.language),
            body=Text(BODY.message, "server", params).render(survey.language),
            state="pending",
            next_attempt_at=now,
        )
        session.add(message)
        session.flush()
        survey.message_id = message.id
        queued += 1
    return queued


def hold_quiet_surveys(session: Session, now: datetime) -> int:
    """Put survey messages that come due in quiet hours off until the morning."""
    shop = session.get(Shop, 1)
    if shop is None or not is_quiet(now, shop.timezone):
        return 0
    return int(
        session.execute(
            update(OutboundMessage)
            .where(
                OutboundMessage.state == "pending",
                OutboundMessage.next_attempt_at <= now,
                OutboundMessage.event == EVENT,
            )
            .values(next_attempt_at=quiet_ends(now, shop.timezone))
        ).rowcount
        or 0
    )


def link_base(config: Mapping[str, Any]) -> str:
    """Where the links in messages point: ``PUBLIC_URL``, else the address ``serve``
    listens on (``LINK_BASE_URL``, set by ``serve``); empty when neither is known."""
    return str(config.get("PUBLIC_URL") or config.get("LINK_BASE_URL") or "").rstrip("/")


def prepare_surveys(session: Session, now: datetime, config: Mapping[str, Any]) -> dict[str, int]:
    """The survey job: make what is missing, hold what would be quiet, queue what is due;
    commits."""
    held = hold_quiet_surveys(session, now)
    made = open_missing_surveys(session, now)
    base = link_base(config)
    queued = 0
    if base:
        queued = queue_due_surveys(session, now, base)
    elif made:
        log.warning("surveys not sent: no address for their links (set PUBLIC_URL)")
    session.commit()
    return {"made": made, "queued": queued, "held": held}
