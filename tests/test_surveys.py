"""The satisfaction survey at its edges: when it goes out (the next evening, never in the
quiet hours 21:00–09:00 across midnight), the job run twice queueing once, the hot alert
exactly at its thresholds (2/3, 6/7, and as set), the second answer changing nothing, bad
input kept, the service star's month boundary in the shop's zone, its minimum of surveys,
comebacks within 30 days for the same concern, promises kept, and satisfaction by month."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from survey_fixtures import at, hand_back, module_app, person, survey_app  # noqa: F401

from shared.domain import LineDecision, QuoteLineKind, Urgency
from sync_server import db
from sync_server.appointments.capacity import calendar_for
from sync_server.back_office_tables import (
    ApprovalRow,
    JobAssignment,
    OutboundMessage,
    QuoteRow,
    Technician,
)
from sync_server.complaints.tables import ComplaintCase
from sync_server.quality_checks import record_quality_check
from sync_server.record_tables import ApprovalDecisionRow, QuoteLineRow
from sync_server.shop import shop_settings
from sync_server.surveys import answers, figures, sending, settings
from sync_server.surveys.tables import (
    Survey,
    SurveyCallback,
    SurveyJobLine,
    SurveyTechnician,
)

CONFIG = {"PUBLIC_URL": "https://shop.example"}
GOOD = {"overall": "5", "advisor_score": "5", "work_score": "5", "recommend": "10"}


@pytest.fixture
def session(module_app: Flask) -> Any:  # noqa: F811
    with module_app.app_context():
        yield db.session()


def answer(session: Any, survey: Survey, when: datetime, **scores: str) -> answers.Answered:
    answered = answers.record_answer(
        session, survey, {**GOOD, **scores}, now=when, base_url="https://shop.example"
    )
    session.commit()
    return answered


def test_the_survey_goes_out_the_next_evening_and_never_in_quiet_hours(session: Any) -> None:
    rules = settings.survey_settings(session)
    zone = "Asia/Shanghai"
    assert sending.send_time(at("2026-11-10T15:00"), rules, zone) == at("2026-11-11T19:00")
    rules.send_after_days = 0
    # The same evening, or the next one when 19:00 has passed.
    assert sending.send_time(at("2026-11-10T15:00"), rules, zone) == at("2026-11-10T19:00")
    assert sending.send_time(at("2026-11-10T19:30"), rules, zone) == at("2026-11-11T19:00")
    session.rollback()
    # Quiet hours across midnight: 21:00 up to 09:00 the next morning.
    for text, quiet in (
        ("2026-11-10T20:59", False),
        ("2026-11-10T21:00", True),
        ("2026-11-11T00:30", True),
        ("2026-11-11T08:59", True),
        ("2026-11-11T09:00", False),
    ):
        assert sending.is_quiet(at(text), zone) is quiet, text
    assert sending.quiet_ends(at("2026-11-10T23:00"), zone) == at("2026-11-11T09:00")
    assert sending.quiet_ends(at("2026-11-11T02:00"), zone) == at("2026-11-11T09:00")
    assert sending.quiet_ends(at("2026-11-11T12:00"), zone) == at("2026-11-11T12:00")
    # A send time in the quiet hours is refused by the settings, what was typed kept.
    with pytest.raises(settings.SurveySettingsRefused) as refused:
        settings.save_settings(session, {**settings.form_values(rules), "send_at": "21:00"})
    assert set(refused.value.errors) == {"send_at"}
    assert "quiet hours" in refused.value.errors["send_at"].render("en")


def approve_lines(session: Any, visit_id: str, *lines: tuple[str, bool]) -> None:
    """A quote of ``lines`` (description, approved?) and the customer's approval."""
    quote_id, approval_id = str(uuid.uuid4()), str(uuid.uuid4())
    session.add(QuoteRow(id=quote_id, visit_id=visit_id))
    session.add(ApprovalRow(id=approval_id, quote_id=quote_id, quote_version=1, signature_id="s"))
    for position, (description, approved) in enumerate(lines):
        line_id = str(uuid.uuid4())
        zero = Decimal("0")
        session.add(
            QuoteLineRow(
                quote_id=quote_id,
                line_id=line_id,
                position=position,
                kind=QuoteLineKind.labour,
                description=description,
                hours=zero,
                labour_rate=zero,
                quantity=zero,
                unit_price=zero,
                urgency=Urgency.green,
                amount=zero,
            )
        )
        session.add(
            ApprovalDecisionRow(
                approval_id=approval_id,
                line_id=line_id,
                decision=LineDecision.approved if approved else LineDecision.declined,
            )
        )
    session.flush()


