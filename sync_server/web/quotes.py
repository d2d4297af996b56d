"""The desk's quote editor, sending the quote, and the customer's link with its QR code.

The editor is one form: the quote's heading and notes, up to four options (name, pros
and cons) and the lines, each line under "Every option" or one option. Whatever is sent
back with a mistake comes back exactly as typed, with the message beside the field.
"""

from __future__ import annotations

import base64
import io
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import qrcode
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from shared import domain
from sync_server import db, visit_records
from sync_server.access import STAFF, allow, require_caller
from sync_server.messaging import notify_customer
from sync_server.quotes import (
    MAX_OPTIONS,
    OPTION_LETTERS,
    QuoteRefused,
    approval_token,
    latest_version,
    save_quote,
    send_quote,
)
from sync_server.sync.records import ChangeRefused
from sync_server.web import gettext as _
from sync_server.web import page_url, render_text
from sync_server.web.visits import load_visit

bp = Blueprint("quotes", __name__)

LINE_KINDS = tuple(kind.value for kind in domain.QuoteLineKind)
URGENCIES = tuple(urgency.value for urgency in domain.Urgency)
MAX_LINES = 60
DEFAULT_LABOUR_RATE = Decimal("180")
# Option rows shown for a quote that has none yet: enough for "this or that".
BLANK_OPTION_ROWS = 2


@dataclass
class OptionForm:
    """One option of the editor as typed: its name and its pros and cons."""

    id: str = ""
    label: str = ""
    notes: str = ""

    @property
    def blank(self) -> bool:
        return not (self.label or self.notes)

    @classmethod
    def of(cls, option: domain.QuoteOption) -> OptionForm:
        return cls(id=option.id, label=option.label, notes=option.notes)


@dataclass
class LineForm:
    """One row of the editor exactly as typed, so nothing is lost when it is sent back."""

    id: str = ""
    kind: str = "labour"
    description: str = ""
    hours: str = ""
    labour_rate: str = ""
    quantity: str = ""
    unit_price: str = ""
    part_number: str = ""
    urgency: str = "green"
    photos: list[str] = field(default_factory=list)
    option: str = ""  # "" for every option, else the option row's number ("0", "1", ...)

    @property
    def blank(self) -> bool:
        return not any(
            (self.description, self.hours, self.quantity, self.unit_price, self.part_number)
        )

    @classmethod
    def of(cls, line: domain.QuoteLine, quote: domain.Quote) -> LineForm:
        option_ids = [option.id for option in quote.options]
        return cls(
            id=line.id,
            kind=str(line.kind),
            description=line.description,
            hours=str(line.hours) if line.kind == "labour" else "",
            labour_rate=str(line.labour_rate) if line.kind == "labour" else "",
            quantity=str(line.quantity) if line.kind != "labour" else "",
            unit_price=str(line.unit_price) if line.kind != "labour" else "",
            part_number=line.part_number,
            urgency=str(line.urgency),
            photos=list(line.photo_sha256s),
            option=str(option_ids.index(line.option_id)) if line.option_id in option_ids else "",
        )


def _decimal(raw: str, *, default: Decimal | None = None) -> Decimal | None:
    text = raw.strip().replace(",", "").replace("¥", "")
    if not text:
        return default
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value > Decimal("1000000"):
        return None
    return value


def _whole(raw: str | None) -> int:
    try:
        return max(0, int(raw or 0))
    except ValueError:
        return 0


def read_lines(form: Any) -> list[LineForm]:
    rows = []
    for index in range(min(MAX_LINES, _whole(form.get("line_count", "0")))):
        prefix = f"line-{index}-"
        rows.append(
            LineForm(
                id=form.get(prefix + "id", ""),
                kind=form.get(prefix + "kind", "labour"),
                description=form.get(prefix + "description", "").strip()[:300],
                hours=form.get(prefix + "hours", "").strip()[:20],
                labour_rate=form.get(prefix + "labour_rate", "").strip()[:20],
                quantity=form.get(prefix + "quantity", "").strip()[:20],
                unit_price=form.get(prefix + "unit_price", "").strip()[:20],
                part_number=form.get(prefix + "part_number", "").strip()[:60],
                urgency=form.get(prefix + "urgency", "green"),
                photos=form.getlist(prefix + "photo"),
                option=form.get(prefix + "option", "").strip()[:2],
            )
        )
    return rows


def read_options(form: Any) -> list[OptionForm]:
    rows = []
    for index in range(min(MAX_OPTIONS, _whole(form.get("option_count", "0")))):
        prefix = f"option-{index}-"
        rows.append(
            OptionForm(
                id=form.get(prefix + "id", "").strip()[:36],
                label=form.get(prefix + "label", "").strip()[:120],
                notes=form.get(prefix + "notes", "").strip()[:1000],
            )
        )
    return rows


