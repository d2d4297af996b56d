"""A message is "sent" only when a mail server or SMS gateway accepted it; otherwise the
desk reads "not sent — no e-mail server / SMS gateway set up", with the text that would
have been sent, and the manager's page says what to set up. A customer who chose a
phone call gets a call task for the advisor, not a text message."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import Shop
from sqlalchemy import select
from web_fixtures import make_visit, pass_quality_check, post_form, web_login

from shared.visit_status import VisitStatus
from sync_server import db
from sync_server.back_office_tables import OutboundMessage
from sync_server.messaging import send_due


def text(response: Any) -> str:
    body = response.get_data(as_text=True)
    response.close()
    return body


def messages(app: Flask) -> list[OutboundMessage]:
    with app.app_context():
        return list(db.session().scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


def send(app: Flask, **kwargs: Any) -> dict[str, int]:
    with app.app_context():
        return send_due(db.session(), app.config, **kwargs)


def pass_check(client: FlaskClient, visit_id: str) -> None:
    response = pass_quality_check(client, visit_id)
    assert response.status_code == 302


def test_without_gateways_nothing_is_called_sent(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    app.config.update(SMTP_HOST="")
    by_email = make_visit(
        app, email="tom@example.com", channel="email", status=VisitStatus.quality_check,
        language="en",
    )  # fmt: skip
    by_text = make_visit(
        app, phone="+8613912345605", channel="sms", status=VisitStatus.quality_check, ticket="K-2"
    )
    web_login(client, shop, "manager")
    pass_check(client, by_email.visit_id)
    pass_check(client, by_text.visit_id)
    assert send(app) == {"sent": 0, "retry": 0, "failed": 0, "not_sent": 2, "taken_over": 0}
    assert {(m.channel, m.state) for m in messages(app)} == {
        ("email", "no_gateway"),
        ("sms", "no_gateway"),
    }
    assert send(app)["not_sent"] == 0  # not tried again and again

    page = text(client.get(f"/visits/{by_email.visit_id}"))
    shown = page.split("Messages to the customer")[1]
    assert "Not sent — no e-mail server set up" in shown and ">Sent<" not in shown
    assert "passed our quality check" in shown  # the advisor can read the text
    assert "What to set up so messages are sent" in shown
    shown = text(client.get(f"/visits/{by_text.visit_id}")).split("Messages to the customer")[1]
    assert "Not sent — no SMS gateway set up" in shown

    outbox = text(client.get("/messages"))
    assert "No e-mail server set up" in outbox and "SMTP_HOST" in outbox
    assert "No SMS gateway set up" in outbox and "SMS_SENDER" in outbox
    assert "Messages that did not reach the customer: 2" in outbox

    client.get("/lang/zh_CN")
    outbox = text(client.get("/messages"))
    assert "未发送" in outbox and "No e-mail server set up" not in outbox

    # The gateway set up, the manager sends them again: now they are really sent.
    sent: list[tuple[str, str]] = []

    class Gateway:
        def send(self, phone: str, body: str, *, idempotency_key: str) -> None:
            sent.append((phone, body))

    app.config.update(SMS_SENDER=Gateway())
    post_form(client, "/messages/send-again", {}, "/messages")
    assert send(app)["sent"] == 1
    assert sent[0][0] == "+8613912345605"
    assert {(m.channel, m.state) for m in messages(app)} == {
        ("email", "no_gateway"),
        ("sms", "sent"),
    }


def test_an_advisor_cannot_open_the_managers_messages_page(client: FlaskClient, shop: Shop) -> None:
    web_login(client, shop, "advisor")
    assert client.get("/messages").status_code == 403


def test_phone_call_customer_gets_a_call_task_not_a_text(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    sent: list[tuple[str, str]] = []

    class Gateway:
        def send(self, phone: str, body: str, *, idempotency_key: str) -> None:
            sent.append((phone, body))

    app.config.update(SMS_SENDER=Gateway())
    made = make_visit(
        app, name="Call Carl", phone="+8613912345605", channel="phone",
        status=VisitStatus.quality_check, language="en",
    )  # fmt: skip
    web_login(client, shop)
    pass_check(client, made.visit_id)
    send(app)
    assert sent == []  # no SMS to someone who asked for a call
    [task] = messages(app)
    assert (task.channel, task.state) == ("call", "to_call")

    board = text(client.get("/board"))
    card = board.split("Call Carl")[0].rsplit("<a class=", 1)[1] + board.split("Call Carl")[1]
    assert "Call the customer" in card.split("</a>")[0] or "Call the customer" in board
    page = text(client.get(f"/visits/{made.visit_id}"))
    assert "Call the customer: +8613912345605" in page
    assert "passed our quality check" in page

    post_form(client, f"/messages/{task.id}/called", {}, f"/visits/{made.visit_id}")
    [task] = messages(app)
    assert task.state == "called" and task.handled_by_user_id is not None
    assert "Call the customer" not in text(client.get("/board"))
    assert "I called the customer" not in text(client.get(f"/visits/{made.visit_id}"))
