"""The demo shop's follow-up half: visits handed back earlier with the customers' survey
answers (a promoter, and a low answer whose hot alert opened a call-back and a complaint
case), a complaint phoned in today and being investigated, the complaint categories and
root causes, and the reminder, survey and complaint settings at their defaults.

Everything goes through the areas' own services (the hand-back's survey, the answer and its
hot alert, the complaint's intake and steps), at the times the story needs. A second run
first takes away what the first made here — only rows hung on the demo's own visits — and
makes it again on today's clock, so deadlines and "answered yesterday" stay true. (With a
manager's address in the survey settings, each run e-mails the hot alert again, as the
answer would.)
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from shared import domain
from shared.visit_status import VisitStatus
from sync_server.complaints import cases
from sync_server.complaints.labels import add_label, complaint_settings
from sync_server.complaints.tables import ComplaintCase, ComplaintLabel, ComplaintStep
from sync_server.demo.cast import (
    COMPLAINT_CATEGORY,
    COMPLAINT_LABELS,
    COMPLAINT_MINUTES_AGO,
    COMPLAINT_STEPS,
    COMPLAINT_SUMMARY,
    CUSTOMERS,
    LANGUAGES,
    PAST_VISITS,
    demo_id,
)
from sync_server.follow_up.rules import follow_up_settings
from sync_server.hand_back import keep_handed_back_job
from sync_server.surveys.answers import record_answer
from sync_server.surveys.sending import open_survey
from sync_server.surveys.settings import survey_settings
from sync_server.surveys.tables import Survey, SurveyCallback, SurveyJobLine, SurveyTechnician
from sync_server.visit_tables import Visit
from sync_server.work_tables import HandBack

CHECKED_IN, HANDED_BACK = time(9, 10), time(16, 30)
SCORE_FIELDS = ("overall", "advisor_score", "work_score", "recommend")


def past_visit_id(key: str) -> str:
    return demo_id("visit", f"{key}:handed-back")


def seed_after_care(
    session: Session, now: datetime, zone: ZoneInfo, advisor_id: int, base_url: str
) -> str:
    """Make or remake the follow-up half of the demo; returns what it holds, to print."""
    follow_up_settings(session)
    survey_settings(session)
    complaint_settings(session)
    _seed_labels(session)
    _clear(session)
    hot = 0
    for item in PAST_VISITS:
        survey = _handed_back_visit(session, item, now, zone, advisor_id)
        typed = dict(zip(SCORE_FIELDS, map(str, item[6]), strict=True))
        answered = record_answer(
            session,
            survey,
            {**typed, "comment": item[7]},
            now=min(survey.send_at + timedelta(minutes=25), now - timedelta(minutes=5)),
            base_url=base_url,
        )
        hot += int(answered.callback is not None)
    _complaint_in_progress(session, now, advisor_id)
    session.flush()
    return f"{len(PAST_VISITS)} answered surveys ({hot} hot alert), 1 complaint in progress"


def _seed_labels(session: Session) -> None:
    for kind, name_en, name_zh in COMPLAINT_LABELS:
        known = session.scalar(
            select(func.count()).where(
                ComplaintLabel.kind == kind, func.lower(ComplaintLabel.name_en) == name_en.lower()
            )
        )
        if not known:
            add_label(session, kind, name_en, name_zh)


def _clear(session: Session) -> None:
    """Take away the surveys, call-backs and cases an earlier run made on the demo visits."""
    visit_ids = [past_visit_id(item[0]) for item in PAST_VISITS]
    survey_ids = list(session.scalars(select(Survey.id).where(Survey.visit_id.in_(visit_ids))))
    case_ids = set(
        session.scalars(
            select(SurveyCallback.complaint_case_id).where(
                SurveyCallback.survey_id.in_(survey_ids),
                SurveyCallback.complaint_case_id.is_not(None),
            )
        )
    )
    case_ids |= set(
        session.scalars(
            select(ComplaintCase.id).where(
                ComplaintCase.visit_id == demo_id("visit", "liu-yang"),
                ComplaintCase.summary == COMPLAINT_SUMMARY,
            )
        )
    )
    session.execute(delete(SurveyCallback).where(SurveyCallback.survey_id.in_(survey_ids)))
    session.execute(delete(ComplaintStep).where(ComplaintStep.case_id.in_(case_ids)))
    session.execute(delete(ComplaintCase).where(ComplaintCase.id.in_(case_ids)))
    session.execute(delete(SurveyTechnician).where(SurveyTechnician.survey_id.in_(survey_ids)))
    session.execute(delete(SurveyJobLine).where(SurveyJobLine.survey_id.in_(survey_ids)))
    session.execute(delete(Survey).where(Survey.id.in_(survey_ids)))
    session.flush()
    session.expire_all()


def _handed_back_visit(
    session: Session, item: tuple, now: datetime, zone: ZoneInfo, advisor_id: int
) -> Survey:
    from sync_server.sync.records import put_server_record

    key, ticket, days_ago, concerns, concern, work_done, _scores, _comment = item
    customer = next(c for c in CUSTOMERS if c.key == key)
    day = now.astimezone(zone).date() - timedelta(days=days_ago)
    arrived = datetime.combine(day, CHECKED_IN, zone).astimezone(UTC)
    handed_back = datetime.combine(day, HANDED_BACK, zone).astimezone(UTC)
    visit_id = past_visit_id(key)
    mileage = customer.mileage - 40 * days_ago
    put_server_record(
        session,
        "visit",
        domain.Visit(
            id=visit_id,
            ticket_number=ticket,
            customer_id=demo_id("customer", key),
            vehicle_id=demo_id("vehicle", key),
            status=VisitStatus.delivered,
            concern_codes=[domain.ConcernCode(c) for c in concerns],
            concern_text=concern,
            mileage_in_km=mileage,
            contact_channel=domain.ContactChannel(customer.channel),
            checked_in_at=arrived,
            checked_in_device_id=None,
            status_token=hashlib.sha256(f"demo-status:{visit_id}".encode()).hexdigest()[:22],
            advisor_user_id=advisor_id,
        ),
    )
    put_server_record(
        session,
        "consent",
        domain.Consent(
            id=demo_id("consent", f"{key}:handed-back"),
            visit_id=visit_id,
            text_version="2026-1",
            text_sha256=hashlib.sha256(b"demo consent text 2026-1").hexdigest(),
            language=LANGUAGES[key],
            accepted_at=arrived,
        ),
    )
    hand_back = session.scalars(select(HandBack).where(HandBack.visit_id == visit_id)).first()
    if hand_back is None:
        hand_back = HandBack(visit_id=visit_id, parts_replaced=[])
        session.add(hand_back)
    hand_back.odometer_out_km = mileage + 6
    hand_back.work_done = work_done
    hand_back.handed_back_by_user_id = advisor_id
    hand_back.handed_back_at = handed_back
    session.flush()
    keep_handed_back_job(session, hand_back)
    visit = session.get(Visit, visit_id)
    assert visit is not None
    survey = open_survey(session, visit, hand_back)
    assert survey is not None
    return survey


def _complaint_in_progress(session: Session, now: datetime, advisor_id: int) -> None:
    category = session.scalar(
        select(ComplaintLabel.id).where(
            ComplaintLabel.kind == "category", ComplaintLabel.name_en == COMPLAINT_CATEGORY[0]
        )
    )
    case = cases.receive(
        session,
        customer_id=demo_id("customer", "liu-yang"),
        visit_id=demo_id("visit", "liu-yang"),
        channel="phone",
        summary=COMPLAINT_SUMMARY,
        category_id=str(category or ""),
        user_id=advisor_id,
        now=now - timedelta(minutes=COMPLAINT_MINUTES_AGO),
    )
    for action, minutes_ago, notes in COMPLAINT_STEPS:
        cases.take_step(
            session,
            case,
            action,
            user_id=advisor_id,
            notes=notes,
            now=now - timedelta(minutes=minutes_ago),
        )