def test_the_job_queues_each_survey_once_in_the_customers_language(session: Any) -> None:
    advisor = person(session, "li.na")
    made = hand_back(session, at("2026-11-10T15:00"), advisor_id=advisor, language="zh_CN")
    technician = Technician(name="Wang Qiang", specialities=[])
    session.add(technician)
    session.flush()
    session.add(JobAssignment(visit_id=made.visit_id, technician_id=technician.id))
    approve_lines(session, made.visit_id, ("Replace front brake pads", True), ("Wipers", False))
    session.commit()

    before = sending.prepare_surveys(session, at("2026-11-11T18:59"), CONFIG)
    assert before["made"] >= 1 and before["queued"] == 0
    survey = session.scalars(select(Survey).where(Survey.visit_id == made.visit_id)).one()
    assert survey.send_at == at("2026-11-11T19:00")
    assert survey.advisor_user_id == advisor and len(survey.token) >= 40
    technicians = session.scalars(
        select(SurveyTechnician.technician_id).where(SurveyTechnician.survey_id == survey.id)
    ).all()
    assert technicians == [technician.id]
    lines = session.scalars(
        select(SurveyJobLine.description).where(SurveyJobLine.survey_id == survey.id)
    ).all()
    assert lines == ["Replace front brake pads"]  # the declined wipers are not the work

    # Due at 19:00; the second run (or a second process) queues nothing more.
    assert sending.prepare_surveys(session, at("2026-11-11T19:05"), CONFIG)["queued"] >= 1
    assert sending.prepare_surveys(session, at("2026-11-11T19:06"), CONFIG)["queued"] == 0
    messages = session.scalars(
        select(OutboundMessage).where(
            OutboundMessage.visit_id == made.visit_id, OutboundMessage.event == "survey"
        )
    ).all()
    assert len(messages) == 1
    assert messages[0].language == "zh_CN" and messages[0].channel == "sms"
    assert f"https://shop.example/survey/{survey.token}" in messages[0].body
    assert "怎么样" in messages[0].subject or "感谢" in messages[0].body
    # A message that comes due in the quiet hours waits for the morning.
    messages[0].next_attempt_at = at("2026-11-11T21:10")
    session.commit()
    assert sending.prepare_surveys(session, at("2026-11-11T21:30"), CONFIG)["held"] == 1
    session.refresh(messages[0])
    assert messages[0].next_attempt_at == at("2026-11-12T09:00")


def test_a_survey_due_in_quiet_hours_waits_and_the_job_makes_no_second_one(
    session: Any,
) -> None:
    made = hand_back(session, at("2026-11-20T10:00"), phone="+8613900000001")
    sending.prepare_surveys(session, at("2026-11-20T10:05"), CONFIG)
    survey = session.scalars(select(Survey).where(Survey.visit_id == made.visit_id)).one()
    survey.send_at = at("2026-11-20T20:30")  # late: the sender was off until the night
    session.commit()
    assert sending.prepare_surveys(session, at("2026-11-20T23:50"), CONFIG)["queued"] == 0
    session.refresh(survey)
    assert survey.queued_at is None
    assert sending.prepare_surveys(session, at("2026-11-21T09:01"), CONFIG)["queued"] >= 1
    # Making it again (the status page, a second job) finds the same row.
    visit = session.get(sending.Visit, made.visit_id)
    assert sending.survey_of_visit(session, visit).id == survey.id
    count = session.scalar(select(func.count()).where(Survey.visit_id == made.visit_id))
    assert count == 1


@pytest.mark.parametrize(
    ("scores", "hot"),
    [
        ({"overall": "2"}, True),
        ({"overall": "3"}, False),
        ({"advisor_score": "2"}, True),
        ({"work_score": "2"}, True),
        ({"work_score": "3", "advisor_score": "3", "overall": "3"}, False),
        ({"recommend": "6"}, True),
        ({"recommend": "7"}, False),
    ],
)
def test_the_hot_alert_at_its_thresholds(session: Any, scores: dict[str, str], hot: bool) -> None:
    rules = settings.survey_settings(session)
    values = answers.read_answer({**GOOD, **scores})
    assert answers.is_hot(values, rules) is hot


