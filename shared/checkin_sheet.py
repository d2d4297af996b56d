"""The check-in sheet (接车单) drawn as an A4 PDF from plain records, for any reader.

The server prints it from what tablets synced (``sync_server.sheets``), and the advisor
tablet prints the very same sheet from its own local records, so it prints offline too
(``kiosk.services.printing``). Each side gathers a :class:`SheetContent` from where it
keeps its records and passes the words of the sheet in the reader's language
(``labels``: one string per key of :data:`LABEL_KEYS`, made by
``shared.checkin_words.sheet_labels``, the one definition of the sheet's words); this
module only draws. No database, no Flask, no Kivy here: fpdf2 and the domain.

It shows what the customer and the advisor agreed at the walk-around: the shop, the
customer, the car, what the customer came for, the car diagram with every damage mark
at its place with its auction code (damage seen at earlier visits in grey, outlined),
the photos with their pins, odometer, fuel, warning lights, belongings, the consent,
the customer's signature with its date and time, and whether that signature still
covers the sheet as it is now.

Drawn in WenQuanYi Micro Hei (``assets/fonts/wqy-microhei.ttc``; fpdf2 reads the first
font of the collection), which has the Latin and the Chinese glyphs, so both languages
come out of one code path. Photos are placed from whatever picture ``photo_image``
gives (a thumbnail, ideally: nothing here decodes a full-size photo).
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Literal

from fpdf.enums import XPos, YPos

from shared.checkin_words import BELONGINGS, TYRES, WARNING_LIGHTS, sheet_labels
from shared.domain import (
    DamageMark,
    DiagramView,
    Signature,
    VisitPhoto,
    Walkaround,
    concern_label,
    damage_label,
    label,
)
from shared.figure_pdf import FiguresWholePDF
from shared.resources import cjk_font, diagram_dir

# fontTools logs every step of subsetting the font at INFO: noise in any log.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONT = cjk_font()
DIAGRAM = diagram_dir()
FONT_NAME = "wqy"

SheetState = Literal["signed_unchanged", "changed_after_signing", "unsigned"]
ImageSource = str | os.PathLike[str] | io.BytesIO

BELONGING_KEYS = tuple(BELONGINGS)
LIGHT_KEYS = tuple(WARNING_LIGHTS)
TYRE_KEYS = tuple(TYRES)
# Every word of the sheet; ``page`` holds a ``{number}`` placeholder.
LABEL_KEYS: frozenset[str] = frozenset(sheet_labels("en"))

INK = (17, 17, 17)
GREY = (120, 120, 120)
MARK_RED = (200, 30, 30)
EARLIER_GREY = (110, 110, 110)
RULE = (190, 190, 190)
STATE_COLOURS = {
    "signed_unchanged": (20, 120, 50),
    "changed_after_signing": (190, 40, 30),
    "unsigned": (160, 100, 0),
}

# Where each drawing sits on the page (x, y from the diagram box's corner; width), mm.
DIAGRAM_LAYOUT: dict[DiagramView, tuple[float, float, float]] = {
    DiagramView.left: (0, 0, 94),
    DiagramView.right: (96, 0, 94),
    DiagramView.top: (0, 44, 94),
    DiagramView.front: (98, 46, 44),
    DiagramView.rear: (146, 46, 44),
}
DIAGRAM_HEIGHT = 89.0
PHOTO_BOX = (44.0, 33.0)  # mm; 4:3, what a camera takes
ASPECT = {
    DiagramView.left: 420 / 1000,
    DiagramView.right: 420 / 1000,
    DiagramView.top: 460 / 1000,
    DiagramView.front: 420 / 600,
    DiagramView.rear: 420 / 600,
}


def _no_picture(_sha256: str) -> ImageSource | None:
    return None


@dataclass(frozen=True)
class SheetContent:
    """Everything one visit's sheet shows, gathered by the server or by a tablet.

    ``walkaround`` carries its marks (taken-back ones left out) and photos;
    ``photo_image(sha256)`` gives the picture to place for a photo, or ``None`` while it
    has not arrived (a "not received yet" box is drawn); ``signature_image`` likewise for
    the signature's PNG. Times are shown in ``timezone``.
    """

    shop_name: str
    ticket_number: str
    shop_contact: str = ""
    checked_in_at: datetime | None = None
    customer_name: str = ""
    customer_phone: str = ""
    plate: str = ""
    car: str = ""
    vin: str = ""
    concern_codes: Sequence[str] = ()
    concern_text: str = ""
    walkaround: Walkaround | None = None
    photos: Sequence[VisitPhoto] = ()
    earlier_marks: Sequence[DamageMark] = ()
    signature: Signature | None = None
    state: SheetState = "unsigned"
    consent_version: str = ""
    consent_accepted_at: datetime | None = None
    timezone: tzinfo = UTC
    photo_image: Callable[[str], ImageSource | None] = field(default=_no_picture)
    signature_image: ImageSource | None = None


class _Sheet(FiguresWholePDF):
    def __init__(self, labels: Mapping[str, str], footer_text: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.labels = labels
        self.footer_text = footer_text
        self.set_auto_page_break(auto=True, margin=14)
        self.set_margins(10, 10, 10)
        self.add_font(FONT_NAME, "", str(FONT))
        self.set_font(FONT_NAME, size=9)
        self.set_creator("Service Lane Check-in")

    def t(self, key: str) -> str:
        return self.labels[key]

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(FONT_NAME, size=7)
        self.set_text_color(*GREY)
        page = self.t("page").format(number=self.page_no())
        self.cell(0, 4, f"{self.footer_text} · {page}", align="C")
        self.set_text_color(*INK)

    def heading(self, text: str) -> None:
        self.ln(1.5)
        self.set_font(FONT_NAME, size=11)
        self.cell(0, 6, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*RULE)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.set_draw_color(*INK)
        self.set_font(FONT_NAME, size=9)
        self.ln(1)

    def pair(self, name: str, value: str, width: float = 38) -> None:
        self.set_text_color(*GREY)
        self.cell(width, 5, name)
        self.set_text_color(*INK)
        self.multi_cell(0, 5, value or "—", align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render_sheet_pdf(content: SheetContent, labels: Mapping[str, str], lang: str) -> bytes:
    """The PDF bytes of the sheet; ``labels`` are its words in ``lang`` (see LABEL_KEYS)."""
    missing = LABEL_KEYS - labels.keys()
    if missing:
        raise ValueError(f"check-in sheet labels missing: {', '.join(sorted(missing))}")
    walkaround = content.walkaround

    def local(moment: datetime | None) -> str:
        return moment.astimezone(content.timezone).strftime("%Y-%m-%d %H:%M") if moment else "—"

    pdf = _Sheet(labels, f"{content.shop_name} · {content.ticket_number}")
    pdf.set_title(f"{pdf.t('title')} {content.ticket_number}")
    pdf.add_page()

    # -- header
    pdf.set_font(FONT_NAME, size=15)
    pdf.cell(120, 8, content.shop_name)
    pdf.set_font(FONT_NAME, size=13)
    pdf.cell(0, 8, pdf.t("title"), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT_NAME, size=8)
    pdf.set_text_color(*GREY)
    pdf.cell(120, 5, content.shop_contact)
    pdf.cell(
        0,
        5,
        f"{pdf.t('ticket')} {content.ticket_number} · {pdf.t('checked_in')} "
        f"{local(content.checked_in_at)}",
        align="R",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.set_text_color(*INK)
    pdf.set_font(FONT_NAME, size=9)

    # -- customer and car, side by side
    top = pdf.get_y() + 2
    pdf.set_y(top)
    pdf.heading(pdf.t("customer"))
    pdf.pair(pdf.t("customer"), content.customer_name)
    pdf.pair(pdf.t("phone"), content.customer_phone)
    left_bottom = pdf.get_y()
    pdf.set_xy(105, top)
    pdf.set_left_margin(105)
    pdf.heading(pdf.t("vehicle"))
    pdf.pair(pdf.t("plate"), content.plate, 26)
    pdf.pair(pdf.t("model"), content.car, 26)
    pdf.pair(pdf.t("vin"), content.vin, 26)
    pdf.set_left_margin(10)
    pdf.set_xy(10, max(left_bottom, pdf.get_y()))

    # -- concern
    pdf.heading(pdf.t("concern"))
    concerns = [concern_label(code).render(lang) for code in content.concern_codes]
    text = " · ".join(concerns)
    if content.concern_text:
        text = f"{text} — {content.concern_text}" if text else content.concern_text
    pdf.multi_cell(0, 5, text or "—", align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # -- the diagram
    pdf.heading(pdf.t("diagram"))
    if walkaround is None:
        pdf.set_text_color(*STATE_COLOURS["unsigned"])
        pdf.multi_cell(0, 5, pdf.t("no_walkaround"), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(*INK)
    marks = walkaround.marks if walkaround else []
    numbers = _draw_diagram(pdf, marks, content.earlier_marks, lang)
    pdf.set_font(FONT_NAME, size=7)
    pdf.set_text_color(*GREY)
    pdf.multi_cell(0, 3.6, pdf.t("legend"), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.multi_cell(0, 3.6, pdf.t("codes"), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*INK)
    pdf.set_font(FONT_NAME, size=9)

    if walkaround is not None:
        # -- the car's state
        pdf.heading(f"{pdf.t('odometer')} · {pdf.t('fuel')} · {pdf.t('belongings')}")
        odometer = "—" if walkaround.odometer_km is None else f"{walkaround.odometer_km:,} km"
        pdf.pair(pdf.t("odometer"), odometer)
        pdf.set_text_color(*GREY)
        pdf.cell(38, 5, pdf.t("fuel"))
        pdf.set_text_color(*INK)
        _fuel_gauge(pdf, walkaround.fuel_eighths)
        lights = [labels.get(f"light.{code}", code) for code in sorted(walkaround.warning_lights)]
        pdf.pair(pdf.t("lights"), " · ".join(lights) or pdf.t("none"))
        _belongings(pdf, walkaround)
        if walkaround.tyre_tread_mm:
            tread = " · ".join(
                f"{pdf.t(f'tyre.{p}')} {walkaround.tyre_tread_mm[p]:.1f}"
                for p in TYRE_KEYS
                if p in walkaround.tyre_tread_mm
            )
            pdf.pair(pdf.t("tread"), tread)
        if walkaround.exterior_notes:
            pdf.pair(pdf.t("exterior"), walkaround.exterior_notes)
        if walkaround.interior_notes:
            pdf.pair(pdf.t("interior"), walkaround.interior_notes)

        # -- the marks, listed
        pdf.heading(pdf.t("marks"))
        if not walkaround.marks:
            pdf.cell(0, 5, pdf.t("no_marks"), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        for mark in walkaround.marks:
            line = (
                f"{numbers[mark.id]}.  {mark.condition_code}  "
                f"{damage_label(mark.damage_type).render(lang)} — "
                f"{label(DiagramView(mark.view)).render(lang)}"
            )
            if mark.note:
                line += f": {mark.note}"
            if mark.pins:
                line += f"  ({pdf.t('photos')}: {len(mark.pins)})"
            pdf.multi_cell(0, 5, line, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

        # -- photos
        if content.photos:
            if pdf.get_y() + 10 + PHOTO_BOX[1] + 6 > pdf.h - 16:
                pdf.add_page()  # the heading goes with its first row of photos
            pdf.heading(pdf.t("photos"))
            _photos(pdf, content, numbers)

    # -- consent, signature, check
    if pdf.get_y() > pdf.h - 80:
        pdf.add_page()
    pdf.heading(pdf.t("consent"))
    pdf.multi_cell(0, 4.6, pdf.t("consent_text"), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if content.consent_version:
        pdf.set_text_color(*GREY)
        pdf.cell(
            0,
            5,
            f"{pdf.t('privacy_agreed')}: {content.consent_version} · "
            f"{local(content.consent_accepted_at)}",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.set_text_color(*INK)
    pdf.ln(2)
    signature = content.signature
    y = pdf.get_y()
    pdf.set_text_color(*GREY)
    pdf.cell(60, 5, pdf.t("signature"), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*INK)
    pdf.set_draw_color(*RULE)
    pdf.rect(10, y + 6, 80, 30)
    pdf.set_draw_color(*INK)
    if signature is not None and signature.image is not None:
        if content.signature_image is not None:
            pdf.image(content.signature_image, 11, y + 7, 78, 28)
        else:
            pdf.set_xy(12, y + 18)
            pdf.set_text_color(*GREY)
            pdf.cell(76, 5, pdf.t("photo_pending"), align="C")
            pdf.set_text_color(*INK)
    pdf.set_xy(95, y + 6)
    pdf.set_left_margin(95)
    if signature is not None:
        if signature.signer_name:
            pdf.pair(pdf.t("customer"), signature.signer_name, 32)
        pdf.pair(pdf.t("signed_at"), local(signature.signed_at), 32)
    else:
        pdf.pair(pdf.t("signed_at"), pdf.t("not_signed"), 32)
    if walkaround is not None:
        pdf.pair(pdf.t("version"), str(walkaround.version), 32)
    pdf.set_text_color(*GREY)
    pdf.cell(32, 5, pdf.t("verification"))
    pdf.set_text_color(*STATE_COLOURS[content.state])
    pdf.multi_cell(
        0, 5, pdf.t(f"state.{content.state}"), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.set_text_color(*INK)
    if signature is not None:
        pdf.set_font(FONT_NAME, size=6.5)
        pdf.set_text_color(*GREY)
        pdf.multi_cell(
            0,
            3.4,
            f"{pdf.t('fingerprint')}: {signature.signed_sha256}",
            align="L",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.set_text_color(*INK)
        pdf.set_font(FONT_NAME, size=9)
    pdf.set_left_margin(10)
    pdf.set_y(max(pdf.get_y(), y + 38))
    return bytes(pdf.output())


def _draw_diagram(
    pdf: _Sheet, marks: Sequence[DamageMark], earlier: Sequence[DamageMark], lang: str
) -> dict[str, int]:
    """The five drawings with the marks on them; returns each mark's number on the sheet."""
    if pdf.get_y() + DIAGRAM_HEIGHT > pdf.h - 20:
        pdf.add_page()
    left, top = pdf.l_margin, pdf.get_y()
    numbers = {mark.id: index for index, mark in enumerate(marks, start=1)}
    for view, (dx, dy, width) in DIAGRAM_LAYOUT.items():
        height = width * ASPECT[view]
        x, y = left + dx, top + dy
        pdf.image(str(DIAGRAM / f"{view.value}@2x.png"), x, y, width, height)
        pdf.set_font(FONT_NAME, size=7)
        pdf.set_text_color(*GREY)
        pdf.set_xy(x, y - 0.5)
        pdf.cell(width, 3, label(view).render(lang))
        for old in earlier:
            if old.view == view:
                _badge(pdf, x + old.x * width, y + old.y * height, old, None)
        for mark in marks:
            if mark.view == view:
                _badge(pdf, x + mark.x * width, y + mark.y * height, mark, numbers[mark.id])
    pdf.set_text_color(*INK)
    pdf.set_font(FONT_NAME, size=9)
    pdf.set_xy(left, top + DIAGRAM_HEIGHT)
    return numbers


