"""Wrapped text that never splits a figure from its unit nor starts a line with a mark.

Kivy breaks Chinese text (which has no spaces) at whatever character no longer fits, and
Latin text at any space. So "…维修进度。" can end with "。" alone on the last line, and
"（多 4,440 km）" can end a line with "4,440" and start the next with "km". A
:class:`TidyLabel` lets Kivy lay its text out, then, where a line break falls inside a
figure ("4,440 km", "48,210 公里", "12:56:57", "¥500", "66 %") or right before a closing
mark, it breaks the line earlier, so the figure (or the character before the mark)
starts the next line whole (the rule Chinese typesetting calls 避头点). Its ``text`` is
what was given; only what is drawn has the line breaks added.
"""

from __future__ import annotations

from typing import Any

from kivy.uix.label import Label

from shared.figures import MAX_FIXES, tidy_text


class TidyLabel(Label):
    """A label whose wrapped lines never split a figure nor start with a mark (see the
    module's words). It tidies only wrapped plain text: a label with markup, shortened
    or without a width to wrap at is drawn as Kivy draws it."""

    def _tidies(self) -> bool:
        return bool(
            self.text and not self.markup and not self.shorten and self.text_size[0] is not None
        )

    def texture_update(self, *largs: Any) -> None:
        core = self._label
        if self._tidies():
            core.text = self.text  # what an earlier width made of it no longer holds
        super().texture_update(*largs)
        if not self._tidies():
            return
        fixed = None
        for _ in range(MAX_FIXES):
            better = tidy_text(core.text, self._core_lines())
            if better is None:
                break
            fixed = core.text = better
            core.render()  # lays the lines out again, without drawing
        if fixed is not None:
            super().texture_update()

    def _core_lines(self) -> list[str]:
        return [
            "".join(word.text for word in line.words)
            for line in getattr(self._label, "_cached_lines", [])
        ]

    def lines(self) -> list[str]:
        """The lines as drawn."""
        self.texture_update()
        return self._core_lines()
