"""Screenshots of every back-office page and of the customer's phone pages, in English
and Simplified Chinese: ``docs/screenshots/web-<page>-<lang>.png``.

Seeds the demo shop (``sync_server.demo``) in a temporary folder, locks one advisor's
tablet PIN with wrong tries, starts ``checkin-server serve`` on it and walks the pages
in Debian's Chromium through Playwright (Playwright's own browser download is not used):
the desk at 1440×900, the customer's phone at 390×844. On the way it writes a quote with
options in the editor, and the customer chooses an option and signs on the phone, so the
pages after those steps are real too. Usage::

    .venv/bin/python scripts/render_web_screenshots.py [--out docs/screenshots] [--keep]
        [--only customer-file …]   # re-render only these customer-file pages
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SERVER_COMMAND = Path(sys.executable).with_name("checkin-server")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--font-render-hinting=none",
]
LANGUAGES = ("en", "zh_CN")
DESK: dict[str, Any] = {"viewport": {"width": 1440, "height": 900}}
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
PASSWORD = "demo-pass-2026"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare_shop(root: Path, url: str) -> dict[str, str]:
    """The demo shop on a fresh SQLite database, and one advisor's PIN locked."""
    os.environ["CHECKIN_INSTANCE_PATH"] = str(root / "instance")
    from sqlalchemy import select

    from sync_server import create_app, db
    from sync_server.demo import demo_id, seed_demo
    from sync_server.migrate import upgrade
    from sync_server.people import PIN_MAX_FAILURES, PinRefused, check_pin
    from sync_server.shop_tables import User
    from sync_server.visit_tables import Visit

    app = create_app({"DATABASE_URL": url})
    upgrade(app)
    with app.app_context():
        session = db.session()
        print(seed_demo(session))
        for _ in range(PIN_MAX_FAILURES):  # tom forgot his PIN: the manager sees it locked
            with suppress(PinRefused):
                check_pin(session, "tom", "0000")
        assert session.scalar(select(User.pin_locked_until).where(User.username == "tom"))
        ids = {key: demo_id("visit", key) for key in ("david-mueller", "liu-yang", "zhao-min")}
        ids["liu-customer"] = demo_id("customer", "liu-yang")
        ids["liu-car"] = demo_id("vehicle", "liu-yang")
        seed_car_history(session, ids["liu-customer"], ids["liu-car"])
        visit = session.get(Visit, ids["david-mueller"])
        assert visit is not None
        ids["status-token"] = visit.status_token
    app.extensions["db_engine"].dispose()
    return ids