def _badge(pdf: _Sheet, cx: float, cy: float, mark: DamageMark, number: int | None) -> None:
    """A mark as the sheet draws it: a red disc with its code, or a grey ring if earlier."""
    radius = 2.6
    pdf.set_line_width(0.35)
    if number is None:
        pdf.set_draw_color(*EARLIER_GREY)
        pdf.set_fill_color(255, 255, 255)
        pdf.set_dash_pattern(0.8, 0.5)
        pdf.ellipse(cx - radius, cy - radius, 2 * radius, 2 * radius, style="DF")
        pdf.set_dash_pattern()
        pdf.set_text_color(*EARLIER_GREY)
    else:
        pdf.set_draw_color(255, 255, 255)
        pdf.set_fill_color(*MARK_RED)
        pdf.ellipse(cx - radius, cy - radius, 2 * radius, 2 * radius, style="DF")
        pdf.set_text_color(255, 255, 255)
    pdf.set_font(FONT_NAME, size=6)
    pdf.set_xy(cx - radius, cy - 1.5)
    pdf.cell(2 * radius, 3, mark.condition_code, align="C")
    if number is not None:
        pdf.set_text_color(*MARK_RED)
        pdf.set_font(FONT_NAME, size=5.5)
        pdf.set_xy(cx + radius - 0.4, cy - radius - 1.8)
        pdf.cell(4, 2.5, str(number))
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.2)


