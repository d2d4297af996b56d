"""The quote editor's form: each row exactly as typed, and the checks that turn rows into
quote lines with a clear message per field.

Each kind of line has its own fields: labour is hours × hourly rate; a part is quantity ×
unit price with its part number; a fee and a discount are one amount. What the advisor
sees in a field is what counts: a new row starts with the shop's hourly rate and a
quantity of 1 written in the field (never a placeholder used silently as a value), and an
emptied field is asked for again. A discount may not take off more than the charges it
goes with, so the line and the quote's totals always agree.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from shared import domain
from sync_server.quotes import MAX_OPTIONS, OPTION_LETTERS
from sync_server.web import gettext as _
from sync_server.web import money

LINE_KINDS = tuple(kind.value for kind in domain.QuoteLineKind)
URGENCIES = tuple(urgency.value for urgency in domain.Urgency)
# Urgency means something only for work the customer chooses: not for fees or discounts.
URGENT_KINDS = frozenset({"labour", "part"})
# Kinds whose money is one amount (kept as unit price × 1).
SINGLE_AMOUNT_KINDS = frozenset({"fee", "discount"})
MAX_LINES = 60
MAX_AMOUNT = Decimal("1000000")
DEFAULT_LABOUR_RATE = Decimal("180")
DEFAULT_QUANTITY = "1"

# The ways a typed number can be wrong.
MISSING, NOT_A_NUMBER, NEGATIVE, TOO_BIG = "missing", "not_a_number", "negative", "too_big"


@dataclass(frozen=True)
class Number:
    """A typed number read: its value, or why there is none."""

    value: Decimal | None
    problem: str = ""


def read_number(raw: str, *, percent: bool = False) -> Number:
    """A number as an advisor types it: "1,260.00", "¥260", "−50" (refused as negative),
    and for a percentage "13%" or "13 %"."""
    text = raw.strip()
    for mark in (",", "，", "¥", "￥", " ", "\u00a0"):
        text = text.replace(mark, "")
    if percent and text.endswith(("%", "％")):
        text = text[:-1]
    text = text.replace("−", "-").replace("－", "-")  # the minus signs a keyboard gives
    if not text:
        return Number(None, MISSING)
    try:
        value = Decimal(text)
    except InvalidOperation:
        return Number(None, NOT_A_NUMBER)
    if not value.is_finite():
        return Number(None, NOT_A_NUMBER)
    if value < 0:
        return Number(None, NEGATIVE)
    if value > MAX_AMOUNT:
        return Number(None, TOO_BIG)
    return Number(value)


def whole(raw: str | None) -> int:
    try:
        return max(0, int(raw or 0))
    except ValueError:
        return 0


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


def _plain(amount: Decimal) -> str:
    """A stored number as the advisor would type it: "1.5", "480", "12.5"."""
    return format(amount.normalize(), "f")


@dataclass
class LineForm:
    """One row of the editor exactly as typed, so nothing is lost when it is sent back.

    ``unit_price`` is the one amount of a fee or a discount.
    """

    id: str = ""
    kind: str = "labour"
    description: str = ""
    hours: str = ""
    labour_rate: str = _plain(DEFAULT_LABOUR_RATE)
    quantity: str = DEFAULT_QUANTITY
    unit_price: str = ""
    part_number: str = ""
    urgency: str = "green"
    photos: list[str] = field(default_factory=list)
    option: str = ""  # "" for every option, else the option row's number ("0", "1", ...)
    # Since the version the customer saw: "" (the same), "new" or "changed", and what it
    # was then.
    change: str = ""
    was: str = ""

    @property
    def blank(self) -> bool:
        # The rate and the quantity a new row starts with do not make it a line.
        return not any((self.description, self.hours, self.unit_price, self.part_number))

    @classmethod
    def of(cls, line: domain.QuoteLine, quote: domain.Quote) -> LineForm:
        option_ids = [option.id for option in quote.options]
        kind = str(line.kind)
        if kind == "labour":
            numbers = {"hours": _plain(line.hours), "labour_rate": _plain(line.labour_rate)}
        elif kind in SINGLE_AMOUNT_KINDS:
            numbers = {"unit_price": _plain(abs(line.amount))}
        else:
            numbers = {"quantity": _plain(line.quantity), "unit_price": _plain(line.unit_price)}
        return cls(
            id=line.id,
            kind=kind,
            description=line.description,
            part_number=line.part_number,
            urgency=str(line.urgency),
            photos=list(line.photo_sha256s),
            option=str(option_ids.index(line.option_id)) if line.option_id in option_ids else "",
            **numbers,
        )


def read_lines(form: Any) -> list[LineForm]:
    rows = []
    for index in range(min(MAX_LINES, whole(form.get("line_count", "0")))):
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
    for index in range(min(MAX_OPTIONS, whole(form.get("option_count", "0")))):
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


def _number_message(problem: str, what: str) -> str:
    """The message for a wrong number; ``what`` names the field for "missing" and
    "not a number" (those differ by field), the others are the same for every field."""
    if problem == NEGATIVE:
        return _("This must not be negative.")
    if problem == TOO_BIG:
        return _("This is more than 1,000,000: check the number.")
    return what


def _row_numbers(row: LineForm, prefix: str, errors: dict[str, str]) -> dict[str, Decimal]:
    """The row's money fields by its kind, with a message for each one that is wrong."""

    def need(name: str, raw: str, message: str, *, above_zero: bool) -> Decimal | None:
        number = read_number(raw)
        if number.value is None or (above_zero and number.value == 0):
            errors[prefix + name] = _number_message(number.problem, message)
            return None
        return number.value

    values: dict[str, Decimal | None] = {}
    if row.kind == "labour":
        values["hours"] = need(
            "hours", row.hours, _("Enter the labour hours, e.g. 1.5."), above_zero=True
        )
        values["labour_rate"] = need(
            "labour_rate", row.labour_rate, _("Enter the hourly rate, e.g. 180."), above_zero=False
        )
    elif row.kind == "part":
        values["quantity"] = need(
            "quantity",
            row.quantity,
            _("Enter the quantity as a number above zero."),
            above_zero=True,
        )
        values["unit_price"] = need(
            "unit_price",
            row.unit_price,
            _("Enter the price as a number, e.g. 260.00."),
            above_zero=False,
        )
    else:
        message = (
            _("Enter the discount as an amount, e.g. 50.")
            if row.kind == "discount"
            else _("Enter the fee as an amount, e.g. 30.")
        )
        values["quantity"] = Decimal("1")
        values["unit_price"] = need(
            "unit_price", row.unit_price, message, above_zero=row.kind == "discount"
        )
    return {key: value for key, value in values.items() if value is not None}


