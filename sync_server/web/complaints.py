"""The complaints pages: the list (overdue cases marked), the intake form (desk or phone),
one case with its steps and deadlines, and the settings (categories, root causes,
deadline targets). Staff only; every form carries its CSRF token.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from sync_server import db
from sync_server.access import STAFF, allow, require_caller
from sync_server.complaints import cases, labels
from sync_server.complaints.tables import ComplaintCase, ComplaintLabel
from sync_server.shop_tables import User
from sync_server.visit_tables import Customer, Visit
from sync_server.web import gettext as _
from sync_server.web import language, render_text, shop_time

bp = Blueprint("complaints", __name__)

SHEET_ENDPOINT = "walkarounds.checkin_sheet_pdf"
INTAKE_FIELDS = ("customer", "visit", "channel", "summary", "category")


def _now() -> datetime:
    return datetime.now(UTC)


def _common() -> dict[str, Any]:
    lang = language()
    return {
        "state_name": lambda state: render_text(cases.STATE_NAMES[state]),
        "action_name": lambda action: render_text(cases.ACTION_NAMES[action]),
        "channel_name": lambda channel: render_text(
            cases.CHANNEL_NAMES.get(channel, cases.CHANNEL_NAMES["desk"])
        ),
        "label_name": lambda label: labels.label_name(label, lang),
    }


@bp.get("/complaints")
@allow(*STAFF)
def index() -> ResponseReturnValue:
    session = db.session()
    now = _now()
    cases.record_all_missed(session, now)
    session.commit()
    state = request.args.get("state", "open")
    shown = cases.case_list(session, state)
    customers = {
        c.id: c
        for c in session.scalars(
            select(Customer).where(Customer.id.in_({case.customer_id for case in shown}))
        )
    }
    categories = {label.id: label for label in session.scalars(select(ComplaintLabel))}
    return render_template(
        "complaints/list.html",
        cases=shown,
        clocks={case.id: cases.clock(case, now) for case in shown},
        customers=customers,
        categories=categories,
        state=state,
        states=cases.STATES,
        **_common(),
    )


def _intake_page(
    typed: dict[str, str], errors: dict[str, str], status: int = 200
) -> ResponseReturnValue:
    session = db.session()
    query = request.args.get("q", typed.get("q", ""))
    found = list(cases.find_customers(session, query))
    chosen = session.get(Customer, typed.get("customer", "")) if typed.get("customer") else None
    if chosen is not None and chosen not in found:
        found.insert(0, chosen)
    body = render_template(
        "complaints/new.html",
        query=query,
        found=found,
        visits=cases.visits_of(session, [customer.id for customer in found]),
        categories=labels.labels(session, "category"),
        channels={"desk": _("At the desk"), "phone": _("Phone call")},
        typed=typed,
        errors=errors,
        **_common(),
    )
    return body, status


@bp.get("/complaints/new")
@allow(*STAFF)
def new() -> ResponseReturnValue:
    typed = {"channel": "desk"}
    visit = db.session().get(Visit, request.args.get("visit", ""))
    if visit is not None:
        typed.update(customer=visit.customer_id, visit=visit.id)
    return _intake_page(typed, {})


@bp.post("/complaints/new")
@allow(*STAFF)
def receive() -> ResponseReturnValue:
    session = db.session()
    typed = {name: request.form.get(name, "") for name in INTAKE_FIELDS}
    typed["q"] = request.form.get("q", "")
    try:
        case = cases.receive(
            session,
            customer_id=typed["customer"],
            visit_id=typed["visit"],
            channel=typed["channel"],
            summary=typed["summary"],
            category_id=typed["category"],
            user_id=require_caller().id,
            now=_now(),
        )
    except cases.ComplaintRefused as refused:
        session.rollback()
        errors = {key: render_text(text) for key, text in refused.errors.items()}
        return _intake_page(typed, errors, 400)
    session.commit()
    flash(
        _(
            "The complaint is received; the first response is due by {time}.",
            time=_shop_time(case.first_response_due),
        ),
        "ok",
    )
    return redirect(url_for("complaints.case", case_id=case.id))


def _shop_time(moment: datetime) -> str:
    return shop_time(moment, "%Y-%m-%d %H:%M")


def _sheet_url(visit_id: str | None) -> str | None:
    """The printed check-in sheet of the visit (the walk-around area's), when there is one."""
    if not visit_id or SHEET_ENDPOINT not in current_app.view_functions:
        return None
    return url_for(SHEET_ENDPOINT, visit_id=visit_id)


def _load(case_id: int) -> ComplaintCase:
    case = db.session().get(ComplaintCase, case_id)
    if case is None:
        abort(404)
    return case


def _case_page(
    case: ComplaintCase, typed: dict[str, str], errors: dict[str, str], status: int = 200
) -> ResponseReturnValue:
    session = db.session()
    steps = cases.steps_of(session, case.id)
    people = {
        user.id: user.display_name
        for user in session.scalars(
            select(User).where(User.id.in_({step.user_id for step in steps}))
        )
    }
    body = render_template(
        "complaints/case.html",
        case=case,
        clock=cases.clock(case, _now()),
        customer=session.get(Customer, case.customer_id),
        visit=session.get(Visit, case.visit_id) if case.visit_id else None,
        sheet_url=_sheet_url(case.visit_id),
        category=session.get(ComplaintLabel, case.category_id) if case.category_id else None,
        root_cause=session.get(ComplaintLabel, case.root_cause_id) if case.root_cause_id else None,
        root_causes=labels.labels(session, "root_cause"),
        steps=steps,
        people=people,
        actions=cases.allowed_actions(case),
        typed=typed,
        errors=errors,
        **_common(),
    )
    return body, status


@bp.get("/complaints/<int:case_id>")
@allow(*STAFF)
def case(case_id: int) -> ResponseReturnValue:
    session = db.session()
    found = _load(case_id)
    if cases.record_missed(session, found, _now()):
        session.commit()
    return _case_page(found, {}, {})


@bp.post("/complaints/<int:case_id>/steps")
@allow(*STAFF)
def take_step(case_id: int) -> ResponseReturnValue:
    session = db.session()
    found = _load(case_id)
    typed = {name: request.form.get(name, "") for name in ("action", "notes", "root_cause")}
    try:
        cases.take_step(
            session,
            found,
            typed["action"],
            user_id=require_caller().id,
            notes=typed["notes"],
            now=_now(),
            root_cause_id=typed["root_cause"],
        )
    except cases.ComplaintRefused as refused:
        session.rollback()
        errors = {key: render_text(text) for key, text in refused.errors.items()}
        return _case_page(_load(case_id), typed, errors, 400)
    session.commit()
    flash(_("Saved."), "ok")
    return redirect(url_for("complaints.case", case_id=case_id) + "#steps")


def _settings_page(
    typed: dict[str, str], errors: dict[str, str], status: int = 200
) -> ResponseReturnValue:
    session = db.session()
    rules = labels.complaint_settings(session)
    session.commit()
    body = render_template(
        "complaints/settings.html",
        rules=rules,
        categories=labels.labels(session, "category", active_only=False),
        root_causes=labels.labels(session, "root_cause", active_only=False),
        typed=typed,
        errors=errors,
    )
    return body, status


@bp.get("/complaints/settings")
@allow("manager")
def settings() -> ResponseReturnValue:
    return _settings_page({}, {})


@bp.post("/complaints/settings/labels")
@allow("manager")
def add_label() -> ResponseReturnValue:
    session = db.session()
    typed = {name: request.form.get(name, "") for name in ("kind", "name_en", "name_zh")}
    try:
        labels.add_label(session, typed["kind"], typed["name_en"], typed["name_zh"])
    except labels.SettingsRefused as refused:
        session.rollback()
        errors = {key: render_text(text) for key, text in refused.errors.items()}
        return _settings_page(typed, errors, 400)
    session.commit()
    return redirect(url_for("complaints.settings") + "#" + typed["kind"])


@bp.post("/complaints/settings/targets")
@allow("manager")
def save_targets() -> ResponseReturnValue:
    session = db.session()
    typed = {
        name: request.form.get(name, "")
        for name in ("first_response_minutes", "resolution_hours", "escalation_email")
    }
    try:
        labels.save_targets(session, typed)
    except labels.SettingsRefused as refused:
        session.rollback()
        errors = {key: render_text(text) for key, text in refused.errors.items()}
        return _settings_page(typed, errors, 400)
    session.commit()
    flash(_("The deadlines are saved; they count for complaints received from now on."), "ok")
    return redirect(url_for("complaints.settings"))
