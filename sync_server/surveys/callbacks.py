"""The survey call-backs: those hot alerts open, and the surveys asked on the phone (a
customer who prefers a call, or has neither e-mail nor a mobile). The list the manager
and the advisors work from (an advisor sees their own and those of visits without an
advisor; the manager sees all), overdue ones first; marking one done with what the
customer said; a survey by phone is done by entering the customer's answers
(``answers.record_answer`` with ``via="phone"``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shared.i18n import Text
from sync_server.appointments.capacity import calendar_for
from sync_server.shop import shop_settings
from sync_server.surveys.settings import survey_settings
from sync_server.surveys.tables import Survey, SurveyCallback
from sync_server.visit_tables import Customer, Vehicle, Visit

MAX_NOTES = 2000
HOT_ALERT = "hot_alert"
SURVEY_BY_PHONE = "survey_by_phone"


def open_phone_survey(session: Session, survey: Survey, now: datetime) -> SurveyCallback:
    """The survey asked on the phone: a call-back due within the set business hours
    (the survey's own; a second call finds it there)."""
    existing = session.scalars(
        select(SurveyCallback).where(SurveyCallback.survey_id == survey.id)
    ).first()
    if existing is not None:
        return existing
    rules = survey_settings(session)
    calendar = calendar_for(session, shop_settings(session))
    due = calendar.add_business_time(now, timedelta(hours=rules.callback_business_hours))
    callback = SurveyCallback(
        survey_id=survey.id,
        visit_id=survey.visit_id,
        advisor_user_id=survey.advisor_user_id,
        opened_at=now.astimezone(UTC),
        due_at=due.astimezone(UTC),
        notes="",
        reason=SURVEY_BY_PHONE,
    )
    session.add(callback)
    session.flush()
    return callback


class CallbackRefused(ValueError):
    def __init__(self, errors: dict[str, Text]) -> None:
        super().__init__(", ".join(text.render("en") for text in errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class CallbackLine:
    callback: SurveyCallback
    survey: Survey
    visit: Visit
    customer: Customer
    vehicle: Vehicle

    def overdue(self, now: datetime) -> bool:
        return self.callback.done_at is None and now.astimezone(UTC) > self.callback.due_at

    @property
    def by_phone(self) -> bool:
        """The survey is to be asked on this call (its answers not given yet)."""
        return self.callback.reason == SURVEY_BY_PHONE and self.survey.answered_at is None


def callback_list(
    session: Session, *, advisor_user_id: int | None, open_only: bool = True, limit: int = 300
) -> Sequence[CallbackLine]:
    """The call-backs, soonest due first; ``advisor_user_id`` None: everyone's."""
    query = (
        select(SurveyCallback, Survey, Visit, Customer, Vehicle)
        .join(Survey, Survey.id == SurveyCallback.survey_id)
        .join(Visit, Visit.id == SurveyCallback.visit_id)
        .join(Customer, Customer.id == Visit.customer_id)
        .join(Vehicle, Vehicle.id == Visit.vehicle_id)
    )
    if open_only:
        query = query.where(SurveyCallback.done_at.is_(None))
    if advisor_user_id is not None:
        query = query.where(
            or_(
                SurveyCallback.advisor_user_id == advisor_user_id,
                SurveyCallback.advisor_user_id.is_(None),
            )
        )
    query = query.order_by(SurveyCallback.done_at.is_not(None), SurveyCallback.due_at).limit(limit)
    return [CallbackLine(*row) for row in session.execute(query)]


def mark_done(
    session: Session, callback: SurveyCallback, *, user_id: int, notes: str, now: datetime
) -> SurveyCallback:
    """The customer was called back; refused without notes or once already done."""
    if callback.done_at is not None:
        raise CallbackRefused({"notes": Text("This call-back is already done.", "server")})
    words = notes.strip()
    if not words:
        raise CallbackRefused({"notes": Text("Write what the customer said.", "server")})
    if len(words) > MAX_NOTES:
        raise CallbackRefused(
            {
                "notes": Text(
                    "Please keep this to {maximum} characters.", "server", {"maximum": MAX_NOTES}
                )
            }
        )
    callback.done_at = now.astimezone(UTC)
    callback.done_by_user_id = user_id
    callback.notes = words
    return callback


@dataclass(frozen=True)
class VisitSurvey:
    """A visit's survey as its page shows it: the answer, and the call-back if hot."""

    survey: Survey
    callback: SurveyCallback | None


def visit_survey(session: Session, visit_id: str) -> VisitSurvey | None:
    """The visit's survey with its call-back; None when it has none (yet)."""
    row = session.execute(
        select(Survey, SurveyCallback)
        .outerjoin(SurveyCallback, SurveyCallback.survey_id == Survey.id)
        .where(Survey.visit_id == visit_id)
    ).first()
    return VisitSurvey(row[0], row[1]) if row is not None else None