def check_lines(
    rows: list[LineForm],
    photo_hashes: set[str],
    option_ids: dict[str, str | None] | None = None,
    currency: str = "CNY",
) -> tuple[list[domain.QuoteLine], dict[str, str]]:
    """Quote lines from the typed rows, or messages by field name (``line-2-hours``)."""
    option_ids = option_ids if option_ids is not None else {"": None}
    lines: list[domain.QuoteLine] = []
    row_of_line: dict[str, int] = {}
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
        urgent = row.kind in URGENT_KINDS and row.urgency in URGENCIES
        values = _row_numbers(row, prefix, errors)
        if any(key.startswith(prefix) for key in errors):
            continue
        line = domain.QuoteLine(
            id=row.id if _is_uuid(row.id) else domain.new_id(),
            kind=domain.QuoteLineKind(row.kind),
            description=row.description,
            part_number=row.part_number if row.kind == "part" else "",
            urgency=domain.Urgency(row.urgency if urgent else "green"),
            photo_sha256s=[sha for sha in row.photos if sha in photo_hashes],
            option_id=option_ids.get(row.option),
            **values,
        )
        row_of_line[line.id] = index
        lines.append(line)
    if not lines and not errors:
        errors["lines"] = _("A quote needs at least one line.")
    if not errors:
        errors.update(_discount_errors(lines, row_of_line, currency))
    return lines, errors


def _discount_errors(
    lines: list[domain.QuoteLine], row_of_line: dict[str, int], currency: str
) -> dict[str, str]:
    """A discount may take off at most the charges it goes with: those of every option
    when it is under "Every option" (the customer may choose none), else those of its
    option and of every option."""
    errors: dict[str, str] = {}
    scopes: list[str | None] = [None, *sorted({line.option_id for line in lines if line.option_id})]
    for scope in scopes:
        offered = [line for line in lines if line.option_id in (None, scope)]
        discounts = [line for line in offered if line.kind == domain.QuoteLineKind.discount]
        taken = -sum((line.amount for line in discounts), Decimal("0"))
        charges = sum(
            (line.amount for line in offered if line.kind != domain.QuoteLineKind.discount),
            Decimal("0"),
        )
        if taken <= charges:
            continue
        for line in discounts:
            errors.setdefault(
                f"line-{row_of_line[line.id]}-unit_price",
                _(
                    "The discounts come to {discounts}, more than the {charges} they apply "
                    "to: a discount cannot take off more than the work and parts it goes with.",
                    discounts=money(taken, currency),
                    charges=money(charges, currency),
                ),
            )
    return errors
