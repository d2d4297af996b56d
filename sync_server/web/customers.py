"""The customer file at the desk: search customers and cars, the customer's page (contact
details and their history, consents, cars, every visit, tier and why), the advisor's
edit of the contact details, and a manager's VIP by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from shared.domain import ContactChannel
from shared.i18n import Text
from sync_server import db
from sync_server.access import STAFF, allow, require_caller
from sync_server.appointments.settings import SettingsError
from sync_server.complaints import cases as complaint_cases
from sync_server.complaints.labels import label_name
from sync_server.customer_file.profile import customer_file
from sync_server.customer_file.search import find_customers
from sync_server.customer_file.tiers import TIER_LABELS, set_manual_vip, tier_view
from sync_server.customers import (
    CONTACT_FIELDS,
    FIELD_LABELS,
    check_contact_form,
    contact_history,
    edit_contact_details,
)
from sync_server.follow_up.texts import CHANNEL_NAMES, KIND_NAMES, SOURCE_NAMES
from sync_server.shop import shop_settings
from sync_server.sync.records import ChangeRefused
from sync_server.visit_tables import Customer, Visit
from sync_server.web import gettext as _
from sync_server.web import language, render_text

bp = Blueprint("customers", __name__)


def _visit_id() -> str:
    """The visit the advisor came from, if it is one (the page goes back there)."""
    visit_id = (request.values.get("visit") or "")[:36]
    return visit_id if visit_id and db.session().get(Visit, visit_id) is not None else ""


def _page(
    customer: Customer, form: dict[str, str], errors: dict[str, str], status: int = 200
) -> Any:
    session = db.session()
    body = render_template(
        "customers/contact.html",
        customer=customer,
        form=form,
        errors=errors,
        visit_id=_visit_id(),
        channels=[(channel.value, _channel_name(channel)) for channel in ContactChannel],
        history=contact_history(session, customer.id),
        field_names={name: render_text(label) for name, label in FIELD_LABELS.items()},
        channel_name=lambda value: (
            _channel_name(ContactChannel(value))
            if value in ContactChannel._value2member_map_
            else value
        ),
    )
    return body, status


def _channel_name(channel: ContactChannel) -> str:
    from shared import domain

    return render_text(domain.label(channel))


def _load(customer_id: str) -> Customer:
    customer = db.session().get(Customer, customer_id)
    if customer is None:
        abort(404)
    return customer


@bp.get("/customers/<customer_id>/contact")
@allow(*STAFF)
def contact(customer_id: str) -> ResponseReturnValue:
    customer = _load(customer_id)
    form = {
        name: str(getattr(getattr(customer, name), "value", getattr(customer, name)) or "")
        for name in CONTACT_FIELDS
    }
    return _page(customer, form, {})


@bp.post("/customers/<customer_id>/contact")
@allow(*STAFF)
def save_contact(customer_id: str) -> ResponseReturnValue:
    session = db.session()
    customer = _load(customer_id)
    checked = check_contact_form(request.form, shop_settings(session))
    if not checked.ok:
        errors = {name: render_text(text) for name, text in checked.issues.items()}
        return _page(customer, checked.values, errors, 400)
    try:
        changed = edit_contact_details(
            session, customer.id, checked.values, require_caller().id, _visit_id()
        )
        session.commit()
    except ChangeRefused as refused:
        session.rollback()
        return _page(customer, checked.values, {"form": render_text(refused.message)}, 400)
    if changed:
        flash(_("Contact details saved; the change is kept in the customer's history."), "ok")
    else:
        flash(_("Nothing was changed."), "ok")
    visit_id = _visit_id()
    if visit_id:
        return redirect(url_for("visits.visit", visit_id=visit_id))
    return redirect(url_for("customers.customer_page", customer_id=customer.id))


@bp.get("/customers")
@allow(*STAFF)
def search() -> ResponseReturnValue:
    query = (request.args.get("q") or "").strip()[:64]
    results = find_customers(db.session(), query) if query else []
    return render_template(
        "customers/search.html",
        query=query,
        results=results,
        matched_names={
            "name": _("name"),
            "phone": _("phone"),
            "plate": _("plate"),
            "vin": _("VIN"),
        },
    )


@bp.get("/customers/<customer_id>")
@allow(*STAFF)
def customer_page(customer_id: str) -> ResponseReturnValue:
    return _customer_page(customer_id, {}, {})


def _customer_page(
    customer_id: str, vip_form: dict[str, str], errors: dict[str, str], status: int = 200
) -> ResponseReturnValue:
    session = db.session()
    found = customer_file(session, customer_id[:36])
    if found is None:
        abort(404)
    body = render_template(
        "customers/page.html",
        file=found,
        customer=found.customer,
        tier=tier_view(session, found.customer, render_text),
        tier_names={name: render_text(label) for name, label in TIER_LABELS.items()},
        field_names={
            **{name: render_text(label) for name, label in FIELD_LABELS.items()},
            "merged_from": _("Merged from"),
        },
        channel_name=lambda value: (
            _channel_name(ContactChannel(value))
            if value in ContactChannel._value2member_map_
            else value
        ),
        vip_form=vip_form,
        errors=errors,
        **_after_care_names(found),
    )
    return body, status


def _after_care_names(found: Any) -> dict[str, Any]:
    """What the complaints, survey and reminders sections need to put names on values."""
    now = datetime.now(UTC)
    lang = language()
    return {
        "clocks": {case.id: complaint_cases.clock(case, now) for case, *_rest in found.complaints},
        "case_state": lambda state: render_text(complaint_cases.STATE_NAMES[state]),
        "case_channel": lambda channel: render_text(
            complaint_cases.CHANNEL_NAMES.get(channel, complaint_cases.CHANNEL_NAMES["desk"])
        ),
        "category_name": lambda label: label_name(label, lang),
        "contact_kind": lambda kind: render_text(KIND_NAMES.get(kind, Text(kind, "server"))),
        "contact_channel": lambda channel: render_text(
            CHANNEL_NAMES.get(channel, Text(channel, "server"))
        ),
        "contact_reason": lambda row: render_text(
            Text.stored(row.reason, "server", row.reason_params)
        ),
        "contact_work": lambda row: row.work_zh if lang == "zh_CN" and row.work_zh else row.work,
        "opt_out_source": lambda source: render_text(
            SOURCE_NAMES.get(source, Text(source, "server"))
        ),
    }


@bp.post("/customers/<customer_id>/vip")
@allow("manager")
def save_vip(customer_id: str) -> ResponseReturnValue:
    session = db.session()
    customer = _load(customer_id)
    wanted = request.form.get("vip") == "yes"
    reason = (request.form.get("reason") or "").strip()[:500]
    if wanted and not reason:
        errors = {"reason": _("Say why this customer is a VIP.")}
        return _customer_page(customer.id, {"reason": reason}, errors, 400)
    try:
        set_manual_vip(session, customer.id, wanted, reason)
    except SettingsError as refused:
        session.rollback()
        errors = {"reason": render_text(next(iter(refused.errors.values())))}
        return _customer_page(customer.id, {"reason": reason}, errors, 400)
    session.commit()
    flash(_("VIP marked.") if wanted else _("No longer a VIP by hand."), "ok")
    return redirect(url_for("customers.customer_page", customer_id=customer.id))
