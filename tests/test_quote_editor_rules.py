"""The quote editor's rules as the advisor meets them: a discount never takes off more
than what it applies to (the line and the totals agree), a negative price says so, "13%"
is a tax rate, what a field shows is what counts (no placeholder used as a value), fees
and discounts carry no urgency, and version N+1 marks what changed since the version the
customer saw — in the editor, on the visit page and on the customer's phone."""

from __future__ import annotations

import re
from decimal import Decimal

from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import Shop
from web_fixtures import (
    STANDARD_LINES,
    make_visit,
    page_text,
    post_form,
    quote_form,
    send_for_approval,
    web_login,
)

from shared import domain
from sync_server import db
from sync_server.quotes import latest_version
from sync_server.web.quote_form import NEGATIVE, NOT_A_NUMBER, read_number

LABOUR_90 = {
    "kind": "labour",
    "description": "Check the brakes",
    "hours": "0.5",
    "labour_rate": "180",
    "urgency": "yellow",
}


def save(client: FlaskClient, visit_id: str, lines: list[dict[str, str]], **extra: str):  # type: ignore[no-untyped-def]
    url = f"/visits/{visit_id}/quote"
    return post_form(client, url, quote_form(lines, **extra), url)


def test_typed_numbers_read_as_an_advisor_means_them() -> None:
    assert read_number("1,260.50").value == Decimal("1260.50")
    assert read_number("¥260").value == Decimal("260")
    assert read_number("13%", percent=True).value == Decimal("13")
    assert read_number("13 ％", percent=True).value == Decimal("13")
    assert read_number("−50").problem == NEGATIVE
    assert read_number("-50").problem == NEGATIVE
    assert read_number("fifty").problem == NOT_A_NUMBER
    assert read_number("13%").problem == NOT_A_NUMBER  # a price is no percentage


