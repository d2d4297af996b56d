"""The quote editor, the customer's phone page and the walk-around override in a real
Chromium against a real server process, driven as the advisor, the customer and the
manager use them.

- The editor shows each line kind's own fields, each line's amount and a running total;
  a ¥500 discount on ¥90 of labour is refused, "−50" is "must not be negative", "13%" is a
  tax rate.
- The customer is greeted by name with their own plate; a message goes away as soon as
  its answer is given; declining a safety item asks for a confirmation; the moment the
  advisor revises the quote (after confirming), the open page says so without a touch;
  version 2 marks what changed.
- A manager marks a walk-around done without a signature, with a reason shown after.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
import test_web_browser as browser_pages
from live_server import LiveServer
from quote_editor_steps import fill_quote_line
from test_web_browser import CHROMIUM, PASSWORD, switch_language, sync_a_checkin

from shared import domain
from shared.wire import to_wire

# The live server and Chromium of the first browser tests, shared.
server = browser_pages.server
browser = browser_pages.browser

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed")

# Long enough for the page's own check of its link (every 8 s) to run twice.
LINK_CHECK_MS = 20_000


def sign_in(context: Any, server: LiveServer, username: str) -> Any:
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r".*/board$"))
    return page


def sign_on_pad(page: Any) -> None:
    page.locator("#signature-pad").scroll_into_view_if_needed()
    pad = page.locator("#signature-pad").bounding_box()
    page.mouse.move(pad["x"] + 30, pad["y"] + 120)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(pad["x"] + 30 + step * 25, pad["y"] + 120 - (step % 4) * 22)
    page.mouse.up()


def test_the_quote_editor_by_line_kind_with_a_running_total(
    server: LiveServer,
    browser: Any,
) -> None:
    visit_id, _token = sync_a_checkin(server)
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB")
    advisor = sign_in(context, server, "li.na")
    advisor.goto(f"{server.url}/visits/{visit_id}")
    advisor.click("button[value=complete_walkaround]")
    advisor.click("text=Write or change the quote")
    advisor.wait_for_load_state()  # its script has hidden what a line's kind does not use

    # Labour: hours and rate (the rate written in the field, not a hint), no price.
    assert advisor.input_value("input[name=line-0-labour_rate]") == "180"
    assert advisor.is_hidden("input[name=line-0-unit_price]")
    fill_quote_line(advisor, 0, "labour", "Check the brakes", {"hours": "0.5"})
    assert advisor.inner_text("fieldset[data-line] >> nth=0 >> output.amount") == "¥90.00"
    assert "¥101.70" in advisor.inner_text("#running-total")  # 90 + 13 % tax

    # A discount is one amount, with no urgency.
    fill_quote_line(advisor, 1, "discount", "Loyalty discount", {"unit_price": "500"})
    assert advisor.is_hidden("input[name=line-1-hours]")
    assert advisor.is_hidden("select[name=line-1-urgency]")
    assert advisor.is_visible("fieldset[data-line] >> nth=1 >> text=Amount taken off")
    assert "more than what it applies to" in advisor.inner_text("#running-total")
    advisor.click("button[value=save]")
    line = advisor.locator("fieldset[data-line]").nth(1)
    assert "more than the ¥90.00 they apply to" in line.inner_text()
    assert advisor.input_value("input[name=line-1-unit_price]") == "500"  # kept as typed

    # A part: quantity, price and part number; a negative price is explained.
    advisor.fill("input[name=line-1-unit_price]", "20")
    fill_quote_line(
        advisor, 2, "part", "Brake cleaner", {"unit_price": "−50", "part_number": "BC-1"}
    )
    assert advisor.input_value("input[name=line-2-quantity]") == "1"
    advisor.fill("input[name=tax_percent]", "13%")
    advisor.click("button[value=save]")
    assert "must not be negative" in advisor.locator("fieldset[data-line]").nth(2).inner_text()
    assert "Enter the tax rate" not in advisor.inner_text(".quote-editor")
    advisor.fill("input[name=line-2-unit_price]", "50")
    assert "¥135.60" in advisor.inner_text("#running-total")  # (90 − 20 + 50) × 1.13
    advisor.click("button[value=save]")
    assert "Quote saved" in advisor.inner_text(".flash")
    quote = advisor.inner_text("#quote")
    assert "¥135.60" in quote and quote.count("−¥20.00") == 2  # line and totals agree
    context.close()


def test_the_customer_page_from_errors_to_a_revised_quote(
    server: LiveServer,
    browser: Any,
) -> None:
    visit_id, _token = sync_a_checkin(server)
    desk = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB")
    advisor = sign_in(desk, server, "li.na")
    advisor.goto(f"{server.url}/visits/{visit_id}")
    advisor.click("button[value=complete_walkaround]")
    advisor.click("text=Write or change the quote")
    fill_quote_line(advisor, 0, "labour", "Replace the front brake pads", {"hours": "1.5"})
    advisor.select_option("select[name=line-0-urgency]", "red")
    fill_quote_line(advisor, 1, "part", "Front brake pads (set)", {"unit_price": "480"})
    advisor.select_option("select[name=line-1-urgency]", "red")
    fill_quote_line(advisor, 2, "part", "Wiper blades", {"quantity": "2", "unit_price": "60"})
    advisor.click("button[value=save]")
    advisor.click("text=Send to the customer")
    link = advisor.input_value("#approval-link")

    phone = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )
    customer = phone.new_page()
    customer.goto(link)
    # Their own link: their name and their plate, in full.
    assert "陈静，您好。" in customer.inner_text("main") and "粤B12345" in customer.inner_text("h1")

    # Sent with nothing answered: each message goes once its answer is given.
    customer.click("button.big")
    assert customer.locator(".field-error").count() == 4  # three items and the signature
    items = customer.locator(".quote-item")
    items.nth(0).locator("input[value=approved]").check()
    assert items.nth(0).locator(".field-error").count() == 0
    assert customer.locator(".field-error").count() == 3
    items.nth(2).locator("input[value=approved]").check()
    sign_on_pad(customer)
    assert customer.locator(".field-error").count() == 1
    assert customer.locator("#form-error").count() == 1

    # Declining the safety item asks for a confirmation, right there.
    pads = items.nth(1)
    assert pads.locator(".safety-confirm").is_hidden()
    pads.locator("input[value=declined]").check()
    assert pads.locator(".safety-confirm").is_visible()
    assert "安全项目" in pads.locator(".safety-confirm").inner_text()
    assert customer.locator(".field-error").count() == 0
    assert customer.locator("#form-error").count() == 0  # nothing left to fix

    # The advisor revises the quote, after confirming, while the customer has it open.
    advisor.goto(f"{server.url}/visits/{visit_id}")
    advisor.click("button[value=revise_quote]")
    assert "Revise the quote?" in advisor.inner_text("h1")
    advisor.click("button[value=revise_quote]")
    assert "Diagnosed" in advisor.inner_text(".visit-head")
    # Without a touch, the customer's page says so, in their language.
    customer.wait_for_selector("#link-closed:visible", timeout=LINK_CHECK_MS)
    assert "新的链接即将发送给您" in customer.inner_text("#link-closed")
    assert customer.locator("#approval-form").count() == 0
    switch_language(customer, "en")
    assert "a new link is on its way" in customer.inner_text("main")
    assert "diagnosed" not in customer.inner_text("body").lower()

    # Version 2: the pads cost more; the customer sees what changed.
    advisor.click("text=Write or change the quote")
    assert "Version 1 was sent to the customer" in advisor.inner_text(".quote-editor")
    advisor.fill("input[name=line-1-unit_price]", "520")
    advisor.click("button[value=save]")
    assert "Changed since version 1: was ¥480.00" in advisor.inner_text("#quote")
    advisor.click("text=Send to the customer")
    customer.goto(advisor.input_value("#approval-link"))
    assert "Changed: was ¥480.00" in customer.inner_text(".quote-item >> nth=1")
    items = customer.locator(".quote-item")
    items.nth(0).locator("input[value=approved]").check()
    items.nth(1).locator("input[value=declined]").check()
    items.nth(2).locator("input[value=declined]").check()
    sign_on_pad(customer)
    customer.click("button.big")  # the safety confirmation is not ticked yet
    assert "tick the box" in customer.inner_text(".quote-item >> nth=1")
    items = customer.locator(".quote-item")
    items.nth(1).locator(".safety-confirm input[type=checkbox]").check()
    assert items.nth(1).locator(".field-error").count() == 0
    sign_on_pad(customer)
    customer.click("button.big")
    customer.wait_for_selector(".card.done")

    advisor.goto(f"{server.url}/visits/{visit_id}")
    assert "the customer confirmed they understand the risk" in advisor.inner_text("#quote")
    phone.close()
    desk.close()


def sync_an_unsigned_checkin(server: LiveServer) -> str:
    """A kiosk check-in with no walk-around from the tablet; returns the visit id."""
    token = server.pair("kiosk")
    customer = domain.Customer(name="王芳", phone="+8613900139000")
    vehicle = domain.Vehicle(customer_id=customer.id, plate="苏E66B77", make="Buick")
    visit = domain.Visit(
        ticket_number="K-031",
        customer_id=customer.id,
        vehicle_id=vehicle.id,
        concern_text="Air conditioning not cooling",
        status_token=domain.new_status_token(),
    )
    records = [("customer", customer), ("vehicle", vehicle), ("visit", visit)]
    body = {
        "schema": 1,
        "changes": [
            {
                "change_id": str(uuid.uuid4()),
                "kind": kind,
                "id": record.id,
                "hlc": f"{1_763_800_000_000 + at:016d}-0000-kiosk",
                "fields": {k: v for k, v in to_wire(record).items() if k != "id"},
            }
            for at, (kind, record) in enumerate(records)
        ],
    }
    pushed = requests.post(
        f"{server.url}/api/v1/sync/push",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert pushed.status_code == 200, pushed.text
    return visit.id


def test_a_manager_marks_the_walkaround_done_with_a_reason(
    server: LiveServer,
    browser: Any,
) -> None:
    visit_id = sync_an_unsigned_checkin(server)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    manager = sign_in(context, server, "manager")
    manager.goto(f"{server.url}/visits/{visit_id}")
    manager.click("button[value=complete_walkaround]")
    assert "not signed yet" in manager.inner_text(".flash.error")
    assert "Checked in" in manager.inner_text(".visit-head")
    manager.fill("input[name=reason]", "Tablet battery dead; photos on the shop camera")
    manager.click("text=Mark walk-around done (manager)")
    assert "with your reason" in manager.inner_text(".flash")
    assert "Walk-around done" in manager.inner_text(".visit-head")
    shown = manager.inner_text("#walkaround")
    assert "without a signed walk-around" in shown and "Tablet battery dead" in shown
    switch_language(manager, "zh_CN")
    assert "没有已签名环车检查" in manager.inner_text("#walkaround")
    context.close()
