"""Complaint cases at their edges: business-hour deadlines over a weekend, a holiday and a
make-up working day (China, 2025: National Day, with Sunday 28 September worked), a case
paused while the shop waits for the customer, a missed deadline that stays missed, steps
refused from the wrong state, and reopening. Then the pages: intake refused and kept,
staff only, CSRF checked."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import Shop
from sqlalchemy import select
from web_fixtures import csrf_token, make_visit, web_login

from sync_server import db
from sync_server.complaints import cases, labels
from sync_server.complaints.tables import ComplaintCase, ComplaintStep
from sync_server.shop import shop_settings
from sync_server.shop_tables import User

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    """A shop wall-clock time in Shanghai, as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def desk(app: Flask, shop: Shop) -> Any:
    """An app context with the shop in Shanghai, a customer with a visit, and an advisor."""
    made = make_visit(app)
    username = shop.user("wang.fang", "advisor")
    with app.app_context():
        session = db.session()
        shop_settings(session).timezone = "Asia/Shanghai"
        session.commit()
        user_id = session.scalar(select(User.id).where(User.username == username))
        yield session, made, user_id


def receive(desk: Any, when: datetime) -> ComplaintCase:
    session, made, user_id = desk
    case = cases.receive(
        session,
        customer_id=made.customer_id,
        visit_id=made.visit_id,
        channel="phone",
        summary="A scratch on the rear door after the service",
        category_id="",
        user_id=user_id,
        now=when,
    )
    session.commit()
    return case


def step(desk: Any, case: ComplaintCase, action: str, when: datetime, **extra: str) -> None:
    session, _made, user_id = desk
    cases.take_step(
        session, case, action, user_id=user_id, notes=extra.pop("notes", "ok"), now=when, **extra
    )
    session.commit()


def test_first_response_over_a_weekend_counts_only_opening_hours(desk: Any) -> None:
    # Saturday 17:50: ten minutes before closing; Sunday opens at 09:00 (short Sunday).
    case = receive(desk, at("2025-11-15 17:50"))
    assert case.first_response_due == at("2025-11-16 09:20").astimezone(UTC)
    # Received on Sunday after closing: the count starts Monday 08:30.
    late = receive(desk, at("2025-11-16 17:30"))
    assert late.first_response_due == at("2025-11-17 09:00").astimezone(UTC)


def test_first_response_skips_the_national_day_holiday(desk: Any) -> None:
    case = receive(desk, at("2025-09-30 17:45"))  # Oct 1–8 closed for the holiday
    assert case.first_response_due == at("2025-10-09 08:45").astimezone(UTC)


def test_a_make_up_working_day_is_worked_on_weekday_hours(desk: Any) -> None:
    # Sunday 28 September 2025 is worked (调休): it opens 08:30, not a Sunday's 09:00.
    case = receive(desk, at("2025-09-27 17:50"))
    assert case.first_response_due == at("2025-09-28 08:50").astimezone(UTC)


def test_resolution_pauses_while_waiting_for_the_customer(desk: Any) -> None:
    session = desk[0]
    labels.complaint_settings(session).resolution_minutes = 8 * 60
    case = receive(desk, at("2025-11-17 10:00"))  # Monday
    assert case.resolution_due == at("2025-11-17 18:00").astimezone(UTC)
    step(desk, case, "acknowledge", at("2025-11-17 10:10"))
    step(desk, case, "investigate", at("2025-11-17 10:20"))
    step(desk, case, "wait", at("2025-11-17 11:00"), notes="Asked for photos of the scratch")
    # Well past the first due time, but waiting: nothing is missed, the list shows no alarm.
    cases.record_all_missed(session, at("2025-11-18 10:00"))
    assert case.resolution_missed_at is None
    assert not cases.clock(case, at("2025-11-18 10:00")).overdue
    step(desk, case, "resume", at("2025-11-18 11:00"), notes="Photos received")
    # Waited Monday 11:00–18:00 and Tuesday 08:30–11:00: 9.5 opening hours added.
    assert case.paused_seconds == int(9.5 * 3600)
    assert case.resolution_due == at("2025-11-18 18:00").astimezone(UTC)
    assert case.waiting_since is None
    assert [s.action for s in cases.steps_of(session, case.id)][-2:] == ["wait", "resume"]


