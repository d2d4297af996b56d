"""The customer's status page, ``/status/<status_token>``: where the car is, nothing more.

The token is made with the visit (offline too) and printed as the ticket's QR code. The
page shows the masked name, the plate masked as on the kiosk, and the step reached.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from shared.masking import mask_name, mask_plate
from shared.visit_status import VisitStatus
from sync_server import db
from sync_server.access import public
from sync_server.models import Customer, Vehicle, Visit
from sync_server.problems import Problem

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


@bp.get("/status/<token>")
@public
def status(token: str) -> ResponseReturnValue:
    visit = None
    if MIN_TOKEN_LENGTH <= len(token) <= 43:
        visit = db.session().scalar(select(Visit).where(Visit.status_token == token))
    if visit is None:
        raise Problem(404, "not-found")
    session = db.session()
    customer = session.get(Customer, visit.customer_id)
    vehicle = session.get(Vehicle, visit.vehicle_id)
    current = VisitStatus(visit.status)
    shown = SHOWN_AS.get(current, current)
    reached = STEPS.index(shown) if shown in STEPS else -1
    body = render_template(
        "status/status.html",
        visit=visit,
        name=mask_name(customer.name if customer else ""),
        plate=mask_plate(vehicle.plate if vehicle else ""),
        steps=[
            (step.value, index <= reached, index == reached) for index, step in enumerate(STEPS)
        ],
        cancelled=current == VisitStatus.cancelled,
        public_page=True,
    )
    return body, 200, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
