"""The ticket screen's sentences wrap without a punctuation mark alone on a line
(a Chinese full stop on a line of its own looks broken), in both languages."""

from __future__ import annotations

from typing import Any

import pytest

from kiosk.ui.text_wrap import NO_LINE_START, move_orphans

pytestmark = pytest.mark.ui

SENTENCES = {
    "en": "Scan to follow your car's progress on your phone.",
    "zh_CN": "扫描二维码，在手机上查看您爱车的维修进度。",
}


def orphans(lines: list[str]) -> list[str]:
    return [line for line in lines[1:] if line[:1] in NO_LINE_START]


def test_move_orphans_keeps_the_text_and_moves_one_character_down() -> None:
    lines = ["扫描二维码，在手机上查看您爱车的维修进度", "。"]
    fixed = move_orphans(lines)
    assert fixed == ["扫描二维码，在手机上查看您爱车的维修进", "度。"]
    assert move_orphans(fixed) is None
    assert "".join(fixed) == "".join(lines)
    assert move_orphans(["Scan to follow", "your car."]) is None


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_no_line_starts_with_a_mark_at_any_width(kivy_window: Any, lang: str) -> None:
    from kivy.base import EventLoop
    from kivy.uix.label import Label

    from kiosk.ui.fonts import register_fonts
    from kiosk.ui.text_wrap import TidyLabel

    register_fonts()
    sentence = SENTENCES[lang]
    plain_orphans = 0
    for width in range(160, 520, 6):
        tidy = TidyLabel(words=sentence, font_size=24, text_size=(width, None), width=width)
        tidy.lay_out()
        assert not orphans(tidy.lines()), (width, tidy.lines())
        assert tidy.text.replace("\n", "").replace(" ", "") == sentence.replace(" ", "")
        plain = Label(text=sentence, font_size=24, text_size=(width, None))
        plain.texture_update()
        plain_lines = ["".join(w.text for w in line.words) for line in plain._label._cached_lines]
        plain_orphans += bool(orphans(plain_lines))
    EventLoop.idle()
    if lang == "zh_CN":
        assert plain_orphans, "the widths tried never orphan a mark: the test proves nothing"
