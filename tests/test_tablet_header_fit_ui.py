"""On the tablet's window (1280 × 800, ``kiosk.main.WINDOW_SIZE``), every header label and
every tab of the walk-around fits on one line, in English and in Chinese: the deferred
work's tab with a two-digit count, the signature state at its longest, the saved note
(and its failure), the queue's header. Driven by touches: a mark placed (so the sheet
is saved), the language toggled, back to the queue."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any

import pytest
from tablet_fixtures import (
    diagram_point,
    start_tablet_fixture,  # noqa: F401
    tablet_data_fixture,  # noqa: F401
    tap_at,
)

from kiosk.main import WINDOW_SIZE
from kiosk.ui.headless import HeadlessApp

pytestmark = pytest.mark.ui


def one_line(label: Any) -> list[str]:
    """What is wrong with how ``label`` shows its text (nothing when it fits one line)."""
    label.texture_update()
    lines = ["".join(word.text for word in line.words) for line in label._label._cached_lines]
    problems = []
    if len(lines) != 1:
        problems.append(f"{label.text!r} takes {len(lines)} lines: {lines}")
    if label.is_shortened:
        problems.append(f"{label.text!r} is cut short")
    if label.texture_size[0] > label.width:
        problems.append(f"{label.text!r} is {label.texture_size[0]} wide in {label.width}")
    return problems


def language_button(header: Any, lang: str) -> Any:
    return next(button for button in header.ids.language.children if button.language == lang)


def test_headers_and_tabs_fit_one_line_in_both_languages(
    start_tablet: Callable[..., HeadlessApp],
) -> None:
    harness = start_tablet()
    assert harness.size == WINDOW_SIZE == (1280, 800)
    app, flow = harness.app, harness.app.walkaround
    flow.deferred_count = 12
    damage = flow.screen("damage")
    tap_at(harness, *diagram_point(damage.ids.diagram, 0.4, 0.55))  # saved on the tablet
    harness.tap(damage.ids.editor_done)
    header = damage.ids.header
    ids = header.ids
    tabs = ["tab_damage", "tab_photos", "tab_car", "tab_belongings", "tab_deferred", "tab_sign"]
    checked: dict[str, list[str]] = {}
    for lang in ("en", "zh_CN"):
        harness.tap(language_button(header, lang))
        assert app.lang == lang
        assert ids.saved.text and ids.tab_deferred.text.endswith("(12)")
        shown = [ids[name] for name in (*tabs, "saved", "visit_title", "close", "state_chip")]
        for state in ("unsigned", "signed_unchanged", "changed_after_signing"):
            ids.state_chip.state_name = state
            harness.pump(2)
            checked[f"{lang} {state}"] = [p for label in shown for p in one_line(label)]
        flow.save_failed = True
        harness.pump(2)
        checked[f"{lang} not saved"] = one_line(ids.saved)
        flow.save_failed = False
        # The tabs, the saved note and the language toggle share the row without overlap.
        row = [ids[name] for name in tabs] + [ids.saved, ids.language]
        assert all(a.right <= b.x for a, b in pairwise(row)), lang
        assert ids.language.right <= header.right
    assert not any(checked.values()), {k: v for k, v in checked.items() if v}

    harness.tap(ids.close)  # back to the queue
    assert harness.screen == "queue"
    app.advisor_name = "Li Na 李娜"
    queue = app.manager.get_screen("queue")
    for lang in ("zh_CN", "en"):
        app.set_language(lang)
        harness.pump(3)
        labels = [queue.ids[name] for name in ("title", "advisor", "sign_out")]
        problems = [problem for label in labels for problem in one_line(label)]
        assert not problems, (lang, problems)
