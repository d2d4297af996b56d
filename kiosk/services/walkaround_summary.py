"""What the customer reads above the signature pad: the walk-around, line by line,
in the words of the printed check-in sheet (``shared.checkin_words``)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.checkin_words import BELONGINGS, SHEET_WORDS, TYRES, WARNING_LIGHTS
from shared.domain import TYRE_POSITIONS, DiagramView, Walkaround, damage_label, label
from shared.i18n import Text


@dataclass(frozen=True)
class SummaryLine:
    """One line of what the customer signs under: a label and its value, bilingual."""

    label: Text
    parts: tuple[str | Text | TreadDepth, ...]
    separator: str = " · "

    def render(self, lang: str) -> tuple[str, str]:
        """(label, value) in ``lang``."""
        value = self.separator.join(
            part if isinstance(part, str) else part.render(lang) for part in self.parts
        )
        return self.label.render(lang), value


@dataclass(frozen=True)
class TreadDepth:
    """One tyre's tread on the summary: "Front left 3.2 mm" in the reader's language."""

    position: str
    depth_mm: float

    def render(self, lang: str) -> str:
        return f"{TYRES[self.position].render(lang)} {self.depth_mm:.1f} mm"


def sheet_summary(walkaround: Walkaround, photo_count: int) -> list[SummaryLine]:
    """The summary of ``walkaround`` (with ``photo_count`` photos), line by line."""
    w = walkaround
    none = SHEET_WORDS["none"]
    kept: list[str | Text | TreadDepth] = [
        text for name, text in BELONGINGS.items() if getattr(w.belongings, name)
    ]
    if w.belongings.other_note:
        kept.append(w.belongings.other_note)
    lights: list[str | Text | TreadDepth] = [
        WARNING_LIGHTS[code] for code in sorted(w.warning_lights)
    ]
    lines = [
        SummaryLine(
            SHEET_WORDS["odometer"],
            ("—" if w.odometer_km is None else f"{w.odometer_km:,} km",),
        ),
        SummaryLine(
            SHEET_WORDS["fuel"],
            ("—" if w.fuel_eighths is None else f"{w.fuel_eighths}/8",),
        ),
        SummaryLine(SHEET_WORDS["lights"], tuple(lights) or (none,)),
        SummaryLine(SHEET_WORDS["belongings"], tuple(kept) or (none,)),
        SummaryLine(SHEET_WORDS["keys"], (str(w.belongings.keys_count),)),
    ]
    if w.tyre_tread_mm:
        tread = tuple(
            TreadDepth(position, w.tyre_tread_mm[position])
            for position in TYRE_POSITIONS
            if position in w.tyre_tread_mm
        )
        lines.append(SummaryLine(Text("Tyre tread", "kiosk"), tread))
    if w.exterior_notes:
        lines.append(SummaryLine(SHEET_WORDS["exterior"], (w.exterior_notes,)))
    if w.interior_notes:
        lines.append(SummaryLine(SHEET_WORDS["interior"], (w.interior_notes,)))
    lines.append(SummaryLine(SHEET_WORDS["photos"], (str(photo_count),)))
    if not w.marks:
        lines.append(SummaryLine(Text("Damage", "kiosk"), (Text("None recorded", "kiosk"),)))
    for mark in sorted(w.marks, key=lambda m: (str(m.view), m.y, m.x)):
        parts: tuple[str | Text | TreadDepth, ...] = (
            mark.condition_code,
            damage_label(mark.damage_type),
        )
        if mark.note:
            parts += (mark.note,)
        if mark.pins:
            parts += (Text("(photos: {count})", "kiosk", {"count": len(mark.pins)}),)
        lines.append(SummaryLine(label(DiagramView(mark.view)), parts, " "))
    return lines
