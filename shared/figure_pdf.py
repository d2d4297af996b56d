"""An fpdf2 document whose wrapped text keeps each figure whole: no line break between a
number and its unit ("123,456 km", "48,210 公里", "¥500", "6.5 mm") or inside the
number, and no line started with a closing mark, in English and in Chinese (the rules of
``shared.figures``, which the kiosk's labels and the web pages follow too).

fpdf2 breaks Latin text at any space and Chinese text (no spaces) at whatever character
no longer fits; a non-breaking space would help the first only. So ``multi_cell`` lays
the text out in a dry run first, and where a break falls inside a figure it breaks the
line before the figure instead. Text with Chinese in it is broken at any character
(fpdf2 would break it at its rare spaces), its Latin words kept whole like figures.
"""

from __future__ import annotations

from typing import Any

from fpdf import FPDF
from fpdf.enums import MethodReturnValue, WrapMode

from shared.figures import CJK, keep_figures_whole


class FiguresWholePDF(FPDF):
    _laying_out = False

    def multi_cell(  # type: ignore[override]
        self, w: float, h: float | None = None, text: str = "", *args: Any, **kwargs: Any
    ) -> Any:
        """fpdf2's ``multi_cell``, with no figure split from its unit ("123,456 km",
        "48,210 公里", "¥500") nor a line started with a closing mark, in either language:
        a dry run lays the text out, and ``shared.figures`` moves a break that falls
        inside a figure to before it."""
        # fpdf2's dry run calls ``multi_cell`` again, with writing switched off.
        if text and not kwargs.get("dry_run") and not self._laying_out:
            # Chinese has no spaces to break at: break at any character (a space inside
            # it, "80 km/h", would otherwise leave a line with two characters), and keep
            # the Latin words whole as well as the figures.
            chinese = CJK.search(text) is not None and "wrapmode" not in kwargs
            if chinese:
                kwargs["wrapmode"] = WrapMode.CHAR

            def lay_out(candidate: str) -> list[str]:
                self._laying_out = True
                try:
                    return super(FiguresWholePDF, self).multi_cell(
                        w,
                        h,
                        candidate,
                        dry_run=True,
                        output=MethodReturnValue.LINES,
                        wrapmode=kwargs.get("wrapmode", WrapMode.WORD),
                    )
                finally:
                    self._laying_out = False

            text = keep_figures_whole(text, lay_out, latin_words=chinese)
        return super().multi_cell(w, h, text, *args, **kwargs)


__all__ = ["FiguresWholePDF"]
