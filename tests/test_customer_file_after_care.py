"""The customer page after the hand-back: the complaints (state, category, deadline missed
or not, a link to the case), the survey answers (scores, would-recommend, comment, hot
alert with its call-back, a link to the visit), the reminders and greetings sent and the
opt-outs (time, source) — on the demo shop, in both languages."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from survey_fixtures import module_app  # noqa: F401 (the module's one app)
from web_fixtures import csrf_token, page_text

from sync_server import db
from sync_server.back_office_tables import OutboundMessage
from sync_server.demo import DEMO_PASSWORD, demo_id, seed_demo
from sync_server.follow_up.opt_out import opt_out
from sync_server.follow_up.tables import FollowUpContact

pytestmark = pytest.mark.usefixtures("module_app")


def _section(page: str, name: str) -> str:
    return page.split(f'id="{name}"')[1].split("</section>")[0]


@pytest.fixture(scope="module")
def desk(module_app: Flask, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:  # noqa: F811
    """The demo shop, a maintenance reminder sent to Zhang Wei who then replied TD, and
    the manager signed in."""
    now = datetime.now(UTC)
    with module_app.app_context():
        session = db.session()
        seed_demo(session, blob_store=None)
        zhang = demo_id("customer", "zhang-wei")
        message = OutboundMessage(
            visit_id=None,
            event="follow_up:maintenance",
            channel="sms",
            recipient="+8613812345678",
            language="zh_CN",
            subject="",
            body="…",
            state="sent",
            attempts=1,
            sent_at=now - timedelta(days=3),
            next_attempt_at=now - timedelta(days=3),
        )
        session.add(message)
        session.flush()
        session.add(
            FollowUpContact(
                contact_key=f"test:{zhang}",
                customer_id=zhang,
                vehicle_id=demo_id("vehicle", "zhang-wei"),
                kind="maintenance",
                reason="by mileage: {km} km since the last service",
                reason_params={"km": "9,800"},
                work="Oil change",
                work_zh="更换机油",
                due_on=date.today(),
                channel="sms",
                language="zh_CN",
                planned_at=now - timedelta(days=3),
                message_id=message.id,
                token=secrets.token_urlsafe(24),
            )
        )
        opt_out(session, zhang, "sms_reply", now - timedelta(days=2), detail="TD")
        session.commit()
    client = module_app.test_client()
    signed_in = client.post(
        "/login",
        data={"username": "manager", "password": DEMO_PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert signed_in.status_code == 302
    yield client


def test_complaint_and_promoter_survey(desk: FlaskClient) -> None:
    liu = demo_id("customer", "liu-yang")
    page = page_text(desk.get(f"/customers/{liu}"))
    complaints = _section(page, "complaints")
    assert "Investigating" in complaints and "Waiting time" in complaints
    assert "Phone call" in complaints and "/complaints/" in complaints
    assert demo_id("visit", "liu-yang") in complaints  # the link to the visit
    surveys = _section(page, "surveys")
    assert "B-031" in surveys and "10 · promoter" in surveys and "5/5" in surveys
    assert "Quick, and the car came back clean." in surveys and "Hot alert" not in surveys
    assert "No reminders or greetings sent." in _section(page, "follow-up")
    desk.get("/lang/zh_CN")
    page = page_text(desk.get(f"/customers/{liu}"))
    desk.get("/lang/en")
    assert "调查中" in _section(page, "complaints") and "等待时间" in _section(page, "complaints")
    assert "推荐者" in _section(page, "surveys")


def test_hot_alert_with_its_call_back_and_case(desk: FlaskClient) -> None:
    emily = demo_id("customer", "emily-carter")
    page = page_text(desk.get(f"/customers/{emily}"))
    surveys = _section(page, "surveys")
    assert "Hot alert" in surveys and "call back by" in surveys and "detractor" in surveys
    assert "The brakes squeal again" in surveys
    complaints = _section(page, "complaints")
    assert "Survey answer" in complaints and "Received" in complaints
    case_link = complaints.split('href="/complaints/')[1].split('"')[0]
    assert f"/complaints/{case_link}" in surveys  # the call-back's case is the one listed
    # Received the evening before and not acknowledged: the first response was missed.
    assert "First response missed" in complaints


def test_opted_out_customer_shows_the_opt_out(desk: FlaskClient) -> None:
    zhang = demo_id("customer", "zhang-wei")
    page = page_text(desk.get(f"/customers/{zhang}"))
    marketing = page.split('id="consent-marketing"')[1].split("</section>")[0]
    assert "Now: no" in marketing and "Opted out" in marketing
    assert "replied TD to a text" in marketing
    sent = _section(page, "follow-up")
    assert "Maintenance due: Oil change" in sent and "Text message" in sent and "Sent" in sent
    assert "9,800" in sent
    assert "No complaints." in page and "No survey answered yet." in page
    desk.get("/lang/zh_CN")
    page = page_text(desk.get(f"/customers/{zhang}"))
    desk.get("/lang/en")
    assert "已退订" in page and "更换机油" in _section(page, "follow-up")


def test_page_reads_a_handful_of_queries(module_app: Flask, desk: FlaskClient) -> None:  # noqa: F811
    """The new sections add a fixed number of queries, however many rows they show."""
    from sqlalchemy import event

    engine = module_app.extensions["db_engine"]
    counted: list[str] = []

    def count(*_args: object) -> None:
        counted.append("q")

    event.listen(engine, "before_cursor_execute", count)
    try:
        desk.get(f"/customers/{demo_id('customer', 'emily-carter')}")
        emily = len(counted)
        counted.clear()
        desk.get(f"/customers/{demo_id('customer', 'zhang-wei')}")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert abs(emily - len(counted)) <= 2  # an opt-out costs the rule's two reads
    assert emily < 25
