"""The work records' forms of the visit page: the diagnosis (findings and cause of
fault, replacing a bare "diagnosis done"), the dispatch with suggested technicians, the
quality check with the job type's checklist, and the hand-back (odometer out, work done,
parts replaced). Each form keeps what was typed and shows a message by field when
something is missing; each records its row and steps the visit in one transaction."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError

from shared.visit_status import TransitionRefused, VisitEvent, VisitStatus
from sync_server import db
from sync_server.access import STAFF, allow, require_caller
from sync_server.appointments.capacity import shop_calendar
from sync_server.checklist_settings import shop_checklists
from sync_server.diagnoses import DiagnosisRefused, diagnoses_of, record_diagnosis
from sync_server.dispatch import DispatchRefused, dispatch
from sync_server.dispatch import job_type as job_type_of
from sync_server.hand_back import HandBackRefused, approved_work, record_hand_back
from sync_server.quality_checks import QualityCheckRefused, checklist, record_quality_check
from sync_server.shop import shop_settings
from sync_server.sync.records import ChangeRefused
from sync_server.table_base import utcnow
from sync_server.visit_steps import StepAlreadyDone, StepMovedOn, begin_step, step_visit
from sync_server.visit_tables import Vehicle, Visit
from sync_server.web import gettext as _
from sync_server.web import page_url, render_text, speciality_names
from sync_server.web.step_answers import (
    answered_stale_form,
    answered_taken_step,
    flash_step_answer,
    form_from_status,
)
from sync_server.work_records import DIAGNOSIS_STATUSES, DISPATCH_STATUSES

bp = Blueprint("work_records", __name__)


def _visit(visit_id: str) -> Visit:
    visit = db.session().get(Visit, visit_id)
    if visit is None:
        abort(404)
    return visit


def _back(visit_id: str, anchor: str = "job") -> ResponseReturnValue:
    return redirect(url_for("visits.visit", visit_id=visit_id) + f"#{anchor}")


def speciality_name(key: str) -> str:
    """A job type in the reader's words (the technicians' specialities)."""
    return speciality_names().get(key, key) if key else _("general")


def _form(template: str, visit: Visit, errors: dict[str, Any], **context: Any) -> str:
    return render_template(
        f"work_records/{template}.html",
        visit=visit,
        vehicle=db.session().get(Vehicle, visit.vehicle_id),
        errors={name: render_text(message) for name, message in errors.items()},
        speciality_name=speciality_name,
        **context,
    )


# -- diagnosis -----------------------------------------------------------------------


@bp.route("/visits/<visit_id>/diagnosis", methods=["GET", "POST"])
@allow(*STAFF)
def diagnosis(visit_id: str) -> ResponseReturnValue:
    session = db.session()
    visit = _visit(visit_id)
    if VisitStatus(visit.status) not in DIAGNOSIS_STATUSES:
        flash(_("A finding can be recorded once the walk-around is done."), "error")
        return _back(visit_id)
    typed = {"finding": request.form.get("finding", ""), "cause": request.form.get("cause", "")}
    if request.method == "GET":
        return _form("diagnosis", visit, {}, typed=typed, findings=diagnoses_of(session, visit_id))
    try:
        record_diagnosis(session, visit_id, typed["finding"], typed["cause"], require_caller().id)
        if visit.status == VisitStatus.walkaround_done:
            step_visit(session, visit, VisitEvent.diagnose, page_url(), commit=False)
        session.commit()
    except DiagnosisRefused as refused:
        session.rollback()
        errors = refused.errors
        return _form(
            "diagnosis", visit, errors, typed=typed, findings=diagnoses_of(session, visit_id)
        ), 400
    except (TransitionRefused, ChangeRefused) as refused:
        session.rollback()
        flash(render_text(refused.message), "error")
        return _back(visit_id)
    flash(_("Finding recorded; the customer sees it with the quote."), "ok")
    return _back(visit_id, "findings")


# -- dispatch ------------------------------------------------------------------------


@bp.post("/visits/<visit_id>/dispatch")
@allow(*STAFF)
def dispatch_work(visit_id: str) -> ResponseReturnValue:
    """Give the work to a technician (派工), or explicitly to any technician."""
    session = db.session()
    visit = _visit(visit_id)
    if VisitStatus(visit.status) not in DISPATCH_STATUSES:
        flash(_("Work can be dispatched once the car has been diagnosed."), "error")
        return _back(visit_id)
    chosen = request.form.get("technician_id", "")
    technician_id: int | None
    if chosen == "any":
        technician_id = None
    else:
        try:
            technician_id = int(chosen)
        except ValueError:
            flash(_("Choose a technician from the list, or “any technician”."), "error")
            return _back(visit_id)
    speciality = request.form.get("job_type", job_type_of(session, visit))
    calendar = shop_calendar(shop_settings(session))
    today = utcnow().astimezone(calendar.timezone).date()
    try:
        row = dispatch(session, visit_id, technician_id, speciality, require_caller().id, today)
        session.commit()
    except DispatchRefused as refused:
        session.rollback()
        flash(render_text(refused.message), "error")
        return _back(visit_id)
    if row.technician_id is None:
        flash(_("Work dispatched to any technician."), "ok")
    else:
        from sync_server.back_office_tables import Technician

        technician = session.get(Technician, row.technician_id)
        flash(_("Work dispatched to {name}.", name=technician.name if technician else ""), "ok")
    return _back(visit_id)


# -- quality check -------------------------------------------------------------------


@bp.route("/visits/<visit_id>/quality-check", methods=["GET", "POST"])
@allow(*STAFF)
def quality_check(visit_id: str) -> ResponseReturnValue:
    session = db.session()
    visit = _visit(visit_id)
    posted = (
        VisitEvent.pass_check if request.form.get("result") == "pass" else VisitEvent.fail_check
    )
    if request.method == "POST" and answered_stale_form(visit, posted):
        return _back(visit_id)
    if visit.status != VisitStatus.quality_check:
        flash(_("The quality check comes once the work is finished."), "error")
        return _back(visit_id)
    kind = job_type_of(session, visit)
    items = checklist(kind, shop_checklists(session))
    ticked = set(request.form.getlist("item"))
    notes = request.form.get("notes", "")
    context = {"items": items, "ticked": ticked, "notes": notes, "job_type": kind}
    if request.method == "GET":
        return _form("quality_check", visit, {}, **context)
    passed = posted == VisitEvent.pass_check
    try:
        begin_step(session, visit, posted, form_from_status())
        record_quality_check(
            session, visit_id, kind, items, ticked, passed, notes, require_caller().id
        )
        event = VisitEvent.pass_check if passed else VisitEvent.fail_check
        step_visit(session, visit, event, page_url(), False, form_from_status())
        session.commit()
    except QualityCheckRefused as refused:
        session.rollback()
        return _form("quality_check", visit, refused.errors, **context), 400
    except (StepAlreadyDone, StepMovedOn) as stale:
        session.rollback()
        flash_step_answer(stale)
        return _back(visit_id)
    except IntegrityError as error:
        session.rollback()
        if not answered_taken_step(error, visit):
            raise
        return _back(visit_id)
    except (TransitionRefused, ChangeRefused) as refused:
        session.rollback()
        flash(render_text(refused.message), "error")
        return _back(visit_id)
    if passed:
        flash(_("Quality check passed: the car is ready for pick-up."), "ok")
    else:
        flash(_("Quality check failed: the job is back in work with your reason."), "ok")
    return _back(visit_id)


# -- hand-back -----------------------------------------------------------------------


@bp.route("/visits/<visit_id>/hand-back", methods=["GET", "POST"])
@allow(*STAFF)
def hand_back(visit_id: str) -> ResponseReturnValue:
    session = db.session()
    visit = _visit(visit_id)
    if request.method == "POST" and answered_stale_form(visit, VisitEvent.deliver):
        return _back(visit_id)
    if visit.status != VisitStatus.ready:
        flash(_("The car can only be handed back after it has passed the quality check."), "error")
        return _back(visit_id)
    if request.method == "GET":
        approved = approved_work(session, visit_id)
        typed = {
            "odometer_out_km": "",
            "work_done": "\n".join(approved.work),
            "parts": "\n".join(" | ".join(part) for part in approved.parts),
        }
        return _form("hand_back", visit, {}, typed=typed)
    typed = {name: request.form.get(name, "") for name in ("odometer_out_km", "work_done", "parts")}
    try:
        begin_step(session, visit, VisitEvent.deliver, form_from_status())
        record_hand_back(
            session,
            visit,
            typed["odometer_out_km"],
            typed["work_done"],
            typed["parts"],
            require_caller().id,
        )
        step_visit(session, visit, VisitEvent.deliver, page_url(), False, form_from_status())
        session.commit()
    except HandBackRefused as refused:
        session.rollback()
        return _form("hand_back", visit, refused.errors, typed=typed), 400
    except (StepAlreadyDone, StepMovedOn) as stale:
        session.rollback()
        flash_step_answer(stale)
        return _back(visit_id)
    except IntegrityError as error:
        session.rollback()
        if not answered_taken_step(error, visit):
            raise
        return _back(visit_id)
    except (TransitionRefused, ChangeRefused) as refused:
        session.rollback()
        flash(render_text(refused.message), "error")
        return _back(visit_id)
    flash(_("Handed back: odometer, work and parts recorded."), "ok")
    return _back(visit_id)
