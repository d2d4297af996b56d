"""Figures in running text — a number and its unit ("4,440 km", "48,210 公里", "¥500",
"12:56:57", "66 %") — that a line break must never split, and the closing marks a line
must never start with. The kiosk's and tablet's labels (``kiosk.ui.text_wrap``), the
web pages (the ``figures`` filter of ``sync_server.web``) and the printed check-in sheet
(``shared.checkin_sheet``) keep them whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# Marks that must not start a line (Chinese and Latin closing punctuation).
NO_LINE_START = frozenset("。，、；：？！…）》」』】〕”’·.,;:?!)]}%")
# Units a figure is written with, in either language (longest first where one starts
# another: "mm" before "m", "minutes" before "min").
UNITS = (
    "km/h", "km", "mm", "cm", "kg", "MB", "KB", "GB", "kWh", "minutes", "minute", "min",
    "hours", "hour", "h", "days", "day", "seconds", "s", "%", "L",
    "公里", "千米", "毫米", "厘米", "公斤", "分钟", "小时", "秒", "天", "个月", "周", "年",
    "月", "日", "次", "项", "张", "辆", "位", "个", "份", "条", "元", "件",
)  # fmt: skip
_NUMBER = r"(?:[¥$€£]\s?)?\d(?:[\d,.:/\-]*\d)?"
_UNIT = "(?:" + "|".join(re.escape(unit) for unit in UNITS) + ")(?![A-Za-z])"
# A figure: a number ("4,440", "12:56:57", "2026-08-10", "¥500") and its unit, if any.
FIGURE = re.compile(_NUMBER + r"(?:\s?" + _UNIT + ")?")
# A Latin word (or code) that a layout breaking Chinese at any character must keep whole.
LATIN_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’/\-]*")
# Chinese, Japanese and Korean characters and their punctuation.
CJK = re.compile("[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")
CLOSING_MARKS = re.compile("[" + re.escape("".join(sorted(NO_LINE_START))) + "]*")


def figure_spans(text: str) -> list[tuple[int, int]]:
    """Where the figures of ``text`` start and end."""
    return [match.span() for match in FIGURE.finditer(text)]


MAX_FIXES = 8


def whole_spans(text: str, latin_words: bool = False) -> list[tuple[int, int]]:
    """The figures of ``text`` and, with ``latin_words``, its Latin words too ("Camry",
    "km/h"), in order: what a line break must not split."""
    figures = figure_spans(text)
    if not latin_words:
        return figures
    words = [
        match.span()
        for match in LATIN_WORD.finditer(text)
        if not any(start < match.end() and match.start() < end for start, end in figures)
    ]
    return sorted(figures + words)


def tidy_text(text: str, lines: list[str], latin_words: bool = False) -> str | None:
    """``text`` with one line break added where a break between ``lines`` (``text`` as
    Kivy laid it out) falls inside a figure (with ``latin_words``, inside a Latin word
    too: for a layout that breaks Chinese text at any character) or before a closing
    mark; None when every break is fine (or none can be helped).

    The figure (or the character before the mark) then starts the next line. Where
    the figure starts its line already, the rest of it is pulled up instead: the line
    ends after the figure and the marks that close it."""
    spans: list[tuple[int, int]] = []
    position = 0
    for line in lines:
        start = text.find(line, position)
        if start < 0 or not line:
            return None  # not the text these lines came from
        spans.append((start, start + len(line)))
        position = start + len(line)
    figures = whole_spans(text, latin_words)
    for index in range(1, len(spans)):
        (before_start, before_end), (line_start, _end) = spans[index - 1], spans[index]
        split = next((f for f in figures if f[0] < line_start and f[1] > before_end), None)
        if split is not None:
            start = split[0]
        elif text[line_start] in NO_LINE_START:
            closed = next((f for f in figures if f[1] == before_end), None)
            start = closed[0] if closed else before_end - 1
        else:
            continue
        if start > before_start:
            while text[start].isspace():
                start += 1
            return text[:start].rstrip() + "\n" + text[start:]
        # The figure is the whole line: end the line after it and its closing marks.
        figure_end = next((f[1] for f in figures if f[0] == start), before_end)
        cut = max(figure_end, line_start)
        cut += len(CLOSING_MARKS.match(text, cut).group())  # type: ignore[union-attr]
        if cut < len(text) and text[cut] != "\n":
            return text[:cut] + "\n" + text[cut:].lstrip()
    return None


def keep_figures_whole(
    text: str, lay_out: Callable[[str], list[str]], latin_words: bool = False
) -> str:
    """``text`` with the line breaks :func:`tidy_text` adds, for a layout engine that
    gives the lines it would draw (``lay_out``: a PDF's ``multi_cell`` in a dry run).
    Each paragraph is laid out on its own; each fix mends one break."""
    paragraphs = text.split("\n")
    for index, paragraph in enumerate(paragraphs):
        if not paragraph:
            continue
        lines = lay_out(paragraph)
        for _ in range(MAX_FIXES + 2 * len(lines)):
            better = tidy_text(paragraph, lines, latin_words)
            if better is None:
                break
            paragraph = better
            lines = lay_out(paragraph)
        paragraphs[index] = paragraph
    return "\n".join(paragraphs)
