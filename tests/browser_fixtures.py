"""One Chromium per test worker, for every browser test (a plugin listed in ``conftest``).

Launching Chromium costs about 1.4 s of CPU; a browser context costs almost nothing and
shares nothing with the others (cookies, storage, cache). So the worker launches the
browser once, when its first browser test asks for it, and each test opens contexts of
its own through :class:`BrowserForOneTest`, which closes them after the test: pages, their
open streams and their sign-ins end with the test that opened them.

Launched as ``headless_chromium.py`` launches it (Debian's ``chromium``, Playwright's
Python package).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from headless_chromium import CHROMIUM, headless_chromium

__all__ = ["CHROMIUM", "BrowserForOneTest"]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """The worker's Chromium (Playwright's sync API allows one per thread: every browser
    test takes this one)."""
    pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed")
    with headless_chromium() as browser:
        yield browser


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
