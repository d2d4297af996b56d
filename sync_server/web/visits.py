"""The visit page: customer, car, concern, consent, the walk-around with its photos and
signature check, lost sync values, quotes and approvals, job status and messages."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared import domain
from shared.checkin_words import BELONGINGS, TYRES, WARNING_LIGHTS
from shared.i18n import Text
from shared.resources import diagram_dir
from shared.visit_status import TransitionRefused, VisitEvent, VisitStatus, allowed_events
from shared.walkaround_report import assemble_versions
from sync_server import db, visit_steps, visits, work_records
from sync_server.access import STAFF, allow, public
from sync_server.back_office_tables import OutboundMessage
from sync_server.checklist_settings import shop_checklists
from sync_server.dispatch import DispatchRefused, require_dispatch
from sync_server.messaging import masked_recipient
from sync_server.quotes import option_letter, quote_versions
from sync_server.quotes.changes import changes_by_version
from sync_server.surveys.callbacks import visit_survey
from sync_server.sync.records import ChangeRefused
from sync_server.sync.tables import Blob, FieldConflict
from sync_server.table_base import utcnow
from sync_server.visit_steps import StepAlreadyDone, StepMovedOn
from sync_server.visit_tables import Customer, Vehicle, Visit
from sync_server.walkarounds.gate import (
    WalkaroundNotSigned,
    has_signed_walkaround,
    overrides_of,
    require_signed_walkaround,
)
from sync_server.web import gettext as _
from sync_server.web import load_visit, page_url, render_text, speciality_names
from sync_server.web.step_answers import answered_taken_step, flash_step_answer, form_from_status

bp = Blueprint("visits", __name__)
log = logging.getLogger(__name__)

DIAGRAM_DIR = diagram_dir()
# The drawings' own proportions (their SVG viewBox): marks are placed relative to them.
DIAGRAM_SIZES = {
    "top": (1000, 460),
    "left": (1000, 420),
    "right": (1000, 420),
    "front": (600, 420),
    "rear": (600, 420),
}


@bp.get("/diagram/<view>.svg")
@public
def diagram_drawing(view: str) -> ResponseReturnValue:
    """The car drawings of the condition sheet (no customer data in them)."""
    if view not in DIAGRAM_SIZES:
        abort(404)
    response = send_file(DIAGRAM_DIR / f"{view}.svg", mimetype="image/svg+xml", max_age=86400)
    return response


# Steps the desk takes with a button on the visit page; approval comes only from the
# customer, and sending a quote has its own button in the quote section. The diagnosis,
# the quality check and the hand-back step the visit with their own forms, which record
# what was found, checked and handed back (``web/work_records.py``).
DESK_EVENTS = (
    VisitEvent.complete_walkaround,
    VisitEvent.revise_quote,
    VisitEvent.start_work,
    VisitEvent.problem_found,
    VisitEvent.finish_work,
    VisitEvent.cancel,
)
EVENT_LABELS = {
    VisitEvent.complete_walkaround: Text("Walk-around done", "server"),
    VisitEvent.diagnose: Text("Diagnosis done", "server"),
    VisitEvent.revise_quote: Text("Revise quote", "server"),
    VisitEvent.start_work: Text("Start work", "server"),
    VisitEvent.problem_found: Text("Problem found", "server"),
    VisitEvent.finish_work: Text("Work finished", "server"),
    VisitEvent.pass_check: Text("Quality check passed", "server"),
    VisitEvent.fail_check: Text("Quality check failed", "server"),
    VisitEvent.deliver: Text("Handed back", "server"),
    VisitEvent.cancel: Text("Cancel visit", "server"),
}
# The printed check-in sheet belongs to the walk-around area; linked when it is there.
CHECKIN_SHEET_ENDPOINT = "walkarounds.checkin_sheet_pdf"


@dataclass
class PhotoView:
    sha256: str
    stored: bool
    caption: str = ""
    pins: list[tuple[float, float, str]] = field(default_factory=list)  # x, y, label


@dataclass
class WalkaroundView:
    walkaround: domain.Walkaround
    marks: list[domain.DamageMark]
    photos: list[PhotoView]
    signatures: list[tuple[domain.Signature, bool]]  # signature, still matches the sheet


def _stored(session: Session, hashes: set[str]) -> set[str]:
    if not hashes:
        return set()
    return set(session.scalars(select(Blob.sha256).where(Blob.sha256.in_(sorted(hashes)))))


def walkaround_views(session: Session, visit_id: str) -> list[WalkaroundView]:
    """The visit's walk-arounds, oldest first, put back together from their records
    (``shared.walkaround_report``, as the tablet and the printed sheet do), with the
    check of each check-in sheet signature against the sheet as it is now."""
    walkarounds = visits.walkarounds(session, visit_id)
    photos = visits.photos(session, visit_id)
    signatures = visits.signatures(session, visit_id)
    reports = assemble_versions(
        visit_id,
        walkarounds,
        visits.damage_marks(session, [w.id for w in walkarounds]),
        photos,
        signatures,
    )
    hashes = {p.image.sha256 for p in photos} | {
        s.image.sha256 for s in signatures if s.image is not None
    }
    stored = _stored(session, hashes)
    views = []
    for report in reports:
        walkaround = report.walkaround
        assert walkaround is not None  # a version is a walk-around
        photo_views = []
        for photo in report.photos:
            pins = [
                (pin.x, pin.y, mark.condition_code)
                for mark in walkaround.marks
                for pin in mark.pins
                if pin.photo_sha256 == photo.image.sha256
            ]
            photo_views.append(
                PhotoView(photo.image.sha256, photo.image.sha256 in stored, photo.caption, pins)
            )
        views.append(
            WalkaroundView(walkaround, walkaround.marks, photo_views, report.signature_checks())
        )
    return views


def visit_context(session: Session, visit: Visit) -> dict[str, Any]:
    customer = session.get(Customer, visit.customer_id)
    vehicle = session.get(Vehicle, visit.vehicle_id)
    consents = visits.consents(session, visit.id)
    signatures = visits.signatures(session, visit.id)
    walkarounds = walkaround_views(session, visit.id)
    conflict_ids = [visit.id, visit.customer_id, visit.vehicle_id] + [
        view.walkaround.id for view in walkarounds
    ]
    conflicts = session.scalars(
        select(FieldConflict)
        .where(FieldConflict.record_id.in_(conflict_ids))
        .order_by(FieldConflict.id)
    ).all()
    stored = _stored(session, {s.image.sha256 for s in signatures if s.image is not None})
    messages = session.scalars(
        select(OutboundMessage)
        .where(OutboundMessage.visit_id == visit.id)
        .order_by(OutboundMessage.id.desc())
    ).all()
    versions = quote_versions(session, visit.id)
    status = VisitStatus(visit.status)
    events = [
        (event, render_text(EVENT_LABELS[event]))
        for event in allowed_events(status)
        if event in DESK_EVENTS
    ]
    return {
        "visit": visit,
        "customer": customer,
        "vehicle": vehicle,
        "concerns": [render_text(domain.concern_label(code)) for code in visit.concern_codes],
        "consents": consents,
        "walkarounds": walkarounds,
        "approval_signatures": [
            s for s in signatures if s.purpose == domain.SignaturePurpose.approval
        ],
        "stored_images": stored,
        "conflicts": conflicts,
        "versions": versions,
        "changes_by_version": changes_by_version(versions),
        "walkaround_signed": has_signed_walkaround(session, visit.id),
        "walkaround_overrides": overrides_of(session, visit.id),
        "option_letter": option_letter,
        "events": events,
        **work_records.visit_views(
            session,
            visit,
            shop_checklists(session),
            utcnow(),
            request.args.get("job_type"),
        ),
        "messages": messages,
        "survey": visit_survey(session, visit.id),
        "masked_recipient": masked_recipient,
        "damage_label": lambda value: render_text(domain.damage_label(value)),
        "urgency_label": lambda value: render_text(domain.urgency_label(value)),
        "enum_label": enum_label,
        "light_label": light_label,
        "belongings_left": belongings_left,
        "tyre_treads": tyre_treads,
        "speciality_names": speciality_names(),
        "now": utcnow(),
        "checkin_sheet_url": (
            url_for(CHECKIN_SHEET_ENDPOINT, visit_id=visit.id)
            if CHECKIN_SHEET_ENDPOINT in _endpoints()
            else None
        ),
    }


def light_label(code: str) -> str:
    """A warning light as the check-in sheet names it (the tablet sends its code)."""
    return render_text(WARNING_LIGHTS[code]) if code in WARNING_LIGHTS else code


def belongings_left(walkaround: domain.Walkaround) -> list[str]:
    """What was left in the car, in the words of the tablet and the check-in sheet."""
    return [
        render_text(text)
        for name, text in BELONGINGS.items()
        if getattr(walkaround.belongings, name)
    ]


def tyre_treads(walkaround: domain.Walkaround) -> list[tuple[str, float]]:
    """Each tyre's tread depth, in the order front left, front right, rear left, right."""
    return [
        (render_text(TYRES[position]), walkaround.tyre_tread_mm[position])
        for position in domain.TYRE_POSITIONS
        if position in walkaround.tyre_tread_mm
    ]


