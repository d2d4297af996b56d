"""The shop's working calendar at its edges: holidays, make-up working days, deadlines
over closing time, weekends and holidays, years past the Chinese calendar's data."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.shop_calendar import CalendarError, ShopCalendar, parse_opening_hours, public_holidays

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int, minute: int = 0, zone: ZoneInfo = SHANGHAI) -> datetime:
    return datetime.combine(day, time(hour, minute), zone)


@pytest.fixture
def shop() -> ShopCalendar:
    return ShopCalendar()


def test_national_day_is_closed_and_its_make_up_saturday_is_worked_on_weekday_hours(
    shop: ShopCalendar,
) -> None:
    assert shop.holiday_name(date(2026, 10, 1)) == "National Day"
    assert not shop.is_open_day(date(2026, 10, 1))
    assert not shop.is_open_day(date(2026, 10, 7))
    assert shop.is_open_day(date(2026, 10, 8))
    # 2026-10-10 is a Saturday worked in exchange for the holiday (调休).
    assert shop.is_makeup_working_day(date(2026, 10, 10))
    assert shop.hours_on(date(2026, 10, 10)) == (time(8, 30), time(18, 0))
    # An ordinary Sunday keeps its own, shorter hours; an ordinary Saturday is no make-up day.
    assert shop.hours_on(date(2026, 12, 6)) == (time(9, 0), time(17, 0))
    assert not shop.is_makeup_working_day(date(2026, 12, 5))


def test_a_make_up_sunday_opens_even_where_the_shop_closes_on_sundays() -> None:
    closed_sundays = ShopCalendar(
        opening_hours={**{d: (time(9, 0), time(17, 0)) for d in range(6)}, 6: None}
    )
    assert closed_sundays.hours_on(date(2026, 12, 6)) is None
    # 2026-09-20 is a Sunday worked before the National Day holiday.
    assert closed_sundays.hours_on(date(2026, 9, 20)) == (time(9, 0), time(17, 0))


def test_a_deadline_runs_over_closing_time_into_the_next_opening(shop: ShopCalendar) -> None:
    friday = date(2026, 12, 4)
    # 15 minutes left on Friday, the other 15 from Saturday's opening.
    assert shop.add_business_time(at(friday, 17, 45), timedelta(minutes=30)) == at(
        date(2026, 12, 5), 8, 45
    )
    # Exactly at closing time is still Friday.
    assert shop.add_business_time(at(friday, 17, 30), timedelta(minutes=30)) == at(friday, 18)


def test_a_request_made_at_night_counts_from_the_next_opening(shop: ShopCalendar) -> None:
    night = at(date(2026, 12, 7), 23, 10)
    assert shop.add_business_time(night, timedelta(minutes=30)) == at(date(2026, 12, 8), 9)
    assert shop.next_open_moment(night) == at(date(2026, 12, 8), 8, 30)


def test_a_deadline_skips_the_whole_national_day_week(shop: ShopCalendar) -> None:
    start = at(date(2026, 9, 30), 17, 50)
    assert shop.add_business_time(start, timedelta(minutes=30)) == at(date(2026, 10, 8), 8, 50)
    assert shop.business_time_between(start, at(date(2026, 10, 8), 8, 50)) == timedelta(minutes=30)


def test_business_time_between_counts_only_opening_hours(shop: ShopCalendar) -> None:
    # Thursday 17:00 to Saturday 09:00: 1 h on Thursday, 9.5 h on Friday, 0.5 h on Saturday.
    start, end = at(date(2026, 12, 3), 17), at(date(2026, 12, 5), 9)
    assert shop.business_time_between(start, end) == timedelta(hours=11)
    assert shop.business_time_between(end, start) == timedelta(0)
    # The same instants given in UTC count the same.
    assert shop.business_time_between(start.astimezone(UTC), end.astimezone(UTC)) == timedelta(
        hours=11
    )


def test_years_past_the_chinese_calendars_data_still_know_the_fixed_holidays() -> None:
    shop = ShopCalendar()
    assert shop.holiday_name(date(2027, 10, 1)) is not None
    assert not shop.is_open_day(date(2027, 10, 1))
    assert shop.is_open_day(date(2027, 10, 12))


def test_other_countries_use_their_own_holidays_and_time_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    shop = ShopCalendar(timezone=berlin, country="DE")
    assert not shop.is_open_day(date(2026, 12, 25))
    # The night the clocks go forward: opening hours are wall-clock hours.
    start, end = shop.opening_interval(date(2026, 3, 30)) or (None, None)
    assert start == datetime(2026, 3, 30, 8, 30, tzinfo=berlin)
    assert end is not None and (end - start) == timedelta(hours=9, minutes=30)


def test_own_closed_days_and_open_holidays() -> None:
    stocktaking = date(2026, 12, 8)
    shop = ShopCalendar(closed_days=frozenset({stocktaking}), open_on_public_holidays=True)
    assert not shop.is_open_day(stocktaking)
    assert shop.is_open_day(date(2026, 10, 1))


def test_naive_times_and_a_calendar_with_no_hours_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ShopCalendar().add_business_time(datetime(2026, 12, 7, 9), timedelta(minutes=5))
    never_open = ShopCalendar(opening_hours={d: None for d in range(7)})
    with pytest.raises(CalendarError):
        never_open.add_business_time(at(date(2026, 12, 7), 9), timedelta(minutes=5))


def test_opening_hours_from_settings_text() -> None:
    assert parse_opening_hours({0: "08:30-18:00", 6: ""}) == {
        0: (time(8, 30), time(18, 0)),
        6: None,
    }
    with pytest.raises(ValueError, match="weekday 2"):
        parse_opening_hours({2: "18:00-08:00"})
    with pytest.raises(ValueError, match="like 08:30-18:00"):
        parse_opening_hours({1: "nine to five"})


def test_public_holidays_in_a_week(shop: ShopCalendar) -> None:
    week = [date(2026, 9, 28) + timedelta(days=n) for n in range(7)]
    assert sorted(public_holidays(shop, week)) == [date(2026, 10, d) for d in range(1, 5)]
