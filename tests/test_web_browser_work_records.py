"""The work records in a real Chromium on the demo shop, as the desk uses them: the board
highlights a customer nobody has greeted within the target, a finding and its cause are
recorded (a missing cause said so, nothing typed lost), the work is dispatched with the
job's speciality first, the manager adds an item to the job type's quality checklist
on the settings page (in both languages, or it is refused), a failed quality check
sends the job back with its reason, and the hand-back records the odometer, the work
and the parts. Screenshots of the new
pages, in both languages, go to ``$H8_SCREENSHOTS`` when that is set."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from headless_chromium import CHROMIUM
from live_server import LiveServer
from test_web_browser_desk import browser, language, shot, sign_in  # noqa: F401

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
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


def both_languages(page: Any, name: str, **options: Any) -> None:
    shot(page, f"{name}-en", **options)
    language(page, "zh_CN")
    shot(page, f"{name}-zh_CN", **options)
    language(page, "en")


def open_visit(page: Any, server: LiveServer, ticket: str) -> None:
    page.goto(f"{server.url}/board")
    page.locator(".visit-card", has_text=ticket).first.click()
    page.wait_for_load_state("networkidle")


def test_the_work_records_at_the_desk(server: LiveServer, browser: Any) -> None:  # noqa: F811
    # ``serve`` warmed its pages up as it started (templates, catalogs, the calendar).
    deadline = time.monotonic() + 30
    while "pages warmed up" not in server.log_tail(400) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "pages warmed up" in server.log_tail(400)
    advisor = sign_in(browser, server, "li.na")
    # A-003 checked in 12 minutes ago, no walk-around begun: over the 10-minute target.
    late = advisor.locator(".visit-card.not-greeted")
    assert late.count() == 1 and "A-003" in late.inner_text()
    assert "Not greeted yet — over 10 min" in late.inner_text()
    both_languages(advisor, "web-board-not-greeted")

    # A finding for A-002 (its quote is out): the cause is asked for, the words stay.
    open_visit(advisor, server, "A-002")
    advisor.click("#record-finding")
    advisor.fill("textarea[name=finding]", "Front left lower arm bush worn")
    advisor.click("#diagnosis-form button[type=submit]")
    expect(advisor.locator("textarea[name=cause][aria-invalid=true]")).to_have_count(1)
    assert advisor.input_value("textarea[name=finding]") == "Front left lower arm bush worn"
    both_languages(advisor, "web-diagnosis-form", full_page=True)  # the page is read again
    advisor.fill("textarea[name=finding]", "Front left lower arm bush worn")
    advisor.fill("textarea[name=cause]", "Rubber aged and cracked (8 years)")
    advisor.click("#diagnosis-form button[type=submit]")
    findings = advisor.inner_text("#findings")
    assert "Front left lower arm bush worn" in findings and "Rubber aged" in findings

    # A-001 is in work: dispatch with the engine speciality first, then the check.
    open_visit(advisor, server, "A-001")
    advisor.select_option(".job-type select[name=job_type]", "engine")
    advisor.click(".job-type button[type=submit]")
    first = advisor.locator(".dispatch select[name=technician_id] option").first.inner_text()
    assert " ✓ — " in first, first  # a technician with the engine speciality first
    advisor.click(".dispatch button[type=submit]")
    advisor.wait_for_load_state("networkidle")
    assert advisor.locator(".flash.ok").count() == 1
    both_languages(advisor, "web-visit-dispatch", full_page=True)

    # The manager adds an item to the engine checklist: only English is refused, with
    # what was typed kept; with its Chinese it is saved and the check below asks for it.
    manager = sign_in(browser, server, "manager")
    manager.click("header a[href$='/settings/checklists']")
    manager.wait_for_load_state()  # the click waits only for the new page to begin
    engine = manager.locator("#checklist-engine")
    assert "No fault codes stored after repair" in [
        box.input_value() for box in engine.locator("input[name=en]").all()
    ]
    refusals = {
        "zh_CN": "请用英文和中文填写此项。",
        "en": "Give this item in English and in Chinese.",
    }
    for lang, refusal in refusals.items():  # the refused form in both languages
        language(manager, lang)
        engine = manager.locator("#checklist-engine")
        engine.locator("tr.item").nth(4).locator("input[name=en]").fill("Battery terminals tight")
        engine.locator("button[value=save]").click()
        engine = manager.locator("#checklist-engine")
        expect(engine.locator("[aria-invalid=true]")).to_have_count(2)
        new_item = engine.locator("tr.item").nth(4)  # the first empty row, under the four
        assert new_item.locator("input[name=en]").input_value() == "Battery terminals tight"
        assert refusal in engine.inner_text()
        shot(manager, f"web-checklists-error-{lang}", full_page=True)
        manager.goto(f"{server.url}/settings/checklists")
    engine = manager.locator("#checklist-engine")
    engine.locator("tr.item").nth(4).locator("input[name=en]").fill("Battery terminals tight")
    engine.locator("tr.item").nth(4).locator("input[name=zh]").fill("蓄电池接线柱已拧紧")
    engine.locator("button[value=save]").click()
    assert "The checklist is saved." in manager.inner_text(".flash")
    assert "(the shop's list)" in manager.inner_text("#checklist-engine h2")
    both_languages(manager, "web-checklists", full_page=True)
    manager.context.close()
    advisor.click("button[value=finish_work]")
    advisor.click("#do-quality-check")
    assert "No fault codes stored after repair" in advisor.inner_text("#quality-check-form")
    assert "Battery terminals tight" in advisor.inner_text("#quality-check-form")
    advisor.click("button[value=fail]")
    assert "Say what is wrong" in advisor.inner_text("#quality-check-form")
    both_languages(advisor, "web-quality-check", full_page=True)  # the page is read again
    advisor.fill("textarea[name=notes]", "Engine light back on after the road test")
    advisor.click("button[value=fail]")
    sent_back = advisor.inner_text("#sent-back")
    assert "Engine light back on after the road test" in sent_back
    assert "Work in progress" in advisor.inner_text(".visit-head")

    advisor.click("button[value=finish_work]")
    advisor.click("#do-quality-check")
    advisor.wait_for_load_state()  # every box parsed before they are ticked
    for box in advisor.locator("#quality-check-form input[name=item]").all():
        box.check()
    advisor.click("button[value=pass]")
    assert "Ready for pick-up" in advisor.inner_text(".visit-head")
    advisor.wait_for_load_state()  # the whole new page, not only its head
    assert advisor.locator("#sent-back").count() == 0

    advisor.click("#do-hand-back")
    advisor.fill("input[name=odometer_out_km]", "10")
    advisor.fill("textarea[name=work_done]", "Ignition coil 3 replaced; road tested 10 km")
    advisor.fill("textarea[name=parts]", "06H905110G | Ignition coil | 1")
    advisor.click("#hand-back-form button[type=submit]")
    expect(advisor.locator("input[name=odometer_out_km][aria-invalid=true]")).to_have_count(1)
    assert advisor.input_value("textarea[name=parts]") == "06H905110G | Ignition coil | 1"
    both_languages(advisor, "web-hand-back", full_page=True)  # the page is read again
    advisor.fill("input[name=odometer_out_km]", "200000")
    advisor.fill("textarea[name=work_done]", "Ignition coil 3 replaced; road tested 10 km")
    advisor.fill("textarea[name=parts]", "06H905110G | Ignition coil | 1")
    advisor.click("#hand-back-form button[type=submit]")
    record = advisor.inner_text("#hand-back-record")
    assert "200,000 km" in record and "06H905110G" in record
    assert "Handed back" in advisor.inner_text(".visit-head")
    both_languages(advisor, "web-visit-handed-back", full_page=True)