def _fuel_gauge(pdf: _Sheet, eighths: int | None) -> None:
    x, y = pdf.get_x(), pdf.get_y() + 1
    for step in range(8):
        filled = eighths is not None and step < eighths
        pdf.set_fill_color(*(INK if filled else (255, 255, 255)))
        pdf.rect(x + step * 5, y, 4.4, 3, style="DF")
    pdf.set_xy(x + 42, pdf.get_y())
    pdf.cell(
        0,
        5,
        "—" if eighths is None else f"{eighths}/8",
        align="L",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )


def _belongings(pdf: _Sheet, walkaround: Walkaround) -> None:
    belongings = walkaround.belongings
    pdf.set_text_color(*GREY)
    pdf.cell(38, 5, pdf.t("belongings"))
    pdf.set_text_color(*INK)
    x = pdf.get_x()
    for name in BELONGING_KEYS:
        ticked = getattr(belongings, name)
        box_y = pdf.get_y() + 1
        pdf.rect(x, box_y, 3, 3)
        if ticked:
            pdf.line(x + 0.5, box_y + 1.6, x + 1.3, box_y + 2.6)
            pdf.line(x + 1.3, box_y + 2.6, x + 2.7, box_y + 0.4)
        pdf.set_x(x + 4)
        caption = pdf.t(f"belonging.{name}")
        pdf.cell(pdf.get_string_width(caption) + 5, 5, caption)
        x = pdf.get_x()
    pdf.ln(5)
    pdf.pair(pdf.t("keys"), str(belongings.keys_count))
    if belongings.other_note:
        pdf.pair(pdf.t("other"), belongings.other_note)


