"""The web pages in a real Chromium against a real server process.

A tablet syncs a check-in with its walk-around (photo, damage mark, signed sheet); an
advisor signs in, completes the walk-around, writes a quote with two options (genuine or
aftermarket pads) and sends it; the customer, on a phone-sized screen, sees the two
options side by side, picks one, approves two lines, declines one and signs with a
finger; the advisor sees the answer and may now start the work. (The screenshots in
``docs/screenshots/web-*.png`` come from ``scripts/render_web_screenshots.py``.)

Needs Debian's ``chromium`` (``scripts/setup.sh --test`` installs it) and Playwright's
Python package; Playwright's own browser download is not used.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from browser_fixtures import CHROMIUM, BrowserForOneTest
from live_server import LiveServer
from PIL import Image, ImageDraw
from quote_editor_steps import fill_quote_line

from shared import domain
from shared.wire import to_wire

playwright_api = pytest.importorskip("playwright.sync_api")

PASSWORD = "demo-pass-2026"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed")


@pytest.fixture
def server(tmp_path: Path, sqlite_template: Path) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path / "server").copy_database(sqlite_template)
    live.start()
    live.cli("demo")
    try:
        yield live
    finally:
        live.stop()
        print(f"--- server log tail ---\n{live.log_tail()}")


@pytest.fixture
def browser(browser_for_one_test: BrowserForOneTest) -> Iterator[Any]:
    """The worker's Chromium (``browser_fixtures``), its contexts closed after the test."""
    yield browser_for_one_test
    # Every page works under the server's CSP: nothing it needs was refused.
    assert browser_for_one_test.refusals == []


def car_photo() -> bytes:
    image = Image.new("RGB", (800, 600), (200, 210, 222))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((80, 220, 720, 480), radius=60, fill=(40, 90, 160))
    draw.ellipse((160, 420, 280, 540), fill=(30, 30, 30))
    draw.ellipse((520, 420, 640, 540), fill=(30, 30, 30))
    draw.line((300, 300, 380, 330), fill=(240, 240, 240), width=6)  # the scratch
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def sync_a_checkin(server: LiveServer) -> tuple[str, str]:
    """What the tablet sends for one car; returns (visit id, status token)."""
    tablet = server.pair_device("tablet")
    headers = {"Authorization": f"Bearer {tablet.token}"}
    photo_bytes = car_photo()
    photo_sha = hashlib.sha256(photo_bytes).hexdigest()
    customer = domain.Customer(name="陈静", phone="+8613800138000", email="chen.jing@example.com")
    vehicle = domain.Vehicle(
        customer_id=customer.id, plate="粤B12345", make="Honda", model="Accord", year=2020
    )
    visit = domain.Visit(
        ticket_number="T-007",
        customer_id=customer.id,
        vehicle_id=vehicle.id,
        concern_codes=[domain.ConcernCode.brakes, domain.ConcernCode.noise],
        concern_text="Squealing from the front when braking",
        mileage_in_km=61250,
    )
    # The tablet's own status link: the one the server keeps (docs/sync.md).
    visit.status_token = domain.status_token_for(tablet.status_link_key, visit.id)
    consent = domain.Consent(
        visit_id=visit.id, text_version="2026-1", text_sha256="c" * 64, language="zh_CN"
    )
    walkaround = domain.Walkaround(
        visit_id=visit.id,
        odometer_km=61250,
        fuel_eighths=3,
        belongings=domain.Belongings(spare_wheel=True, documents=True, keys_count=2),
        exterior_notes="Light scratch on the driver's door",
    )
    image = domain.PhotoRef(
        sha256=photo_sha,
        size_bytes=len(photo_bytes),
        content_type=domain.ImageType.jpeg,
        width=800,
        height=600,
    )
    photo = domain.VisitPhoto(
        visit_id=visit.id, walkaround_id=walkaround.id, image=image, caption="Left side"
    )
    mark = domain.DamageMark(
        walkaround_id=walkaround.id,
        view=domain.DiagramView.left,
        x=0.42,
        y=0.45,
        damage_type=domain.DamageType.scratch,
        severity=2,
        note="Driver's door",
        pins=[domain.PhotoPin(photo_sha, 0.43, 0.52)],
    )
    walkaround.photos, walkaround.marks = [image], [mark]
    signature = domain.Signature(
        visit_id=visit.id,
        purpose=domain.SignaturePurpose.checkin_sheet,
        strokes=[[domain.StrokePoint(0.1, 0.5, 0), domain.StrokePoint(0.8, 0.4, 120)]],
        signed_sha256=walkaround.report_sha256(),
        signer_name="陈静",
    )
    changes = []
    for at, (kind, record) in enumerate(
        [
            ("customer", customer),
            ("vehicle", vehicle),
            ("visit", visit),
            ("consent", consent),
            ("walkaround", walkaround),
            ("photo", photo),
            ("damage_mark", mark),
            ("signature", signature),
        ]
    ):
        fields = to_wire(record)
        fields.pop("id")
        fields.pop("marks", None)
        fields.pop("photos", None)
        changes.append(
            {
                "change_id": str(uuid.uuid4()),
                "kind": kind,
                "id": record.id,
                "hlc": f"{1_763_800_000_000 + at:016d}-0000-tablet",
                "fields": fields,
            }
        )
    pushed = requests.post(
        f"{server.url}/api/v1/sync/push",
        json={"schema": 1, "changes": changes},
        headers=headers,
        timeout=10,
    )
    assert pushed.status_code == 200, pushed.text
    assert all(result["status"] == 201 for result in pushed.json()["results"]), pushed.text
    uploaded = requests.put(
        f"{server.url}/api/v1/blobs/{photo_sha}",
        data=photo_bytes,
        headers={**headers, "Content-Type": "image/jpeg"},
        timeout=10,
    )
    assert uploaded.status_code == 201, uploaded.text
    return visit.id, visit.status_token


