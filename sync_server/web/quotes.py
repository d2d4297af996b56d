"""The desk's quote editor, sending the quote, and the customer's link with its QR code.

The editor is one form: the quote's heading and notes, up to four options (name, pros
and cons) and the lines, each line under "Every option" or one option. Whatever is sent
back with a mistake comes back exactly as typed, with the message beside the field.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError

from shared import domain
from sync_server import db, visits
from sync_server.access import STAFF, allow, require_caller
from sync_server.messaging import notify_customer
from sync_server.quotes import (
    MAX_OPTIONS,
    OPTION_LETTERS,
    QuoteRefused,
    approval_token,
    latest_version,
    quote_versions,
    save_quote,
    send_quote,
)
from sync_server.quotes.changes import changes_since, seen_before
from sync_server.sync.records import ChangeRefused
from sync_server.visit_steps import is_step_taken
from sync_server.web import gettext as _
from sync_server.web import load_visit, money, page_url, qr_data_uri, render_text
from sync_server.web.quote_form import (
    LINE_KINDS,
    URGENCIES,
    LineForm,
    OptionForm,
    check_lines,
    check_option_rows,
    read_lines,
    read_number,
    read_options,
    whole,
)

bp = Blueprint("quotes", __name__)

# Option rows shown for a quote that has none yet: enough for "this or that".
BLANK_OPTION_ROWS = 2


def _photos(visit_id: str) -> list[str]:
    photos = visits.photos(db.session(), visit_id)
    return [photo.image.sha256 for photo in photos]


def _mark_changes(
    visit_id: str, rows: list[LineForm], option_rows: list[OptionForm], version: int
) -> Any:
    """Mark each row new or changed since the version the customer saw (the newest sent
    version before this one); returns what was taken out, or None when nothing was seen."""
    seen = seen_before(quote_versions(db.session(), visit_id), version)
    if seen is None:
        return None
    lines, _errors = check_lines(
        [row for row in rows if not row.blank],
        {sha for row in rows for sha in row.photos},
        {"": None} | {str(i): row.id or None for i, row in enumerate(option_rows)},
    )
    typed = {line.id: line for line in lines}
    changes = changes_since(seen.quote, domain.Quote(visit_id=visit_id, lines=lines))
    for row in rows:
        if row.blank:
            continue
        before = next((line for line in seen.quote.lines if line.id == row.id), None)
        if before is None:
            row.change = "new"
        elif row.id not in typed or row.id in changes.changed:
            row.change = "changed"
            row.was = money(before.amount, seen.quote.currency)
    kept = {row.id for row in rows if not row.blank}
    return {
        "version": seen.quote.version,
        "removed": [line for line in seen.quote.lines if line.id not in kept],
        "currency": seen.quote.currency,
    }


def _editor(visit_id: str, *, open_options: bool = False, **context: Any) -> str:
    session = db.session()
    visit = load_visit(session, visit_id)
    from sync_server.visit_tables import Vehicle

    option_rows: list[OptionForm] = context["option_rows"]
    errors: dict[str, str] = context["errors"]
    options_open = (
        open_options
        or any(not row.blank for row in option_rows)
        or any(key.startswith("option-") or key.endswith("-option") for key in errors)
    )
    seen = _mark_changes(visit_id, context["rows"], option_rows, context["next_version"])
    return render_template(
        "quotes/edit.html",
        visit=visit,
        vehicle=session.get(Vehicle, visit.vehicle_id),
        kinds=LINE_KINDS,
        urgencies=URGENCIES,
        kind_labels={
            "labour": _("Labour"),
            "part": _("Part"),
            "fee": _("Fee"),
            "discount": _("Discount"),
        },
        urgency_labels={u: render_text(domain.urgency_label(u)) for u in URGENCIES},
        photos=_photos(visit_id),
        letters=OPTION_LETTERS,
        max_options=MAX_OPTIONS,
        options_open=options_open,
        seen=seen,
        option_choices=[("", _("Every option"))]
        + [
            (
                str(index),
                f"{OPTION_LETTERS[index]} · {row.label}"
                if row.label
                else _("Option {letter}", letter=OPTION_LETTERS[index]),
            )
            for index, row in enumerate(option_rows)
        ],
        **context,
    )


def _percent(rate: Decimal) -> str:
    """A stored tax rate (0.13) as the advisor types it ("13")."""
    return format((rate * 100).normalize(), "f")


@bp.get("/visits/<visit_id>/quote")
@allow(*STAFF)
def edit(visit_id: str) -> ResponseReturnValue:
    latest = latest_version(db.session(), visit_id)
    quote = latest.quote if latest else None
    rows = [LineForm.of(line, quote) for line in quote.lines] if quote else []
    rows += [LineForm() for _ in range(max(2, 4 - len(rows)))]
    option_rows = [OptionForm.of(option) for option in quote.options] if quote else []
    if len(option_rows) < BLANK_OPTION_ROWS:
        option_rows += [OptionForm() for _ in range(BLANK_OPTION_ROWS - len(option_rows))]
    return _editor(
        visit_id,
        rows=rows,
        option_rows=option_rows,
        errors={},
        option_label=quote.option_label if quote else "",
        notes=quote.notes if quote else "",
        tax_percent=_percent(quote.tax_rate if quote else Decimal("0.13")),
        next_version=(quote.version + 1 if latest and latest.sent_at else quote.version)
        if quote
        else 1,
    )


@bp.post("/visits/<visit_id>/quote")
@allow(*STAFF)
def save(visit_id: str) -> ResponseReturnValue:
    session = db.session()
    load_visit(session, visit_id)
    form = request.form
    rows = read_lines(form)
    option_rows = read_options(form)
    option_label = form.get("option_label", "").strip()[:120]
    notes = form.get("notes", "").strip()[:2000]
    tax_percent = form.get("tax_percent", "13").strip()[:10]
    context = {
        "option_rows": option_rows,
        "option_label": option_label,
        "notes": notes,
        "tax_percent": tax_percent,
        "next_version": max(1, whole(form.get("next_version", "1"))),
    }
    action = form.get("action")
    if action == "add_line":
        rows.append(LineForm())
        return _editor(visit_id, rows=rows, errors={}, **context)
    if action == "add_option":
        if len(option_rows) < MAX_OPTIONS:
            option_rows.append(OptionForm())
        return _editor(visit_id, rows=rows, errors={}, open_options=True, **context)
    options, option_ids, errors = check_option_rows(option_rows, rows)
    lines, line_errors = check_lines(rows, set(_photos(visit_id)), option_ids)
    errors.update(line_errors)
    tax = read_number(tax_percent, percent=True).value
    if tax is None or tax > 100:
        errors["tax_percent"] = _("Enter the tax rate in percent, between 0 and 100, e.g. 13%.")
    if errors:
        return _editor(visit_id, rows=rows, errors=errors, **context), 400
    assert tax is not None
    try:
        save_quote(
            session,
            visit_id,
            lines=lines,
            option_label=option_label,
            notes=notes,
            tax_rate=(tax / 100).quantize(Decimal("0.0001")),
            options=options,
        )
    except (QuoteRefused, ChangeRefused) as refused:
        session.rollback()
        errors["lines"] = render_text(refused.message)
        return _editor(visit_id, rows=rows, errors=errors, **context), 409
    flash(_("Quote saved."), "ok")
    return redirect(url_for("visits.visit", visit_id=visit_id) + "#quote")


@bp.post("/visits/<visit_id>/quote/send")
@allow(*STAFF)
def send(visit_id: str) -> ResponseReturnValue:
    session = db.session()
    load_visit(session, visit_id)
    try:
        version = send_quote(session, visit_id, require_caller().id)
        notify_customer(
            session,
            visit_id,
            "quote_sent",
            base_url=page_url(),
            links={"link": approval_link(version.quote)},
        )
        session.commit()
    except (QuoteRefused, ChangeRefused) as refused:
        session.rollback()
        flash(render_text(refused.message), "error")
        return redirect(url_for("visits.visit", visit_id=visit_id) + "#quote")
    except IntegrityError as error:
        # Sent twice at the same moment (a double click, two server processes): the
        # outbox's unique key kept one message; this request changed nothing.
        session.rollback()
        if not is_step_taken(error):
            raise
    flash(_("The quote was sent to the customer."), "ok")
    return redirect(url_for("quotes.share", visit_id=visit_id))


def approval_link(quote: domain.Quote) -> str:
    token = approval_token(current_app.config["SECRET_KEY"], quote)
    return page_url() + url_for("approval.approve", token=token)


@bp.get("/visits/<visit_id>/quote/share")
@allow(*STAFF)
def share(visit_id: str) -> ResponseReturnValue:
    """The link for the customer's phone, as text and as a QR code to scan at the desk."""
    session = db.session()
    visit = load_visit(session, visit_id)
    latest = latest_version(session, visit_id)
    if latest is None or latest.sent_at is None:
        flash(_("Send the quote first."), "error")
        return redirect(url_for("visits.visit", visit_id=visit_id) + "#quote")
    link = approval_link(latest.quote)
    return render_template(
        "quotes/share.html", visit=visit, link=link, qr=qr_data_uri(link), quote=latest.quote
    )
