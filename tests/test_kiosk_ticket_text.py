"""Wrapped text on the kiosk and the tablet: no punctuation mark alone at the start of a
line (a Chinese full stop on a line of its own looks broken), and no figure split from
its unit or in the middle ("4,440" / "km"), at every width, in both languages."""

from __future__ import annotations

import re
from typing import Any

import pytest

from shared.figures import NO_LINE_START, tidy_text

pytestmark = pytest.mark.ui

SENTENCES = {
    "en": "Scan to follow your car's progress on your phone.",
    "zh_CN": "扫描二维码，在手机上查看您爱车的维修进度。",
}
# What the tablet showed split: the kiosk's mileage against the walk-around's.
FIGURES = {
    "en": "Kiosk: 52,340 km (4,440 km more). This reading is kept.",
    "zh_CN": "自助机填写：52,340 km（多 4,440 km）。以本次读数为准。",
    "zh_CN_units": "这个读数比上次到店时记录的 48,210 公里多出 4,440 公里，请核对读数。",
    "zh_CN_tight": "这个读数比上次到店时记录的48,210公里多出4,440公里，请核对读数。",
}
WHOLE_FIGURES = ["52,340 km", "4,440 km", "48,210 公里", "4,440 公里", "48,210公里", "4,440公里"]


def orphans(lines: list[str]) -> list[str]:
    return [line for line in lines[1:] if line[:1] in NO_LINE_START]


def split_figures(text: str, lines: list[str]) -> list[str]:
    """The figures of ``text`` that no single line holds whole."""
    return [
        figure
        for figure in WHOLE_FIGURES
        if figure in text and not any(figure in line for line in lines)
    ]


def test_tidy_text_moves_the_figure_or_the_character_before_the_mark_down() -> None:
    text = "扫描二维码，在手机上查看您爱车的维修进度。"
    fixed = tidy_text(text, ["扫描二维码，在手机上查看您爱车的维修进度", "。"])
    assert fixed == "扫描二维码，在手机上查看您爱车的维修进\n度。"
    text = FIGURES["zh_CN"]
    fixed = tidy_text(text, ["自助机填写：52,340 km（多 4,440", "km）。以本次读数为准。"])
    assert fixed == "自助机填写：52,340 km（多\n4,440 km）。以本次读数为准。"
    assert tidy_text("已保存 12:56:57", ["已保存 12:5", "6:57"]) == "已保存\n12:56:57"
    assert tidy_text("应付 ¥500", ["应付 ¥", "500"]) == "应付\n¥500"
    assert tidy_text("Scan to follow your car.", ["Scan to follow", "your car."]) is None
    assert tidy_text("Photos 1 2 3", ["Photos 1", "2 3"]) is None  # two numbers, a space


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
        tidy = TidyLabel(text=sentence, font_size=24, text_size=(width, None), width=width)
        assert not orphans(tidy.lines()), (width, tidy.lines())
        assert "".join(tidy.lines()).replace(" ", "") == sentence.replace(" ", "")
        assert tidy.text == sentence  # what was given stays as given
        plain = Label(text=sentence, font_size=24, text_size=(width, None))
        plain.texture_update()
        plain_lines = ["".join(w.text for w in line.words) for line in plain._label._cached_lines]
        plain_orphans += bool(orphans(plain_lines))
    EventLoop.idle()
    if lang == "zh_CN":
        assert plain_orphans, "the widths tried never orphan a mark: the test proves nothing"


def test_no_figure_is_split_from_its_unit_at_any_width(kivy_window: Any) -> None:
    from kivy.base import EventLoop
    from kivy.uix.label import Label

    from kiosk.ui.fonts import register_fonts
    from kiosk.ui.text_wrap import TidyLabel

    register_fonts()
    plain_splits = 0
    for sentence in FIGURES.values():
        for width in range(170, 560, 7):
            tidy = TidyLabel(text=sentence, font_size=20, text_size=(width, None), width=width)
            lines = tidy.lines()
            assert not split_figures(sentence, lines), (width, lines)
            assert not orphans(lines), (width, lines)
            assert re.sub(r"\s", "", "".join(lines)) == re.sub(r"\s", "", sentence)
            plain = Label(text=sentence, font_size=20, text_size=(width, None))
            plain.texture_update()
            plain_lines = [
                "".join(w.text for w in line.words) for line in plain._label._cached_lines
            ]
            plain_splits += bool(split_figures(sentence, plain_lines))
    EventLoop.idle()
    assert plain_splits, "the widths tried never split a figure: the test proves nothing"
