"""Messages to customers: queued with the status step, delivered to a real SMTP server in
the customer's language, retried when the mail server is away, SMS logged masked."""

from __future__ import annotations

import email
import logging
import socket
from collections.abc import Iterator
from datetime import timedelta
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from server_fixtures import Shop
from web_fixtures import make_visit, pass_quality_check, web_login

from shared.masking import mask_email
from shared.visit_status import VisitStatus
from sync_server import db
from sync_server.back_office_tables import OutboundMessage
from sync_server.messaging import notify_customer, send_due
from sync_server.table_base import utcnow


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=default_policy)  # type: ignore[arg-type]
        )
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(app: Flask) -> Iterator[Inbox]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, MAIL_FROM="desk@shop.example")
    try:
        yield inbox
    finally:
        controller.stop()


def queue(app: Flask, visit_id: str, event: str) -> None:
    with app.app_context():
        notify_customer(db.session(), visit_id, event, base_url="http://shop.example")
        db.session().commit()


def send(app: Flask, **kwargs: Any) -> dict[str, int]:
    with app.app_context():
        return send_due(db.session(), app.config, **kwargs)


def test_email_reaches_the_smtp_server_in_english(app: Flask, smtp: Inbox) -> None:
    made = make_visit(
        app, name="Tom Becker", email="tom@example.com", channel="email", language="en"
    )
    queue(app, made.visit_id, "ready")
    assert send(app) == {"sent": 1, "retry": 0, "failed": 0, "not_sent": 0, "taken_over": 0}
    [message] = smtp.messages
    assert message["To"] == "tom@example.com" and message["From"] == "desk@shop.example"
    assert "京A12345 is ready for pick-up" in message["Subject"]
    body = message.get_content()
    assert "passed our quality check" in body
    assert f"http://shop.example/status/{made.status_token}" in body


def test_email_in_chinese_for_a_customer_who_chose_chinese(app: Flask, smtp: Inbox) -> None:
    made = make_visit(app, email="zw@example.com", channel="email", language="zh_CN")
    queue(app, made.visit_id, "in_progress")
    send(app)
    [message] = smtp.messages
    assert "已开始维修" in message["Subject"]
    assert "张伟您好" in message.get_content()


def test_status_step_queues_the_message_in_the_same_transaction(
    app: Flask, client: FlaskClient, shop: Shop, smtp: Inbox
) -> None:
    made = make_visit(
        app, status=VisitStatus.quality_check, email="zw@example.com", channel="email"
    )
    web_login(client, shop)
    assert pass_quality_check(client, made.visit_id).status_code == 302
    with app.app_context():
        [message] = db.session().query(OutboundMessage).all()
        assert message.event == "ready" and message.state == "pending"
    send(app)
    assert len(smtp.messages) == 1
    page = client.get(f"/visits/{made.visit_id}")
    shown = page.get_data(as_text=True).split("Messages to the customer")[1]
    page.close()
    assert mask_email("zw@example.com") in shown and "zw@example.com" not in shown


def test_unreachable_mail_server_is_retried_later_then_given_up(app: Flask) -> None:
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())  # nobody listens
    made = make_visit(app, email="zw@example.com", channel="email")
    queue(app, made.visit_id, "ready")
    assert send(app) == {"sent": 0, "retry": 1, "failed": 0, "not_sent": 0, "taken_over": 0}
    assert send(app) == {
        "sent": 0,
        "retry": 0,
        "failed": 0,
        "not_sent": 0,
        "taken_over": 0,
    }  # not due yet
    later = utcnow() + timedelta(days=1)
    for _attempt in range(7):
        send(app, now=later)
        later += timedelta(days=1)
    with app.app_context():
        message = db.session().query(OutboundMessage).one()
        assert message.state == "failed" and message.attempts == 8
        assert "ConnectionRefusedError" in message.last_error


def test_sms_is_logged_with_the_number_masked(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    made = make_visit(app, phone="+8613812345678", channel="sms")
    queue(app, made.visit_id, "delivered")
    with caplog.at_level(logging.INFO):
        assert send(app)["not_sent"] == 1  # no SMS gateway: logged, and not called sent
    logged = "\n".join(caplog.messages)
    assert "13812345678" not in logged and "SMS to" in logged


def test_sms_sender_can_be_plugged_in(app: Flask) -> None:
    sent: list[tuple[str, str]] = []

    class Gateway:
        def send(self, phone: str, text: str, *, idempotency_key: str) -> None:
            sent.append((phone, text))

    made = make_visit(app, phone="+8613812345678", channel="sms", language="zh_CN")
    queue(app, made.visit_id, "ready")
    send(app, sms=Gateway())
    assert sent[0][0] == "+8613812345678" and "可以取车" in sent[0][1]


def test_send_messages_command(app: Flask, runner: FlaskCliRunner, smtp: Inbox) -> None:
    made = make_visit(app, email="zw@example.com", channel="email")
    queue(app, made.visit_id, "delivered")
    result = runner.invoke(args=["send-messages"])
    assert result.exit_code == 0 and "Sent 1," in result.output
    assert len(smtp.messages) == 1