def test_thresholds_are_settings(session: Any) -> None:
    rules = settings.survey_settings(session)
    rules.hot_score_max, rules.hot_recommend_max = 3, 7
    assert answers.is_hot(answers.read_answer({**GOOD, "overall": "3"}), rules)
    assert answers.is_hot(answers.read_answer({**GOOD, "recommend": "7"}), rules)
    assert not answers.is_hot(answers.read_answer({**GOOD, "recommend": "8"}), rules)
    session.rollback()


def test_a_hot_answer_opens_a_call_back_a_complaint_and_emails_the_manager(
    session: Any,
) -> None:
    advisor = person(session, "tom")
    rules = settings.survey_settings(session)
    rules.manager_email = "zhou@shop.example"
    session.commit()
    made = hand_back(session, at("2026-11-13T16:00"), advisor_id=advisor)  # a Friday
    visit = session.get(sending.Visit, made.visit_id)
    survey = sending.survey_of_visit(session, visit)
    session.commit()
    when = at("2026-11-14T10:00")
    answered = answer(session, survey, when, overall="2", comment="Waited an hour")
    assert answered.saved and answered.survey.hot
    callback = session.scalars(
        select(SurveyCallback).where(SurveyCallback.survey_id == survey.id)
    ).one()
    calendar = calendar_for(session, shop_settings(session))
    assert callback.due_at == calendar.add_business_time(when, timedelta(hours=24))
    assert callback.due_at > when + timedelta(hours=24)  # business hours, not the clock's
    assert callback.advisor_user_id == advisor
    case = session.get(ComplaintCase, callback.complaint_case_id)
    assert case.channel == "survey" and case.visit_id == made.visit_id
    assert case.created_by_user_id is None and "Waited an hour" in case.summary
    alert = session.scalars(
        select(OutboundMessage).where(
            OutboundMessage.event == "survey_hot", OutboundMessage.body.contains("Waited an hour")
        )
    ).one()
    assert alert.visit_id is None  # not one of the messages to the customer
    assert alert.recipient == "zhou@shop.example" and alert.channel == "email"
    assert "/surveys/callbacks" in alert.body

    # A second answer changes nothing and opens nothing more.
    again = answer(session, survey, when + timedelta(minutes=5), overall="5", recommend="10")
    assert not again.saved
    session.refresh(survey)
    assert survey.overall == 2 and survey.answered_at == when
    assert session.scalar(select(func.count()).where(SurveyCallback.survey_id == survey.id)) == 1
    rules.manager_email = ""
    session.commit()


def test_bad_answers_are_refused_by_field(session: Any) -> None:
    with pytest.raises(answers.AnswerRefused) as refused:
        answers.read_answer({"overall": "6", "advisor_score": "", "work_score": "x"})
    assert set(refused.value.errors) == {"overall", "advisor_score", "work_score", "recommend"}
    with pytest.raises(answers.AnswerRefused) as refused:
        answers.read_answer({**GOOD, "recommend": "11", "comment": "x" * 2001})
    assert set(refused.value.errors) == {"recommend", "comment"}


def surveyed(
    session: Any,
    advisor: int,
    handed: str,
    answered: str,
    *,
    codes: tuple[str, ...] = ("brakes",),
    **scores: str,
) -> Any:
    made = hand_back(session, at(handed), advisor_id=advisor, codes=codes)
    survey = sending.survey_of_visit(session, session.get(sending.Visit, made.visit_id))
    session.commit()
    answer(session, survey, at(answered), **scores)
    return made


def test_the_star_month_ends_at_midnight_in_the_shop_zone(session: Any) -> None:
    advisor = person(session, "month.edge")
    # 23:30 on 31 January in Shanghai is 15:30 UTC: January's. 00:30 on 1 February: February's.
    surveyed(session, advisor, "2026-01-31T20:00", "2026-01-31T23:30", overall="4")
    surveyed(session, advisor, "2026-01-31T21:00", "2026-02-01T00:30", overall="2")
    january = {r.advisor_user_id: r for r in figures.service_star(session, 2026, 1)}
    february = {r.advisor_user_id: r for r in figures.service_star(session, 2026, 2)}
    assert january[advisor].surveys == 1 and january[advisor].overall == 4.0
    assert february[advisor].surveys == 1 and february[advisor].overall == 2.0
    # Both cars were handed back in January (shop time): February has no jobs of theirs.
    assert january[advisor].jobs == 2 and february[advisor].jobs == 0
    months = figures.satisfaction_by_month(session, at("2026-01-01T00:00"), at("2026-03-01T00:00"))
    assert [(m.year, m.month) for m in months] == [(2026, 1), (2026, 2)]


