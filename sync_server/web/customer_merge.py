"""Managers merge duplicate customers (a list of likely ones, a preview of what moves,
then the merge) and set the tier rules."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from sync_server import db
from sync_server.access import allow, require_caller
from sync_server.customer_file.merge import (
    MergeRefused,
    likely_duplicates,
    merge_customers,
    merge_preview,
)
from sync_server.customer_file.tiers import (
    TIER_LABELS,
    TIER_NAMES,
    customers_by_tier,
    recompute_tiers,
    save_rules,
    tier_rules,
)
from sync_server.shop import shop_settings
from sync_server.sync.records import ChangeRefused
from sync_server.web import gettext as _
from sync_server.web import ngettext, render_text

bp = Blueprint("customer_merge", __name__)
TABLE_NAMES = {
    "vehicles": lambda: _("Cars"),
    "visits": lambda: _("Visits"),
    "appointments": lambda: _("Appointments"),
    "customer_contact_changes": lambda: _("Contact history entries"),
}


@bp.get("/customers/duplicates")
@allow("manager")
def duplicates() -> ResponseReturnValue:
    groups = likely_duplicates(db.session())
    reasons = {"phone": _("Same phone"), "vin": _("Same VIN"), "name": _("Same name")}
    return render_template("customers/duplicates.html", groups=groups, reasons=reasons)


def _preview_page(keep: str, merge: str, status: int = 200, error: str = "") -> Any:
    session = db.session()
    try:
        preview = merge_preview(session, keep, merge)
    except MergeRefused as refused:
        return render_template(
            "customers/merge.html", preview=None, error=render_text(refused.message)
        ), 400
    moves = [
        (TABLE_NAMES.get(name, lambda name=name: name)(), len(ids))
        for name, ids in preview.moves.items()
    ]
    return render_template(
        "customers/merge.html", preview=preview, moves=moves, error=error
    ), status


@bp.get("/customers/merge")
@allow("manager")
def merge_page() -> ResponseReturnValue:
    keep, merge = (request.args.get("keep") or "")[:36], (request.args.get("merge") or "")[:36]
    return _preview_page(keep, merge)


@bp.post("/customers/merge")
@allow("manager")
def merge() -> ResponseReturnValue:
    session = db.session()
    keep, other = (request.form.get("keep") or "")[:36], (request.form.get("merge") or "")[:36]
    try:
        record = merge_customers(session, keep, other, require_caller().id)
        session.commit()
    except MergeRefused as refused:
        session.rollback()
        return _preview_page(keep, other, 400, render_text(refused.message))
    except ChangeRefused as refused:
        session.rollback()
        return _preview_page(keep, other, 400, render_text(refused.message))
    moved = sum(len(ids) for ids in record.moved.values())
    flash(
        ngettext(
            "Merged: {count} record moved; the other file is kept, marked merged.",
            "Merged: {count} records moved; the other file is kept, marked merged.",
            moved,
            count=moved,
        ),
        "ok",
    )
    return redirect(url_for("customers.customer_page", customer_id=keep))


def _rules_page(form: dict[str, str], errors: dict[str, str], status: int = 200) -> Any:
    session = db.session()
    return render_template(
        "customers/tiers.html",
        form=form,
        errors=errors,
        tiers=TIER_NAMES[1:],
        tier_names={name: render_text(label) for name, label in TIER_LABELS.items()},
        counts=customers_by_tier(session),
    ), status


@bp.get("/customers/tiers")
@allow("manager")
def tier_rules_page() -> ResponseReturnValue:
    session = db.session()
    form = {"grace_days": str(shop_settings(session).tier_grace_days)}
    for rule in tier_rules(session):
        form[f"{rule.tier}_visits"] = str(rule.min_visits)
        form[f"{rule.tier}_spend"] = f"{rule.min_spend:.0f}"
    return _rules_page(form, {})


@bp.post("/customers/tiers")
@allow("manager")
def save_tier_rules() -> ResponseReturnValue:
    session = db.session()
    form = {name: (request.form.get(name) or "").strip() for name in request.form}
    errors: dict[str, str] = {}
    thresholds: dict[str, tuple[int, Decimal]] = {}
    for tier in TIER_NAMES[1:]:
        visits_text, spend_text = form.get(f"{tier}_visits", ""), form.get(f"{tier}_spend", "")
        visits = _whole(visits_text, 0, 1000)
        if visits is None:
            errors[f"{tier}_visits"] = _("A whole number from 0 to 1000.")
        try:
            spend = Decimal(spend_text.replace(",", "") or "x")
            if not (0 <= spend <= Decimal("100000000")) or spend != spend.quantize(Decimal("0.01")):
                raise InvalidOperation
        except InvalidOperation:
            spend = None  # type: ignore[assignment]
            errors[f"{tier}_spend"] = _("An amount of money, 0 or more.")
        if visits is not None and spend is not None:
            if visits == 0 and spend == 0:
                errors[f"{tier}_visits"] = _("Give visits or spend (or both) for this tier.")
            thresholds[tier] = (visits, spend)
    grace = _whole(form.get("grace_days", ""), 0, 730)
    if grace is None:
        errors["grace_days"] = _("A whole number of days from 0 to 730.")
    if not errors:
        previous = None
        for tier in TIER_NAMES[1:]:
            visits, spend = thresholds[tier]
            if previous and (visits < previous[0] or spend < previous[1]):
                errors[f"{tier}_visits"] = _(
                    "A higher tier cannot ask for less than the one below."
                )
            previous = (visits, spend)
    if errors:
        return _rules_page(form, errors, 400)
    save_rules(session, thresholds, grace)  # type: ignore[arg-type]
    changed = recompute_tiers(session)
    session.commit()
    flash(
        ngettext(
            "Tier rules saved; {count} customer changed tier.",
            "Tier rules saved; {count} customers changed tier.",
            changed,
            count=changed,
        ),
        "ok",
    )
    return redirect(url_for("customer_merge.tier_rules_page"))


def _whole(text: str, low: int, high: int) -> int | None:
    if not text.isdigit():
        return None
    value = int(text)
    return value if low <= value <= high else None