def enum_label(value: str) -> str:
    """A contact channel or a diagram view in the reader's words."""
    for enum_type in (domain.ContactChannel, domain.DiagramView):
        try:
            return render_text(domain.label(enum_type(value)))
        except ValueError:
            continue
    return value


def _endpoints() -> set[str]:

    return set(current_app.view_functions)


@bp.get("/visits/<visit_id>")
@allow(*STAFF)
def visit(visit_id: str) -> ResponseReturnValue:
    session = db.session()
    return render_template(
        "visits/visit.html",
        diagram_sizes=DIAGRAM_SIZES,
        **visit_context(session, load_visit(session, visit_id)),
    )


def step_visit(
    session: Session, visit: Visit, event: VisitEvent, from_status: VisitStatus | None = None
) -> VisitStatus:
    """Take one status step (``sync_server.visit_steps``), links to this server."""
    return visit_steps.step_visit(
        session, visit, event, base_url=page_url(), from_status=from_status
    )


@bp.post("/visits/<visit_id>/status")
@allow(*STAFF)
def change_status(visit_id: str) -> ResponseReturnValue:
    session = db.session()
    visit = load_visit(session, visit_id)
    raw = request.form.get("event", "")
    try:
        event = VisitEvent(raw)
        if event not in DESK_EVENTS:
            raise ValueError(raw)
        if event == VisitEvent.revise_quote and request.form.get("confirmed") != "yes":
            return redirect(url_for("desk_steps.confirm_revise", visit_id=visit_id))
        if event == VisitEvent.complete_walkaround:
            require_signed_walkaround(session, visit.id)
        from_status = form_from_status()
        if event == VisitEvent.start_work:
            # The approval is checked by the step itself; then the dispatch.
            target = visit_steps.step_visit(
                session, visit, event, page_url(), commit=False, from_status=from_status
            )
            require_dispatch(session, visit.id)
            session.commit()
        else:
            target = step_visit(session, visit, event, from_status)
    except (StepAlreadyDone, StepMovedOn) as stale:
        session.rollback()
        flash_step_answer(stale)
    except IntegrityError as error:
        session.rollback()
        if not answered_taken_step(error, visit):
            raise
    except ValueError:
        session.rollback()
        flash(_("This step is not known."), "error")
    except TransitionRefused as refused:
        session.rollback()
        flash(render_text(refused.message), "error")
    except (ChangeRefused, WalkaroundNotSigned, DispatchRefused) as refused:
        session.rollback()
        flash(render_text(refused.message), "error")
    else:
        from sync_server.web import visit_status_text

        flash(_("The visit is now: {status}.", status=visit_status_text(target.value)), "ok")
    return redirect(url_for("visits.visit", visit_id=visit_id))
