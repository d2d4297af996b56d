"""The transparent quote (透明报价) and the customer's approval, as plain dataclasses.

Part of ``shared.domain`` (import them from there); kept apart by job.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from shared.domain_words import (
    ZERO,
    LineDecision,
    QuoteLineKind,
    Urgency,
    new_id,
    to_cents,
    utcnow,
)

# --- the transparent quote (透明报价) and the customer's approval ----------------------


@dataclass(slots=True, kw_only=True)
class QuoteOption:
    """One of the alternatives a quote offers, e.g. "Genuine pads" or "Aftermarket pads",
    "Repair" or "Replace". The customer chooses one (or none); the lines of an option
    count only when it is the chosen one.
    """

    id: str = field(default_factory=new_id)
    label: str
    notes: str = ""  # its pros and cons, in plain words


@dataclass(slots=True, kw_only=True)
class QuoteLine:
    """One line of a quote, in plain words.

    Labour is ``hours × labour_rate``; parts and fees are ``quantity × unit_price``; a
    discount line states its ``unit_price`` as a positive amount and takes it off.
    ``option_id`` names the option the line belongs to; a line without one is part of
    every option (the oil change that is done whichever pads are chosen).
    """

    id: str = field(default_factory=new_id)
    kind: QuoteLineKind
    description: str
    hours: Decimal = Decimal("0")
    labour_rate: Decimal = ZERO
    quantity: Decimal = Decimal("1")
    unit_price: Decimal = ZERO
    part_number: str = ""
    urgency: Urgency = Urgency.green
    photo_sha256s: list[str] = field(default_factory=list)  # photos that show the need
    option_id: str | None = None

    @property
    def amount(self) -> Decimal:
        """The line's money, rounded to the cent; negative for a discount."""
        if self.kind == QuoteLineKind.labour:
            return to_cents(self.hours * self.labour_rate)
        amount = to_cents(self.quantity * self.unit_price)
        return -abs(amount) if self.kind == QuoteLineKind.discount else amount


@dataclass(frozen=True, slots=True)
class QuoteTotals:
    """The bottom of a quote.

    ``subtotal`` adds every charge; ``discount_total`` is what the discounts take off, as a
    positive amount and never more than the subtotal; tax is charged on what remains,
    once, on the total (not line by line).
    """

    subtotal: Decimal
    discount_total: Decimal
    tax: Decimal
    total: Decimal

    @classmethod
    def of(cls, lines: Iterable[QuoteLine], tax_rate: Decimal) -> "QuoteTotals":
        subtotal = discounts = ZERO
        for line in lines:
            if line.kind == QuoteLineKind.discount:
                discounts -= line.amount
            else:
                subtotal += line.amount
        discounts = min(discounts, subtotal)
        tax = to_cents((subtotal - discounts) * tax_rate)
        return cls(
            subtotal=to_cents(subtotal),
            discount_total=to_cents(discounts),
            tax=tax,
            total=to_cents(subtotal - discounts + tax),
        )


@dataclass(slots=True, kw_only=True)
class Quote:
    """One version of a visit's quote; a change once sent makes a new version.

    Without ``options`` the customer answers every line. With options (two or more) the
    customer chooses one of them, or none, and answers the lines shared by all options
    and the lines of the chosen one. ``option_label`` is the heading of the quote as a
    whole (quotes written before options existed kept their one option's name there).
    """

    id: str = field(default_factory=new_id)
    visit_id: str
    version: int = 1
    option_label: str = ""  # the quote's heading, e.g. "Front brakes"
    lines: list[QuoteLine] = field(default_factory=list)
    tax_rate: Decimal = Decimal("0.13")
    currency: str = "CNY"
    notes: str = ""  # what the customer should know, in plain words
    options: list[QuoteOption] = field(default_factory=list)

    def option(self, option_id: str | None) -> QuoteOption | None:
        """The option with this id, or None."""
        return next((option for option in self.options if option.id == option_id), None)

    @property
    def shared_lines(self) -> list[QuoteLine]:
        """The lines that belong to every option (all lines of a quote without options)."""
        return [line for line in self.lines if line.option_id is None]

    def option_lines(self, option_id: str) -> list[QuoteLine]:
        """The lines of one option only."""
        return [line for line in self.lines if line.option_id == option_id]

    def lines_for(self, option_id: str | None) -> list[QuoteLine]:
        """What the customer is offered with this option chosen: the shared lines and the
        option's own, in the quote's order. ``None`` (no option, or none chosen) gives
        the shared lines alone; for a quote without options, that is every line."""
        return [line for line in self.lines if line.option_id in (None, option_id)]

    def totals(self, option_id: str | None = None) -> QuoteTotals:
        """Totals of everything offered with ``option_id`` (see :meth:`lines_for`)."""
        return QuoteTotals.of(self.lines_for(option_id), self.tax_rate)

    def option_totals(self) -> dict[str, QuoteTotals]:
        """Per option, by id: the totals if the customer chooses it and approves all."""
        return {option.id: self.totals(option.id) for option in self.options}

    @property
    def subtotal(self) -> Decimal:
        return self.totals().subtotal

    @property
    def discount_total(self) -> Decimal:
        return self.totals().discount_total

    @property
    def tax(self) -> Decimal:
        return self.totals().tax

    @property
    def total(self) -> Decimal:
        return self.totals().total


@dataclass(slots=True, kw_only=True)
class Approval:
    """The customer's explicit authorisation (方案确认), line by line, of one quote version.

    For a quote with options, ``option_id`` is the option the customer chose (None: none
    of them); the lines of the other options are not part of what was agreed.
    """

    id: str = field(default_factory=new_id)
    quote_id: str
    quote_version: int
    decisions: dict[str, LineDecision] = field(default_factory=dict)  # by quote line id
    signature_id: str
    approved_at: datetime = field(default_factory=utcnow)
    ip_address: str = ""  # when approved from the customer's own phone
    user_agent: str = ""
    option_id: str | None = None
    # The safety (red) lines the customer declined after confirming they understood the
    # risk, by quote line id.
    safety_acknowledged: list[str] = field(default_factory=list)

    def approved_lines(self, quote: Quote) -> list[QuoteLine]:
        """The lines the work may go ahead on.

        Labour and parts count only when approved: nothing starts without the customer's
        yes. Fees and discounts are not the customer's to pick, so they count unless
        explicitly declined; a discount, though, only when some work or part is approved
        (a discount on nothing would show money off that the total cannot take). Lines
        of an option the customer did not choose never count.
        """
        if quote.id != self.quote_id or quote.version != self.quote_version:
            raise ValueError(
                f"approval {self.id} is for quote {self.quote_id} v{self.quote_version}, "
                f"not {quote.id} v{quote.version}"
            )
        chosen = []
        for line in quote.lines_for(self.option_id):
            decision = self.decisions.get(line.id)
            if decision is None and line.kind in (QuoteLineKind.fee, QuoteLineKind.discount):
                decision = LineDecision.approved
            if decision == LineDecision.approved:
                chosen.append(line)
        if not any(line.kind in (QuoteLineKind.labour, QuoteLineKind.part) for line in chosen):
            chosen = [line for line in chosen if line.kind != QuoteLineKind.discount]
        return chosen

    def approved_totals(self, quote: Quote) -> QuoteTotals:
        return QuoteTotals.of(self.approved_lines(quote), quote.tax_rate)

    def approved_total(self, quote: Quote) -> Decimal:
        """What the customer agreed to pay, tax included."""
        return self.approved_totals(quote).total