def seed_car_history(session: Any, customer_id: str, vehicle_id: str) -> None:
    """Two earlier visits of Liu Yang's car, so its health file has a history: tread
    readings, a scratch seen again, a diagnosis, parts replaced and tyres declined."""
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from shared import domain
    from shared.visit_status import VisitStatus
    from sync_server.customer_file.diagnoses import record_diagnosis
    from sync_server.sync.records import lock_feed, put_server_record

    lock_feed(session)
    now = datetime.now(UTC)
    earlier = (
        (now - timedelta(days=365), 40_120, {"fl": 5.5, "fr": 5.6, "rl": 6.2, "rr": 6.1}, ()),
        (
            now - timedelta(days=182),
            49_030,
            {"fl": 3.6, "fr": 4.4, "rl": 5.2, "rr": 5.1},
            (
                ("Front tyres (pair)", "TY-205-55R16", "yellow", domain.LineDecision.declined),
                ("Brake fluid change", "BF-DOT4", "red", domain.LineDecision.approved),
            ),
        ),
    )
    for number, (day, km, tread, lines) in enumerate(earlier, start=1):
        visit = domain.Visit(
            ticket_number=f"A-9{number:02d}",
            customer_id=customer_id,
            vehicle_id=vehicle_id,
            status=VisitStatus.delivered,
            concern_codes=[domain.ConcernCode.maintenance],
            concern_text="定期保养 Scheduled service",
            mileage_in_km=km,
            checked_in_at=day,
            status_token=domain.new_status_token(),
            reminders_opt_in=True,
        )
        put_server_record(session, "visit", visit)
        put_server_record(
            session,
            "consent",
            domain.Consent(
                visit_id=visit.id,
                text_version="2026-11-v1",
                text_sha256="0" * 64,
                language="zh_CN",
                accepted_at=day,
            ),
        )
        walkaround = domain.Walkaround(
            visit_id=visit.id, odometer_km=km, fuel_eighths=3, tyre_tread_mm=tread
        )
        put_server_record(session, "walkaround", walkaround)
        put_server_record(
            session,
            "damage_mark",
            domain.DamageMark(
                walkaround_id=walkaround.id,
                view=domain.DiagramView.left,
                x=0.45,
                y=0.6,
                damage_type=domain.DamageType.scratch,
                note="驾驶员侧车门 Driver's door",
                created_at=day,
            ),
        )
        quote_lines = [
            domain.QuoteLine(
                kind=domain.QuoteLineKind.part,
                description="Oil and filter 机油及滤清器",
                unit_price=Decimal("380"),
                part_number="OIL-5W30",
                urgency=domain.Urgency.yellow,
            )
        ] + [
            domain.QuoteLine(
                kind=domain.QuoteLineKind.part,
                description=text,
                unit_price=Decimal("300"),
                part_number=part,
                urgency=domain.Urgency(urgency),
            )
            for text, part, urgency, _decision in lines
        ]
        quote = domain.Quote(visit_id=visit.id, lines=quote_lines)
        put_server_record(session, "quote", quote)
        signature = domain.Signature(
            visit_id=visit.id,
            purpose=domain.SignaturePurpose.approval,
            signed_sha256="0" * 64,
            signed_at=day,
        )
        put_server_record(session, "signature", signature)
        decisions = [domain.LineDecision.approved] + [line[3] for line in lines]
        put_server_record(
            session,
            "approval",
            domain.Approval(
                quote_id=quote.id,
                quote_version=1,
                decisions={
                    line.id: decision for line, decision in zip(quote_lines, decisions, strict=True)
                },
                signature_id=signature.id,
                approved_at=day + timedelta(hours=1),
            ),
        )
        if lines:
            record_diagnosis(
                session,
                visit.id,
                "前轮胎花纹 3.6 毫米，偏磨 Front tread 3.6 mm, worn on the inside",
                "四轮定位偏差 Wheel alignment out",
                at=day + timedelta(minutes=40),
            )
    session.commit()


def customer_file_pages(browser: Any, base: str, ids: dict[str, str], shoot: Shooter) -> None:
    """Search, the customer page, the vehicle health file, duplicates and the tier rules."""
    for lang in LANGUAGES:
        context = browser.new_context(**DESK)
        page = context.new_page()
        sign_in(page, base, lang, "manager")
        page.goto(f"{base}/customers?q=A7K8M9")
        shoot(page, "customer-search", lang)
        page.goto(f"{base}/customers/{ids['liu-customer']}")
        shoot(page, "customer-file", lang)
        page.goto(f"{base}/vehicles/{ids['liu-car']}")
        shoot(page, "vehicle-health", lang)
        page.goto(f"{base}/customers/duplicates")
        shoot(page, "customer-duplicates", lang)
        page.goto(f"{base}/customers/tiers")
        shoot(page, "customer-tiers", lang)
        context.close()