def test_a_discount_larger_than_the_work_is_refused(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    made = make_visit(app)
    web_login(client, shop)
    discount = {"kind": "discount", "description": "Loyalty discount", "unit_price": "500"}
    response = save(client, made.visit_id, [LABOUR_90, discount])
    body = page_text(response)
    assert response.status_code == 400
    assert "more than the ¥90.00 they apply to" in body and "¥500.00" in body
    assert 'value="500"' in body  # what was typed stays
    with app.app_context():
        assert latest_version(db.session(), made.visit_id) is None

    # A discount that fits: the line and the totals say the same amount.
    discount["unit_price"] = "50"
    response = save(client, made.visit_id, [LABOUR_90, discount])
    assert response.status_code == 302, page_text(response)
    with app.app_context():
        latest = latest_version(db.session(), made.visit_id)
        assert latest is not None
        line = next(line for line in latest.quote.lines if line.kind == "discount")
        assert -line.amount == latest.quote.discount_total == Decimal("50.00")
    visit_page = page_text(client.get(f"/visits/{made.visit_id}"))
    assert visit_page.count("−¥50.00") == 2  # on the line and in the totals


def test_a_discount_under_an_option_is_checked_against_that_option(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    made = make_visit(app)
    web_login(client, shop)
    lines = [
        {**LABOUR_90, "option": "0"},
        {"kind": "part", "description": "Pads", "quantity": "1", "unit_price": "48", "option": "1"},
        {"kind": "discount", "description": "Pads discount", "unit_price": "200", "option": "0"},
    ]
    url = f"/visits/{made.visit_id}/quote"
    form = quote_form(lines, option_count="2")
    form.update({"option-0-label": "Repair", "option-1-label": "Replace"})
    body = page_text(post_form(client, url, form, url))
    assert "more than the ¥90.00 they apply to" in body


def test_negative_price_and_percent_tax(app: Flask, client: FlaskClient, shop: Shop) -> None:
    made = make_visit(app)
    web_login(client, shop)
    part = {"kind": "part", "description": "Wiper blades", "quantity": "2", "unit_price": "−50"}
    response = save(client, made.visit_id, [part], tax_percent="13%")
    body = page_text(response)
    assert response.status_code == 400
    assert "must not be negative" in body and "Enter the price as a number" not in body
    assert "Enter the tax rate" not in body  # "13%" is a tax rate

    part["unit_price"] = "60"
    response = save(client, made.visit_id, [part], tax_percent="13%")
    assert response.status_code == 302, page_text(response)
    with app.app_context():
        latest = latest_version(db.session(), made.visit_id)
        assert latest is not None and latest.quote.tax_rate == Decimal("0.13")
        assert latest.quote.total == Decimal("135.60")


def test_what_a_field_shows_is_what_counts(app: Flask, client: FlaskClient, shop: Shop) -> None:
    made = make_visit(app)
    web_login(client, shop)
    editor = page_text(client.get(f"/visits/{made.visit_id}/quote"))
    # A new row shows the shop's rate and a quantity of 1 as values, not as placeholders.
    assert 'name="line-0-labour_rate" value="180"' in editor
    assert 'name="line-0-quantity" value="1"' in editor
    assert 'placeholder="180"' not in editor and 'placeholder="1"' not in editor
    # An emptied rate is asked for, never taken as 180.
    response = save(client, made.visit_id, [{**LABOUR_90, "labour_rate": ""}])
    assert response.status_code == 400
    assert "Enter the hourly rate" in page_text(response)


def test_fees_and_discounts_carry_no_urgency(app: Flask, client: FlaskClient, shop: Shop) -> None:
    made = make_visit(app)
    web_login(client, shop)
    fee = {"kind": "fee", "description": "Disposal fee", "unit_price": "30", "urgency": "red"}
    assert save(client, made.visit_id, [LABOUR_90, fee]).status_code == 302
    path = send_for_approval(client, made.visit_id)
    page = page_text(app.test_client().get(path))
    fee_card = page[page.index("Disposal fee") - 400 : page.index("Disposal fee")]
    assert "Fine for now" not in fee_card and "Safety" not in fee_card and "dot red" not in fee_card
    assert "Needs doing soon" in page  # the labour line keeps its urgency
    editor = page_text(client.get(f"/visits/{made.visit_id}"))
    assert editor.count('class="dot ') == 1


def test_version_two_marks_what_changed_since_the_customer_saw_it(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    made = make_visit(app)
    web_login(client, shop)
    assert save(client, made.visit_id, STANDARD_LINES).status_code == 302
    first_link = send_for_approval(client, made.visit_id)
    post_form(
        client,
        f"/visits/{made.visit_id}/status",
        {"event": "revise_quote", "confirmed": "yes"},
        f"/visits/{made.visit_id}",
    ).close()
    editor = page_text(client.get(f"/visits/{made.visit_id}/quote"))
    assert "Quote, version 2" in editor
    ids = re.findall(r'name="line-(\d+)-id" value="([0-9a-f-]{36})"', editor)
    lines = [dict(line) for line in STANDARD_LINES]
    lines[1]["unit_price"] = "520"  # the pads cost more
    lines[1]["id"] = ids[1][1]
    lines[0]["id"] = ids[0][1]
    lines[2] = {"kind": "fee", "description": "Brake fluid disposal", "unit_price": "20"}
    response = save(client, made.visit_id, lines, next_version="2")
    assert response.status_code == 302, page_text(response)

    editor = page_text(client.get(f"/visits/{made.visit_id}/quote"))
    assert "Changed since version 1: was ¥480.00" in editor
    assert "New since version 1" in editor
    assert "Taken out since version 1" in editor and "Wiper blades" in editor
    assert editor.count("Changed since version 1") == 1  # the labour line is the same

    visit_page = page_text(client.get(f"/visits/{made.visit_id}"))
    assert "Changed since version 1: was ¥480.00" in visit_page
    assert "Taken out since version 1" in visit_page

    second_link = send_for_approval(client, made.visit_id)
    customer = app.test_client()
    phone = page_text(customer.get(second_link))
    assert "Changed: was ¥480.00" in phone and "New since the quote you saw" in phone
    assert "Taken out:" in phone and "Wiper blades" in phone
    assert "replaced by a newer one" in page_text(customer.get(first_link))


def test_a_discount_on_nothing_approved_is_not_listed() -> None:
    """The customer declines the only work: the discount that went with it is not shown
    as money off a total of nothing, so the list and the total agree."""
    labour = domain.QuoteLine(
        kind=domain.QuoteLineKind.labour,
        description="Check the brakes",
        hours=Decimal("0.5"),
        labour_rate=Decimal("180"),
    )
    discount = domain.QuoteLine(
        kind=domain.QuoteLineKind.discount, description="Loyalty", unit_price=Decimal("50")
    )
    quote = domain.Quote(visit_id=domain.new_id(), lines=[labour, discount])
    declined = domain.Approval(
        quote_id=quote.id,
        quote_version=1,
        decisions={labour.id: domain.LineDecision.declined},
        signature_id=domain.new_id(),
    )
    assert declined.approved_lines(quote) == [] and declined.approved_total(quote) == 0
    approved = domain.Approval(
        quote_id=quote.id,
        quote_version=1,
        decisions={labour.id: domain.LineDecision.approved},
        signature_id=domain.new_id(),
    )
    assert approved.approved_lines(quote) == [labour, discount]
    assert approved.approved_total(quote) == Decimal("45.20")  # (90 − 50) × 1.13
