"""A desk step sent twice tells the customer once: the hand-back form POSTed twice at
the same moment (a double click), or again later from a page left open, queues one
"delivered" message and answers the second "already done"; the outbox's unique key (per
visit, event and quote version) refuses a second copy in any case."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import PASSWORD, Shop
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from web_fixtures import csrf_token, make_visit, page_text, web_login

from shared.visit_status import VisitStatus
from sync_server import db
from sync_server.back_office_tables import OutboundMessage
from sync_server.visit_tables import Visit

HAND_BACK = {"odometer_out_km": "61,000", "work_done": "Front pads replaced", "parts": ""}


def delivered_messages(app: Flask, visit_id: str) -> int:
    with app.app_context():
        return db.session().scalar(
            select(func.count()).where(
                OutboundMessage.visit_id == visit_id, OutboundMessage.event == "delivered"
            )
        )


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302
    return client


def post_at_once(
    together: threading.Barrier,
    client: FlaskClient,
    url: str,
    form: dict[str, str],
    answers: list[Any],
    index: int,
) -> None:
    together.wait()
    answers[index] = client.post(url, data=form)


def test_two_hand_backs_posted_together_send_one_message(app: Flask, shop: Shop) -> None:
    username = shop.user("li.na", "advisor")
    visits = [
        make_visit(app, status=VisitStatus.ready, plate=f"京A1234{n}", ticket=f"K-{n}")
        for n in range(3)
    ]
    clients = [signed_in(app, username), signed_in(app, username)]
    for made in visits:
        url = f"/visits/{made.visit_id}/hand-back"
        forms = [
            {**HAND_BACK, "from_status": "ready", "csrf_token": csrf_token(c, url)} for c in clients
        ]
        together = threading.Barrier(2)
        answers: list[Any] = [None, None]
        threads = [
            threading.Thread(
                target=post_at_once, args=(together, clients[i], url, forms[i], answers, i)
            )
            for i in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert [answer.status_code for answer in answers] == [302, 302]
        assert delivered_messages(app, made.visit_id) == 1
        pages = [page_text(client.get(f"/visits/{made.visit_id}")) for client in clients]
        assert sum("Already done" in page for page in pages) == 1, pages
        assert sum("Handed back: odometer" in page for page in pages) == 1
    with app.app_context():
        from sync_server.work_tables import HandBack

        assert db.session().scalar(select(func.count()).select_from(HandBack)) == 3


def test_a_step_posted_again_from_an_open_page_is_already_done(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    web_login(client, shop)
    made = make_visit(app, status=VisitStatus.ready, language="zh_CN")
    url = f"/visits/{made.visit_id}/hand-back"
    form = {**HAND_BACK, "from_status": "ready", "csrf_token": csrf_token(client, url)}
    assert client.post(url, data=form).status_code == 302
    again = client.post(url, data=form, follow_redirects=True)
    assert "Already done: the visit is Handed back" in page_text(again)
    assert delivered_messages(app, made.visit_id) == 1
    # A status button pressed on a page made before the visit moved on: said, not done.
    page = f"/visits/{made.visit_id}"
    step = {"event": "cancel", "from_status": "ready", "csrf_token": csrf_token(client, page)}
    moved = client.post(f"/visits/{made.visit_id}/status", data=step, follow_redirects=True)
    assert "changed while this page was open" in page_text(moved)
    with app.app_context():
        assert db.session().get(Visit, made.visit_id).status == VisitStatus.delivered
    client.get("/lang/zh_CN").close()
    zh = client.post(url, data=form, follow_redirects=True)
    assert "已经完成" in page_text(zh)


def test_the_outbox_key_refuses_a_second_copy(app: Flask) -> None:
    made = make_visit(app, status=VisitStatus.ready)
    with app.app_context():
        session = db.session()

        def copy() -> OutboundMessage:
            return OutboundMessage(
                visit_id=made.visit_id,
                event="delivered",
                quote_version=0,
                channel="sms",
                recipient="+8613812345678",
                language="en",
                body="Thank you",
            )

        first = copy()
        session.add(first)
        session.commit()
        assert first.email_message_id.startswith("<") and len(first.idempotency_key) == 32
        session.add(copy())
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
