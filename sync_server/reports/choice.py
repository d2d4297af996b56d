"""The period chooser: which shop months the reports cover (the service star: the last
of them), and how many weeks ahead the forward load looks; every report on the page and
every download reads the same choice, read from the address (``?from=2026-01&to=2026-06&weeks=8``).
A bad choice is told in words and the default is used instead; nothing is refused.
Then each report is built by its key (``build``), as the page and the downloads ask."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.i18n import Text
from shared.shop_calendar import ShopCalendar
from sync_server.follow_up.report import reminders_sent
from sync_server.reports.approvals import approved_totals_by_advisor_month
from sync_server.reports.complaint_causes import complaints_by_cause
from sync_server.reports.complaint_times import complaint_times_by_month
from sync_server.reports.forward_load import forward_load
from sync_server.reports.periods import MonthRange, last_months
from sync_server.reports.tables import (
    ReportTable,
    approvals_table,
    complaint_causes_table,
    complaint_times_table,
    forward_load_table,
    month_label,
    reminders_table,
    satisfaction_table,
    service_star_table,
)
from sync_server.shop_tables import User
from sync_server.surveys.figures import satisfaction_by_month, service_star

DEFAULT_MONTHS = 12
LONGEST_MONTHS = 36
WEEK_CHOICES = (4, 8, 12, 26)
DEFAULT_WEEKS = 8
REPORT_KEYS = (
    "satisfaction",
    "service-star",
    "complaint-times",
    "complaint-causes",
    "reminders",
    "forward-load",
    "approvals",
)


@dataclass(frozen=True)
class ReportChoice:
    period: MonthRange
    weeks: int


def _month(text: str) -> date | None:
    try:
        return datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        return None


def read_choice(
    args: Mapping[str, str], today: date, zone: tzinfo
) -> tuple[ReportChoice, list[Text]]:
    """The choice in the address, or the default (the last 12 months, 8 weeks ahead)
    with a message for each part that could not be read."""
    problems: list[Text] = []
    period = last_months(today, DEFAULT_MONTHS, zone)
    first_text, last_text = args.get("from", ""), args.get("to", "")
    if first_text or last_text:
        first, last = _month(first_text), _month(last_text)
        if first is None or last is None:
            problems.append(Text("Choose the months as year and month, e.g. 2026-03.", "server"))
        elif first > last:
            problems.append(Text("The first month comes after the last one.", "server"))
        elif first + relativedelta(months=LONGEST_MONTHS) <= last:
            problems.append(
                Text("Choose at most {months} months.", "server", {"months": LONGEST_MONTHS})
            )
        else:
            period = MonthRange(first, last, zone)
    weeks = DEFAULT_WEEKS
    weeks_text = args.get("weeks", "")
    if weeks_text:
        if weeks_text.isdigit() and int(weeks_text) in WEEK_CHOICES:
            weeks = int(weeks_text)
        else:
            problems.append(Text("Choose how many weeks ahead from the list.", "server"))
    return ReportChoice(period, weeks), problems


def build(
    session: Session,
    key: str,
    choice: ReportChoice,
    calendar: ShopCalendar,
    now: datetime,
    lang: str,
) -> ReportTable:
    """The report ``key`` (one of ``REPORT_KEYS``) for ``choice``, in ``lang``."""
    if key == "satisfaction":
        period = choice.period
        months = satisfaction_by_month(session, period.start, period.end, period.zone)
        labels = [month_label(year, month) for year, month, _ in period.months()]
        return satisfaction_table(months, labels, lang)
    if key == "service-star":
        last = choice.period.last
        stars = service_star(session, last.year, last.month)
        return service_star_table(stars, month_label(last.year, last.month), lang)
    if key == "reminders":
        period = choice.period
        labels = [month_label(year, month) for year, month, _ in period.months()]
        return reminders_table(reminders_sent(session, period.start, period.end), labels, lang)
    if key == "complaint-times":
        return complaint_times_table(complaint_times_by_month(session, choice.period, now), lang)
    if key == "complaint-causes":
        return complaint_causes_table(complaints_by_cause(session, choice.period), lang)
    if key == "forward-load":
        today = now.astimezone(calendar.timezone).date()
        return forward_load_table(forward_load(session, calendar, today, choice.weeks), lang)
    if key == "approvals":
        period = choice.period
        months = approved_totals_by_advisor_month(session, period)
        ids = {m.advisor_user_id for m in months if m.advisor_user_id is not None}
        found = session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
        names = {user_id: name for user_id, name in found}
        return approvals_table(months, names, lang)
    raise KeyError(key)
