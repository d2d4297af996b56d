"""The reports page in a real Chromium against a real server (the demo shop): the manager
opens Reports from the menu, sees each chart beside its table, chooses a period, downloads
a table as CSV, and reads the page in Chinese — chart titles and axis labels too; nothing
is refused by the page's CSP (no script, nothing from the internet). Screenshots go to
``docs/screenshots/web-reports-{en,zh_CN}.png``."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from live_server import LiveServer
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_web_browser import (  # noqa: F401
    CHROMIUM,
    PASSWORD,
    browser,
    server,
    switch_language,
)

from sync_server.complaints import cases, labels
from sync_server.complaints.tables import ComplaintLabel
from sync_server.shop_tables import User
from sync_server.surveys.tables import Survey
from sync_server.visit_tables import Customer, Visit

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed"),
]


def label_named(session: Session, kind: str, name_en: str, name_zh: str) -> ComplaintLabel:
    """The demo shop's label of that name, or a new one."""
    for label in labels.labels(session, kind, active_only=False):
        if label.name_en.lower() == name_en.lower():
            return label
    return labels.add_label(session, kind, name_en, name_zh)


def some_complaints(live: LiveServer) -> None:
    """Three cases this month: one answered in time and closed, two not answered yet; and
    one survey answered an hour ago."""
    now = datetime.now(UTC)
    with Session(live.db_engine()) as session:
        customers = session.scalars(select(Customer).order_by(Customer.name).limit(3)).all()
        manager = session.scalar(select(User.id).where(User.username == "manager"))
        assert manager is not None
        paint = label_named(session, "category", "Paint and body", "漆面车身")
        waiting = label_named(session, "category", "Waiting time", "等待时间")
        cause = label_named(session, "root_cause", "Workshop handling", "车间操作")
        session.commit()
        for customer, category, answered in zip(
            customers, (paint, paint, waiting), (True, False, False), strict=True
        ):
            received = now - timedelta(minutes=30)
            case = cases.receive(
                session,
                customer_id=customer.id,
                visit_id="",
                channel="desk",
                summary="Bench complaint",
                category_id=str(category.id),
                user_id=manager,
                now=received,
            )
            session.flush()
            if answered:
                for action, notes in (("acknowledge", "ok"), ("investigate", "ok")):
                    cases.take_step(
                        session, case, action, user_id=manager, notes=notes, now=received
                    )
                cases.take_step(
                    session, case, "propose", user_id=manager, notes="Polished", now=received
                )
                cases.take_step(
                    session,
                    case,
                    "confirm",
                    user_id=manager,
                    notes="ok",
                    now=received + timedelta(minutes=5),
                    root_cause_id=str(cause.id),
                )
        visit = session.scalars(select(Visit).limit(1)).one()
        session.add(
            Survey(
                visit_id=visit.id,
                customer_id=visit.customer_id,
                advisor_user_id=manager,
                token="t" * 43,
                language="en",
                handed_back_at=now - timedelta(hours=3),
                send_at=now - timedelta(hours=2),
                answered_at=now - timedelta(hours=1),
                overall=5,
                advisor_score=4,
                work_score=5,
                recommend=9,
            )
        )
        session.commit()


def a_car_coming_due(live: LiveServer) -> str:
    """A car of the demo shop, not booked in, due for its oil service in 8 days (as the
    server stores it when its history changes); returns its week's Monday."""
    import time
    from zoneinfo import ZoneInfo

    from sync_server.follow_up.tables import CarDue, CarTouched
    from sync_server.shop_tables import Shop
    from sync_server.visit_tables import Appointment

    with Session(live.db_engine()) as session:
        # The server's job has worked out the demo's cars (it would redo this one).
        deadline = time.monotonic() + 60
        while session.scalars(select(CarTouched.vehicle_id).limit(1)).first() is not None:
            assert time.monotonic() < deadline, "the cars_due job did not catch up"
            session.rollback()
            time.sleep(0.2)
        shop = session.get(Shop, 1)
        today = datetime.now(ZoneInfo(shop.timezone if shop else "UTC")).date()
        booked = select(Appointment.vehicle_id).where(Appointment.status == "booked")
        car = session.scalars(
            select(Visit.vehicle_id).where(Visit.vehicle_id.not_in(booked))
        ).first()
        assert car is not None
        due_on = today + timedelta(days=8)
        session.add(
            CarDue(
                vehicle_id=car,
                kind="maintenance",
                subject="browser_check",
                due_on=due_on,
                by="date",
                reason="by date: {months} months after the last service ({last})",
                reason_params={"months": 6, "last": (due_on - timedelta(days=182)).isoformat()},
                work="Oil and filter service",
                work_zh="机油机滤保养",
                preset="oil_service",
                hours=1.0,
            )
        )
        session.commit()
    return (due_on - timedelta(days=due_on.weekday())).isoformat()


