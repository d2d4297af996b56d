"""The back office in a real Chromium, as an advisor and a manager use it on the demo shop:
the board's search as advisors type it, the nine columns at 1280–1920 px, a delivered car
that stops waiting, a message that was never sent said so, the customer's contact
details edited from the visit page with their history, and a call task for a customer
who asked to be called. Screenshots of the changed pages, in both languages, go to
``$H8_SCREENSHOTS`` when that is set (looked at by a person, not by the test)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from headless_chromium import CHROMIUM, headless_chromium
from live_server import LiveServer

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

PASSWORD = "demo-pass-2026"
SHOTS = os.environ.get("H8_SCREENSHOTS", "")

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed")

# Nothing of a column or a card may be cut off: every column lies inside the window and
# no card's content is wider than the card.
CLIPPED = """() => {
  const width = document.documentElement.clientWidth;
  const problems = [];
  if (document.documentElement.scrollWidth > width + 1) problems.push('page scrolls sideways');
  document.querySelectorAll('.column').forEach((column) => {
    const box = column.getBoundingClientRect();
    if (box.left < -1 || box.right > width + 1) {
      problems.push(`column ${column.dataset.status} at ${box.left}..${box.right} of ${width}`);
    }
  });
  document.querySelectorAll('.column, .visit-card, .column h2').forEach((element) => {
    if (element.scrollWidth > element.clientWidth + 1) {
      const name = element.dataset.status || element.textContent.trim().slice(0, 20);
      problems.push(`${name} overflows`);
    }
  });
  return problems;
}"""


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
def browser() -> Iterator[Any]:
    with headless_chromium() as chromium:
        yield chromium


def sign_in(browser: Any, server: LiveServer, username: str, width: int = 1440) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r".*/board$"))
    return page


def language(page: Any, code: str) -> None:
    page.click(f"header a[hreflang='{code}']")
    page.wait_for_load_state("networkidle")


def shot(page: Any, name: str, **options: Any) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), **options)


def step(page: Any, event: str) -> None:
    page.click(f"button[value={event}]")
    page.wait_for_load_state("networkidle")
    assert page.locator(".flash.ok").count() == 1, page.inner_text("main")[:400]


def test_board_search_finds_what_advisors_type(server: LiveServer, browser: Any) -> None:
    advisor = sign_in(browser, server, "li.na")
    for typed in ("a3n2p8", "A3N2P8", "鄂A·3N2P8", "5605", "sylphy", "SYLPHY"):
        advisor.fill("#board-search", typed)
        advisor.wait_for_function(
            "q => document.querySelector('.results h2') &&"
            " document.querySelector('.results h2').textContent.includes(q)",
            arg=typed,
        )
        cards = advisor.locator(".results .visit-card")
        assert cards.count() == 1, typed
        assert "鄂A3N2P8" in cards.first.inner_text() and "A-003" in cards.first.inner_text()
    shot(advisor, "web-board-search-en")
    language(advisor, "zh_CN")
    advisor.fill("#board-search", "a3n2p8")
    advisor.wait_for_selector(".results .visit-card")
    assert advisor.locator(".results .visit-card", has_text="鄂A3N2P8").count() == 1
    shot(advisor, "web-board-search-zh_CN")


def test_a_day_at_the_desk(server: LiveServer, browser: Any) -> None:
    advisor = sign_in(browser, server, "li.na")
    advisor.locator(".visit-card", has_text="A-001").click()
    visit_url = advisor.url
    step(advisor, "finish_work")
    # The quality check: a pass needs every item of the checklist ticked.
    advisor.click("#do-quality-check")
    advisor.click("button[value=pass]")
    assert "every item ticked" in advisor.inner_text("#quality-check-form")
    advisor.wait_for_load_state()  # every box parsed before they are ticked
    for box in advisor.locator("#quality-check-form input[name=item]").all():
        box.check()
    advisor.click("button[value=pass]")  # "ready for pick-up" to David, by e-mail
    expect(advisor.locator(".flash.ok")).to_have_count(1)
    server.cli("send-messages")  # no mail server is set up in the demo
    advisor.reload()
    messages = advisor.inner_text("#job")
    assert "Not sent — no e-mail server set up" in messages
    assert "Sent" not in messages.replace("Not sent", "")
    advisor.locator("#job details summary").first.click()
    assert "passed our quality check" in advisor.inner_text("#job details[open]")
    shot(advisor, "web-visit-messages-en", full_page=True)

    # David asks to be called from now on: the advisor changes it from the visit page.
    advisor.click("#edit-contact")
    advisor.fill("input[name=phone]", "12")
    advisor.select_option("select[name=preferred_channel]", "phone")
    advisor.click("#contact-form button[type=submit]")
    assert "phone" in advisor.inner_text("#contact-form").lower()
    expect(advisor.locator("input[name=phone][aria-invalid=true]")).to_have_count(1)
    advisor.fill("input[name=phone]", "+49 170 7654321")
    advisor.click("#contact-form button[type=submit]")
    advisor.wait_for_url(visit_url)
    assert "+491707654321" in advisor.inner_text("main")
    advisor.click("#edit-contact")
    history = advisor.inner_text("#contact-history")
    assert "+491701234567" in history and "Li Na" in history
    shot(advisor, "web-customer-contact-en", full_page=True)
    language(advisor, "zh_CN")
    assert "联系方式修改记录" in advisor.inner_text("#contact-history")
    shot(advisor, "web-customer-contact-zh_CN", full_page=True)
    language(advisor, "en")
    advisor.click("text=Back to the visit")

    # Handed back: a call task instead of a text, and the car no longer waits.
    advisor.click("#do-hand-back")
    advisor.fill("input[name=odometer_out_km]", "1")
    advisor.click("#hand-back-form button[type=submit]")
    expect(advisor.locator("input[name=odometer_out_km][aria-invalid=true]")).to_have_count(1)
    advisor.fill("input[name=odometer_out_km]", "1,999,999")
    advisor.fill("textarea[name=work_done]", "Front brake pads replaced")
    advisor.click("#hand-back-form button[type=submit]")
    assert "1,999,999 km" in advisor.inner_text("#hand-back-record")
    assert "Call the customer: +491707654321" in advisor.inner_text("#job")
    advisor.goto(f"{server.url}/board")
    delivered = advisor.locator(".column[data-status=delivered] .visit-card", has_text="A-001")
    assert delivered.count() == 1
    assert "Waiting" not in delivered.inner_text()
    assert "Call the customer" in delivered.inner_text()  # until the call is made
    for width in (1280, 1440, 1920):
        advisor.set_viewport_size({"width": width, "height": 900})
        assert advisor.locator(".column").count() == 9
        assert advisor.evaluate(CLIPPED) == [], width
        shot(advisor, f"web-board-{width}-en")
    language(advisor, "zh_CN")
    for width in (1280, 1920):
        advisor.set_viewport_size({"width": width, "height": 900})
        assert advisor.evaluate(CLIPPED) == [], width
        shot(advisor, f"web-board-{width}-zh_CN")
    language(advisor, "en")

    advisor.goto(visit_url)
    shot(advisor, "web-visit-call-task-en", full_page=True)
    language(advisor, "zh_CN")
    assert "我已致电客户" in advisor.inner_text("#job")
    shot(advisor, "web-visit-call-task-zh_CN", full_page=True)
    advisor.click("text=我已致电客户")
    advisor.wait_for_load_state("networkidle")
    assert "已致电" in advisor.inner_text("#job")
    assert advisor.locator("text=我已致电客户").count() == 0

    # The manager sees what never left, and what to set up.
    manager = sign_in(browser, server, "manager")
    manager.click("header nav >> text=Messages")
    page = manager.inner_text("main")
    assert "No e-mail server set up" in page and "SMTP_HOST" in page
    assert "Messages that did not reach the customer:" in page
    shot(manager, "web-messages-en", full_page=True)
    language(manager, "zh_CN")
    assert "未设置邮件服务器" in manager.inner_text("main")
    shot(manager, "web-messages-zh_CN", full_page=True)
