"""Complaints leftovers: an overdue case is escalated to the manager by e-mail through the
outbox, once per missed deadline, by the job before each sender pass (run twice: nothing
twice; no address yet: nothing claimed, escalated once one is set); a closed case tells
the customer the result in their language (Chinese for a Chinese-speaking customer)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from server_fixtures import Shop
from sqlalchemy import select
from web_fixtures import make_visit

from sync_server import db
from sync_server.back_office_tables import OutboundMessage
from sync_server.complaints import cases, labels
from sync_server.complaints.escalation import ESCALATION_EVENT, escalate_overdue
from sync_server.complaints.result_message import RESULT_EVENT
from sync_server.messaging import send_due
from sync_server.shop import shop_settings
from sync_server.shop_tables import User

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def desk(app: Flask, shop: Shop) -> Any:
    chinese = make_visit(app, name="陈静", phone="+8613800138000", language="zh_CN")
    english = make_visit(
        app, name="Tom Baker", phone="+8613900139000", plate="沪B54321", language="en"
    )
    username = shop.user("wang.fang", "advisor")
    with app.app_context():
        session = db.session()
        shop_settings(session).timezone = "Asia/Shanghai"
        shop_settings(session).name = "Lotus Motors"
        session.commit()
        user_id = session.scalar(select(User.id).where(User.username == username))
        yield session, chinese, english, user_id


def receive(desk: Any, made: Any, when: str) -> Any:
    session, _zh, _en, user_id = desk
    case = cases.receive(
        session,
        customer_id=made.customer_id,
        visit_id=made.visit_id,
        channel="phone",
        summary="A new scratch on the rear door",
        category_id="",
        user_id=user_id,
        now=at(when),
    )
    session.commit()
    return case


def messages(session: Any, event: str) -> list[OutboundMessage]:
    return list(
        session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.event == event)
            .order_by(OutboundMessage.id)
        )
    )


def test_an_overdue_case_is_escalated_once_per_missed_deadline(desk: Any, app: Flask) -> None:
    session, chinese, _en, _user = desk
    case = receive(desk, chinese, "2025-11-17 10:00")  # Monday; first response due 10:30
    assert escalate_overdue(session, at("2025-11-17 10:29")) == 0
    # No address set yet: nothing claimed, nothing sent.
    assert escalate_overdue(session, at("2025-11-17 10:40")) == 0
    assert case.first_response_escalated_at is None
    labels.save_targets(
        session,
        {
            "first_response_minutes": "30",
            "resolution_hours": "16",
            "escalation_email": "manager@lotus.example",
        },
    )
    session.commit()
    assert escalate_overdue(session, at("2025-11-17 10:41")) == 1
    assert escalate_overdue(session, at("2025-11-17 10:42")) == 0  # run twice: once
    [mail] = messages(session, ESCALATION_EVENT)
    assert (mail.channel, mail.recipient, mail.state) == (
        "email",
        "manager@lotus.example",
        "pending",
    )
    assert mail.subject == (
        f"Complaint #{case.id} missed its first response deadline"
        f" / 投诉 #{case.id} 的首次响应已超时"
    )
    assert "陈静" in mail.body and "2025-11-17 10:30" in mail.body and "客户反映" in mail.body
    # Answered late: still one mail; then the resolution deadline (two working days) passes.
    cases.take_step(
        session, case, "acknowledge", user_id=desk[3], notes="called", now=at("2025-11-17 11:00")
    )
    session.commit()
    assert escalate_overdue(session, at("2025-11-18 12:00")) == 0
    # The job runs before each sender pass: two passes, one more mail (the resolution).
    config = {"SMTP_HOST": "", "PUBLIC_URL": "https://service.lotus.example/"}
    send_due(session, config, now=at("2025-11-20 09:00").astimezone(UTC))
    send_due(session, config, now=at("2025-11-20 09:05").astimezone(UTC))
    sent = messages(session, ESCALATION_EVENT)
    assert len(sent) == 2
    assert "missed its resolution deadline" in sent[1].subject and "解决" in sent[1].subject
    # The sender knows the shop's address: the mail links the case page, in both languages.
    link = f"https://service.lotus.example/complaints/{case.id}"
    english, chinese = sent[1].body.split("\n\n")
    assert english.endswith(f"Open the case: {link}") and chinese.endswith(f"打开投诉：{link}")
    endpoint, args = app.url_map.bind("service.lotus.example").match(f"/complaints/{case.id}")
    assert (endpoint, args) == ("complaints.case", {"case_id": case.id})
    # Without an address (the first mail, queued outside the sender) the way is in words.
    assert f"Complaints → #{case.id}" in sent[0].body and "https://" not in sent[0].body
    assert sent[1].state == "no_gateway"  # no mail server in this test: never called sent


def close(desk: Any, case: Any, solution: str) -> None:
    session, _zh, _en, user_id = desk
    cause = labels.labels(session, "root_cause")[0]
    for action, notes in (("acknowledge", "ok"), ("investigate", "ok"), ("propose", solution)):
        cases.take_step(
            session, case, action, user_id=user_id, notes=notes, now=at("2025-11-17 10:20")
        )
    cases.take_step(
        session,
        case,
        "confirm",
        user_id=user_id,
        notes="The customer agreed on the phone",
        now=at("2025-11-17 11:00"),
        root_cause_id=str(cause.id),
    )
    session.commit()


def test_the_customer_is_told_the_result_in_their_language(desk: Any) -> None:
    session, chinese, english, _user = desk
    labels.add_label(session, "root_cause", "Workshop handling", "车间操作")
    session.commit()
    zh_case = receive(desk, chinese, "2025-11-17 10:00")
    en_case = receive(desk, english, "2025-11-17 10:05")
    assert messages(session, RESULT_EVENT) == []
    close(desk, zh_case, "我们已免费重新喷漆后门。")
    close(desk, en_case, "We repainted the rear door at our cost")
    zh_message, en_message = messages(session, RESULT_EVENT)
    assert (zh_message.language, zh_message.channel) == ("zh_CN", "sms")
    assert zh_message.recipient == "+8613800138000"
    assert zh_message.subject == "Lotus Motors：您的投诉已处理完毕"
    assert zh_message.body.startswith(
        "陈静您好，关于您在 2025-11-17 反映的问题：我们已免费重新喷漆后门。"
    )
    assert "您已确认该解决方案" in zh_message.body
    assert en_message.language == "en"
    assert en_message.body.startswith(
        "Hello Tom Baker, about what you told us on 2025-11-17: "
        "We repainted the rear door at our cost. You confirmed this solution"
    )
    # Reopened and closed again: told again, with the new result.
    cases.take_step(
        session, zh_case, "reopen", user_id=desk[3], notes="还有划痕", now=at("2025-11-18 10:00")
    )
    session.commit()
    close_again = [("investigate", "ok"), ("propose", "再次抛光。")]
    for action, notes in close_again:
        cases.take_step(
            session, zh_case, action, user_id=desk[3], notes=notes, now=at("2025-11-18 10:10")
        )
    cases.take_step(
        session,
        zh_case,
        "confirm",
        user_id=desk[3],
        notes="ok",
        now=at("2025-11-18 11:00"),
        root_cause_id=str(labels.labels(session, "root_cause")[0].id),
    )
    session.commit()
    assert "再次抛光。" in messages(session, RESULT_EVENT)[-1].body