def _photos(pdf: _Sheet, content: SheetContent, numbers: dict[str, int]) -> None:
    box_w, box_h = PHOTO_BOX
    gap, per_row = 3.5, 4
    marks = content.walkaround.marks if content.walkaround else []
    row_top = pdf.get_y()
    for index, photo in enumerate(content.photos):
        if index % per_row == 0:
            if pdf.get_y() + box_h + 6 > pdf.h - 16:
                pdf.add_page()
            row_top = pdf.get_y()
        x = pdf.l_margin + (index % per_row) * (box_w + gap)
        ref = photo.image
        scale = min(box_w / ref.width, box_h / ref.height)
        width, height = ref.width * scale, ref.height * scale
        picture = content.photo_image(ref.sha256)
        if picture is not None:
            pdf.image(picture, x, row_top, width, height)
            for mark in marks:
                for pin in mark.pins:
                    if pin.photo_sha256 == ref.sha256:
                        spot = (x + pin.x * width, row_top + pin.y * height)
                        _badge(pdf, *spot, mark, numbers[mark.id])
        else:
            pdf.set_draw_color(*RULE)
            pdf.rect(x, row_top, width, height)
            pdf.set_draw_color(*INK)
            pdf.set_xy(x, row_top + height / 2 - 2.5)
            pdf.set_text_color(*GREY)
            pdf.set_font(FONT_NAME, size=7)
            pdf.cell(width, 5, pdf.t("photo_pending"), align="C")
        pdf.set_font(FONT_NAME, size=7)
        pdf.set_text_color(*GREY)
        pdf.set_xy(x, row_top + box_h + 0.5)
        pdf.cell(box_w, 3.5, photo.caption[:40])
        pdf.set_text_color(*INK)
        pdf.set_font(FONT_NAME, size=9)
        if index % per_row == per_row - 1 or index == len(content.photos) - 1:
            pdf.set_xy(pdf.l_margin, row_top + box_h + 5)
