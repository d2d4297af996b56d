"""The shop's working calendar: opening hours, public holidays and make-up working days.

Appointments plan capacity on it and complaint deadlines count business hours over it,
so both agree on what "the next working day" and "within 30 business minutes" mean.

Holidays come from maintained packages, never from a hand-made list: for China,
``chinese_calendar`` (the State Council's yearly schedule, with the make-up working days,
调休) for the years it covers, and the ``holidays`` package (which also knows China's
make-up days for published years, and the fixed and lunar holidays of later ones) for
every other year and every other country. A make-up working day is worked on the
hours of an ordinary weekday, even when it falls on a weekend the shop keeps short.

Times go in and out as timezone-aware datetimes; the calendar thinks in the shop's own
time zone (a day's opening hours are wall-clock times there, DST included).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

OpeningHours = Mapping[int, tuple[time, time] | None]

# Monday = 0 … Sunday = 6. A common Chinese service shop: every day, shorter on Sunday.
DEFAULT_OPENING_HOURS: dict[int, tuple[time, time] | None] = {
    **{weekday: (time(8, 30), time(18, 0)) for weekday in range(6)},
    6: (time(9, 0), time(17, 0)),
}
# How far ahead a deadline may be searched before the calendar is declared wrong
# (a shop closed every day would otherwise loop for ever).
SEARCH_DAYS = 3 * 366


class CalendarError(ValueError):
    """The calendar cannot answer: no opening hours within a search horizon."""


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("shop calendar times must be timezone-aware")
    return moment


@dataclass(frozen=True)
class ShopCalendar:
    """Working days and opening hours of one shop."""

    timezone: tzinfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    country: str = "CN"
    subdivision: str | None = None
    opening_hours: OpeningHours = field(default_factory=lambda: dict(DEFAULT_OPENING_HOURS))
    # The shop works on public holidays (many service shops keep the lobby open).
    open_on_public_holidays: bool = False
    # Days the shop closes on its own (stocktaking, a staff outing), in shop time.
    closed_days: frozenset[date] = frozenset()

    @cached_property
    def _holidays(self) -> holidays.HolidayBase:
        return holidays.country_holidays(self.country, subdiv=self.subdivision)

    # -- days ------------------------------------------------------------------------

    def holiday_name(self, day: date) -> str | None:
        """The public holiday's name on ``day`` (``None`` on an ordinary day)."""
        if self.country == "CN":
            found = _chinese_calendar_holiday(day)
            if found is not None:
                return found or None
        return self._holidays.get(day)

    def is_makeup_working_day(self, day: date) -> bool:
        """A weekend day worked in exchange for a holiday (调休)."""
        if day.weekday() < 5:
            return False
        if self.country == "CN":
            worked = _chinese_calendar_workday(day)
            if worked is not None:
                return worked
        return day in getattr(self._holidays, "weekend_workdays", set())

    def hours_on(self, day: date) -> tuple[time, time] | None:
        """The shop's opening hours on ``day`` (wall clock), ``None`` when it is closed."""
        if day in self.closed_days:
            return None
        if self.is_makeup_working_day(day):
            return self.opening_hours.get(0) or _first_hours(self.opening_hours)
        if self.holiday_name(day) is not None and not self.open_on_public_holidays:
            return None
        return self.opening_hours.get(day.weekday())

    def is_open_day(self, day: date) -> bool:
        return self.hours_on(day) is not None

    def opening_interval(self, day: date) -> tuple[datetime, datetime] | None:
        """When the shop is open on ``day``, as aware datetimes in the shop's zone."""
        hours = self.hours_on(day)
        if hours is None:
            return None
        opens, closes = hours
        start = datetime.combine(day, opens, self.timezone)
        end = datetime.combine(day, closes, self.timezone)
        return (start, end) if end > start else None

    def open_intervals(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The opening hours that overlap ``[start, end)``, clipped to it, in order."""
        start, end = _aware(start), _aware(end)
        day = start.astimezone(self.timezone).date()
        last = end.astimezone(self.timezone).date()
        while day <= last:
            interval = self.opening_interval(day)
            if interval is not None:
                lo, hi = max(interval[0], start), min(interval[1], end)
                if lo < hi:
                    yield lo, hi
            day += timedelta(days=1)

    # -- business time ----------------------------------------------------------------

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Opening time that passes from ``start`` to ``end`` (zero if ``end`` is earlier)."""
        if _aware(end) <= _aware(start):
            return timedelta(0)
        return sum((hi - lo for lo, hi in self.open_intervals(start, end)), timedelta(0))

    def add_business_time(self, start: datetime, amount: timedelta) -> datetime:
        """The moment ``amount`` of opening time after ``start`` (a deadline).

        A request made while the shop is closed starts counting when it next opens; a
        deadline that would fall exactly on closing time is that closing time.
        """
        start = _aware(start)
        if amount < timedelta(0):
            raise ValueError("a business-time amount cannot be negative")
        remaining = amount
        day = start.astimezone(self.timezone).date()
        for _ in range(SEARCH_DAYS):
            interval = self.opening_interval(day)
            if interval is not None:
                lo, hi = max(interval[0], start), interval[1]
                if lo < hi:
                    if remaining <= hi - lo:
                        return (lo + remaining).astimezone(start.tzinfo)
                    remaining -= hi - lo
            day += timedelta(days=1)
        raise CalendarError("the shop has no opening hours within three years")

    def next_open_moment(self, after: datetime) -> datetime:
        """``after`` itself when the shop is open then, else when it next opens."""
        return self.add_business_time(after, timedelta(0))

    def working_days(self, first: date, last: date) -> list[date]:
        """The days from ``first`` to ``last`` (inclusive) on which the shop is open."""
        days: list[date] = []
        day = first
        while day <= last:
            if self.is_open_day(day):
                days.append(day)
            day += timedelta(days=1)
        return days


def _first_hours(opening_hours: OpeningHours) -> tuple[time, time] | None:
    for weekday in range(7):
        hours = opening_hours.get(weekday)
        if hours is not None:
            return hours
    return None


def _chinese_calendar_workday(day: date) -> bool | None:
    """Whether ``day`` is a working day per chinese_calendar; ``None`` outside its years."""
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


def _chinese_calendar_holiday(day: date) -> str | None:
    """The holiday's name per chinese_calendar; ``""`` for none; ``None`` outside its years."""
    import chinese_calendar

    try:
        is_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    if is_holiday and name:
        return str(name)
    return ""


def parse_opening_hours(text_by_weekday: Mapping[int, str]) -> dict[int, tuple[time, time] | None]:
    """Opening hours from settings text: ``{0: "08:30-18:00", 6: ""}`` (empty = closed).

    Raises ``ValueError`` naming the weekday whose text cannot be read or closes before
    it opens.
    """
    hours: dict[int, tuple[time, time] | None] = {}
    for weekday, text in text_by_weekday.items():
        if not 0 <= weekday <= 6:
            raise ValueError(f"weekday {weekday} is not 0 (Monday) to 6 (Sunday)")
        text = text.strip()
        if not text:
            hours[weekday] = None
            continue
        try:
            opens_text, closes_text = (part.strip() for part in text.split("-"))
            opens, closes = time.fromisoformat(opens_text), time.fromisoformat(closes_text)
        except ValueError as exc:
            raise ValueError(f"weekday {weekday}: {text!r} is not like 08:30-18:00") from exc
        if closes <= opens:
            raise ValueError(f"weekday {weekday}: {text!r} closes before it opens")
        hours[weekday] = (opens, closes)
    return hours


def public_holidays(calendar: ShopCalendar, days: Iterable[date]) -> dict[date, str]:
    """The public holidays among ``days`` with their names (for a plan or a report)."""
    found: dict[date, str] = {}
    for day in days:
        name = calendar.holiday_name(day)
        if name is not None:
            found[day] = name
    return found
