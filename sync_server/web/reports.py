"""The managers' reports: each chart (SVG drawn on the server) with its table beside it,
a CSV and an XLSX download of every table, one period chooser for the page. Managers
only; no script and nothing from the internet, so it works on the shop's LAN alone.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from sync_server import db
from sync_server.access import allow
from sync_server.appointments.capacity import calendar_for
from sync_server.reports import choice as choices
from sync_server.reports.charts import chart_svg, has_values
from sync_server.reports.export import table_csv, table_xlsx
from sync_server.shop import shop_settings
from sync_server.web import language, render_text

bp = Blueprint("reports", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _now() -> datetime:
    return datetime.now(UTC)


def _choice_and_calendar() -> tuple[choices.ReportChoice, list[str], object]:
    session = db.session()
    calendar = calendar_for(session, shop_settings(session))
    today = _now().astimezone(calendar.timezone).date()
    choice, problems = choices.read_choice(request.args, today, calendar.timezone)
    return choice, [render_text(problem) for problem in problems], calendar


@bp.get("/reports")
@allow("manager")
def index() -> ResponseReturnValue:
    session = db.session()
    choice, problems, calendar = _choice_and_calendar()
    now = _now()
    lang = language()
    tables = [
        choices.build(session, key, choice, calendar, now, lang)  # type: ignore[arg-type]
        for key in choices.REPORT_KEYS
    ]
    charts = {
        # pygal escapes every text it draws (ElementTree), so the SVG goes in as it is.
        table.key: Markup(chart_svg(table.chart))
        for table in tables
        if table.chart is not None and has_values(table.chart)
    }
    query = {
        "from": choice.period.first.strftime("%Y-%m"),
        "to": choice.period.last.strftime("%Y-%m"),
        "weeks": choice.weeks,
    }
    return render_template(
        "reports/index.html",
        tables=tables,
        charts=charts,
        choice=choice,
        query=query,
        problems=problems,
        week_choices=choices.WEEK_CHOICES,
    )


@bp.get("/reports/<key>.<fmt>")
@allow("manager")
def download(key: str, fmt: str) -> ResponseReturnValue:
    if key not in choices.REPORT_KEYS or fmt not in ("csv", "xlsx"):
        abort(404)
    choice, _problems, calendar = _choice_and_calendar()
    table = choices.build(db.session(), key, choice, calendar, _now(), language())  # type: ignore[arg-type]
    period = f"{choice.period.first:%Y-%m}_{choice.period.last:%Y-%m}"
    name = f"{key}_{period}.{fmt}" if key != "forward-load" else f"{key}_{choice.weeks}w.{fmt}"
    if fmt == "csv":
        body, mimetype = table_csv(table), "text/csv; charset=utf-8"
    else:
        body, mimetype = table_xlsx(table), XLSX
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
