"""Figures in running text — a number and its unit ("4,440 km", "48,210 公里", "¥500",
"12:56:57", "66 %") — that a line break must never split, and the closing marks a line
must never start with. The kiosk's and tablet's labels (``kiosk.ui.text_wrap``) and the
web pages (the ``figures`` filter of ``sync_server.web``) keep them whole.
"""

from __future__ import annotations

import re

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
CLOSING_MARKS = re.compile("[" + re.escape("".join(sorted(NO_LINE_START))) + "]*")


def figure_spans(text: str) -> list[tuple[int, int]]:
    """Where the figures of ``text`` start and end."""
    return [match.span() for match in FIGURE.finditer(text)]