@contextmanager
def running_server(root: Path, url: str) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "CHECKIN_INSTANCE_PATH": str(root / "instance"),
        "DATABASE_URL": url,
        "PUBLIC_URL": base,
        "MESSAGE_SEND_SECONDS": "3600",
    }
    log = (root / "server.log").open("wb")
    process = subprocess.Popen(
        [str(SERVER_COMMAND), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((root / "server.log").read_text(errors="replace")[-3000:])
            try:
                if requests.get(f"{base}/api/v1/health", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


class Shooter:
    """Writes ``web-<name>-<lang>.png`` and remembers what it wrote."""

    def __init__(self, out: Path, only: frozenset[str] = frozenset()) -> None:
        self.out = out
        self.only = only  # page names to write; empty: every page
        self.written: list[str] = []

    def __call__(self, page: Any, name: str, lang: str, *, full_page: bool = True) -> None:
        if self.only and name not in self.only:
            return
        page.wait_for_load_state("networkidle")
        page.evaluate("document.fonts.ready")
        filename = f"web-{name}-{lang}.png"
        page.screenshot(path=str(self.out / filename), full_page=full_page)
        self.written.append(filename)
        print(f"  {filename}")

    def element(self, page: Any, selector: str, name: str, lang: str) -> None:
        if self.only and name not in self.only:
            return
        page.wait_for_load_state("networkidle")
        filename = f"web-{name}-{lang}.png"
        page.locator(selector).screenshot(path=str(self.out / filename))
        self.written.append(filename)
        print(f"  {filename}")


def in_language(page: Any, base: str, lang: str, path: str) -> None:
    """Open ``path`` with the page's language set to ``lang`` (the header's switch)."""
    page.goto(f"{base}/lang/{lang}?next={path}")
    page.wait_for_load_state("networkidle")


def sign_in(page: Any, base: str, lang: str, username: str) -> None:
    in_language(page, base, lang, "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{base}/board")


def sign_with_finger(page: Any) -> None:
    pad = page.locator("#signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 110)
    page.mouse.down()
    for step in range(1, 16):
        page.mouse.move(box["x"] + 30 + step * 20, box["y"] + 110 - (step % 5) * 16)
    page.mouse.up()


def desk_pages(browser: Any, base: str, ids: dict[str, str], shoot: Shooter) -> str:
    """Sign-in, board, search, visit pages, photo viewer, job status, approval link and
    the error pages, in both languages; returns the customer's approval link."""
    link = ""
    for lang in LANGUAGES:
        context = browser.new_context(**DESK)
        page = context.new_page()
        in_language(page, base, lang, "/login")
        shoot(page, "login", lang)
        page.fill("input[name=username]", "li.na")
        page.fill("input[name=password]", "not-the-password")
        page.click("button[type=submit].primary")
        shoot(page, "login-error", lang)
        sign_in(page, base, lang, "li.na")
        shoot(page, "board", lang)
        page.goto(f"{base}/board?q=刘")
        shoot(page, "search", lang)
        page.goto(f"{base}/visits/{ids['liu-yang']}")
        shoot(page, "visit", lang)
        page.click("a.photo >> nth=0")
        page.wait_for_selector("#photo-viewer[open] img[src*='/api/v1/blobs/']")
        page.wait_for_function("document.querySelector('#photo-viewer img').naturalWidth > 0")
        shoot(page, "photo-viewer", lang, full_page=False)
        page.click(".viewer-close")
        page.goto(f"{base}/visits/{ids['liu-yang']}/quote/share")
        shoot(page, "approval-link", lang)
        link = page.input_value("#approval-link")
        page.goto(f"{base}/visits/{ids['david-mueller']}")
        shoot(page, "visit-work", lang)
        shoot.element(page, "#job", "job-status", lang)
        page.goto(f"{base}/visits/no-such-visit")
        shoot(page, "error-404", lang)
        page.goto(f"{base}/admin")
        shoot(page, "error-403", lang)
        context.close()
    return link


def quote_editor(browser: Any, base: str, ids: dict[str, str], shoot: Shooter) -> None:
    """The car that just came in has no signed walk-around: the manager marks it done
    with a reason; then a quote with two options for it."""
    visit = ids["zhao-min"]
    context = browser.new_context(**DESK)
    page = context.new_page()
    sign_in(page, base, "en", "manager")
    page.goto(f"{base}/visits/{visit}")
    page.click("button[value=complete_walkaround]")
    shoot.element(page, "#job", "walkaround-unsigned", "en")
    in_language(page, base, "zh_CN", f"/visits/{visit}")
    shoot.element(page, "#job", "walkaround-unsigned", "zh_CN")
    in_language(page, base, "en", f"/visits/{visit}")
    page.fill("input[name=reason]", "Tablet battery flat; photos taken on the shop camera")
    page.click("text=Mark walk-around done (manager)")
    for lang in LANGUAGES:
        in_language(page, base, lang, f"/visits/{visit}")
        shoot.element(page, "#walkaround", "walkaround-override", lang)
    in_language(page, base, "en", f"/visits/{visit}/quote")
    page.fill("input[name=option_label]", "Brakes and 70,000 km service")
    page.click(".options-editor summary")
    page.fill("input[name=option-0-label]", "Genuine Nissan pads and discs")
    page.fill(
        "textarea[name=option-0-notes]",
        "Factory parts, 2-year warranty. Quietest, longest life.",
    )
    page.fill("input[name=option-1-label]", "Ceramic aftermarket pads, discs skimmed")
    page.fill(
        "textarea[name=option-1-notes]",
        "About half the price. Discs still thick enough to skim; 1-year warranty.",
    )
    lines = [
        ("", "labour", "70,000 km service", {"hours": "1.5", "labour_rate": "180"}, "yellow"),
        ("", "part", "Engine oil and filter", {"quantity": "1", "unit_price": "380"}, "yellow"),
        ("0", "part", "Genuine pads and discs", {"quantity": "1", "unit_price": "980"}, "red"),
        ("0", "labour", "Fit pads and discs", {"hours": "1.2", "labour_rate": "180"}, "red"),
        ("1", "part", "Front ceramic pads", {"quantity": "1", "unit_price": "320"}, "red"),
        ("1", "labour", "Skim discs, fit pads", {"hours": "1.5", "labour_rate": "180"}, "red"),
    ]  # fmt: skip
    for index, (option, kind, description, numbers, urgency) in enumerate(lines):
        if page.locator(f"select[name=line-{index}-kind]").count() == 0:
            page.click("button[value=add_line]")
        page.select_option(f"select[name=line-{index}-option]", option)
        page.select_option(f"select[name=line-{index}-kind]", kind)
        page.fill(f"input[name=line-{index}-description]", description)
        for name, value in numbers.items():
            page.fill(f"input[name=line-{index}-{name}]", value)
        page.select_option(f"select[name=line-{index}-urgency]", urgency)
    shoot(page, "quote-editor", "en")
    page.click("button[value=save]")
    page.wait_for_url(f"{base}/visits/{visit}#quote")
    shoot.element(page, "#quote", "quote-options", "en")
    in_language(page, base, "zh_CN", f"/visits/{visit}")
    shoot.element(page, "#quote", "quote-options", "zh_CN")
    page.goto(f"{base}/visits/{visit}/quote")
    shoot(page, "quote-editor", "zh_CN")
    for lang in LANGUAGES:
        in_language(page, base, lang, f"/visits/{visit}/quote")
        page.click("button[value=add_option]")
        page.fill("input[name=option-2-label]", "Pads only" if lang == "en" else "只换刹车片")
        page.click("button[value=save]")
        shoot(page, "quote-editor-error", lang)
    for lang in LANGUAGES:  # a discount bigger than the work it goes with
        in_language(page, base, lang, f"/visits/{visit}/quote")
        page.click("button[value=add_line]")
        page.select_option("select[name=line-6-kind]", "discount")
        page.fill("input[name=line-6-description]", "Loyalty discount")
        page.fill("input[name=line-6-unit_price]", "5000")
        page.fill("input[name=tax_percent]", "13%")
        page.click("button[value=save]")
        shoot(page, "quote-editor-discount-error", lang)
    context.close()


def customer_phone(browser: Any, base: str, link: str, shoot: Shooter) -> None:
    """The customer compares the options on the phone, chooses one, answers and signs."""
    pages = {}
    for lang in LANGUAGES:
        context = browser.new_context(**PHONE, locale="zh-CN" if lang == "zh_CN" else "en-GB")
        page = context.new_page()
        in_language(page, base, lang, link.removeprefix(base))
        shoot(page, "customer-quote", lang)
        sign_with_finger(page)
        page.click("button.big")
        shoot(page, "customer-error", lang)
        page.goto(link)
        page.click(".option-card >> nth=0")
        items = page.locator(".quote-item:visible")
        for index in range(items.count()):  # yes to everything but the wiper blades
            choice = "declined" if "Wiper" in items.nth(index).inner_text() else "approved"
            items.nth(index).locator(f"input[value={choice}]").check()
        page.fill("input[name=signer_name]", "刘洋")
        sign_with_finger(page)
        shoot(page, "customer-signing", lang)
        pages[lang] = (context, page)
    context, page = pages["en"]
    page.click("button.big")
    page.wait_for_selector(".card.done")
    shoot(page, "customer-thanks", "en")
    context, page = pages["zh_CN"]
    page.goto(link)
    shoot(page, "customer-thanks", "zh_CN")
    page.goto(link[:-6] + "AAAAAA")
    shoot(page, "customer-link-invalid", "zh_CN")
    context, page = pages["en"]
    page.goto(link[:-6] + "AAAAAA")
    shoot(page, "customer-link-invalid", "en")
    for context, _page in pages.values():
        context.close()


def after_approval(browser: Any, base: str, ids: dict[str, str], shoot: Shooter) -> None:
    """The advisor sees the customer's choice; the customer's status page."""
    for lang in LANGUAGES:
        context = browser.new_context(**DESK)
        page = context.new_page()
        sign_in(page, base, lang, "li.na")
        page.goto(f"{base}/visits/{ids['liu-yang']}")
        shoot(page, "visit-approved", lang)
        context.close()
    for lang in LANGUAGES:
        phone = browser.new_context(**PHONE)
        page = phone.new_page()
        in_language(page, base, lang, f"/status/{ids['status-token']}")
        shoot(page, "status", lang)
        phone.close()


def revised_quote(browser: Any, base: str, ids: dict[str, str], shoot: Shooter) -> None:
    """The option quote goes out; on the phone a safety item is declined; the advisor
    revises (after confirming) and the open page says so; version 2 marks what changed."""
    visit = ids["zhao-min"]
    desk = browser.new_context(**DESK)
    advisor = desk.new_page()
    sign_in(advisor, base, "en", "li.na")
    advisor.goto(f"{base}/visits/{visit}")
    advisor.click("text=Send to the customer")
    link = advisor.input_value("#approval-link")
    phones = {}
    for lang in LANGUAGES:
        phone = browser.new_context(**PHONE)
        page = phone.new_page()
        in_language(page, base, lang, link.removeprefix(base))
        page.click(".option-card >> nth=0")
        page.locator(".option-items:visible .quote-item >> nth=0").locator(
            "input[value=declined]"
        ).check()
        page.locator(".option-items:visible .quote-item >> nth=0").scroll_into_view_if_needed()
        shoot(page, "customer-safety-confirm", lang, full_page=False)
        phones[lang] = page
    for lang in LANGUAGES:
        in_language(advisor, base, lang, f"/visits/{visit}")
        advisor.click("button[value=revise_quote]")
        shoot(advisor, "revise-confirm", lang)
    advisor.click("button[value=revise_quote]")
    for lang, page in phones.items():
        page.wait_for_selector("#link-closed:visible", timeout=30_000)
        shoot(page, "customer-updating", lang, full_page=False)
    in_language(advisor, base, "en", f"/visits/{visit}/quote")
    advisor.fill("input[name=line-2-unit_price]", "1080")
    advisor.click("button[value=add_line]")
    advisor.select_option("select[name=line-6-kind]", "fee")
    advisor.fill("input[name=line-6-description]", "Brake fluid disposal")
    advisor.fill("input[name=line-6-unit_price]", "20")
    advisor.fill("input[name=line-4-description]", "")  # the ceramic pads are taken out
    advisor.fill("input[name=line-4-unit_price]", "")
    advisor.click("button[value=save]")
    for lang in LANGUAGES:
        in_language(advisor, base, lang, f"/visits/{visit}/quote")
        shoot(advisor, "quote-editor-v2", lang)
    in_language(advisor, base, "en", f"/visits/{visit}")
    advisor.click("text=Send to the customer")
    link = advisor.input_value("#approval-link")
    for lang, page in phones.items():
        in_language(page, base, lang, link.removeprefix(base))
        page.click(".option-card >> nth=0")
        shoot(page, "customer-quote-v2", lang)
        page.context.close()
    desk.close()


def manager_pages(browser: Any, base: str, shoot: Shooter) -> None:
    """People with their tablet PINs, a refused PIN, a pairing code, the capacity
    settings and a refused rule, the quality checklists and a refused item, the reports, a
    refused form."""
    for lang in LANGUAGES:
        context = browser.new_context(**DESK)
        page = context.new_page()
        sign_in(page, base, lang, "manager")
        page.goto(f"{base}/admin")
        shoot(page, "admin", lang)
        row = page.locator("tr", has=page.locator("td", has_text="li.na"))
        row.locator("input[name=pin]").fill("12a4")
        row.locator(".pin-form button").click()
        shoot(page, "admin-pin-error", lang)
        page.goto(f"{base}/admin")
        page.fill("#devices input[name=device_name]", "Bay 2 tablet")
        page.select_option("#devices select[name=role]", "tablet")
        page.click("#devices button.primary")
        shoot(page, "admin-pairing", lang)
        page.goto(f"{base}/settings/capacity")
        shoot(page, "capacity-settings", lang)
        page.fill("#rules input[name=vip_share_percent]", "95")
        page.click("#rules button.primary")
        shoot(page, "capacity-settings-error", lang)
        page.goto(f"{base}/reports")
        shoot(page, "reports", lang)
        page.goto(f"{base}/settings/checklists")
        shoot(page, "checklists", lang)
        new_item = page.locator("#checklist-engine tr.item").nth(4)
        new_item.locator("input[name=en]").fill("Battery terminals tight")
        page.click("#checklist-engine button[value=save]")
        shoot(page, "checklists-error", lang)
        page.goto(f"{base}/admin")
        page.evaluate("document.querySelector('.pin-form input[name=csrf_token]').remove()")
        page.locator(".pin-form button").first.click()
        shoot(page, "error-csrf", lang)
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--keep", action="store_true", help="keep the demo server's folder")
    parser.add_argument(
        "--only",
        nargs="+",
        default=[],
        metavar="PAGE",
        help="re-render only these customer-file pages (e.g. customer-file), both languages",
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="web-screenshots-"))
    url = f"sqlite:///{root / 'shop.sqlite3'}"
    ids = prepare_shop(root, url)
    shoot = Shooter(args.out, frozenset(args.only))
    if not args.only:
        for old in args.out.glob("web-*.png"):
            old.unlink()
    try:
        with running_server(root, url) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                if args.only:
                    customer_file_pages(browser, base, ids, shoot)
                    return
                link = desk_pages(browser, base, ids, shoot)
                quote_editor(browser, base, ids, shoot)
                customer_phone(browser, base, link, shoot)
                after_approval(browser, base, ids, shoot)
                revised_quote(browser, base, ids, shoot)
                manager_pages(browser, base, shoot)
                customer_file_pages(browser, base, ids, shoot)
            finally:
                browser.close()
    finally:
        if args.keep:
            print(f"demo server folder kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(f"{len(shoot.written)} screenshots in {args.out}")


if __name__ == "__main__":
    main()
