"""The managers' reports on a small known data set: satisfaction and NPS by shop month
and the service star's table (the surveys area's figures, drawn and exported), reminders
sent and what they brought within 30 days (the follow-up area's), complaint times
against their deadlines by shop month (a case received just after midnight on 1 April in
Shanghai counts for April although UTC still has it in March; a missed first response
stays missed after it is answered), complaints by category and root cause, the forward
load (bookable technician hours less the walk-in buffer, a holiday week shorter, an
empty week shown), and the page: managers only, the chart beside its table, CSV and XLSX
of the very same table, in both languages."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from appointment_fixtures import EARLY, at, engine_session, plan_shop
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from server_fixtures import Shop
from sqlalchemy import select
from web_fixtures import make_visit, web_login

from shared import domain
from shared.shop_calendar import ShopCalendar
from sync_server import db
from sync_server.appointments.booking import BookingRequest, book
from sync_server.appointments.capacity import day_capacity
from sync_server.complaints import cases, labels
from sync_server.reports.complaint_causes import complaints_by_cause
from sync_server.reports.complaint_times import ComplaintMonth, complaint_times_by_month
from sync_server.reports.forward_load import forward_load
from sync_server.reports.periods import MonthRange
from sync_server.shop import shop_settings
from sync_server.shop_tables import User
from sync_server.sync.records import lock_feed, put_server_record

SHANGHAI = ZoneInfo("Asia/Shanghai")
MARCH_APRIL = MonthRange(date(2026, 3, 1), date(2026, 4, 1), SHANGHAI)
NOW = datetime(2026, 4, 1, 12, 0, tzinfo=SHANGHAI)


def shanghai(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def fill_complaints(app: Flask, shop: Shop) -> None:
    """A: answered and closed in time (March). B: first response late — written down as
    missed, answered later, never resolved (March). C: received 00:30 on 1 April shop time
    (still 31 March in UTC), answered in time, open."""
    made = make_visit(app)
    username = shop.user("wang.fang", "advisor")
    with app.app_context():
        session = db.session()
        shop_settings(session).timezone = "Asia/Shanghai"
        session.commit()
        user = session.scalar(select(User.id).where(User.username == username))
        paint = labels.add_label(session, "category", "Paint and body", "漆面车身")
        waiting = labels.add_label(session, "category", "Waiting time", "等待时间")
        before = labels.add_label(session, "root_cause", "Damage before check-in", "进店前已有损伤")
        session.commit()

        def receive(when: str, category: int) -> Any:
            return cases.receive(
                session,
                customer_id=made.customer_id,
                visit_id=made.visit_id,
                channel="phone",
                summary="Something is not right",
                category_id=str(category),
                user_id=user,
                now=shanghai(when),
            )

        def step(case: Any, action: str, when: str, **extra: str) -> None:
            cases.take_step(
                session, case, action, user_id=user, notes="ok", now=shanghai(when), **extra
            )

        a = receive("2026-03-02 10:00", paint.id)
        step(a, "acknowledge", "2026-03-02 10:10")
        step(a, "investigate", "2026-03-02 10:20")
        step(a, "propose", "2026-03-02 12:00")
        step(a, "confirm", "2026-03-02 14:00", root_cause_id=str(before.id))
        b = receive("2026-03-03 10:00", paint.id)
        cases.record_missed(session, b, shanghai("2026-03-03 10:31"))
        step(b, "acknowledge", "2026-03-03 11:00")
        c = receive("2026-04-01 00:30", waiting.id)
        step(c, "acknowledge", "2026-04-01 08:40")
        session.commit()
        assert c.received_at.month == 3  # UTC: still March


def test_complaint_times_by_shop_month_and_a_missed_deadline_stays_missed(
    app: Flask, shop: Shop
) -> None:
    fill_complaints(app, shop)
    with app.app_context():
        months = complaint_times_by_month(db.session(), MARCH_APRIL, NOW.astimezone(UTC))
        in_utc = complaint_times_by_month(
            db.session(), MonthRange(date(2026, 3, 1), date(2026, 4, 1), UTC), NOW
        )
    assert months == [
        ComplaintMonth(2026, 3, 2, 1, 1, 0, 35.0, 1, 1, 0, 4.0),
        ComplaintMonth(2026, 4, 1, 1, 0, 0, 490.0, 0, 0, 1, None),
    ]
    assert [m.received for m in in_utc] == [3, 0]  # the same cases by UTC months
    assert months[0].response_on_time_share == 0.5


def test_complaints_by_category_and_root_cause(app: Flask, shop: Shop) -> None:
    fill_complaints(app, shop)
    with app.app_context():
        counts = complaints_by_cause(db.session(), MARCH_APRIL)
        only_april = complaints_by_cause(
            db.session(), MonthRange(date(2026, 4, 1), date(2026, 4, 1), SHANGHAI)
        )
    found = [
        (
            c.category.shown("zh_CN") if c.category else None,
            c.root_cause.en if c.root_cause else None,
            c.cases,
            c.closed,
            c.missed,
        )
        for c in counts
    ]
    assert found == [
        ("漆面车身", "Damage before check-in", 1, 1, 0),
        ("漆面车身", None, 1, 0, 1),
        ("等待时间", None, 1, 0, 0),
    ]
    assert [(c.category.en, c.cases) for c in only_april if c.category] == [("Waiting time", 1)]


def test_the_forward_load_counts_bookable_hours_less_walk_ins_and_shows_an_empty_week(
    app: Flask,
) -> None:
    monday = date(2026, 12, 14)
    made = plan_shop(app)
    calendar = ShopCalendar(timezone=SHANGHAI)
    with engine_session(app) as session:
        for starts, minutes in ((at(monday, 10), 60), (at(monday + timedelta(days=1), 9), 120)):
            book(
                session,
                calendar,
                BookingRequest(
                    customer_id=made.customer_id,
                    vehicle_id=made.vehicle_id,
                    starts_at=starts,
                    minutes=minutes,
                    speciality="engine",
                    requested_work="Oil service",
                ),
                now=EARLY,
            )
        lock_feed(session)
        for week in range(1, 9):  # one walk-in every past Monday: an hour kept each Monday
            put_server_record(
                session,
                "visit",
                domain.Visit(
                    ticket_number=f"W-{week}",
                    customer_id=made.customer_id,
                    vehicle_id=made.vehicle_id,
                    checked_in_at=at(monday - timedelta(weeks=week), 9).astimezone(UTC),
                ),
            )
        session.commit()
        weeks = forward_load(session, calendar, monday, 3)
        raw = [
            sum(
                day_capacity(session, calendar, start + timedelta(days=n), EARLY).hours
                for n in range(7)
            )
            for start in (monday, monday + timedelta(weeks=1), monday + timedelta(weeks=2))
        ]
    assert [w.week_start for w in weeks] == [monday + timedelta(weeks=n) for n in range(3)]
    assert [(w.appointments, w.booked_hours) for w in weeks] == [(2, 3.0), (0, 0.0), (0, 0.0)]
    # One Monday each week, one walk-in hour kept on it.
    assert [w.bookable_hours for w in weeks] == [round(hours - 1.0, 1) for hours in raw]
    assert weeks[0].free_hours == weeks[0].bookable_hours - 3.0
    assert weeks[1].free_hours == weeks[1].bookable_hours > 0  # the empty week shows
    assert weeks[2].bookable_hours < weeks[1].bookable_hours  # 1 January is a holiday
    assert weeks[0].load_share == pytest.approx(3.0 / weeks[0].bookable_hours)


def fill_surveys(app: Flask, shop: Shop) -> None:
    """Two answered surveys on the same advisor's visits: a promoter on 31 March and a
    detractor at 00:30 on 1 April, shop time (still March in UTC)."""
    from sync_server.surveys.tables import Survey

    advisor_name = shop.user("li.na", "advisor")
    made = [make_visit(app, phone=f"+861380013800{n}", ticket=f"S-00{n}") for n in (1, 2)]
    with app.app_context():
        session = db.session()
        advisor = session.scalar(select(User.id).where(User.username == advisor_name))
        for visit, answered, scores in (
            (made[0], "2026-03-31 20:00", (5, 5, 4, 10)),
            (made[1], "2026-04-01 00:30", (2, 3, 2, 3)),
        ):
            moment = shanghai(answered).astimezone(UTC)
            overall, advisor_score, work, recommend = scores
            session.add(
                Survey(
                    visit_id=visit.visit_id,
                    customer_id=visit.customer_id,
                    advisor_user_id=advisor,
                    token=visit.visit_id.replace("-", "")[:43],
                    language="zh_CN",
                    handed_back_at=moment - timedelta(days=1),
                    send_at=moment - timedelta(hours=2),
                    answered_at=moment,
                    overall=overall,
                    advisor_score=advisor_score,
                    work_score=work,
                    recommend=recommend,
                )
            )
        session.commit()


def fill_reminders(app: Flask) -> None:
    """Two maintenance reminders sent in March; one customer came in 12 days later."""
    from sync_server.back_office_tables import OutboundMessage
    from sync_server.follow_up.tables import FollowUpContact

    made = [make_visit(app, phone=f"+861390013900{n}", ticket=f"R-00{n}") for n in (1, 2)]
    with app.app_context():
        session = db.session()
        for n, visit in enumerate(made):
            sent_at = shanghai(f"2026-03-0{n + 2} 10:00").astimezone(UTC)
            message = OutboundMessage(
                visit_id=None,
                event="follow_up",
                channel="sms",
                recipient=f"+861390013900{n + 1}",
                language="zh_CN",
                body="保养提醒",
                state="sent",
                sent_at=sent_at,
            )
            session.add(message)
            session.flush()
            session.add(
                FollowUpContact(
                    contact_key=f"bench-{n}",
                    customer_id=visit.customer_id,
                    kind="maintenance",
                    due_on=date(2026, 3, 20),
                    channel="sms",
                    language="zh_CN",
                    planned_at=sent_at,
                    message_id=message.id,
                    token=f"t{n}" * 20,
                )
            )
        lock_feed(session)
        put_server_record(
            session,
            "visit",
            domain.Visit(
                ticket_number="R-003",
                customer_id=made[0].customer_id,
                vehicle_id=made[0].vehicle_id,
                checked_in_at=shanghai("2026-03-14 09:00").astimezone(UTC),
            ),
        )
        session.commit()


def download(client: FlaskClient, key: str, fmt: str, **query: str) -> Any:
    response = client.get(f"/reports/{key}.{fmt}", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response


def test_the_reports_page_is_the_managers_with_charts_tables_and_downloads(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    fill_complaints(app, shop)
    fill_surveys(app, shop)
    fill_reminders(app)
    period = {"from": "2026-03", "to": "2026-04"}
    advisor = app.test_client()
    web_login(advisor, shop, "advisor")
    assert advisor.get("/reports").status_code == 403
    assert advisor.get("/reports/approvals.csv").status_code == 403
    assert "/reports" not in advisor.get("/board").get_data(as_text=True)
    web_login(client, shop, "manager")
    page = client.get("/reports", query_string=period).get_data(as_text=True)
    keys = ("satisfaction", "service-star", "complaint-times", "complaint-causes", "reminders")
    for key in (*keys, "forward-load", "approvals"):
        assert f'id="{key}"' in page
        assert f"/reports/{key}.csv?" in page and f"/reports/{key}.xlsx?" in page
    # No approvals in March and April: no chart of nothing, the table says so.
    assert page.count("<svg") == 6 and "<script" not in page
    approvals = page[page.index('id="approvals"') :]
    assert "<svg" not in approvals and "Nothing in this period." in approvals
    assert "Response and resolution times against the deadlines" in page

    text = download(client, "complaint-times", "csv", **period).get_data()
    assert text.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Month", "Received", "First response on time", "First response missed"]
    assert rows[1] == ["2026-03", "2", "1", "1", "0", "35.0", "1", "1", "0", "4.0"]
    # Today (long after April) case C's resolution deadline has passed unmet: missed.
    assert rows[2] == ["2026-04", "1", "1", "0", "0", "490.0", "0", "1", "0", ""]

    satisfaction = download(client, "satisfaction", "csv", **period).data.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(satisfaction)))[1:] == [
        ["2026-03", "1", "5.0", "5.0", "4.0", "10.0", "1", "0", "100.0"],
        ["2026-04", "1", "2.0", "3.0", "2.0", "3.0", "0", "1", "-100.0"],
    ]
    reminders = download(client, "reminders", "xlsx", **period).get_data()
    sheet = load_workbook(io.BytesIO(reminders)).active
    assert [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        ["2026-03", 2, 0, 1, 0, 50],
        ["2026-04", 0, 0, 0, None, None],
    ]
    star = download(client, "service-star", "csv", **period).data.decode("utf-8-sig")
    star_rows = list(csv.reader(io.StringIO(star)))
    assert star_rows[0][:3] == ["Rank", "Advisor", "Surveys answered"]
    assert star_rows[1][1:3] == ["Li.Na", "1"]  # April's one survey: not enough to rank
    assert star_rows[1][0].endswith("more surveys needed")

    xlsx = download(client, "complaint-causes", "xlsx", **period)
    assert xlsx.headers["Content-Disposition"].endswith('complaint-causes_2026-03_2026-04.xlsx"')
    sheet = load_workbook(io.BytesIO(xlsx.get_data())).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == ["Category", "Root cause", "Cases", "Closed", "Missed a deadline"]
    assert values[1:] == [
        ["Paint and body", "Damage before check-in", 1, 1, 0],
        ["Paint and body", "None yet", 1, 0, 1],
        ["Waiting time", "None yet", 1, 0, 0],
    ]

    client.get("/lang/zh_CN")
    chinese = client.get("/reports", query_string=period).get_data(as_text=True)
    assert "漆面车身" in chinese and "Response and resolution" not in chinese
    zh_rows = list(
        csv.reader(
            io.StringIO(
                download(client, "complaint-causes", "csv", **period).data.decode("utf-8-sig")
            )
        )
    )
    assert zh_rows[1][:2] == ["漆面车身", "进店前已有损伤"]

    bad = client.get("/reports", query_string={"from": "2026-05", "to": "2026-01"})
    assert bad.status_code == 200
    assert client.get("/reports/nothing.csv").status_code == 404
