"""The survey for customers who prefer the phone (or have neither e-mail nor a mobile): a
call-back task instead of a message, listed with the call-backs, answered by the advisor
entering the answers on the customer's behalf (recorded as given on the phone, by whom);
a low answer turns the task into the hot alert's; an answer by the link before the call
closes it."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from flask import Flask
from server_fixtures import PASSWORD, Shop
from sqlalchemy import select
from survey_fixtures import at, hand_back, module_app, person  # noqa: F401
from web_fixtures import csrf_token, page_text

from sync_server import db
from sync_server.appointments.capacity import calendar_for
from sync_server.back_office_tables import OutboundMessage
from sync_server.people import PeopleError
from sync_server.shop import shop_settings
from sync_server.surveys import answers, sending
from sync_server.surveys.tables import Survey, SurveyCallback

CONFIG = {"PUBLIC_URL": "https://shop.example"}
GOOD = {"overall": "5", "advisor_score": "4", "work_score": "5", "recommend": "9"}


def sign_in(app: Flask, client: Any, username: str) -> None:
    with contextlib.suppress(PeopleError):
        Shop(app).user(username, "advisor")
    answer = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert answer.status_code == 302


def handed_back(app: Flask, when: str, **contact: str) -> tuple[str, int]:
    """A car handed back; its survey's time comes and the job runs: (visit, advisor)."""
    with app.app_context():
        session = db.session()
        advisor = person(session, "zhou.min")
        made = hand_back(session, at(when), advisor_id=advisor, **contact)  # type: ignore[arg-type]
        session.commit()
        sending.prepare_surveys(session, at(f"{when[:10]}T19:10") + timedelta(days=1), CONFIG)
        return made.visit_id, advisor


def task_of(app: Flask, visit_id: str) -> tuple[SurveyCallback | None, list[OutboundMessage]]:
    with app.app_context():
        session = db.session()
        callback = session.scalars(
            select(SurveyCallback).where(SurveyCallback.visit_id == visit_id)
        ).first()
        sent = session.scalars(
            select(OutboundMessage).where(
                OutboundMessage.visit_id == visit_id, OutboundMessage.event == "survey"
            )
        ).all()
        session.expunge_all()
        return callback, list(sent)


def test_a_call_task_instead_of_a_message_for_the_phone_or_the_unreachable(
    module_app: Flask,  # noqa: F811
) -> None:
    by_text, _advisor = handed_back(module_app, "2026-11-16T15:00")
    prefers_call, _advisor = handed_back(module_app, "2026-11-16T15:00", channel="phone")
    unreachable, _advisor = handed_back(module_app, "2026-11-16T15:00", phone="", email="")
    callback, sent = task_of(module_app, by_text)
    assert callback is None and [m.channel for m in sent] == ["sms"]
    for visit_id in (prefers_call, unreachable):
        callback, sent = task_of(module_app, visit_id)
        assert sent == [] and callback is not None
        assert callback.reason == "survey_by_phone" and callback.done_at is None
        with module_app.app_context():
            session = db.session()
            calendar = calendar_for(session, shop_settings(session))
            queued = at("2026-11-17T19:10")  # the job ran at 19:10 on the next day
            assert callback.due_at == calendar.add_business_time(queued, timedelta(hours=24))
            # The job again: no second task, no message.
            sending.prepare_surveys(session, queued + timedelta(minutes=5), CONFIG)
            assert (
                len(
                    session.scalars(
                        select(SurveyCallback).where(SurveyCallback.visit_id == visit_id)
                    ).all()
                )
                == 1
            )


def test_the_advisor_enters_the_answers_given_on_the_phone(module_app: Flask) -> None:  # noqa: F811
    visit_id, advisor = handed_back(module_app, "2026-11-18T10:00", channel="phone")
    callback, _sent = task_of(module_app, visit_id)
    assert callback is not None
    client = module_app.test_client()
    sign_in(module_app, client, "zhou.min")
    listed = page_text(client.get("/surveys/callbacks"))
    url = f"/surveys/callbacks/{callback.id}/answers"
    assert "Survey by phone" in listed and f'href="{url}"' in listed
    form = client.get(url)
    assert form.status_code == 200 and "+8613812345678" in page_text(form)
    # A missing score: refused by field, what was entered kept, nothing saved.
    refused = client.post(
        url,
        data={
            **GOOD,
            "overall": "",
            "comment": "Quick and clean",
            "csrf_token": csrf_token(client, url),
        },
    )
    assert refused.status_code == 400
    assert "Choose a score from 1 to 5." in page_text(refused) and "Quick and clean" in page_text(
        refused
    )
    saved = client.post(
        url, data={**GOOD, "comment": "Quick and clean", "csrf_token": csrf_token(client, url)}
    )
    assert saved.status_code == 302
    with module_app.app_context():
        session = db.session()
        survey = session.scalars(select(Survey).where(Survey.visit_id == visit_id)).one()
        assert (survey.answered_via, survey.answered_by_user_id) == ("phone", advisor)
        assert (survey.overall, survey.recommend, survey.comment, survey.hot) == (
            5,
            9,
            "Quick and clean",
            False,
        )
        done = session.get(SurveyCallback, callback.id)
        assert done is not None and done.done_at is not None and done.done_by_user_id == advisor
        assert done.notes == "已通过电话完成满意度调查。"  # the shop's language
    # The list shows it done, given on the phone; the form now says it is answered.
    assert "given on the phone" in page_text(client.get("/surveys/callbacks?show=all"))
    assert client.get(url).status_code == 302


def test_a_low_answer_on_the_phone_becomes_the_hot_alert_and_the_link_closes_the_task(
    module_app: Flask,  # noqa: F811
) -> None:
    low, advisor = handed_back(module_app, "2026-11-19T10:00", channel="phone")
    early, _advisor = handed_back(module_app, "2026-11-19T10:00", channel="phone")
    with module_app.app_context():
        session = db.session()
        survey = session.scalars(select(Survey).where(Survey.visit_id == low)).one()
        answers.record_answer(
            session,
            survey,
            {**GOOD, "work_score": "2"},
            now=at("2026-11-20T10:00"),
            base_url="https://shop.example",
            via="phone",
            user_id=advisor,
        )
        session.commit()
        [callback] = session.scalars(select(SurveyCallback).where(SurveyCallback.visit_id == low))
        assert callback.reason == "hot_alert" and callback.done_at is None
        assert callback.complaint_case_id is not None
        # The customer answered by the status page's link before anyone called.
        survey = session.scalars(select(Survey).where(Survey.visit_id == early)).one()
        answers.record_answer(
            session, survey, GOOD, now=at("2026-11-20T10:00"), base_url="https://shop.example"
        )
        session.commit()
        [callback] = session.scalars(select(SurveyCallback).where(SurveyCallback.visit_id == early))
        assert callback.done_at is not None and callback.done_by_user_id is None
        assert (survey.answered_via, survey.answered_by_user_id) == ("link", None)