def test_the_manager_reads_the_reports_and_downloads_a_table(
    server: LiveServer,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    some_complaints(server)
    due_week = a_car_coming_due(server)
    this_month = datetime.now(UTC).strftime("%Y-%m")
    office = browser.new_context(
        viewport={"width": 1440, "height": 1000}, locale="en-GB", accept_downloads=True
    )
    page = office.new_page()
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", "manager")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.click("nav >> text=Reports")
    assert page.inner_text("h1") == "Reports"
    keys = ("satisfaction", "service-star", "complaint-times", "complaint-causes")
    for key in (*keys, "forward-load", "approvals"):
        section = page.locator(f"section#{key}")
        expect(section.locator("figure.chart svg")).to_have_count(1)
        expect(section.locator("table")).to_have_count(1)
    causes = page.locator("section#complaint-causes")
    assert "Paint and body" in causes.locator("svg").text_content()  # the chart's own labels
    assert "Paint and body\tNone yet\t1" in causes.locator("table").inner_text()

    page.fill("#period input[name=from]", this_month)
    page.fill("#period input[name=to]", this_month)
    page.select_option("#period select[name=weeks]", "4")
    page.click("#period button.primary")
    assert f"from={this_month}" in page.url and "weeks=4" in page.url
    load_rows = page.locator("section#forward-load tbody tr")
    expect(load_rows).to_have_count(4)
    # The week the car comes due shows it, not booked, with its preset's hour.
    headings = page.locator("section#forward-load thead").inner_text().split("\t")
    assert headings[1:5] == [
        "Appointments booked",
        "Cars coming due, not booked",
        "Their estimated hours",
        "Cars coming due",
    ]
    week = page.locator(f"section#forward-load tbody tr:has-text('{due_week}')").inner_text()
    _monday, booked, due_cars, due_hours, cars = week.split("\t")[:5]
    assert int(due_cars) >= 1 and float(due_hours) >= 1.0
    assert int(cars) == int(booked) + int(due_cars)
    assert (
        "Estimated hours of the cars coming due"
        in page.locator("section#forward-load svg").text_content()
    )
    with page.expect_download() as caught:
        page.click("section#complaint-causes >> text=Download CSV")
    download = caught.value
    assert download.suggested_filename == f"complaint-causes_{this_month}_{this_month}.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text("utf-8-sig"))))
    assert rows[0] == ["Category", "Root cause", "Cases", "Closed", "Missed a deadline"]
    assert ["Paint and body", "Workshop handling", "1", "1", "0"] in rows

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "web-reports-en.png"), full_page=True)
    switch_language(page, "zh_CN")
    assert page.inner_text("h1") == "报表"
    chart_text = page.locator("section#complaint-causes svg").text_content()
    assert "按类别和根本原因统计的投诉" in chart_text and "漆面车身" in chart_text
    assert "周（自周一起）" in page.locator("section#forward-load svg").text_content()
    assert "到期未预约车辆" in page.locator("section#forward-load thead").inner_text()
    assert page.locator("section#forward-load tbody tr").count() == 4  # the choice is kept
    page.screenshot(path=str(SCREENSHOTS / "web-reports-zh_CN.png"), full_page=True)
    office.close()
