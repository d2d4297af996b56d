"""The customer and vehicle pages in a real Chromium against a real server: the desk
finds a car by its plate without the province, opens the customer's file, a manager
makes the customer a VIP with a reason, opens the car's health file with its tread
trend and deferred work, and merges a duplicate after its preview. Screenshots of the
pages in both languages go to ``docs/screenshots/web-customer-*.png``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from customer_file_fixtures import Line, VisitPlan, make_car, make_customer, make_history
from flask import Flask
from live_server import LiveServer
from playwright.sync_api import expect
from sqlalchemy import text
from test_web_browser import PASSWORD, browser, server, switch_language  # noqa: F401

from sync_server import create_app

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


@pytest.fixture
def writer(server: LiveServer) -> Iterator[Flask]:  # noqa: F811
    """An app on the live server's database, to write a car's history as sync would."""
    os.environ["CHECKIN_INSTANCE_PATH"] = str(server.instance_path)
    app = create_app({"DATABASE_URL": server.database_url, "TESTING": True})
    yield app
    app.extensions["db_engine"].dispose()
    os.environ.pop("CHECKIN_INSTANCE_PATH", None)


def history(writer: Flask) -> tuple[str, str]:
    customer = make_customer(writer, name="黄磊", phone="+8613566667777", email="hl@example.com")
    car = make_car(writer, customer, plate="粤B86420", vin="LGBH52E05JY654321", year=2021)
    now = datetime.now(UTC)
    make_history(
        writer,
        customer,
        car,
        [
            VisitPlan(
                now - timedelta(days=400),
                12_000,
                {"fl": 7.2, "fr": 7.3, "rl": 7.5, "rr": 7.4},
                marks=[("left", 0.3, 0.5, "scratch")],
                lines=[
                    Line("Oil and filter", part_number="OIL-5W30", price="380"),
                    Line("Rear wiper blade", "declined", urgency="green", price="60"),
                ],
                finding="Oil due; wiper streaks",
                cause="Mileage since last change",
            ),
            VisitPlan(
                now - timedelta(days=220),
                21_500,
                {"fl": 6.2, "fr": 6.4, "rl": 6.9, "rr": 6.8},
                marks=[("left", 0.31, 0.5, "scratch"), ("front", 0.5, 0.3, "chip")],
                lines=[
                    Line("Front brake pads", part_number="BP-2231", price="480", urgency="red"),
                    Line("Cabin filter", "declined", part_number="CF-118", urgency="yellow"),
                ],
                finding="Squeal when braking",
                cause="Front pads worn to 2 mm",
            ),
            VisitPlan(
                now - timedelta(days=20),
                31_000,
                {"fl": 5.1, "fr": 5.4, "rl": 6.3, "rr": 6.2},
                concern="Vibration at 100 km/h",
                lines=[Line("Wheel balancing", kind="labour", price="120")],
                finding="Front left wheel out of balance",
                cause="Lost weight",
            ),
        ],
    )
    return customer, car


def test_customer_and_vehicle_pages(
    server: LiveServer,  # noqa: F811
    browser: Any,  # noqa: F811
    writer: Flask,
) -> None:
    customer, _car = history(writer)
    duplicate = make_customer(writer, name="黄 磊", phone="+8613566667777")
    make_car(writer, duplicate, plate="粤B13579")

    desk = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="en-GB")
    page = desk.new_page()
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", "manager")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")

    # Found by the plate typed without its province.
    page.click("nav >> text=Customers and cars")
    page.fill("#customer-query", "b86420")
    page.press("#customer-query", "Enter")
    results = page.inner_text("#search-results")
    assert "黄磊" in results and "粤B86420" in results and "plate" in results
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "web-customer-search-en.png"), full_page=True)
    switch_language(page, "zh_CN")
    assert "车牌" in page.inner_text("#search-results")
    page.screenshot(path=str(SCREENSHOTS / "web-customer-search-zh_CN.png"), full_page=True)
    switch_language(page, "en")
    page.click("#search-results >> text=黄磊")
    assert "Visits (3)" in page.inner_text("#visits")
    assert page.inner_text("#consent-service").count("Agreed at") == 3
    assert "Said no" in page.inner_text("#consent-marketing")

    # A VIP by hand needs a reason; the reason is shown with the tier.
    page.click("#vip-form button")
    assert "Say why" in page.inner_text("#vip-form")
    page.fill("#vip-form input[name=reason]", "Fleet account, 12 cars")
    page.click("#vip-form button")
    assert page.inner_text("#tier-badge") == "VIP"
    assert "Fleet account, 12 cars" in page.inner_text("#tier")
    page.screenshot(path=str(SCREENSHOTS / "web-customer-file-en.png"), full_page=True)
    switch_language(page, "zh_CN")
    assert "客户档案" in page.title()
    page.screenshot(path=str(SCREENSHOTS / "web-customer-file-zh_CN.png"), full_page=True)
    switch_language(page, "en")

    # The car's health file: timeline, trend with projections, deferred work.
    page.click("#vehicles >> text=粤B86420")
    expect(page.locator("#timeline article")).to_have_count(3)
    assert "already there" in page.inner_text("#timeline")
    assert "BP-2231" in page.inner_text("#timeline")
    assert "Front pads worn to 2 mm" in page.inner_text("#timeline")
    expect(page.locator("#trend svg polyline.projection")).to_have_count(4)
    assert "around" in page.inner_text("#projections")
    deferred = page.inner_text("#deferred")
    assert "Rear wiper blade" in deferred and "CF-118" in deferred and "open" in deferred
    page.screenshot(path=str(SCREENSHOTS / "web-vehicle-health-en.png"), full_page=True)
    switch_language(page, "zh_CN")
    assert "车辆健康档案" in page.inner_text("h1")
    page.screenshot(path=str(SCREENSHOTS / "web-vehicle-health-zh_CN.png"), full_page=True)
    switch_language(page, "en")

    # The duplicate: listed, previewed, merged; nothing deleted.
    page.goto(f"{server.url}/customers/duplicates")
    for code in ("en", "zh_CN"):
        if code != "en":
            switch_language(page, code)
        page.screenshot(path=str(SCREENSHOTS / f"web-customer-duplicates-{code}.png"))
    switch_language(page, "en")
    group = page.locator(".duplicate-group", has_text="+8613566667777")
    group.locator(f"a.merge-link[href*='merge={duplicate}']").click()
    assert "Cars: 1" in page.inner_text("#what-moves")
    page.screenshot(path=str(SCREENSHOTS / "web-customer-merge-en.png"), full_page=True)
    switch_language(page, "zh_CN")
    assert "将转移的内容" in page.inner_text("#what-moves")
    page.screenshot(path=str(SCREENSHOTS / "web-customer-merge-zh_CN.png"), full_page=True)
    switch_language(page, "en")
    page.click("#confirm-merge")
    assert "Merged: 1 record moved;" in page.inner_text("main")  # one, not "1 records"
    assert "粤B13579" in page.inner_text("#vehicles")
    with server.db_engine().connect() as db:
        merged_into = db.execute(
            text("SELECT merged_into_id FROM customers WHERE id = :id"), {"id": duplicate}
        ).scalar_one()
    assert merged_into == customer

    # The tier rules: a higher tier asking for less is refused, what was typed stays.
    page.goto(f"{server.url}/customers/tiers")
    page.fill("input[name=gold_visits]", "1")
    page.click("#tier-rules button[type=submit]")
    assert "cannot ask for less" in page.inner_text("#tier-rules")
    assert page.input_value("input[name=gold_visits]") == "1"
    page.fill("input[name=gold_visits]", "5")
    page.click("#tier-rules button[type=submit]")
    assert "Tier rules saved" in page.inner_text("main")
    page.screenshot(path=str(SCREENSHOTS / "web-customer-tiers-en.png"), full_page=True)
    switch_language(page, "zh_CN")
    page.screenshot(path=str(SCREENSHOTS / "web-customer-tiers-zh_CN.png"), full_page=True)
    assert not browser.refusals, browser.refusals
    desk.close()
