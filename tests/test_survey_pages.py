"""The survey's pages through the Flask client: the customer's survey by its link (bad
input refused and kept, a second answer shown the thanks page and changing nothing, an
unknown link a 404), the status page's survey link and "something is not right" (a case
opened, refused empty and kept, rate limited, CSRF and size guarded), the call-back list
(an advisor sees theirs and marks one done), the star page (managers only) and the
settings page (refused and kept)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from server_fixtures import PASSWORD
from sqlalchemy import func, select
from survey_fixtures import at, hand_back, module_app, person  # noqa: F401
from web_fixtures import CSRF_PATTERN, page_text

from sync_server import db
from sync_server.complaints.tables import ComplaintCase
from sync_server.surveys import sending
from sync_server.surveys.tables import Survey, SurveyCallback
from sync_server.visit_tables import Visit

GOOD = {"overall": "5", "advisor_score": "4", "work_score": "5", "recommend": "9"}


def token_of(client: Any, url: str) -> str:
    response = client.get(url)
    found = CSRF_PATTERN.search(response.get_data(as_text=True))
    assert found, url
    return found.group(1)


@pytest.fixture
def delivered(module_app: Flask) -> Any:  # noqa: F811
    with module_app.app_context():
        session = db.session()
        advisor = person(session, "li.na")
        made = hand_back(session, at("2026-11-10T15:00"), advisor_id=advisor, language="en")
        survey = sending.survey_of_visit(session, session.get(Visit, made.visit_id))
        session.commit()
        return made, survey.token, advisor


def sign_in(client: Any, username: str) -> None:
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token_of(client, "/login")},
    )
    assert response.status_code == 302


def test_the_survey_refuses_bad_input_keeps_it_and_takes_one_answer(
    module_app: Flask,  # noqa: F811
    delivered: Any,
) -> None:
    _made, token, _advisor = delivered
    phone = module_app.test_client()
    page = phone.get(f"/survey/{token}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    csrf = CSRF_PATTERN.search(page.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    refused = phone.post(
        f"/survey/{token}",
        data={"overall": "4", "work_score": "9", "comment": "Quick", "csrf_token": csrf},
    )
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert 'name="overall" value="4" checked' in text and ">Quick</textarea>" in text
    assert "Choose a score from 1 to 5." in text and "Choose a number from 0 to 10." in text
    saved = phone.post(f"/survey/{token}", data={**GOOD, "comment": "Quick", "csrf_token": csrf})
    assert saved.status_code == 303
    assert "Thank you!" in page_text(phone.get(f"/survey/{token}"))
    again = phone.post(f"/survey/{token}", data={**GOOD, "overall": "1", "csrf_token": csrf})
    assert again.status_code == 200 and "Thank you!" in page_text(again)
    with module_app.app_context():
        survey = db.session().scalars(select(Survey).where(Survey.token == token)).one()
        assert (survey.overall, survey.advisor_score, survey.comment) == (5, 4, "Quick")
        assert not survey.hot
    # Without the form's CSRF token nothing is taken; an unknown link is not found.
    assert phone.post(f"/survey/{token}", data=GOOD).status_code == 400
    assert phone.get("/survey/" + "x" * 43).status_code == 404


def test_the_survey_opens_in_the_customers_language(
    module_app: Flask,  # noqa: F811
) -> None:
    with module_app.app_context():
        session = db.session()
        made = hand_back(session, at("2026-11-12T15:00"), language="zh_CN")
        survey = sending.survey_of_visit(session, session.get(Visit, made.visit_id))
        session.commit()
        token = survey.token
    text = page_text(module_app.test_client().get(f"/survey/{token}"))
    assert "我们的服务怎么样？" in text and "提交我的回答" in text


def test_something_is_not_right_opens_a_case_on_the_status_page(
    module_app: Flask,  # noqa: F811
    delivered: Any,
) -> None:
    made, survey_token, _advisor = delivered
    phone = module_app.test_client()
    url = f"/status/{made.status_token}"
    page = phone.get(url)
    assert f"/survey/{survey_token}" in page.get_data(as_text=True)
    csrf = CSRF_PATTERN.search(page.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    empty = phone.post(f"{url}/not-right", data={"text": "   ", "csrf_token": csrf})
    assert empty.status_code == 400 and "Write what is not right." in page_text(empty)
    assert phone.post(f"{url}/not-right", data={"text": "Oil on the seat"}).status_code == 400
    huge = phone.post(f"{url}/not-right", data={"text": "x" * 20_000, "csrf_token": csrf})
    assert huge.status_code == 413
    for number in range(3):
        sent = phone.post(
            f"{url}/not-right", data={"text": f"Oil on the seat {number}", "csrf_token": csrf}
        )
        assert sent.status_code == 303
    held = phone.post(f"{url}/not-right", data={"text": "Still oily", "csrf_token": csrf})
    assert held.status_code == 429 and ">Still oily</textarea>" in held.get_data(as_text=True)
    with module_app.app_context():
        session = db.session()
        opened = session.scalars(
            select(ComplaintCase).where(ComplaintCase.visit_id == made.visit_id)
        ).all()
        assert [case.channel for case in opened] == ["status_page"] * 3
        assert opened[0].summary == "Oil on the seat 0" and opened[0].state == "received"
        assert opened[0].customer_id == made.customer_id


def test_call_backs_for_the_advisor_and_the_manager_pages(
    module_app: Flask,  # noqa: F811
    delivered: Any,
) -> None:
    made, token, _advisor = delivered
    phone = module_app.test_client()
    csrf = CSRF_PATTERN.search(phone.get(f"/survey/{token}").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    phone.post(f"/survey/{token}", data={**GOOD, "recommend": "3", "csrf_token": csrf})
    with module_app.app_context():
        person(db.session(), "other.advisor")
        person(db.session(), "zhou", "manager")
    own, other, manager = (module_app.test_client() for _ in range(3))
    sign_in(own, "li.na")
    sign_in(other, "other.advisor")
    sign_in(manager, "zhou")
    assert "callback-" in own.get("/surveys/callbacks").get_data(as_text=True)
    assert "No call-backs to make." in page_text(other.get("/surveys/callbacks"))
    visit_page = page_text(own.get(f"/visits/{made.visit_id}"))
    assert "would recommend 3/10" in visit_page and "Hot alert" in visit_page
    assert "Call back by" in visit_page
    with module_app.app_context():
        callback_id = db.session().scalar(
            select(SurveyCallback.id).where(SurveyCallback.visit_id == made.visit_id)
        )
    done_url = f"/surveys/callbacks/{callback_id}/done"
    csrf = token_of(other, "/surveys/callbacks")
    assert other.post(done_url, data={"notes": "x", "csrf_token": csrf}).status_code == 404
    csrf = token_of(own, "/surveys/callbacks")
    refused = own.post(done_url, data={"notes": " ", "csrf_token": csrf})
    assert refused.status_code == 400 and "Write what the customer said." in page_text(refused)
    assert (
        own.post(done_url, data={"notes": "Sorry, free wash", "csrf_token": csrf}).status_code
        == 302
    )
    with module_app.app_context():
        done = db.session().get(SurveyCallback, callback_id)
        assert done.done_at is not None and done.notes == "Sorry, free wash"
        assert (
            db.session().scalar(select(func.count()).where(SurveyCallback.done_at.is_(None))) == 0
        )

    assert own.get("/surveys/star").status_code == 403
    assert own.get("/surveys/settings").status_code == 403
    assert "Service star · 2026-11" in page_text(manager.get("/surveys/star?month=2026-11"))
    assert manager.get("/surveys/star?month=2026-13").status_code == 400
    csrf = token_of(manager, "/surveys/settings")
    form = {
        "send_after_days": "1",
        "send_at": "22:30",
        "hot_score_max": "2",
        "hot_recommend_max": "6",
        "callback_business_hours": "24",
        "manager_email": "zhou@shop",
        "star_min_surveys": "5",
        "comeback_days": "30",
        "csrf_token": csrf,
    }
    refused = manager.post("/surveys/settings", data=form)
    text = page_text(refused)
    assert refused.status_code == 400 and "quiet hours" in text and "name@example.com" in text
    assert 'value="22:30"' in refused.get_data(as_text=True)
    ok = manager.post(
        "/surveys/settings", data={**form, "send_at": "18:30", "manager_email": "zhou@shop.cn"}
    )
    assert ok.status_code == 302
    assert 'value="18:30"' in manager.get("/surveys/settings").get_data(as_text=True)