def switch_language(page: Any, code: str) -> None:
    page.click(f"header a[hreflang='{code}']")
    page.wait_for_load_state("networkidle")


def test_quote_approved_on_the_phone_then_work_may_start(server: LiveServer, browser: Any) -> None:
    visit_id, status_token = sync_a_checkin(server)

    desk = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB")
    advisor = desk.new_page()
    advisor.goto(f"{server.url}/board")
    assert "/login" in advisor.url
    advisor.fill("input[name=username]", "li.na")
    advisor.fill("input[name=password]", "wrong-password")
    advisor.click("button[type=submit].primary")
    assert "not right" in advisor.inner_text(".error")
    advisor.fill("input[name=password]", PASSWORD)
    advisor.click("button[type=submit].primary")
    advisor.wait_for_url(re.compile(r".*/board$"))
    assert advisor.locator(".visit-card", has_text="粤B12345").count() == 1
    switch_language(advisor, "zh_CN")
    assert "到店看板" in advisor.inner_text("h1")

    # The board searches as it is typed in (the demo's Emily Carter, 粤B88K21, came too).
    advisor.fill("#board-search", "粤B1")
    advisor.wait_for_selector(".results .visit-card")
    assert advisor.locator(".results .visit-card").count() == 1
    assert "粤B12345" in advisor.inner_text(".results")
    switch_language(advisor, "en")

    advisor.goto(f"{server.url}/visits/{visit_id}")
    assert "Signed, unchanged" in advisor.inner_text("#walkaround")
    assert advisor.locator(".photo img").count() == 1
    assert advisor.locator(".photo .pin", has_text="A2").count() == 1
    advisor.click("a.photo")
    advisor.wait_for_selector("#photo-viewer[open] img[src*='/api/v1/blobs/']")
    advisor.wait_for_function("document.querySelector('#photo-viewer img').naturalWidth > 0")
    assert advisor.locator("#photo-viewer .pin", has_text="A2").count() == 1
    advisor.click(".viewer-close")
    switch_language(advisor, "zh_CN")
    assert "已签名，未改动" in advisor.inner_text("#walkaround")
    switch_language(advisor, "en")

    # Walk-around done, then the quote: wipers for either way, and two ways to do the pads.
    advisor.click("button[value=complete_walkaround]")
    advisor.click("text=Write or change the quote")
    advisor.click(".options-editor summary")
    advisor.fill("input[name=option-0-label]", "Genuine Honda pads")
    advisor.fill("textarea[name=option-0-notes]", "2-year warranty, quietest.")
    advisor.fill("input[name=option-1-label]", "Aftermarket pads")
    advisor.fill("textarea[name=option-1-notes]", "Cheaper, 1-year warranty.")
    lines = [
        ("", "part", "Wiper blades (pair)", {"quantity": "1", "unit_price": "120"}, "green"),
        (
            "0",
            "labour",
            "Replace the front brake pads",
            {"hours": "1.5", "labour_rate": "200"},
            "red",
        ),
        (
            "0",
            "part",
            "Front brake pads, genuine (set)",
            {"quantity": "1", "unit_price": "480", "part_number": "45022-TVA-A01"},
            "red",
        ),
        ("1", "labour", "Replace the front brake pads", {"hours": "1.5"}, "red"),
        ("1", "part", "Front brake pads, aftermarket", {"unit_price": "260"}, "red"),
    ]
    # A mistake first: the page says what is wrong and keeps what was typed.
    advisor.select_option("select[name=line-0-kind]", "labour")
    advisor.fill("input[name=line-0-description]", lines[1][2])
    advisor.fill("input[name=line-0-hours]", "an hour and a half")
    advisor.click("button[value=save]")
    assert "Enter the labour hours" in advisor.inner_text(".quote-editor")
    assert advisor.input_value("input[name=line-0-description]") == lines[1][2]
    assert advisor.input_value("input[name=option-1-label]") == "Aftermarket pads"
    advisor.wait_for_load_state()  # every line parsed before they are counted below
    for index, (option, kind, description, numbers, urgency) in enumerate(lines):
        fill_quote_line(advisor, index, kind, description, numbers, option=option, urgency=urgency)
    advisor.check("input[name=line-2-photo]")
    advisor.click("button[value=save]")
    assert "Quote saved" in advisor.inner_text(".flash")
    quote_text = advisor.inner_text("#quote")
    # (120 + 300 + 480) × 1.13 and (120 + 1.5 × 180 + 260) × 1.13
    assert "¥1,017.00" in quote_text and "¥734.50" in quote_text
    playwright_api.expect(advisor.locator("#quote .quote-option")).to_have_count(2)
    advisor.click("text=Send to the customer")
    link = advisor.input_value("#approval-link")
    assert "/approve/" in link
    advisor.click("#approval-link")  # selects the whole link, ready to copy (share.js)
    selected = advisor.evaluate(
        "() => { const box = document.getElementById('approval-link');"
        " return box.value.substring(box.selectionStart, box.selectionEnd); }"
    )
    assert selected == link

    # The customer, on a phone: the two options side by side.
    phone = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )
    customer = phone.new_page()
    customer.goto(link)
    # The customer's own link: their own name and plate (masking is for shared screens).
    assert "陈静，您好。" in customer.inner_text("main") and "粤B12345" in customer.inner_text("h1")
    cards = customer.locator(".option-card")
    assert cards.count() == 2
    first, second = cards.nth(0).bounding_box(), cards.nth(1).bounding_box()
    assert abs(first["y"] - second["y"]) < 1 and second["x"] >= first["x"] + first["width"]
    assert "¥1,017.00" in cards.nth(0).inner_text() and "¥734.50" in cards.nth(1).inner_text()
    assert customer.locator(".quote-item:visible").count() == 1  # the wipers, shared
    cards.nth(0).click()
    items = customer.locator(".quote-item:visible")
    assert items.count() == 3  # the option's labour and pads, and the wipers
    genuine = customer.locator(".option-items:visible .quote-item")
    genuine.nth(0).locator("input[value=approved]").check()
    genuine.nth(1).locator("input[value=approved]").check()
    customer.locator(".quote-item:visible", has_text="Wiper").locator(
        "input[value=declined]"
    ).check()
    assert customer.inner_text("#chosen-total") == "¥881.40"
    customer.fill("input[name=signer_name]", "陈静")
    customer.locator("#signature-pad").scroll_into_view_if_needed()
    pad = customer.locator("#signature-pad").bounding_box()
    customer.mouse.move(pad["x"] + 30, pad["y"] + 120)
    customer.mouse.down()
    for step in range(1, 12):
        customer.mouse.move(pad["x"] + 30 + step * 25, pad["y"] + 120 - (step % 4) * 22)
    customer.mouse.up()
    customer.click("button.big")
    customer.wait_for_selector(".card.done")
    done = customer.inner_text(".card.done")
    assert "谢谢" in done and "Genuine Honda pads" in done and "¥881.40" in done
    switch_language(customer, "en")
    assert "Thank you" in customer.inner_text(".card.done")

    # A manager adds a technician to dispatch the work to.
    back_office = browser.new_context(viewport={"width": 1280, "height": 900})
    manager = back_office.new_page()
    manager.goto(f"{server.url}/login")
    manager.fill("input[name=username]", "manager")
    manager.fill("input[name=password]", PASSWORD)
    manager.click("button[type=submit].primary")
    manager.goto(f"{server.url}/admin")
    manager.fill("#technicians input[name=name]", "Chen Gang 陈刚")
    manager.check("#technicians input[value=brakes]")
    manager.click("#technicians button[type=submit]")
    assert "Chen Gang" in manager.inner_text("#technicians")
    back_office.close()

    # The advisor sees the answer and the option chosen; the work may start now.
    advisor.goto(f"{server.url}/visits/{visit_id}")
    quote_text = advisor.inner_text("#quote")
    assert "Approved by the customer" in quote_text and "¥881.40" in quote_text
    assert "The customer chose option A: Genuine Honda pads" in quote_text
    assert "Not chosen" in advisor.inner_text("#quote .quote-option.not-chosen")
    # Work is dispatched first: the technician with the job's speciality comes first.
    advisor.select_option(".job-type select[name=job_type]", "brakes")
    advisor.click(".job-type button[type=submit]")
    first = advisor.locator(".dispatch select[name=technician_id] option").first.inner_text()
    assert first.startswith("Chen Gang 陈刚 ✓"), first
    advisor.click(".dispatch button[type=submit]")
    assert "Chen Gang" in advisor.inner_text("#job")
    advisor.click("button[value=start_work]")
    assert "Work in progress" in advisor.inner_text(".visit-head")

    # The customer's status page, from the ticket's QR code.
    customer.goto(f"{server.url}/status/{status_token}")
    assert "Work in progress" in customer.inner_text(".steps .now")
    switch_language(customer, "zh_CN")
    assert "维修中" in customer.inner_text(".steps .now")

    phone.close()
    desk.close()


def test_managers_page_in_the_browser(server: LiveServer, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", "manager")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.goto(f"{server.url}/admin")
    page.fill("#devices input[name=device_name]", "Lobby kiosk 2")
    page.click("text=Issue a pairing code")
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", page.inner_text(".pairing .code"))
    # The manager gives the manager's own row a tablet PIN; a wrong one is explained.
    row = page.locator("#users tr", has=page.locator("td", has_text="manager"))
    assert "No PIN" in row.inner_text()
    row.locator("input[name=pin]").fill("12")
    row.locator(".pin-form button").click()
    row = page.locator("#users tr", has=page.locator("td", has_text="manager"))
    assert "4 to 8 digits" in row.inner_text()
    row.locator("input[name=pin]").fill("482916")
    row.locator(".pin-form button").click()
    assert "new tablet PIN" in page.inner_text(".flash")
    row = page.locator("#users tr", has=page.locator("td", has_text="manager"))
    assert "PIN set" in row.inner_text()
    switch_language(page, "zh_CN")
    assert "人员与设备" in page.inner_text("h1")
    context.close()
