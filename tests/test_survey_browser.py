"""The survey in a real Chromium against the server's pages: the customer answers on a phone
(a missing answer is shown and what was chosen kept, then the thanks page; opened again it
stays the thanks page), a hot answer's call-back on the advisors' list, and the manager's
service star page for a month with its ranking and why. Screenshots of the new pages in
both languages go to ``docs/screenshots/web-survey-*-{en,zh}.png``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from headless_chromium import CHROMIUM, headless_chromium
from server_fixtures import PASSWORD
from sqlalchemy import select, update
from survey_fixtures import at, hand_back, person, survey_app
from werkzeug.serving import make_server

from sync_server import db
from sync_server.shop import shop_settings
from sync_server.surveys import answers, sending
from sync_server.surveys.tables import Survey
from sync_server.visit_tables import Visit

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
]
PHONE = {"width": 390, "height": 844}
# November 2026 in the demo shop (Shanghai): two advisors, li.na with enough surveys.
NOVEMBER = [
    ("li.na", "2026-11-03T16:00", "5", "5", "5", "10", "Clear explanation of every line"),
    ("li.na", "2026-11-09T11:00", "4", "5", "4", "9", ""),
    ("li.na", "2026-11-16T17:30", "5", "4", "5", "9", ""),
    ("li.na", "2026-11-20T10:00", "4", "4", "4", "8", ""),
    ("li.na", "2026-11-26T15:00", "5", "5", "4", "10", ""),
    ("tom", "2026-11-05T12:00", "3", "4", "3", "7", ""),
    ("tom", "2026-11-12T16:00", "4", "3", "4", "8", ""),
    ("tom", "2026-11-18T09:30", "5", "5", "5", "10", ""),
    ("tom", "2026-11-24T18:00", "4", "4", "4", "9", ""),
    ("tom", "2026-11-27T11:00", "2", "3", "3", "5", "Waited an hour past the promised time"),
    ("manager", "2026-11-28T11:00", "5", "5", "5", "10", ""),
]


def seed(server: PageServer) -> tuple[str, str]:
    """November's answered surveys, and a car handed back today whose survey is open;
    returns that survey's token and the status page token of its visit."""
    with server.app.app_context():
        session = db.session()
        shop = shop_settings(session)
        shop.timezone, shop.name = "Asia/Shanghai", "Bright Star Auto Service 明星汽车服务"
        person(session, "manager", "manager")
        for username, handed, overall, advisor, work, recommend, comment in NOVEMBER:
            # Ready an hour before the hand-back; tom's lower answers come with a promise
            # missed (ready after the time he gave).
            late = username == "tom" and int(recommend) <= 7
            made = hand_back(
                session,
                at(handed),
                advisor_id=person(session, username),
                promised=at(handed) - timedelta(minutes=90 if late else 30),
                phone="+8613800000000",
            )
            survey = sending.survey_of_visit(session, session.get(Visit, made.visit_id))
            answers.record_answer(
                session,
                survey,
                {
                    "overall": overall,
                    "advisor_score": advisor,
                    "work_score": work,
                    "recommend": recommend,
                    "comment": comment,
                },
                now=at(handed.split("T")[0] + "T20:00"),
                base_url=server.url,
            )
            session.commit()
        today = hand_back(
            session,
            datetime.now(UTC),
            advisor_id=person(session, "li.na"),
            language="en",
            phone="+8613811112222",
        )
        survey = sending.survey_of_visit(session, session.get(Visit, today.visit_id))
        # A customer who prefers a call, handed back yesterday: the survey by phone.
        yesterday = datetime.now(UTC) - timedelta(days=1)
        hand_back(
            session,
            yesterday,
            advisor_id=person(session, "li.na"),
            phone="+8613833334444",
            channel="phone",
        )
        session.commit()
        sending.open_missing_surveys(session, datetime.now(UTC))
        session.execute(
            update(Survey).where(Survey.answered_at.is_(None)).values(send_at=yesterday)
        )
        noon = at(f"{datetime.now(UTC).astimezone(at('2026-01-01T00:00').tzinfo):%Y-%m-%d}T12:00")
        sending.queue_due_surveys(session, noon, server.url)  # noon: not in quiet hours
        session.commit()
        return survey.token, today.status_token


@dataclass
class PageServer:
    """The app served over HTTP from a thread of this process (Chromium needs a real
    socket; nothing here needs a second process)."""

    url: str
    app: Flask


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[PageServer]:
    app = survey_app(tmp_path_factory.mktemp("survey-pages"), sqlite_template)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield PageServer(f"http://127.0.0.1:{httpd.server_port}", app)
    finally:
        httpd.shutdown()
        thread.join()
        app.extensions["db_engine"].dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with headless_chromium() as chromium:
        yield chromium


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"web-survey-{name}.png"), full_page=True)


