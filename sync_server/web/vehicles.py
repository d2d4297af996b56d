"""The vehicle health file (车辆健康档案) at the desk: the car's visits as a timeline, the
tread-depth trend with its projection, and the deferred work."""

from __future__ import annotations

from enum import StrEnum

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue

from shared import domain
from shared.checkin_words import TYRES
from sync_server import db
from sync_server.access import STAFF, allow
from sync_server.customer_file.health import health_file
from sync_server.customer_file.trend import tread_chart
from sync_server.customer_file.wear import TREAD_LIMIT_MM
from sync_server.shop import shop_settings
from sync_server.web import render_text

bp = Blueprint("vehicles", __name__)


def _labels(enum_type: type[StrEnum]) -> dict[str, str]:
    """Every value of a shop word in the reader's words, once per page."""
    return {member.value: render_text(domain.label(member)) for member in enum_type}


@bp.get("/vehicles/<vehicle_id>", endpoint="health_file")
@allow(*STAFF)
def health_file_page(vehicle_id: str) -> ResponseReturnValue:
    session = db.session()
    shop = shop_settings(session)
    found = health_file(session, vehicle_id[:36], shop.timezone)
    if found is None:
        abort(404)
    return render_template(
        "vehicles/health.html",
        file=found,
        vehicle=found.vehicle,
        customer=found.customer,
        chart=tread_chart(found.readings, found.projections, TREAD_LIMIT_MM),
        limit_mm=TREAD_LIMIT_MM,
        tyre_names={position: render_text(label) for position, label in TYRES.items()},
        concern_names=_labels(domain.ConcernCode),
        damage_names=_labels(domain.DamageType),
        view_names=_labels(domain.DiagramView),
        kind_names=_labels(domain.QuoteLineKind),
        urgency_names=_labels(domain.Urgency),
    )
