"""Complaints in a real Chromium against a real server: the manager adds a category and a
root cause (a name missing in one language is refused, the other kept), takes a phone
complaint about a checked-in car, sees its deadline, acknowledges it; a case nobody
answered in time is highlighted in the list. Screenshots go to
``docs/screenshots/web-complaints-{list,case}-{en,zh}.png``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from live_server import LiveServer
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_web_browser import (  # noqa: F401
    CHROMIUM,
    PASSWORD,
    browser,
    server,
    switch_language,
    sync_a_checkin,
)

from sync_server.complaints import cases
from sync_server.shop_tables import User
from sync_server.visit_tables import Customer

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
]


def old_unanswered_case(live: LiveServer) -> int:
    """A complaint received three working days ago that nobody has answered."""
    with Session(live.db_engine()) as session:
        customer = session.scalars(select(Customer).where(Customer.name != "陈静")).first()
        manager = session.scalar(select(User.id).where(User.username == "manager"))
        assert customer is not None and manager is not None
        case = cases.receive(
            session,
            customer_id=customer.id,
            visit_id="",
            channel="desk",
            summary="Waited two hours past the promised time",
            category_id="",
            user_id=manager,
            now=datetime.now(UTC) - timedelta(days=5),
        )
        session.commit()
        return case.id


def test_the_desk_takes_a_complaint_and_the_late_one_stands_out(
    server: LiveServer,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    visit_id, _token = sync_a_checkin(server)
    late_id = old_unanswered_case(server)
    desk = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="en-GB")
    page = desk.new_page()
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", "manager")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.click("nav >> text=Complaints")
    assert page.inner_text("h1") == "Complaints"

    page.click("text=Categories, root causes and deadlines")
    page.fill("#category input[name=name_en]", "Paint and body")
    page.click("#category button.primary")
    assert "Write the name in both languages." in page.inner_text("#category")
    assert page.input_value("#category input[name=name_en]") == "Paint and body"
    page.fill("#category input[name=name_zh]", "漆面车身")
    page.click("#category button.primary")
    page.fill("#root_cause input[name=name_en]", "Damage before check-in")
    page.fill("#root_cause input[name=name_zh]", "进店前已有损伤")
    page.click("#root_cause button.primary")
    assert "漆面车身" in page.inner_text("#category")

    page.goto(f"{server.url}/complaints/new")
    page.fill("#find-customer input[name=q]", "陈静")
    page.click("#find-customer button")
    assert "陈静 · +8613800138000" in page.inner_text("#intake fieldset")
    # From the visit: its customer and the visit itself are chosen already.
    page.goto(f"{server.url}/complaints/new?visit={visit_id}")
    assert page.input_value("#intake select[name=visit]") == visit_id
    page.fill("#intake textarea[name=summary]", "  ")
    page.click("#intake button.primary")
    assert "Write what the customer says is wrong." in page.inner_text("#intake")
    assert page.input_value("#intake select[name=visit]") == visit_id
    page.select_option("#intake select[name=channel]", "phone")
    page.select_option("#intake select[name=category]", label="Paint and body")
    page.fill("#intake textarea[name=summary]", "A new scratch on the rear door")
    page.click("#intake button.primary")
    assert "The complaint is received; the first response is due by" in page.inner_text("main")
    assert f"/visits/{visit_id}" in page.get_attribute("#evidence a", "href")
    page.click("#next-step button[value=acknowledge]")
    assert "Acknowledged" in page.inner_text("h1")
    assert "Answered" in page.inner_text("#first-response")
    case_url = page.url.split("#")[0]

    page.click("nav >> text=Complaints")
    late_row = page.locator(f"tr[data-case='{late_id}']")
    assert late_row.get_attribute("class") == "overdue"
    assert "Missed" in late_row.inner_text()
    # The case answered in time does not stand out (the demo's own late case may).
    answered_id = case_url.rstrip("/").rsplit("/", 1)[-1]
    assert page.locator(f"tr[data-case='{answered_id}']").get_attribute("class") != "overdue"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "web-complaints-list-en.png"), full_page=True)
    switch_language(page, "zh_CN")
    assert page.inner_text("h1") == "投诉"
    page.screenshot(path=str(SCREENSHOTS / "web-complaints-list-zh.png"), full_page=True)
    page.goto(case_url)
    assert "漆面车身" in page.inner_text("#case")
    page.screenshot(path=str(SCREENSHOTS / "web-complaints-case-zh.png"), full_page=True)
    switch_language(page, "en")
    page.screenshot(path=str(SCREENSHOTS / "web-complaints-case-en.png"), full_page=True)
    desk.close()