def switch_language(page: Any, code: str) -> None:
    page.click(f"header a[hreflang='{code}']")
    page.wait_for_load_state("networkidle")


def choose(page: Any, field: str, value: int) -> None:
    page.click(f"#{field} label:has(input[value='{value}']) span")


def test_the_customer_answers_on_a_phone_then_sees_the_thanks(
    server: PageServer, browser: Any
) -> None:
    token, status_token = seed(server)
    phone = browser.new_context(viewport=PHONE, locale="en-GB", is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.goto(f"{server.url}/status/{status_token}")
    assert "Something is not right?" in page.inner_text("#not-right")
    shot(page, "status-en")
    page.click("#survey a")
    page.wait_for_load_state()  # styles applied before the width is measured
    assert page.inner_text("h1") == "How did we do?"
    # Nothing is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "answer-en")
    choose(page, "overall", 4)
    choose(page, "advisor_score", 5)
    choose(page, "work_score", 4)
    page.fill("textarea[name=comment]", "Friendly and on time")
    page.click("button.primary.big")
    assert "Choose a number from 0 to 10." in page.inner_text("#recommend")
    assert page.is_checked("#overall input[value='4']")
    assert page.input_value("textarea[name=comment]") == "Friendly and on time"
    switch_language(page, "zh_CN")
    assert page.inner_text("h1") == "我们的服务怎么样？"
    assert page.is_checked("#advisor_score input[value='5']") is False  # a fresh form
    shot(page, "answer-zh")
    switch_language(page, "en")
    for field, value in (("overall", 4), ("advisor_score", 5), ("work_score", 4)):
        choose(page, field, value)
    choose(page, "recommend", 9)
    page.click("button.primary.big")
    assert page.inner_text("#thanks h1") == "Thank you!"
    shot(page, "thanks-en")
    page.goto(f"{server.url}/survey/{token}")
    assert page.inner_text("#thanks h1") == "Thank you!"
    switch_language(page, "zh_CN")
    shot(page, "thanks-zh")
    page.goto(f"{server.url}/status/{status_token}")
    shot(page, "status-zh")
    with server.app.app_context():
        survey = db.session().scalars(select(Survey).where(Survey.token == token)).one()
        assert (survey.overall, survey.advisor_score, survey.recommend) == (4, 5, 9)
        assert survey.comment == "" and not survey.hot
    phone.close()


def test_the_manager_reads_the_service_star_and_the_call_backs(
    server: PageServer, browser: Any
) -> None:
    desk = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB")
    page = desk.new_page()
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", "manager")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.goto(f"{server.url}/surveys/star?month=2026-11")
    rows = page.locator("#star-table tbody tr")
    assert "Service star" in rows.nth(0).inner_text()
    assert "Li Na" in rows.nth(0).inner_text()
    # The manager handed back one car: too few surveys to be ranked, and the page says so.
    assert "Not ranked: 4 more surveys needed." in page.inner_text("#star-table")
    assert "3/5" in rows.nth(1).inner_text()  # tom's promises kept
    shot(page, "star-en")
    switch_language(page, "zh_CN")
    assert "服务之星" in page.inner_text("h1")
    shot(page, "star-zh")
    page.click("nav >> text=回电")
    assert "Waited an hour past the promised time" in page.inner_text("main")
    assert "电话满意度调查" in page.inner_text("main")
    shot(page, "callbacks-zh")
    switch_language(page, "en")
    shot(page, "callbacks-en")
    # The survey by phone: the advisor enters what the customer says on the call.
    page.click("text=Enter the customer's answers")
    assert "+8613833334444" in page.inner_text("main")
    for field, value in (("overall", 5), ("advisor_score", 4), ("work_score", 5)):
        choose(page, field, value)
    page.click("form.survey button.primary")
    assert "Choose a number from 0 to 10." in page.inner_text("#recommend")
    assert page.is_checked("#advisor_score input[value='4']")  # what was entered is kept
    shot(page, "phone-answer-en")
    switch_language(page, "zh_CN")
    shot(page, "phone-answer-zh")
    for field, value in (("overall", 5), ("advisor_score", 4), ("work_score", 5)):
        choose(page, field, value)
    choose(page, "recommend", 9)
    page.click("form.survey button.primary")
    assert "已保存：电话中客户给出的回答。" in page.inner_text("main")
    switch_language(page, "en")
    page.goto(f"{server.url}/surveys/settings")
    shot(page, "settings-en")
    switch_language(page, "zh_CN")
    shot(page, "settings-zh")
    desk.close()
