"""Wrapped text that never leaves a punctuation mark alone at the start of a line.

Kivy breaks Chinese text (which has no spaces) at whatever character no longer fits, so
"…维修进度。" can end with "。" alone on the last line. :class:`TidyLabel` lays its
``words`` out, and where a line would start with a closing mark, it moves the character
before the mark down with it (the rule Chinese typesetting calls 避头点).
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.properties import StringProperty
from kivy.uix.label import Label

# Marks that must not start a line (Chinese and Latin closing punctuation).
NO_LINE_START = frozenset("。，、；：？！…）》」』】〕”’·.,;:?!)]}%")
MAX_FIXES = 8


def move_orphans(lines: list[str]) -> list[str] | None:
    """Lines with the first orphaned mark fixed, or None when there is none.

    The fix ends the line before one character earlier, so that character and the
    mark start the next line together; what follows is wrapped again by Kivy.
    """
    for index in range(1, len(lines)):
        line, before = lines[index], lines[index - 1]
        if line[:1] in NO_LINE_START and len(before.rstrip()) > 1:
            kept = before.rstrip()
            rest = kept[-1]
            for following in lines[index:]:
                rest = _join(rest, following)
            return [*lines[: index - 1], kept[:-1], rest]
    return None


def _join(left: str, right: str) -> str:
    """Two wrapped lines as one text again: Latin words had a space between them."""
    latin = left[-1:].isascii() and left[-1:].isalnum() and right[:1].isascii()
    return left + (" " if latin and right[:1].isalnum() else "") + right


class TidyLabel(Label):
    """A wrapping label for ``words``; its ``text`` is ``words`` with line breaks added
    where a mark would otherwise start a line."""

    words = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        self._relayout = Clock.create_trigger(lambda _dt: self.lay_out(), 0)
        super().__init__(**kwargs)
        self.bind(words=self._relayout, width=self._relayout, font_size=self._relayout)

    def lines(self) -> list[str]:
        """The lines as Kivy laid them out."""
        self.texture_update()
        return [
            "".join(word.text for word in line.words)
            for line in getattr(self._label, "_cached_lines", [])
        ]

    def lay_out(self) -> None:
        self.text = self.words
        for _ in range(MAX_FIXES):
            fixed = move_orphans(self.lines())
            if fixed is None:
                return
            self.text = "\n".join(fixed)
