"""Reports are single queries over the typed tables, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from approval_fixtures import put_approved_visit
from flask import Flask

from sync_server import db
from sync_server.people import create_user
from sync_server.reports import AdvisorMonth, MonthRange, approved_totals_by_advisor_month
from sync_server.shop_tables import UserRole


def test_approved_totals_by_advisor_and_month(app: Flask) -> None:
    with app.app_context():
        session = db.session()
        li = create_user(session, "li.na", "long-password-1", UserRole.ADVISOR).id
        tom = create_user(session, "tom", "long-password-2", UserRole.ADVISOR).id
        for advisor, when, price in (
            (li, datetime(2026, 3, 2, 9, tzinfo=UTC), "200"),
            (li, datetime(2026, 3, 30, 9, tzinfo=UTC), "300"),
            (li, datetime(2026, 4, 1, 9, tzinfo=UTC), "50"),
            (tom, datetime(2026, 3, 15, 9, tzinfo=UTC), "1000"),
            (tom, datetime(2025, 12, 31, 9, tzinfo=UTC), "999"),  # before the year asked
        ):
            put_approved_visit(session, advisor, when, price)

        months = approved_totals_by_advisor_month(
            session, MonthRange(date(2026, 1, 1), date(2026, 12, 1), UTC)
        )
    # Only the approved pads count, plus 10 % tax; the declined wipers do not.
    assert months == [
        AdvisorMonth(li, 2026, 3, 2, Decimal("550.00")),
        AdvisorMonth(li, 2026, 4, 1, Decimal("55.00")),
        AdvisorMonth(tom, 2026, 3, 1, Decimal("1100.00")),
    ]


def test_months_are_the_shops_own_months(app: Flask) -> None:
    """An approval late on the last evening of a month, shop time, counts for that month
    although UTC has it in the next one, and one just after midnight on the first counts
    for the new month although UTC still has it in the old one; daylight saving too."""
    from zoneinfo import ZoneInfo

    from sync_server.shop import shop_settings

    with app.app_context():
        session = db.session()
        li = create_user(session, "li.na", "long-password-1", UserRole.ADVISOR).id
        shop_settings(session).timezone = "Asia/Shanghai"
        for when, price in (
            (datetime(2026, 3, 31, 15, 30, tzinfo=UTC), "100"),  # 31 March 23:30 in Shanghai
            (datetime(2026, 4, 30, 16, 30, tzinfo=UTC), "200"),  # 1 May 00:30 in Shanghai
        ):
            put_approved_visit(session, li, when, price)
        year = (date(2026, 1, 1), date(2026, 12, 1))
        in_shanghai = approved_totals_by_advisor_month(
            session, MonthRange(*year, ZoneInfo("Asia/Shanghai"))
        )
        in_utc = approved_totals_by_advisor_month(session, MonthRange(*year, UTC))
        # Berlin: summer time from 29 March; 1 May 00:30 there is 30 April 22:30 UTC.
        berlin = ZoneInfo("Europe/Berlin")
        in_berlin = approved_totals_by_advisor_month(session, MonthRange(*year, berlin))
    assert in_shanghai == [
        AdvisorMonth(li, 2026, 3, 1, Decimal("110.00")),
        AdvisorMonth(li, 2026, 5, 1, Decimal("220.00")),
    ]
    assert in_utc == [
        AdvisorMonth(li, 2026, 3, 1, Decimal("110.00")),
        AdvisorMonth(li, 2026, 4, 1, Decimal("220.00")),
    ]
    assert in_berlin == in_utc  # 17:30 and 18:30 Berlin time: the same months as UTC