def test_the_star_needs_the_minimum_of_surveys(session: Any) -> None:
    rules = settings.survey_settings(session)
    rules.star_min_surveys = 2
    session.commit()
    few, many = person(session, "few.surveys"), person(session, "enough.surveys")
    surveyed(session, few, "2026-03-02T10:00", "2026-03-03T19:10")  # all 5s, but one survey
    surveyed(session, many, "2026-03-02T10:00", "2026-03-03T19:10", overall="4")
    rows = {r.advisor_user_id: r for r in figures.service_star(session, 2026, 3)}
    assert not rows[few].qualified and rows[few].rank is None and rows[few].surveys_needed == 1
    assert rows[many].surveys == 1 and not rows[many].qualified
    surveyed(session, many, "2026-03-05T10:00", "2026-03-06T19:10", overall="4")
    ranked = figures.service_star(session, 2026, 3)
    rows = {r.advisor_user_id: r for r in ranked}
    assert rows[many].qualified and rows[many].rank == 1 and rows[many].star
    assert ranked[0].advisor_user_id == many  # the better scores of `few` do not count
    rules.star_min_surveys = 5
    session.commit()


def test_a_comeback_within_30_days_for_the_same_concern_counts_against(session: Any) -> None:
    advisor = person(session, "comebacks")
    first = hand_back(session, at("2026-04-03T17:00"), advisor_id=advisor, codes=("brakes",))
    # Back on day 29 for the brakes: a comeback.
    hand_back(
        session,
        at("2026-05-03T12:00"),
        vehicle_id=first.vehicle_id,
        customer_id=first.customer_id,
        checked_in_at=at("2026-05-02T09:00"),
        codes=("brakes", "tyres"),
    )
    second = hand_back(session, at("2026-04-03T18:00"), advisor_id=advisor, codes=("noise",))
    # Back on day 31 for the same noise: not a comeback any more.
    hand_back(
        session,
        at("2026-05-05T12:00"),
        vehicle_id=second.vehicle_id,
        customer_id=second.customer_id,
        checked_in_at=at("2026-05-04T18:30"),
        codes=("noise",),
    )
    third = hand_back(
        session, at("2026-04-04T10:00"), advisor_id=advisor, codes=("air_conditioning",)
    )
    # Back within a week for something else: not a comeback.
    hand_back(
        session,
        at("2026-04-10T12:00"),
        vehicle_id=third.vehicle_id,
        customer_id=third.customer_id,
        checked_in_at=at("2026-04-10T09:00"),
        codes=("tyres",),
        concern="A flat tyre",
    )
    row = {r.advisor_user_id: r for r in figures.service_star(session, 2026, 4)}[advisor]
    assert (row.jobs, row.comebacks) == (3, 1)
    assert row.comeback_free_points == round(200 / 3, 1)


def test_promises_kept_are_those_ready_before_the_time_given(session: Any) -> None:
    advisor = person(session, "promises")
    kept = hand_back(
        session,
        at("2026-06-10T18:00"),
        advisor_id=advisor,
        promised=at("2026-06-10T17:00"),
        ready_at=at("2026-06-10T16:59"),
    )
    hand_back(
        session,
        at("2026-06-11T18:00"),
        advisor_id=advisor,
        promised=at("2026-06-11T17:00"),
        ready_at=at("2026-06-11T17:30"),
    )
    hand_back(session, at("2026-06-12T18:00"), advisor_id=advisor)  # nothing promised
    row = {r.advisor_user_id: r for r in figures.service_star(session, 2026, 6)}[advisor]
    assert (row.promised, row.promises_kept, row.promise_points) == (2, 1, 50.0)
    # Checked again after the hand-back (now, months after the promise): no longer kept.
    record_quality_check(session, kept.visit_id, "", [], set(), True, "", None)
    session.commit()
    row = {r.advisor_user_id: r for r in figures.service_star(session, 2026, 6)}[advisor]
    assert (row.promised, row.promises_kept) == (2, 0)


