"""The customer's one answer to a survey, and the hot alert a low answer raises.

An answer is written only where the survey has none yet (``answered_at`` empty, checked in
the same UPDATE), so a second submit — the back button, a second tab, two taps — changes
nothing and is shown the thanks page. An answer with any 1–5 score at or below the shop's
hot score, or would-recommend at or below its hot mark (settings; 2 and 6 by default), is
a hot alert: a call-back task due within the set business hours over the shop's calendar,
a complaint case (source "survey") through the complaints service, and an e-mail to the
manager through the outbox — all in the answer's transaction.

An answer comes by the survey's link (``via`` "link"), or on the phone: a member of staff
enters what the customer said (``via`` "phone", recorded with who entered it), which
closes the survey's "survey by phone" call-back — or, when the answer is hot, turns that
call-back into the hot alert's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.i18n import Text, normalize_language
from shared.shop_time import shop_time_text, shop_zone
from sync_server.appointments.capacity import calendar_for
from sync_server.back_office_tables import OutboundMessage
from sync_server.complaints.intake import receive_from_customer
from sync_server.shop import shop_settings
from sync_server.surveys.callbacks import HOT_ALERT, SURVEY_BY_PHONE
from sync_server.surveys.settings import survey_settings
from sync_server.surveys.tables import Survey, SurveyCallback, SurveySettings
from sync_server.visit_tables import Customer, Vehicle, Visit

MIN_TOKEN, MAX_TOKEN = 32, 43
MAX_COMMENT = 2000
SCORES = ("overall", "advisor_score", "work_score")
FIELDS = (*SCORES, "recommend", "comment")
HOT_EVENT = "survey_hot"


class AnswerRefused(ValueError):
    """The survey form refused, with a message per field; nothing was saved."""

    def __init__(self, errors: dict[str, Text]) -> None:
        super().__init__(", ".join(text.render("en") for text in errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class Answered:
    survey: Survey
    saved: bool  # False: the survey already had its answer; nothing changed
    callback: SurveyCallback | None = None


def survey_for_token(session: Session, token: str) -> Survey | None:
    if not MIN_TOKEN <= len(token) <= MAX_TOKEN:
        return None
    return session.scalars(select(Survey).where(Survey.token == token)).first()


def _number(text: str, low: int, high: int) -> int | None:
    text = text.strip()
    if not text.isdigit() or not low <= int(text) <= high:
        return None
    return int(text)


def read_answer(typed: Mapping[str, str]) -> dict[str, int | str]:
    """The answer as the form sent it, checked field by field."""
    errors: dict[str, Text] = {}
    values: dict[str, int | str] = {}
    for field in SCORES:
        score = _number(typed.get(field, ""), 1, 5)
        if score is None:
            errors[field] = Text("Choose a score from 1 to 5.", "server")
        else:
            values[field] = score
    recommend = _number(typed.get("recommend", ""), 0, 10)
    if recommend is None:
        errors["recommend"] = Text("Choose a number from 0 to 10.", "server")
    else:
        values["recommend"] = recommend
    comment = typed.get("comment", "").strip()
    if len(comment) > MAX_COMMENT:
        errors["comment"] = Text(
            "Please keep this to {maximum} characters.", "server", {"maximum": MAX_COMMENT}
        )
    values["comment"] = comment
    if errors:
        raise AnswerRefused(errors)
    return values


def is_hot(values: Mapping[str, int | str], rules: SurveySettings) -> bool:
    """Any score at or below the hot score, or would-recommend at or below the hot mark."""
    low_score = any(int(values[field]) <= rules.hot_score_max for field in SCORES)
    return low_score or int(values["recommend"]) <= rules.hot_recommend_max


def record_answer(
    session: Session,
    survey: Survey,
    typed: Mapping[str, str],
    *,
    now: datetime,
    base_url: str,
    via: str = "link",
    user_id: int | None = None,
) -> Answered:
    """Save the customer's answer (refused by field: :class:`AnswerRefused`); a survey
    already answered is left as it is. ``via`` "phone": entered by ``user_id`` on the
    customer's behalf. The caller commits."""
    if survey.answered_at is not None:
        return Answered(survey, saved=False)
    values = read_answer(typed)
    rules = survey_settings(session)
    hot = is_hot(values, rules)
    now = now.astimezone(UTC)
    written = session.execute(
        update(Survey)
        .where(Survey.id == survey.id, Survey.answered_at.is_(None))
        .values(
            answered_at=now,
            hot=hot,
            answered_via=via,
            answered_by_user_id=user_id if via == "phone" else None,
            **values,
        )
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if not written:
        session.refresh(survey)
        return Answered(survey, saved=False)
    session.refresh(survey)
    if hot:
        callback = raise_hot_alert(session, survey, rules, now, base_url)
    else:
        callback = _close_phone_survey(session, survey, now, via, user_id)
    return Answered(survey, saved=True, callback=callback)


def _close_phone_survey(
    session: Session, survey: Survey, now: datetime, via: str, user_id: int | None
) -> SurveyCallback | None:
    """The survey's "survey by phone" call-back is done: answered on the call, or by the
    link before anyone called."""
    callback = session.scalars(
        select(SurveyCallback).where(
            SurveyCallback.survey_id == survey.id,
            SurveyCallback.reason == SURVEY_BY_PHONE,
            SurveyCallback.done_at.is_(None),
        )
    ).first()
    if callback is None:
        return None
    language = normalize_language(shop_settings(session).default_language)
    callback.done_at = now
    callback.done_by_user_id = user_id if via == "phone" else None
    callback.notes = (
        Text("Survey answered on the phone.", "server")
        if via == "phone"
        else Text("The customer answered by the survey link before the call.", "server")
    ).render(language)
    return callback


def _summary(survey: Survey, language: str) -> str:
    scores = Text(
        "Survey answer: overall {overall}, advisor {advisor}, work {work}, would recommend "
        "{recommend}/10.",
        "server",
        {
            "overall": survey.overall,
            "advisor": survey.advisor_score,
            "work": survey.work_score,
            "recommend": survey.recommend,
        },
    ).render(language)
    return f"{scores}\n{survey.comment}".strip()


def raise_hot_alert(
    session: Session, survey: Survey, rules: SurveySettings, now: datetime, base_url: str
) -> SurveyCallback:
    """Open the call-back, the complaint case and the manager's e-mail for ``survey``."""
    shop = shop_settings(session)
    language = normalize_language(shop.default_language)
    calendar = calendar_for(session, shop)
    due = calendar.add_business_time(now, timedelta(hours=rules.callback_business_hours))
    visit = session.get(Visit, survey.visit_id)
    case = receive_from_customer(
        session,
        customer_id=survey.customer_id,
        visit_id=survey.visit_id,
        channel="survey",
        summary=_summary(survey, language),
        now=now,
    )
    # A survey asked on the phone has its call-back already: it becomes the alert's.
    callback = session.scalars(
        select(SurveyCallback).where(SurveyCallback.survey_id == survey.id)
    ).first()
    if callback is None:
        callback = SurveyCallback(survey_id=survey.id, visit_id=survey.visit_id)
        session.add(callback)
    callback.advisor_user_id = survey.advisor_user_id
    callback.complaint_case_id = case.id
    callback.opened_at = now
    callback.due_at = due.astimezone(UTC)
    callback.done_at = None
    callback.done_by_user_id = None
    callback.notes = ""
    callback.reason = HOT_ALERT
    session.flush()
    if rules.manager_email:
        customer = session.get(Customer, survey.customer_id)
        vehicle = session.get(Vehicle, visit.vehicle_id) if visit else None
        params = {
            "name": customer.name if customer else "",
            "plate": vehicle.plate if vehicle else "",
            "due": shop_time_text(due, shop_zone(shop.timezone), "%Y-%m-%d %H:%M"),
            "summary": _summary(survey, language),
            "link": f"{base_url}/surveys/callbacks",
            "case_link": f"{base_url}/complaints/{case.id}",
        }
        session.add(
            OutboundMessage(
                visit_id=None,  # to the manager, not a message to the customer of the visit
                event=HOT_EVENT,
                channel="email",
                recipient=rules.manager_email,
                language=language,
                subject=Text(
                    "Hot alert: a low survey answer from {name} ({plate})", "server", params
                ).render(language),
                body=Text(
                    "{name} ({plate}) answered the survey low.\n{summary}\n\nCall them back by "
                    "{due}: {link}\nThe complaint case: {case_link}",
                    "server",
                    params,
                ).render(language),
                state="pending",
                next_attempt_at=now,
            )
        )
    return callback


def answers_of_customer(
    session: Session, customer_id: str, limit: int = 100
) -> list[tuple[Survey, str, SurveyCallback | None]]:
    """A customer's answered surveys, newest first, each with its visit's ticket and the
    call-back a hot alert opened (one query)."""
    query = (
        select(Survey, Visit.ticket_number, SurveyCallback)
        .join(Visit, Visit.id == Survey.visit_id)
        .outerjoin(SurveyCallback, SurveyCallback.survey_id == Survey.id)
        .where(Survey.customer_id == customer_id, Survey.answered_at.is_not(None))
        .order_by(Survey.answered_at.desc(), Survey.id.desc())
        .limit(limit)
    )
    return [(survey, ticket, callback) for survey, ticket, callback in session.execute(query)]
