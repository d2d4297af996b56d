"""Quote options in the domain: totals per option, what an approval covers, the checks
that refuse options offering no real choice, and quotes made before options existed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shared import domain
from shared.wire import from_wire, to_wire
from sync_server.quotes import QuoteRefused, check_options, option_letter, signed_content_sha256

D = Decimal


def options_quote() -> domain.Quote:
    """Wipers for every option; genuine pads (A) or aftermarket pads with a discount (B)."""
    genuine = domain.QuoteOption(label="Genuine pads", notes="2-year warranty")
    aftermarket = domain.QuoteOption(label="Aftermarket pads", notes="Cheaper")
    return domain.Quote(
        visit_id=domain.new_id(),
        options=[genuine, aftermarket],
        lines=[
            domain.QuoteLine(
                kind=domain.QuoteLineKind.part, description="Wipers", unit_price=D("120")
            ),
            domain.QuoteLine(
                kind=domain.QuoteLineKind.labour,
                description="Fit pads",
                hours=D("1.5"),
                labour_rate=D("200"),
                option_id=genuine.id,
            ),
            domain.QuoteLine(
                kind=domain.QuoteLineKind.part,
                description="Genuine pads",
                unit_price=D("480"),
                option_id=genuine.id,
            ),
            domain.QuoteLine(
                kind=domain.QuoteLineKind.part,
                description="Aftermarket pads",
                unit_price=D("260"),
                option_id=aftermarket.id,
            ),
            domain.QuoteLine(
                kind=domain.QuoteLineKind.discount,
                description="Promotion",
                unit_price=D("30"),
                option_id=aftermarket.id,
            ),
        ],
    )


def test_totals_per_option_add_the_shared_lines() -> None:
    quote = options_quote()
    genuine, aftermarket = quote.options
    totals = quote.option_totals()
    # (120 + 300 + 480) × 1.13
    assert totals[genuine.id].total == D("1017.00")
    # (120 + 260 − 30) × 1.13
    assert totals[aftermarket.id].discount_total == D("30.00")
    assert totals[aftermarket.id].total == D("395.50")
    # With no option chosen, only the shared lines are offered.
    assert [line.description for line in quote.lines_for(None)] == ["Wipers"]
    assert quote.totals().total == D("135.60")


def test_an_approval_counts_only_the_chosen_options_lines() -> None:
    quote = options_quote()
    genuine, aftermarket = quote.options
    wipers, fit, pads, _other_pads, discount = quote.lines
    approval = domain.Approval(
        quote_id=quote.id,
        quote_version=1,
        signature_id=domain.new_id(),
        option_id=genuine.id,
        decisions={
            wipers.id: domain.LineDecision.declined,
            fit.id: domain.LineDecision.approved,
            pads.id: domain.LineDecision.approved,
        },
    )
    assert approval.approved_lines(quote) == [fit, pads]
    assert approval.approved_total(quote) == D("881.40")
    # The other option's discount is not the customer's, even though fees and discounts
    # otherwise count without an answer.
    assert discount not in approval.approved_lines(quote)
    chose_b = domain.Approval(
        quote_id=quote.id,
        quote_version=1,
        signature_id=domain.new_id(),
        option_id=aftermarket.id,
        decisions={wipers.id: domain.LineDecision.approved},
    )
    assert discount in chose_b.approved_lines(quote)
    none = domain.Approval(
        quote_id=quote.id,
        quote_version=1,
        signature_id=domain.new_id(),
        decisions={wipers.id: domain.LineDecision.approved, fit.id: domain.LineDecision.approved},
    )
    assert none.approved_lines(quote) == [wipers]  # no option chosen: shared lines only


def test_options_travel_on_the_wire_and_old_quotes_still_read() -> None:
    quote = options_quote()
    assert from_wire("quote", to_wire(quote)) == quote
    old = to_wire(domain.Quote(visit_id=domain.new_id(), lines=quote.lines[:1]))
    del old["options"]
    for line in old["lines"]:
        del line["option_id"]
    read = from_wire("quote", old)
    assert read.options == [] and read.lines[0].option_id is None
    old_approval = to_wire(
        domain.Approval(quote_id=read.id, quote_version=1, signature_id=domain.new_id())
    )
    del old_approval["option_id"]
    assert from_wire("approval", old_approval).option_id is None


def test_options_that_offer_no_real_choice_are_refused() -> None:
    quote = options_quote()
    check_options(quote)  # two named options, each with lines: fine
    genuine, aftermarket = quote.options

    alone = options_quote()
    alone.options = alone.options[:1]
    alone.lines = [line for line in alone.lines if line.option_id != alone.lines[3].option_id]
    with pytest.raises(QuoteRefused, match="One option is no choice"):
        check_options(alone)

    nameless = options_quote()
    nameless.options[1].label = "  "
    with pytest.raises(QuoteRefused, match="Give every option a name"):
        check_options(nameless)

    empty = options_quote()
    empty.lines = [line for line in empty.lines if line.option_id != empty.options[1].id]
    with pytest.raises(QuoteRefused, match="has no lines"):
        check_options(empty)

    stray = options_quote()
    stray.lines[0].option_id = domain.new_id()
    with pytest.raises(QuoteRefused, match="does not have"):
        check_options(stray)

    no_options = domain.Quote(visit_id=domain.new_id(), lines=[quote.lines[1]])
    with pytest.raises(QuoteRefused, match="does not have"):
        check_options(no_options)  # a line under an option of a quote without options

    many = options_quote()
    many.options += [domain.QuoteOption(label=name) for name in ("C", "D", "E")]
    for option in many.options[2:]:
        many.lines.append(
            domain.QuoteLine(
                kind=domain.QuoteLineKind.part, description=option.label, option_id=option.id
            )
        )
    with pytest.raises(QuoteRefused, match="at most 4"):
        check_options(many)
    assert (option_letter(quote, genuine.id), option_letter(quote, aftermarket.id)) == ("A", "B")


def test_the_approval_signature_binds_the_option_chosen() -> None:
    quote = options_quote()
    genuine, aftermarket = quote.options
    decisions = {quote.lines[0].id: domain.LineDecision.approved}
    assert signed_content_sha256(quote, decisions, genuine.id) != signed_content_sha256(
        quote, decisions, aftermarket.id
    )
    assert signed_content_sha256(quote, decisions, genuine.id) != signed_content_sha256(
        quote, {quote.lines[0].id: domain.LineDecision.declined}, genuine.id
    )
