"""One Chromium per test worker, for every browser test (a plugin listed in ``conftest``).

Launching Chromium costs about 1.4 s of CPU; a browser context costs almost nothing and
shares nothing with the others (cookies, storage, cache). So the worker launches the
browser once, when its first browser test asks for it, and each test opens contexts of
its own through :class:`BrowserForOneTest`, which closes them after the test: pages, their
open streams and their sign-ins end with the test that opened them.

Needs Debian's ``chromium`` (``scripts/setup.sh --test`` installs it) and Playwright's
Python package; Playwright's own browser download is not used.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """The worker's Chromium (Playwright's sync API allows one per thread: every browser
    test takes this one)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class BrowserForOneTest:
    """The worker's Chromium as one test sees it: it notes every Content-Security-Policy
    refusal its pages report, and :meth:`close` closes every context it opened."""

    def __init__(self, chromium: Any) -> None:
        self._chromium = chromium
        self._contexts: list[Any] = []
        self.refusals: list[str] = []

    def new_context(self, **options: Any) -> Any:
        context = self._chromium.new_context(**options)
        context.on("console", self._note)
        self._contexts.append(context)
        return context

    def _note(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.refusals.append(message.text)

    def close(self) -> None:
        for context in self._contexts:
            context.close()  # a context closed already: nothing happens
        self._contexts.clear()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._chromium, name)


@pytest.fixture
def browser_for_one_test(chromium: Any) -> Iterator[BrowserForOneTest]:
    """The worker's Chromium for one test; the contexts it opened closed after it."""
    browser = BrowserForOneTest(chromium)
    try:
        yield browser
    finally:
        browser.close()
