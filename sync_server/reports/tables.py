"""Each report as a table in the reader's language: a title, column headings and rows of
plain values (numbers stay numbers). The page shows the table beside its chart, and the
CSV and XLSX downloads write the very same table, so the three never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from shared.i18n import Text, plural_text
from sync_server.follow_up.report import MonthOfReminders
from sync_server.reports.approvals import AdvisorMonth
from sync_server.reports.complaint_causes import CauseCount
from sync_server.reports.complaint_times import ComplaintMonth
from sync_server.reports.forward_load import WeekLoad
from sync_server.surveys.figures import SatisfactionMonth, StarRow

Cell = str | int | float | Decimal | None


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | None]
    secondary: bool = False


@dataclass(frozen=True)
class ChartData:
    """What the chart draws: one label per group on the x axis, a series per colour."""

    kind: str  # "bar", "stacked_bar", "horizontal_stacked_bar"
    title: str
    x_title: str
    y_title: str
    labels: list[str]
    series: list[Series]
    counts: bool = False  # the values are whole numbers (cases, cars): whole-number ticks
    # Fixed scales (scores 1–5, NPS −100…100) instead of ones worked out from the values.
    y_labels: list[float] | None = None
    secondary_labels: list[float] | None = None


@dataclass(frozen=True)
class ReportTable:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    note: str = ""
    chart: ChartData | None = field(default=None, compare=False)


def _t(message: str, lang: str, **params: Any) -> str:
    return Text(message, "server", params).render(lang)


def month_label(year: int, month: int) -> str:
    return f"{year}-{month:02d}"


TIMES_TITLE = Text("Response and resolution times against the deadlines", "server")
CAUSES_TITLE = Text("Complaints by category and root cause", "server")
LOAD_TITLE = Text("Forward load: cars coming due per week against technician hours", "server")
APPROVALS_TITLE = Text("Approved totals per advisor and month", "server")
SATISFACTION_TITLE = Text("Satisfaction and NPS by month", "server")
REMINDERS_TITLE = Text("Reminders sent and the appointments and visits they brought", "server")
STAR_TITLE = Text("Advisor ratings and the service star, {month}", "server")


def complaint_times_table(months: Sequence[ComplaintMonth], lang: str) -> ReportTable:
    columns = [
        _t("Month", lang),
        _t("Received", lang),
        _t("First response on time", lang),
        _t("First response missed", lang),
        _t("First response not yet due", lang),
        _t("Average minutes to first response", lang),
        _t("Resolved on time", lang),
        _t("Resolution missed", lang),
        _t("Resolution open", lang),
        _t("Average hours to resolution", lang),
    ]
    rows: list[list[Cell]] = [
        [
            month_label(m.year, m.month),
            m.received,
            m.response_met,
            m.response_missed,
            m.response_open,
            m.response_minutes,
            m.resolution_met,
            m.resolution_missed,
            m.resolution_open,
            m.resolution_hours,
        ]
        for m in months
    ]
    labels = [str(row[0]) for row in rows]
    chart = ChartData(
        kind="bar",
        title=TIMES_TITLE.render(lang),
        x_title=_t("Month", lang),
        y_title=_t("Complaints", lang),
        labels=labels,
        series=[
            Series(columns[2], [float(m.response_met) for m in months]),
            Series(columns[3], [float(m.response_missed) for m in months]),
            Series(columns[6], [float(m.resolution_met) for m in months]),
            Series(columns[7], [float(m.resolution_missed) for m in months]),
        ],
        counts=True,
    )
    note = _t(
        "A deadline missed stays missed, even when the case is answered or reopened later. "
        "Deadlines count the shop's opening hours and stand still while the shop waits for "
        "the customer.",
        lang,
    )
    return ReportTable("complaint-times", TIMES_TITLE.render(lang), columns, rows, note, chart)


def complaint_causes_table(counts: Sequence[CauseCount], lang: str) -> ReportTable:
    none_yet = _t("None yet", lang)
    columns = [
        _t("Category", lang),
        _t("Root cause", lang),
        _t("Cases", lang),
        _t("Closed", lang),
        _t("Missed a deadline", lang),
    ]
    rows: list[list[Cell]] = [
        [
            c.category.shown(lang) if c.category else none_yet,
            c.root_cause.shown(lang) if c.root_cause else none_yet,
            c.cases,
            c.closed,
            c.missed,
        ]
        for c in counts
    ]
    categories = sorted({str(row[0]) for row in rows}, key=lambda name: (name == none_yet, name))
    causes = sorted({str(row[1]) for row in rows}, key=lambda name: (name == none_yet, name))
    cases = {(str(row[0]), str(row[1])): float(row[2] or 0) for row in rows}
    chart = ChartData(
        kind="horizontal_stacked_bar",
        title=CAUSES_TITLE.render(lang),
        x_title=_t("Category", lang),
        y_title=_t("Cases", lang),
        labels=categories,
        series=[
            Series(cause, [cases.get((category, cause)) for category in categories])
            for cause in causes
        ],
        counts=True,
    )
    return ReportTable("complaint-causes", CAUSES_TITLE.render(lang), columns, rows, "", chart)


def forward_load_table(weeks: Sequence[WeekLoad], lang: str) -> ReportTable:
    columns = [
        _t("Week from (Monday)", lang),
        _t("Appointments booked", lang),
        _t("Cars coming due, not booked", lang),
        _t("Their estimated hours", lang),
        _t("Cars coming due", lang),
        _t("Booked hours", lang),
        _t("Bookable technician hours", lang),
        _t("Free hours", lang),
        _t("Load (%)", lang),
    ]
    rows: list[list[Cell]] = []
    for week in weeks:
        share = week.load_share
        rows.append(
            [
                week.week_start.isoformat(),
                week.appointments,
                week.due_cars,
                week.due_hours,
                week.cars_due,
                week.booked_hours,
                week.bookable_hours,
                week.free_hours,
                None if share is None else round(share * 100),
            ]
        )
    chart = ChartData(
        kind="bar",
        title=LOAD_TITLE.render(lang),
        x_title=_t("Week from (Monday)", lang),
        y_title=_t("Hours (cars: right-hand axis)", lang),
        labels=[week.week_start.isoformat() for week in weeks],
        series=[
            Series(_t("Bookable technician hours", lang), [w.bookable_hours for w in weeks]),
            Series(_t("Booked hours", lang), [w.booked_hours for w in weeks]),
            Series(
                _t("Estimated hours of the cars coming due", lang), [w.due_hours for w in weeks]
            ),
            Series(_t("Cars coming due", lang), [float(w.cars_due) for w in weeks], secondary=True),
        ],
    )
    note = _t(
        "Bookable hours: the technicians at work in each open half-hour, no more than the "
        "bays, less the hours kept for walk-ins. Cars coming due: maintenance by date or by "
        "the car's projected mileage, and declined work falling due, for cars without an "
        "appointment; their hours are estimated from the job preset of the service type "
        "(declined work: its labour hours). A week with few cars due and many free hours "
        "is the one to fill.",
        lang,
    )
    return ReportTable("forward-load", LOAD_TITLE.render(lang), columns, rows, note, chart)


def approvals_table(
    months: Sequence[AdvisorMonth], advisors: Mapping[int, str], lang: str
) -> ReportTable:
    nobody = _t("No advisor", lang)
    columns = [
        _t("Advisor", lang),
        _t("Month", lang),
        _t("Approvals", lang),
        _t("Approved total (tax included)", lang),
    ]

    def name(advisor_id: int | None) -> str:
        return advisors.get(advisor_id, str(advisor_id)) if advisor_id is not None else nobody

    rows: list[list[Cell]] = [
        [name(m.advisor_user_id), month_label(m.year, m.month), m.approvals, m.approved_total]
        for m in months
    ]
    labels = sorted({str(row[1]) for row in rows})
    people = list(dict.fromkeys(str(row[0]) for row in rows))
    totals = {(str(row[0]), str(row[1])): float(row[3] or 0) for row in rows}  # type: ignore[arg-type]
    chart = ChartData(
        kind="stacked_bar",
        title=APPROVALS_TITLE.render(lang),
        x_title=_t("Month", lang),
        y_title=_t("Approved total (tax included)", lang),
        labels=labels,
        series=[Series(person, [totals.get((person, m)) for m in labels]) for person in people],
    )
    return ReportTable("approvals", APPROVALS_TITLE.render(lang), columns, rows, "", chart)


def satisfaction_table(
    months: Sequence[SatisfactionMonth], labels: Sequence[str], lang: str
) -> ReportTable:
    """Every month of ``labels`` (``YYYY-MM``), with the surveys answered in it."""
    found = {month_label(m.year, m.month): m for m in months}
    columns = [
        _t("Month", lang),
        _t("Surveys answered", lang),
        _t("Overall (1–5)", lang),
        _t("Advisor (1–5)", lang),
        _t("Quality of the work (1–5)", lang),
        _t("Would recommend (0–10)", lang),
        _t("Promoters (9–10)", lang),
        _t("Detractors (0–6)", lang),
        _t("NPS", lang),
    ]
    rows: list[list[Cell]] = []
    for label in labels:
        m = found.get(label)
        if m is None:
            rows.append([label, 0, None, None, None, None, 0, 0, None])
            continue
        rows.append(
            [
                label,
                m.count,
                m.overall,
                m.advisor,
                m.work,
                m.recommend,
                m.promoters,
                m.detractors,
                m.nps,
            ]
        )
    chart = ChartData(
        kind="line",
        title=SATISFACTION_TITLE.render(lang),
        x_title=_t("Month", lang),
        y_title=_t("Average score (NPS: right-hand axis)", lang),
        labels=list(labels),
        series=[
            Series(columns[2], [row[2] for row in rows]),  # type: ignore[misc]
            Series(columns[3], [row[3] for row in rows]),  # type: ignore[misc]
            Series(columns[4], [row[4] for row in rows]),  # type: ignore[misc]
            Series(columns[8], [row[8] for row in rows], secondary=True),  # type: ignore[misc]
        ],
        y_labels=[1, 2, 3, 4, 5],
        secondary_labels=[-100, -50, 0, 50, 100],
    )
    note = _t(
        "NPS: the share of promoters (9–10) minus the share of detractors (0–6), "
        "from −100 to 100. Months are those the surveys were answered in.",
        lang,
    )
    return ReportTable("satisfaction", SATISFACTION_TITLE.render(lang), columns, rows, note, chart)


def service_star_table(stars: Sequence[StarRow], month: str, lang: str) -> ReportTable:
    title = Text(STAR_TITLE.message, "server", {"month": month}).render(lang)
    columns = [
        _t("Rank", lang),
        _t("Advisor", lang),
        _t("Surveys answered", lang),
        _t("Overall (1–5)", lang),
        _t("Advisor (1–5)", lang),
        _t("Quality of the work (1–5)", lang),
        _t("NPS", lang),
        _t("Jobs handed back", lang),
        _t("Comebacks", lang),
        _t("Promises kept", lang),
        _t("Score (0–100)", lang),
    ]
    rows: list[list[Cell]] = []
    for star in stars:
        if star.rank is not None:
            rank: Cell = star.rank
        else:
            rank = plural_text(
                "{count} more survey needed",
                "{count} more surveys needed",
                star.surveys_needed,
                "server",
                count=star.surveys_needed,
            ).render(lang)
        kept = f"{star.promises_kept}/{star.promised}" if star.promised else None
        rows.append(
            [
                rank,
                star.advisor_name,
                star.surveys,
                star.overall,
                star.advisor,
                star.work,
                star.nps,
                star.jobs,
                star.comebacks,
                kept,
                star.score,
            ]
        )
    ranked = [star for star in stars if star.score is not None]
    chart = ChartData(
        kind="horizontal_bar",
        title=title,
        x_title=_t("Advisor", lang),
        y_title=_t("Score (0–100)", lang),
        labels=[star.advisor_name for star in ranked],
        series=[Series(_t("Score (0–100)", lang), [star.score for star in ranked])],
        y_labels=[0, 20, 40, 60, 80, 100],
    )
    note = _t(
        "The star is the first of the advisors with enough surveys: surveys 60 %, jobs "
        "without a comeback 20 %, promised times kept 20 %.",
        lang,
    )
    return ReportTable("service-star", title, columns, rows, note, chart)


def _share(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def reminders_table(
    months: Sequence[MonthOfReminders], labels: Sequence[str], lang: str
) -> ReportTable:
    """Every month of ``labels``: reminders and greetings sent, and how many of those
    customers booked or came in within 30 days."""
    found = {month_label(m.month.year, m.month.month): m for m in months}
    columns = [
        _t("Month", lang),
        _t("Reminders sent", lang),
        _t("Appointment made within 30 days", lang),
        _t("Visit within 30 days", lang),
        _t("Booked (%)", lang),
        _t("Came in (%)", lang),
    ]
    rows: list[list[Cell]] = []
    for label in labels:
        m = found.get(label)
        sent, booked, came = (m.sent, m.appointments, m.visits) if m else (0, 0, 0)
        rows.append([label, sent, booked, came, _share(booked, sent), _share(came, sent)])
    chart = ChartData(
        kind="bar",
        title=REMINDERS_TITLE.render(lang),
        x_title=_t("Month", lang),
        y_title=_t("Reminders", lang),
        labels=list(labels),
        series=[
            Series(columns[1], [float(row[1] or 0) for row in rows]),  # type: ignore[arg-type]
            Series(columns[2], [float(row[2] or 0) for row in rows]),  # type: ignore[arg-type]
            Series(columns[3], [float(row[3] or 0) for row in rows]),  # type: ignore[arg-type]
        ],
        counts=True,
    )
    if not any(row[1] for row in rows):
        chart = ChartData(chart.kind, chart.title, chart.x_title, chart.y_title, [], [])
    note = _t(
        "A reminder counts as sent when a mail server or SMS gateway accepted it; the month "
        "is the one it was sent in.",
        lang,
    )
    return ReportTable("reminders", REMINDERS_TITLE.render(lang), columns, rows, note, chart)