def test_a_missed_deadline_stays_missed_after_answer_and_reopen(desk: Any) -> None:
    session = desk[0]
    case = receive(desk, at("2025-11-17 10:00"))
    cases.record_all_missed(session, at("2025-11-17 10:29"))
    assert case.first_response_missed_at is None
    cases.record_all_missed(session, at("2025-11-17 10:31"))
    session.commit()
    assert case.first_response_missed_at == at("2025-11-17 10:30").astimezone(UTC)
    step(desk, case, "acknowledge", at("2025-11-17 11:00"))
    assert cases.clock(case, at("2025-11-17 11:00")).first_response_overdue
    step(desk, case, "reopen", at("2025-11-17 11:05"), notes="The customer called again")
    assert case.first_response_missed_at == at("2025-11-17 10:30").astimezone(UTC)


def test_a_late_answer_is_stored_as_missed_when_it_is_given(desk: Any) -> None:
    case = receive(desk, at("2025-11-17 10:00"))
    step(desk, case, "acknowledge", at("2025-11-17 10:45"))
    assert case.first_response_missed_at == at("2025-11-17 10:30").astimezone(UTC)


def test_steps_from_the_wrong_state_are_refused_and_nothing_changes(desk: Any) -> None:
    session = desk[0]
    case = receive(desk, at("2025-11-17 10:00"))
    for action in ("confirm", "propose", "reopen", "resume", "fly"):
        with pytest.raises(cases.ComplaintRefused) as refused:
            step(desk, case, action, at("2025-11-17 10:05"))
        session.rollback()
        assert "cannot be taken while the case is “Received”" in str(refused.value)
    assert case.state == "received"
    assert len(cases.steps_of(session, case.id)) == 1
    step(desk, case, "acknowledge", at("2025-11-17 10:05"))
    step(desk, case, "investigate", at("2025-11-17 10:06"))
    step(desk, case, "propose", at("2025-11-17 10:07"), notes="Repaint the door at our cost")
    with pytest.raises(cases.ComplaintRefused) as refused:
        step(desk, case, "confirm", at("2025-11-17 10:08"))
    session.rollback()
    assert refused.value.errors["root_cause"].message == "Choose the root cause before closing."
    assert case.state == "solution_proposed"


def test_a_closed_case_is_reopened_with_a_new_resolution_clock(desk: Any) -> None:
    session = desk[0]
    cause = labels.add_label(session, "root_cause", "Workshop handling", "车间操作")
    case = receive(desk, at("2025-11-17 10:00"))
    for action, minute in (("acknowledge", 5), ("investigate", 6), ("propose", 7)):
        step(desk, case, action, at(f"2025-11-17 10:0{minute}"))
    step(desk, case, "confirm", at("2025-11-17 10:09"), root_cause_id=str(cause.id))
    assert case.state == "closed" and case.resolved_at is not None
    with pytest.raises(cases.ComplaintRefused):
        step(desk, case, "reopen", at("2025-11-17 12:00"), notes="")  # a reason is needed
    session.rollback()
    step(desk, case, "reopen", at("2025-11-17 12:00"), notes="The paint does not match")
    assert case.state == "reopened" and case.resolved_at is None
    assert case.resolution_started_at == at("2025-11-17 12:00").astimezone(UTC)
    step(desk, case, "investigate", at("2025-11-17 12:10"))
    assert case.state == "investigating"
    owners = session.scalars(select(ComplaintStep.user_id).where(ComplaintStep.case_id == case.id))
    assert set(owners) == {desk[2]}


def test_intake_page_refuses_and_keeps_what_was_typed(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    made = make_visit(app)
    assert client.get("/complaints").status_code == 302  # signed-in staff only
    web_login(client, shop)
    page = client.get(f"/complaints/new?visit={made.visit_id}").get_data(as_text=True)
    assert made.customer_id in page
    token = csrf_token(client, "/complaints/new")
    form = {
        "customer": made.customer_id,
        "visit": made.visit_id,
        "channel": "desk",
        "summary": "   ",
        "category": "",
    }
    assert client.post("/complaints/new", data=form).status_code == 400  # no CSRF token
    refused = client.post("/complaints/new", data={**form, "csrf_token": token})
    assert refused.status_code == 400
    assert "Write what the customer says is wrong." in refused.get_data(as_text=True)
    form["summary"] = "刮痕 on the bumper"
    done = client.post("/complaints/new", data={**form, "csrf_token": token})
    assert done.status_code == 302
    case_page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "刮痕 on the bumper" in case_page and f"/visits/{made.visit_id}" in case_page
    wrong = client.post(
        done.headers["Location"] + "/steps",
        data={"action": "confirm", "notes": "", "csrf_token": token},
    )
    assert wrong.status_code == 400
    assert "cannot be taken while the case is" in wrong.get_data(as_text=True)
    assert client.get("/complaints/settings").status_code == 403  # the manager's page
