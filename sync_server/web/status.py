"""The customer's status page, ``/status/<status_token>``: where the car is, nothing more —
and, once the car is handed back, its satisfaction survey and "something is not right".

The token is made with the visit (offline too) and printed as the ticket's QR code. The
page shows the masked name, the plate masked as on the kiosk, and the step reached. What
the customer writes under "something is not right" opens a complaint case (source
"status page") linked to the visit; at most a few per visit a day, the text's size
limited, the form's CSRF token checked like every page's.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from shared.i18n import Text
from shared.masking import mask_name, mask_plate
from shared.visit_status import VisitStatus
from sync_server import db
from sync_server.access import public
from sync_server.complaints import intake
from sync_server.problems import Problem
from sync_server.surveys.sending import survey_of_visit, survey_path
from sync_server.visit_tables import Customer, Vehicle, Visit
from sync_server.web import gettext as _
from sync_server.web import render_text

bp = Blueprint("status", __name__)

# What the customer sees as their car's journey (cancelled is shown on its own).
STEPS = (
    VisitStatus.checked_in,
    VisitStatus.diagnosed,
    VisitStatus.quote_sent,
    VisitStatus.approved,
    VisitStatus.in_progress,
    VisitStatus.quality_check,
    VisitStatus.ready,
    VisitStatus.delivered,
)
# Steps the customer does not need to tell apart count as the step before them.
SHOWN_AS = {VisitStatus.walkaround_done: VisitStatus.checked_in}
MIN_TOKEN_LENGTH = 16
MAX_REPORT_BYTES = 16_384
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _visit_or_404(token: str) -> Visit:
    visit = None
    if MIN_TOKEN_LENGTH <= len(token) <= 43:
        visit = db.session().scalar(select(Visit).where(Visit.status_token == token))
    if visit is None:
        raise Problem(404, "not-found")
    return visit


def _page(visit: Visit, typed: str = "", error: str = "", status: int = 200) -> ResponseReturnValue:
    session = db.session()
    customer = session.get(Customer, visit.customer_id)
    vehicle = session.get(Vehicle, visit.vehicle_id)
    current = VisitStatus(visit.status)
    shown = SHOWN_AS.get(current, current)
    reached = STEPS.index(shown) if shown in STEPS else -1
    survey = survey_of_visit(session, visit) if current == VisitStatus.delivered else None
    session.commit()
    body = render_template(
        "status/status.html",
        visit=visit,
        name=mask_name(customer.name if customer else ""),
        plate=mask_plate(vehicle.plate if vehicle else ""),
        steps=[
            (step.value, index <= reached, index == reached) for index, step in enumerate(STEPS)
        ],
        cancelled=current == VisitStatus.cancelled,
        survey_url=survey_path(survey.token) if survey is not None else "",
        survey_answered=survey is not None and survey.answered_at is not None,
        typed=typed,
        error=error,
        public_page=True,
    )
    return body, status, NO_STORE


@bp.get("/status/<token>")
@public
def status(token: str) -> ResponseReturnValue:
    return _page(_visit_or_404(token))


@bp.post("/status/<token>/not-right")
@public
def not_right(token: str) -> ResponseReturnValue:
    """ "Something is not right": the customer's words open a complaint case."""
    if (request.content_length or 0) > MAX_REPORT_BYTES:
        raise Problem(413, "too-large")
    visit = _visit_or_404(token)
    typed = request.form.get("text", "")
    session = db.session()
    now = datetime.now(UTC)
    try:
        text = intake.check_status_page_text(typed)
    except intake.IntakeRefused as refused:
        return _page(visit, typed, render_text(refused.errors["text"]), 400)
    if not intake.status_page_allowed(session, visit.id, now):
        message = Text(
            "We already have your messages about this visit; we will call you. For anything "
            "urgent, please call the service desk.",
            "server",
        )
        return _page(visit, typed, render_text(message), 429)
    intake.receive_from_customer(
        session,
        customer_id=visit.customer_id,
        visit_id=visit.id,
        channel="status_page",
        summary=text,
        now=now,
    )
    session.commit()
    flash(_("Thank you for telling us. We will call you back soon."), "ok")
    return redirect(url_for("status.status", token=token) + "#not-right", 303)