@pytest.mark.parametrize("on", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_satisfaction_by_month_on_both_databases(
    on: str, request: pytest.FixtureRequest, tmp_path: Any
) -> None:
    url = request.getfixturevalue("migrated_postgres_url") if on == "postgres" else None
    app = survey_app(tmp_path, request.getfixturevalue("sqlite_template"), url)
    with app.app_context():
        session = db.session()
        advisor = person(session, "li.na")
        for handed, answered, recommend in (
            ("2026-07-30T10:00", "2026-07-31T23:59", "10"),  # July, shop time
            ("2026-07-31T10:00", "2026-08-01T00:01", "9"),
            ("2026-08-02T10:00", "2026-08-03T19:00", "6"),
            ("2026-08-02T11:00", "2026-08-03T19:00", "7"),
        ):
            surveyed(session, advisor, handed, answered, recommend=recommend, overall="4")
        months = figures.satisfaction_by_month(
            session, at("2026-07-01T00:00"), at("2026-09-01T00:00")
        )
        assert [(m.year, m.month, m.count) for m in months] == [(2026, 7, 1), (2026, 8, 3)]
        july, august = months
        assert (july.nps, july.overall) == (100.0, 4.0)
        # August: one promoter (9), one passive (7), one detractor (6): NPS 0.
        assert (august.promoters, august.detractors, august.nps) == (1, 1, 0.0)
        assert august.recommend == round((9 + 6 + 7) / 3, 2)
        # Twelve years: two queries (at most 100 months each), the same two months found.
        years = figures.satisfaction_by_month(
            session, at("2017-01-01T00:00"), at("2029-01-01T00:00")
        )
        assert [(m.year, m.month, m.count) for m in years] == [(2026, 7, 1), (2026, 8, 3)]
        star = figures.service_star(session, 2026, 8)
        assert star[0].surveys == 3 and star[0].nps == 0.0
    app.extensions["db_engine"].dispose()


@pytest.mark.postgres
def test_two_processes_running_the_job_at_once_queue_one_survey(
    request: pytest.FixtureRequest, tmp_path: Any
) -> None:
    """Two sender passes at the same moment, each on its own connection (as two server
    processes are): one survey, one message."""
    url = request.getfixturevalue("migrated_postgres_url")
    app = survey_app(tmp_path, request.getfixturevalue("sqlite_template"), url)
    with app.app_context():
        made = hand_back(db.session(), at("2026-11-10T15:00"))
    engine = app.extensions["db_engine"]
    start = threading.Barrier(2)
    results: list[dict[str, int]] = []

    def run() -> None:
        with app.app_context(), Session(engine) as session:
            start.wait()
            results.append(sending.prepare_surveys(session, at("2026-11-11T19:01"), CONFIG))

    workers = [threading.Thread(target=run) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert len(results) == 2
    assert sorted(result["queued"] for result in results) == [0, 1]
    with app.app_context():
        session = db.session()
        assert session.scalar(select(func.count()).where(Survey.visit_id == made.visit_id)) == 1
        sent = select(func.count()).where(
            OutboundMessage.visit_id == made.visit_id, OutboundMessage.event == "survey"
        )
        assert session.scalar(sent) == 1
    app.extensions["db_engine"].dispose()


class RecordingSms:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, phone: str, text: str, *, idempotency_key: str = "") -> None:
        self.sent.append((phone, text))


def test_the_sender_pass_sends_the_survey_when_its_time_comes(session: Any) -> None:
    """``send_due`` (the server's sender thread, ``checkin-server send-messages``) runs
    the survey job first: nothing before the evening, the text at 19:00."""
    from sync_server.messaging import send_due

    made = hand_back(session, at("2026-12-01T11:00"), phone="+8613955550000", language="en")
    sms = RecordingSms()
    send_due(session, CONFIG, sms=sms, now=at("2026-12-02T18:30"))
    assert not [text for phone, text in sms.sent if phone == "+8613955550000"]
    send_due(session, CONFIG, sms=sms, now=at("2026-12-02T19:00"))
    (text,) = [text for phone, text in sms.sent if phone == "+8613955550000"]
    token = session.scalar(select(Survey.token).where(Survey.visit_id == made.visit_id))
    assert text.endswith(f"https://shop.example/survey/{token}") and "How did we do?" in text
