"""What an advisor does in the quote editor, for the browser tests and the screenshot
scripts alike (no pytest here): fill one line, adding it first when the editor has no
row for it yet."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def fill_quote_line(
    page: Any,
    index: int,
    kind: str,
    description: str,
    numbers: Mapping[str, str] | None = None,
    *,
    option: str | None = None,
    urgency: str | None = None,
) -> None:
    """Line ``index`` of the quote: its kind, words and figures (``hours``,
    ``unit_price``, ...), and, when given, the option it belongs to and its urgency."""
    page.wait_for_load_state()  # a click on a link or button waits only for the page to begin
    if page.locator(f"select[name=line-{index}-kind]").count() == 0:
        page.click("button[value=add_line]")
        page.wait_for_load_state()
    if option is not None:
        page.select_option(f"select[name=line-{index}-option]", option)
    page.select_option(f"select[name=line-{index}-kind]", kind)
    page.fill(f"input[name=line-{index}-description]", description)
    for name, value in (numbers or {}).items():
        page.fill(f"input[name=line-{index}-{name}]", value)
    if urgency is not None:
        page.select_option(f"select[name=line-{index}-urgency]", urgency)
