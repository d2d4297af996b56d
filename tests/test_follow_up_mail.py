"""Reminders as the customer gets them: an e-mail delivered to an SMTP server inside the
test with the RFC 8058 unsubscribe headers, the one-click POST honoured with no cookie,
no sign-in and no CSRF token, the confirm page in the customer's language, an opt-out
arriving between the preview and the send holding the message, "TD" replied to a text,
the booking link opening a request with the work filled in, the managers' page, the CLI
and the figures for the reports."""

from __future__ import annotations

import contextlib
import email
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from follow_up_fixtures import Service, at, make_customer_with_car, reminder_app  # noqa: F401
from server_fixtures import PASSWORD, Shop
from sqlalchemy import func, select
from web_fixtures import csrf_token, page_text

from shared import domain
from sync_server import db
from sync_server.back_office_tables import OutboundMessage
from sync_server.follow_up.opt_out import contact_for_token
from sync_server.follow_up.report import reminders_sent
from sync_server.follow_up.rules import opted_out_customers
from sync_server.follow_up.run import plan_run, run
from sync_server.follow_up.tables import BookingRequest, FollowUpContact, FollowUpOptOut
from sync_server.messaging import send_due
from sync_server.people import PeopleError
from sync_server.sync.records import lock_feed, put_server_record
from sync_server.visit_tables import Customer

BASE = "https://shop.example"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [message for message in self.messages if message["To"] == address]


@pytest.fixture(scope="module")
def smtp(reminder_app: Flask) -> Iterator[Inbox]:  # noqa: F811
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    reminder_app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, MAIL_FROM="desk@shop.example")
    try:
        yield inbox
    finally:
        controller.stop()


