"""Screenshots of every back-office page and of the customer's phone pages, in English
and Simplified Chinese: ``docs/screenshots/web-<page>-<lang>.png``.

Seeds the demo shop (``sync_server.demo``) in a temporary folder, locks one advisor's
tablet PIN with wrong tries, starts ``checkin-server serve`` on it and walks the pages
in Debian's Chromium through Playwright (Playwright's own browser download is not used):
the desk at 1440×900, the customer's phone at 390×844. On the way it writes a quote with
options in the editor, and the customer chooses an option and signs on the phone, so the
pages after those steps are real too (``render_quote_screenshots.py``); the demo shop, the
server and the browser are set up by ``web_screenshot_shop.py``. Usage::

    .venv/bin/python scripts/render_web_screenshots.py [--out docs/screenshots] [--keep]
        [--only customer-file …]   # re-render only these customer-file pages
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path
from typing import Any

from render_quote_screenshots import after_approval, customer_phone, quote_editor, revised_quote
from web_screenshot_shop import (
    DESK,
    LANGUAGES,
    REPO,
    Shooter,
    desk_page,
    headless_chromium,
    in_language,
    prepare_shop,
    running_server,
    sign_in,
)


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


def manager_pages(browser: Any, base: str, shoot: Shooter) -> None:
    """People with their tablet PINs, a refused PIN, a pairing code, the capacity
    settings and a refused rule, the quality checklists and a refused item, the reports, a
    refused form."""
    for lang in LANGUAGES:
        with desk_page(browser, base, lang, "manager") as page:
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


def customer_file_pages(browser: Any, base: str, ids: dict[str, str], shoot: Shooter) -> None:
    """Search, the customer page, the vehicle health file, duplicates and the tier rules."""
    for lang in LANGUAGES:
        with desk_page(browser, base, lang, "manager") as page:
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
    args.out.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="web-screenshots-"))
    url = f"sqlite:///{root / 'shop.sqlite3'}"
    ids = prepare_shop(root, url)
    shoot = Shooter(args.out, frozenset(args.only))
    if not args.only:
        for old in args.out.glob("web-*.png"):
            old.unlink()
    try:
        with running_server(root, url) as base, headless_chromium() as browser:
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
        if args.keep:
            print(f"demo server folder kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(f"{len(shoot.written)} screenshots in {args.out}")


if __name__ == "__main__":
    main()