def check_option_rows(
    option_rows: list[OptionForm], line_rows: list[LineForm]
) -> tuple[list[domain.QuoteOption], dict[str, str | None], dict[str, str]]:
    """The options in use, each line row's option id (by row number), and messages.

    An option row is in use when it has a name or notes, or a line is put under it; one
    in use needs a name and a line, and one option alone offers no choice.
    """
    errors: dict[str, str] = {}
    used_rows = {row.option for row in line_rows if not row.blank and row.option.isdigit()}
    options: list[domain.QuoteOption] = []
    id_of_row: dict[str, str | None] = {"": None}
    for index, row in enumerate(option_rows):
        key = str(index)
        in_use = not row.blank or key in used_rows
        if not in_use:
            continue
        letter = OPTION_LETTERS[index]
        if not row.label:
            errors[f"option-{index}-label"] = _(
                "Give option {letter} a name, e.g. “Genuine parts”.", letter=letter
            )
        elif key not in used_rows:
            errors[f"option-{index}-label"] = _(
                "Put at least one line under option {letter}, or clear its name.", letter=letter
            )
        option = domain.QuoteOption(
            id=row.id if _is_uuid(row.id) else domain.new_id(), label=row.label, notes=row.notes
        )
        options.append(option)
        id_of_row[key] = option.id
    if len(options) == 1 and not errors:
        only = next(i for i, row in enumerate(option_rows) if str(i) in id_of_row)
        errors[f"option-{only}-label"] = _(
            "One option is no choice: add a second option, or put its lines under “Every option”."
        )
    for index, row in enumerate(line_rows):
        if not row.blank and row.option and row.option not in id_of_row:
            errors[f"line-{index}-option"] = _("Choose one of the options above for this line.")
    return options, id_of_row, errors


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def check_lines(
    rows: list[LineForm],
    photo_hashes: set[str],
    option_ids: dict[str, str | None] | None = None,
) -> tuple[list[domain.QuoteLine], dict[str, str]]:
    """Quote lines from the typed rows, or messages by field name (``line-2-hours``)."""
    option_ids = option_ids if option_ids is not None else {"": None}
    lines: list[domain.QuoteLine] = []
    errors: dict[str, str] = {}
    for index, row in enumerate(rows):
        if row.blank:
            continue
        prefix = f"line-{index}-"
        if row.kind not in LINE_KINDS:
            errors[prefix + "kind"] = _("Choose what this line charges for.")
            continue
        if not row.description:
            errors[prefix + "description"] = _("Say in plain words what this line is for.")
        urgency = row.urgency if row.urgency in URGENCIES else "green"
        values: dict[str, Any] = {}
        if row.kind == "labour":
            hours = _decimal(row.hours)
            rate = _decimal(row.labour_rate, default=DEFAULT_LABOUR_RATE)
            if hours is None or hours == 0:
                errors[prefix + "hours"] = _("Enter the labour hours, e.g. 1.5.")
            if rate is None:
                errors[prefix + "labour_rate"] = _("Enter the hourly rate as a number.")
            values = {"hours": hours, "labour_rate": rate}
        else:
            quantity = _decimal(row.quantity, default=Decimal("1"))
            price = _decimal(row.unit_price)
            if quantity is None or quantity == 0:
                errors[prefix + "quantity"] = _("Enter the quantity as a number above zero.")
            if price is None:
                errors[prefix + "unit_price"] = _("Enter the price as a number, e.g. 260.00.")
            values = {"quantity": quantity, "unit_price": price}
        if any(key.startswith(prefix) for key in errors):
            continue
        lines.append(
            domain.QuoteLine(
                id=row.id or domain.new_id(),
                kind=domain.QuoteLineKind(row.kind),
                description=row.description,
                part_number=row.part_number if row.kind == "part" else "",
                urgency=domain.Urgency(urgency),
                photo_sha256s=[sha for sha in row.photos if sha in photo_hashes],
                option_id=option_ids.get(row.option),
                **values,
            )
        )
    if not lines and not errors:
        errors["lines"] = _("A quote needs at least one line.")
    return lines, errors


def _photos(visit_id: str) -> list[str]:
    photos = visit_records.photos(db.session(), visit_id)
    return [photo.image.sha256 for photo in photos]


def _editor(visit_id: str, *, open_options: bool = False, **context: Any) -> str:
    session = db.session()
    visit = load_visit(session, visit_id)
    from sync_server.models import Vehicle

    option_rows: list[OptionForm] = context["option_rows"]
    errors: dict[str, str] = context["errors"]
    options_open = (
        open_options
        or any(not row.blank for row in option_rows)
        or any(key.startswith("option-") or key.endswith("-option") for key in errors)
    )
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
        tax_percent=str((quote.tax_rate if quote else Decimal("0.13")) * 100)
        .rstrip("0")
        .rstrip("."),
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
        "next_version": max(1, _whole(form.get("next_version", "1"))),
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
    tax = _decimal(tax_percent)
    if tax is None or tax > 100:
        errors["tax_percent"] = _("Enter the tax rate in percent, between 0 and 100.")
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
    flash(_("The quote was sent to the customer."), "ok")
    return redirect(url_for("quotes.share", visit_id=visit_id))


def approval_link(quote: domain.Quote) -> str:
    token = approval_token(current_app.config["SECRET_KEY"], quote)
    return page_url() + url_for("approval.approve", token=token)


def qr_data_uri(text: str) -> str:
    image = qrcode.make(text, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


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
