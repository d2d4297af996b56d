"""Debian's Chromium, headless, started the one way the browser tests, the screenshot
scripts (``scripts/web_screenshot_shop.py``) and the live board benchmark all use:
Playwright's Python package driving the system's ``chromium`` (Playwright's own browser
download is not used). No pytest here, so the scripts import it too.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--font-render-hinting=none",  # the same glyphs on every machine, for screenshots
]


def chromium_installed() -> bool:
    return Path(CHROMIUM).exists()


@contextmanager
def headless_chromium() -> Iterator[Any]:
    """A Playwright ``Browser`` on the system's Chromium, closed on leaving."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
