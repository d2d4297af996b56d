"""The appointment and day-plan pages in a real Chromium against a real server: the desk
books by phone for a new customer, a full slot offers the next free times and one tap
books it, then the day plan shows the load; screenshots of both pages in both languages
go to ``docs/screenshots/web-appointments-*.png``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from live_server import LiveServer
from playwright.sync_api import expect
from sqlalchemy import text
from test_appointment_kiosk_live import morning_zone
from test_web_browser import PASSWORD, browser, server, switch_language  # noqa: F401

from shared.shop_calendar import ShopCalendar

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def test_desk_books_takes_a_next_free_time_and_sees_the_day_plan(
    server: LiveServer,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    zone_name = morning_zone()
    local_now = datetime.now(UTC).astimezone(ZoneInfo(zone_name))
    if not ShopCalendar(timezone=ZoneInfo(zone_name)).is_open_day(local_now.date()):
        pytest.skip("the shop is closed today (a public holiday)")
    server.cli("shop", "--timezone", zone_name)
    with server.db_engine().begin() as db:
        # One lift only (the demo shop's own bays retired), so a second booking fills it.
        db.execute(text("UPDATE service_bays SET active = false"))
        db.execute(text("INSERT INTO service_bays (name, active) VALUES ('Lift 1', true)"))
        db.execute(
            text(
                "INSERT INTO technicians (name, specialities, active) "
                "VALUES ('Zhao Lei', '[\"engine\", \"brakes\"]', true)"
            )
        )
    start = local_now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)

    desk = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="en-GB")
    page = desk.new_page()
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", "li.na")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.click("nav >> text=Appointments")

    def fill(phone: str, plate: str) -> None:
        page.select_option("select[name=channel]", "phone")
        page.fill("input[name=name]", "周敏")
        page.fill("input[name=phone]", phone)
        page.fill("input[name=plate]", plate)
        page.select_option("select[name=preset]", "brakes")
        page.fill("input[name=starts]", start.strftime("%Y-%m-%dT%H:%M"))

    fill("13911112222", "浙A11223")
    page.click("#book button[type=submit].primary")
    code = page.inner_text("#appointment-code")
    assert re.fullmatch(r"[A-Z0-9]{6}", code)
    assert "Brake pads and discs" in page.inner_text("#appointment")

    page.click("nav >> text=Appointments")
    fill("13933334444", "浙A44556")
    page.click("#book button[type=submit].primary")
    assert "This time is fully booked." in page.inner_text("#book")
    assert page.input_value("input[name=name]") == "周敏"  # nothing typed is lost
    offered = page.locator("#next-free button")
    expect(offered).not_to_have_count(0)
    offered.first.click()
    second = page.inner_text("#appointment-code")
    assert second != code

    page.click("nav >> text=Appointments")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "web-appointments-en.png"), full_page=True)
    page.click("nav >> text=Day plan")
    page.wait_for_load_state()  # the click waits only for the new page to begin
    assert page.locator("#load td.full").count() >= 2
    page.screenshot(path=str(SCREENSHOTS / "web-day-plan-en.png"), full_page=True)
    switch_language(page, "zh_CN")
    assert "当日计划" in page.inner_text("h1")
    page.screenshot(path=str(SCREENSHOTS / "web-day-plan-zh.png"), full_page=True)
    page.click("nav >> text=预约")
    page.screenshot(path=str(SCREENSHOTS / "web-appointments-zh.png"), full_page=True)
    desk.close()
