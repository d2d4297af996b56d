"""Desk steps that need a second thought: revising a quote the customer may be reading
(asks the advisor to confirm first), and a manager's "walk-around done" without a
walk-around signed on the tablet (with the reason, kept and shown on the visit page)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from shared.visit_status import TransitionRefused, VisitEvent, VisitStatus, can
from sync_server import db
from sync_server.access import STAFF, allow, require_caller
from sync_server.sync.records import ChangeRefused
from sync_server.visit_tables import Vehicle, Visit
from sync_server.walkarounds.gate import MAX_REASON_LENGTH, MIN_REASON_LENGTH, override_walkaround
from sync_server.web import gettext as _
from sync_server.web import render_text

bp = Blueprint("desk_steps", __name__)


def _visit(visit_id: str) -> Visit:
    visit = db.session().get(Visit, visit_id)
    if visit is None:
        abort(404)
    return visit


@bp.get("/visits/<visit_id>/revise-quote")
@allow(*STAFF)
def confirm_revise(visit_id: str) -> ResponseReturnValue:
    """Before revising: the customer's open link stops taking answers at once."""
    visit = _visit(visit_id)
    if not can(VisitStatus(visit.status), VisitEvent.revise_quote):
        return redirect(url_for("visits.visit", visit_id=visit_id) + "#quote")
    return render_template(
        "desk_steps/confirm_revise.html",
        visit=visit,
        vehicle=db.session().get(Vehicle, visit.vehicle_id),
    )


@bp.post("/visits/<visit_id>/walkaround-override")
@allow("manager")
def walkaround_override(visit_id: str) -> ResponseReturnValue:
    session = db.session()
    visit = _visit(visit_id)
    reason = " ".join(request.form.get("reason", "").split())[:MAX_REASON_LENGTH]
    if len(reason) < MIN_REASON_LENGTH:
        flash(
            _("Say why the walk-around is done without the customer's signature on the tablet."),
            "error",
        )
        return redirect(url_for("visits.visit", visit_id=visit_id) + "#job")
    try:
        override_walkaround(session, visit, require_caller().id, reason)
    except (TransitionRefused, ChangeRefused) as refused:
        session.rollback()
        flash(render_text(refused.message), "error")
    else:
        flash(_("Walk-around marked done, with your reason."), "ok")
    return redirect(url_for("visits.visit", visit_id=visit_id) + "#job")