def sign_in(app: Flask, client: Any, role: str) -> None:
    """Sign in as the module's advisor or manager (made on first use)."""
    with contextlib.suppress(PeopleError):
        Shop(app).user(f"{role}-web", role)
    answer = client.post(
        "/login",
        data={"username": f"{role}-web", "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert answer.status_code == 302


def contact_of(app: Flask, customer_id: str) -> FollowUpContact:
    with app.app_context():
        return (
            db.session()
            .scalars(select(FollowUpContact).where(FollowUpContact.customer_id == customer_id))
            .one()
        )


def test_email_carries_one_click_unsubscribe_and_the_post_needs_no_cookie(
    reminder_app: Flask,  # noqa: F811
    smtp: Inbox,
) -> None:
    made = make_customer_with_car(
        reminder_app,
        "Tom Becker",
        [Service("2026-01-05", 15000)],
        email="tom@example.com",
        channel="email",
        language="en",
        plate="沪B10001",
    )
    now = at("2026-07-01T10:00")
    with reminder_app.app_context():
        run(db.session(), now, BASE)
        send_due(db.session(), reminder_app.config, now=now)
    [message] = smtp.to("tom@example.com")
    contact = contact_of(reminder_app, made.customer_id)
    link = f"{BASE}/unsubscribe/{contact.token}"
    # (a long header is folded after its name, RFC 5322; the value is the same)
    assert message["List-Unsubscribe"].strip() == f"<{link}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Oil and filter service for 沪B10001 is coming due" in message["Subject"]
    body = message.get_content()
    assert f"{BASE}/book/{contact.token}" in body and link in body

    # The mail client's one-click POST: no cookie, no sign-in, no CSRF token.
    mail_client = reminder_app.test_client(use_cookies=False)
    answer = mail_client.post(
        f"/unsubscribe/{contact.token}",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert "Set-Cookie" not in answer.headers
    with reminder_app.app_context():
        [out] = (
            db.session()
            .scalars(select(FollowUpOptOut).where(FollowUpOptOut.customer_id == made.customer_id))
            .all()
        )
        assert (out.source, out.contact_id) == ("email_one_click", contact.id)
        # Honoured at once: the next run holds everything for this customer.
        assert opted_out_customers(db.session(), [made.customer_id]) == {made.customer_id}
        plan = plan_run(db.session(), at("2026-07-20T10:00"))
        assert not [item for item in plan.to_send if item.customer.id == made.customer_id]
        db.session().rollback()
    # Any other page POST without a token is still refused.
    assert mail_client.post(f"/book/{contact.token}", data={"work": "x"}).status_code == 400
    # An unknown token is not found, and opts nobody out.
    assert mail_client.post("/unsubscribe/not-a-token").status_code == 404


def test_opt_out_between_preview_and_send_holds_the_message(
    reminder_app: Flask,  # noqa: F811
    smtp: Inbox,
) -> None:
    made = make_customer_with_car(
        reminder_app,
        "李娜",
        [Service("2026-01-10", 15000)],
        email="li.na@example.com",
        channel="email",
        language="zh_CN",
        plate="沪B10002",
    )
    now = at("2026-07-06T10:00")
    with reminder_app.app_context():
        preview = plan_run(db.session(), now)
        assert made.customer_id in {item.customer.id for item in preview.to_send}
        db.session().rollback()
        run(db.session(), now, BASE)
    contact = contact_of(reminder_app, made.customer_id)
    # The customer opens the link in the message: a confirm page in their language...
    phone = reminder_app.test_client()
    page = phone.get(f"/unsubscribe/{contact.token}")
    assert page.status_code == 200 and "退订提醒？" in page_text(page)
    # ...and taps the button before the sender ran.
    assert "您将不再收到提醒" in page_text(phone.post(f"/unsubscribe/{contact.token}"))
    with reminder_app.app_context():
        send_due(db.session(), reminder_app.config, now=now)
        message = db.session().get(OutboundMessage, contact.message_id)
        assert message is not None and message.state == "withdrawn"
        out = (
            db.session()
            .scalars(select(FollowUpOptOut).where(FollowUpOptOut.customer_id == made.customer_id))
            .one()
        )
        assert out.source == "email_link"
    assert smtp.to("li.na@example.com") == []


def test_td_replied_to_a_text_opts_out(reminder_app: Flask) -> None:  # noqa: F811
    made = make_customer_with_car(
        reminder_app, "赵强", [], phone="+8613700001234", plate="沪B10003"
    )
    api = reminder_app.test_client()
    body = {"from": "13700001234", "text": " td "}
    assert api.post("/api/v1/sms/inbound", json=body).status_code == 404  # not set up
    reminder_app.config["SMS_INBOUND_SECRET"] = "gateway-secret"
    try:
        wrong = api.post("/api/v1/sms/inbound", json=body, headers={"X-Inbound-Secret": "no"})
        assert wrong.status_code == 403
        other = api.post(
            "/api/v1/sms/inbound",
            json={"from": "13700001234", "text": "谢谢"},
            headers={"X-Inbound-Secret": "gateway-secret"},
        )
        assert other.json == {"opted_out": 0}
        answer = api.post(
            "/api/v1/sms/inbound", json=body, headers={"X-Inbound-Secret": "gateway-secret"}
        )
        assert answer.json == {"opted_out": 1}
    finally:
        reminder_app.config.pop("SMS_INBOUND_SECRET")
    with reminder_app.app_context():
        out = (
            db.session()
            .scalars(select(FollowUpOptOut).where(FollowUpOptOut.customer_id == made.customer_id))
            .one()
        )
        assert (out.source, out.detail) == ("sms_reply", "td")


def test_the_booking_link_opens_a_request_with_the_work_filled_in(
    reminder_app: Flask,  # noqa: F811
) -> None:
    made = make_customer_with_car(
        reminder_app,
        "陈静",
        [Service("2026-03-01", 9000)],
        phone="+8613700005678",
        language="zh_CN",
        plate="沪B10004",
    )
    with reminder_app.app_context():
        run(db.session(), at("2026-08-28T10:00"), BASE)
    contact = contact_of(reminder_app, made.customer_id)
    phone = reminder_app.test_client()
    page = phone.get(f"/book/{contact.token}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert ">机油机滤保养</textarea>" in text and "沪B10004" in text
    token = csrf_token(phone, f"/book/{contact.token}")
    refused = phone.post(
        f"/book/{contact.token}",
        data={"work": "机油机滤保养", "day": "", "part_of_day": "morning", "csrf_token": token},
    )
    assert refused.status_code == 400 and "请选择日期。" in page_text(refused)
    assert ">机油机滤保养</textarea>" in refused.get_data(as_text=True)  # nothing lost
    too_far = phone.post(
        f"/book/{contact.token}",
        data={
            "work": "机油机滤保养",
            "day": "2099-01-01",
            "part_of_day": "morning",
            "csrf_token": token,
        },
    )
    assert too_far.status_code == 400 and "90" in page_text(too_far)
    wanted = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    done = phone.post(
        f"/book/{contact.token}",
        data={
            "work": "机油机滤保养",
            "day": wanted,
            "part_of_day": "morning",
            "note": "上午十点后",
            "csrf_token": token,
        },
    )
    assert done.status_code == 200 and "谢谢，我们已收到您的申请" in page_text(done)
    with reminder_app.app_context():
        request_row = (
            db.session()
            .scalars(select(BookingRequest).where(BookingRequest.customer_id == made.customer_id))
            .one()
        )
        assert (request_row.work, request_row.preferred_day.isoformat()) == ("机油机滤保养", wanted)
    # The managers' page lists it with a link to the appointment form filled in.
    desk = reminder_app.test_client()
    sign_in(reminder_app, desk, "manager")
    listing = desk.get("/reminders")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert "上午十点后" in html and "/appointments?name=" in html
    form = desk.get(
        "/appointments?name=%E9%99%88%E9%9D%99&phone=%2B8613700005678&plate=%E6%B2%AAB10004"
        "&requested_work=%E6%9C%BA%E6%B2%B9"
    ).get_data(as_text=True)
    assert 'value="沪B10004"' in form and 'value="机油"' in form

    # A link posted again and again (passed around, or a script) cannot bury the desk's
    # list: a few requests a day, then the page says so and keeps what was typed.
    again = {"work": "机油机滤保养", "day": wanted, "part_of_day": "any", "csrf_token": token}
    for _ in range(2):
        assert phone.post(f"/book/{contact.token}", data=again).status_code == 200
    flood = phone.post(f"/book/{contact.token}", data={**again, "note": "第四次"})
    assert flood.status_code == 429 and "我们已收到您通过此链接发送的请求" in page_text(flood)
    assert ">第四次</textarea>" in flood.get_data(as_text=True)
    with reminder_app.app_context():
        kept = db.session().scalar(
            select(func.count()).where(BookingRequest.contact_id == contact.id)
        )
    assert kept == 3


def test_managers_page_settings_and_access(reminder_app: Flask) -> None:  # noqa: F811
    advisor = reminder_app.test_client()
    sign_in(reminder_app, advisor, "advisor")
    assert advisor.get("/reminders").status_code == 403
    manager = reminder_app.test_client()
    sign_in(reminder_app, manager, "manager")
    token = csrf_token(manager, "/reminders")
    refused = manager.post(
        "/reminders/settings",
        data={
            "budget_count": "1",
            "budget_days": "0",
            "quiet_from": "25:00",
            "quiet_until": "09:00",
            "lead_days": "7",
            "overdue_days": "60",
            "csrf_token": token,
        },
    )
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert 'value="25:00"' in html and "A time like 21:00." in html and "Between 1 and 90." in html
    # Nothing typed is lost: the boxes left unticked stay unticked.
    assert 'name="birthday_greetings" >' in html and 'name="holiday_greetings" >' in html
    saved = manager.post(
        "/reminders/settings",
        data={
            "budget_count": "1",
            "budget_days": "10",
            "quiet_from": "22:00",
            "quiet_until": "08:00",
            "lead_days": "7",
            "overdue_days": "60",
            "holiday_greetings": "on",
            "csrf_token": token,
        },
    )
    assert saved.status_code == 302
    # A customer called to stop: the manager records it by phone number.
    made = make_customer_with_car(
        reminder_app, "Caller", [], phone="+8613700009999", language="en", plate="沪B10009"
    )
    unknown = manager.post(
        "/reminders/opt-out", data={"phone_or_email": "13700000000", "csrf_token": token}
    )
    assert unknown.status_code == 400 and 'value="13700000000"' in unknown.get_data(as_text=True)
    stopped = manager.post(
        "/reminders/opt-out", data={"phone_or_email": "137 0000 9999", "csrf_token": token}
    )
    assert stopped.status_code == 302
    with reminder_app.app_context():
        out = (
            db.session()
            .scalars(select(FollowUpOptOut).where(FollowUpOptOut.customer_id == made.customer_id))
            .one()
        )
        assert out.source == "desk"
    from sync_server.follow_up.rules import follow_up_settings

    with reminder_app.app_context():
        settings = follow_up_settings(db.session())
        assert (settings.budget_days, settings.quiet_from, settings.birthday_greetings) == (
            10,
            "22:00",
            False,
        )
        settings.budget_days, settings.quiet_from, settings.quiet_until = 7, "21:00", "09:00"
        settings.birthday_greetings = True
        db.session().commit()


def test_cli_preview_run_and_the_figures_for_the_reports(reminder_app: Flask) -> None:  # noqa: F811
    runner = reminder_app.test_cli_runner()
    shown = runner.invoke(args=["reminders", "run", "--preview"])
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith("Reminders for ")
    public_url = reminder_app.config.pop("PUBLIC_URL")
    try:
        refused = runner.invoke(args=["reminders", "run"])
        assert refused.exit_code != 0 and "PUBLIC_URL" in refused.output
    finally:
        reminder_app.config["PUBLIC_URL"] = public_url
    first = runner.invoke(args=["reminders", "run"])
    second = runner.invoke(args=["reminders", "run"])
    assert first.exit_code == 0 and second.output.startswith("Reminders: 0 queued")
    with reminder_app.app_context():
        session = db.session()
        tom = session.scalars(select(Customer).where(Customer.email == "tom@example.com")).one()
        car = session.scalars(
            select(FollowUpContact.vehicle_id).where(FollowUpContact.customer_id == tom.id)
        ).first()
        # Tom books after his reminder (made now, within 30 days of its sending).
        lock_feed(session)
        put_server_record(
            session,
            "appointment",
            domain.Appointment(
                code="FU0002",
                customer_id=tom.id,
                vehicle_id=car,
                expected_arrival=datetime.now(UTC) + timedelta(days=5),
            ),
        )
        session.commit()
        now = datetime.now(UTC)
        months = reminders_sent(session, now - timedelta(days=1), now + timedelta(days=1))
        # Tom's e-mail is the one a gateway accepted (the Chinese one was withdrawn).
        assert [(m.sent, m.appointments, m.visits) for m in months] == [(1, 1, 0)]
        assert contact_for_token(session, "x" * 60) is None
