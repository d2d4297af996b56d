"""The manager keeps the shop's capacity in a real Chromium against a real server: adds a
bay (a duplicate name is refused with the name kept), sets a technician's weekly hours
(a bad day is refused, the rest typed stays), records an absence, and a refused rule
keeps what was typed; then books a new customer on the VIP line with a reason.
Screenshots go to ``docs/screenshots/web-capacity*-{en,zh}.png``,
``web-day-plan-staff-{en,zh}.png`` and ``web-appointment-vip-{en,zh}.png``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from live_server import LiveServer
from playwright.sync_api import expect
from test_appointment_kiosk_live import morning_zone
from test_web_browser import CHROMIUM, PASSWORD, browser, server, switch_language  # noqa: F401

from shared.shop_calendar import ShopCalendar

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
# A real server process and a browser: not in the quick loop.
pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
]


def test_the_manager_keeps_the_capacity_and_books_a_vip(
    server: LiveServer,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    zone_name = morning_zone()
    local_now = datetime.now(UTC).astimezone(ZoneInfo(zone_name))
    if not ShopCalendar(timezone=ZoneInfo(zone_name)).is_open_day(local_now.date()):
        pytest.skip("the shop is closed today (a public holiday)")
    server.cli("shop", "--timezone", zone_name)
    desk = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="en-GB")
    page = desk.new_page()
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", "manager")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.click("nav >> text=Capacity")
    page.wait_for_load_state()  # the click waits only for the new page to begin
    assert page.inner_text("h1") == "Capacity settings"
    bays_before = page.locator("#bays tbody tr").count()  # the demo shop's own

    page.fill("#new-bay input[name=name]", "Lift 1")
    page.click("#new-bay button.primary")
    page.fill("#new-bay input[name=name]", "lift 1")
    page.click("#new-bay button.primary")
    assert "A bay with this name already exists." in page.inner_text("#new-bay")
    assert page.input_value("#new-bay input[name=name]") == "lift 1"
    page.fill("#new-bay input[name=name]", "Lift 2")
    page.click("#new-bay button.primary")
    expect(page.locator("#bays tbody tr")).to_have_count(bays_before + 2)

    technician = page.locator("#technicians form").first
    form_id = technician.get_attribute("id")
    technician.locator("input[name=hours_0]").fill("08:00-16:00")
    technician.locator("input[name=hours_1]").fill("9 to 5")
    technician.locator("button[value=save]").click()
    form = page.locator(f"#{form_id}")
    assert "Write the hours like 08:30-17:30" in form.inner_text()
    assert form.locator("input[name=hours_0]").input_value() == "08:00-16:00"
    form.locator("input[name=hours_1]").fill("09:00-17:00")
    form.locator("button[value=save]").click()
    form = page.locator(f"#{form_id}")
    assert form.locator("input[name=hours_1]").input_value() == "09:00-17:00"
    assert form.locator("input[name=hours_2]").get_attribute("placeholder") == "off"

    page.select_option("#new-absence select[name=technician]", index=1)
    first = local_now.date() + timedelta(days=7)
    page.fill("#new-absence input[name=first_day]", first.isoformat())
    page.fill("#new-absence input[name=last_day]", (first + timedelta(days=2)).isoformat())
    page.fill("#new-absence input[name=reason]", "Training")
    page.click("#new-absence button.primary")
    assert "Training" in page.inner_text("#absences tbody")

    # The day plan of the absence's first day: the absent technician is marked, and the
    # hours each technician does not work are hatched.
    page.goto(f"{server.url}/appointments/day-plan?day={first.isoformat()}")
    assert "(absent)" in page.inner_text("#load")
    assert page.locator("#load td.off").count() >= 1
    page.screenshot(path=str(SCREENSHOTS / "web-day-plan-staff-en.png"), full_page=True)
    switch_language(page, "zh_CN")
    assert "（缺勤）" in page.inner_text("#load") or "(缺勤)" in page.inner_text("#load")
    page.screenshot(path=str(SCREENSHOTS / "web-day-plan-staff-zh.png"), full_page=True)
    switch_language(page, "en")
    page.click("nav >> text=Capacity")

    page.fill("#rules input[name=vip_share_percent]", "95")
    page.click("#rules button.primary")
    assert "The VIP share is a whole percent from 0 to 80." in page.inner_text("#rules")
    assert page.input_value("#rules input[name=vip_share_percent]") == "95"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "web-capacity-error-en.png"), full_page=True)
    page.fill("#rules input[name=vip_share_percent]", "25")
    page.click("#rules button.primary")
    assert "The rules are saved." in page.inner_text("main")
    page.screenshot(path=str(SCREENSHOTS / "web-capacity-en.png"), full_page=True)
    switch_language(page, "zh_CN")
    assert page.inner_text("h1") == "产能设置"
    page.screenshot(path=str(SCREENSHOTS / "web-capacity-zh.png"), full_page=True)
    switch_language(page, "en")

    # A new customer on the VIP line: the manager gives the reason they are a VIP.
    page.click("nav >> text=Appointments")
    page.select_option("select[name=channel]", "vip")
    page.fill("input[name=name]", "孙丽")
    page.fill("input[name=phone]", "13955556666")
    page.fill("input[name=plate]", "浙A55667")
    page.select_option("select[name=preset]", "oil_service")
    start = local_now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)
    page.fill("input[name=starts]", start.strftime("%Y-%m-%dT%H:%M"))
    page.click("#book button[type=submit].primary")
    assert "Give the reason this customer is a VIP." in page.inner_text("#book")
    assert page.input_value("input[name=plate]") == "浙A55667"
    page.fill("input[name=vip_reason]", "Fleet account")
    page.click("#book button[type=submit].primary")
    expect(page.locator("#customer-vip")).to_have_count(1)
    assert "Fleet account" in page.inner_text("#appointment")
    page.screenshot(path=str(SCREENSHOTS / "web-appointment-vip-en.png"), full_page=True)
    switch_language(page, "zh_CN")
    assert "VIP 客户" in page.inner_text("#vip")
    page.screenshot(path=str(SCREENSHOTS / "web-appointment-vip-zh.png"), full_page=True)
    desk.close()
