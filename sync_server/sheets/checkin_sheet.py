"""The check-in sheet (接车单) as a one- or two-page A4 PDF, in English or Chinese.

It shows what the customer and the advisor agreed at the walk-around: the shop, the
customer, the car, what the customer came for, the car diagram with every damage mark
at its place with its auction code (damage seen at earlier visits in grey, outlined),
the photos with their pins, odometer, fuel, warning lights, belongings, the consent,
the customer's signature with its date and time, and whether that signature still
covers the sheet as it is now (``sync_server.walkarounds``).

Drawn with fpdf2 in WenQuanYi Micro Hei (``assets/fonts/wqy-microhei.ttc``; fpdf2 reads
the first font of the collection), which has the Latin and the Chinese glyphs, so both
languages come out of one code path. Nothing here decodes a full-size photo: photos are
placed from the blob store's thumbnails.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.domain import (
    DamageMark,
    DiagramView,
    concern_label,
    damage_label,
    label,
)
from shared.i18n import Text
from shared.wire import WireError, from_wire
from sync_server.models import Customer, SyncRecord, Vehicle, Visit
from sync_server.shop import shop_settings
from sync_server.sync.blobs import BlobStore
from sync_server.walkarounds import STATE_TEXT, AssembledWalkaround

# fontTools logs every step of subsetting the font at INFO: noise in the server's log.
logging.getLogger("fontTools").setLevel(logging.WARNING)

ASSETS = Path(__file__).resolve().parents[2] / "assets"
FONT = ASSETS / "fonts" / "wqy-microhei.ttc"
DIAGRAM = ASSETS / "diagram"
FONT_NAME = "wqy"

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

T = {
    "title": Text("Vehicle check-in sheet", "server"),
    "ticket": Text("Ticket", "server"),
    "checked_in": Text("Checked in", "server"),
    "customer": Text("Customer", "server"),
    "phone": Text("Phone", "server"),
    "vehicle": Text("Vehicle", "server"),
    "plate": Text("Plate", "server"),
    "vin": Text("VIN", "server"),
    "model": Text("Make and model", "server"),
    "concern": Text("What the customer came for", "server"),
    "diagram": Text("Condition of the car", "server"),
    "legend": Text(
        "Red: damage recorded today (code: letter and grade). Grey outline: damage "
        "recorded at an earlier visit.",
        "server",
    ),
    "codes": Text(
        "A scratch · U dent · G stone chip · Y crack · S rust · M missing · B broken · "
        "O other; 1 light, 2 clearly visible, 3 severe",
        "server",
    ),
    "marks": Text("Damage marks", "server"),
    "no_marks": Text("No damage recorded.", "server"),
    "photos": Text("Photos", "server"),
    "photo_pending": Text("Photo not received yet", "server"),
    "odometer": Text("Odometer", "server"),
    "fuel": Text("Fuel", "server"),
    "lights": Text("Warning lights on", "server"),
    "belongings": Text("Items left in the car", "server"),
    "keys": Text("Keys handed over", "server"),
    "other": Text("Other", "server"),
    "exterior": Text("Exterior notes", "server"),
    "interior": Text("Interior notes", "server"),
    "tread": Text("Tyre tread (mm)", "server"),
    "none": Text("None", "server"),
    "no_walkaround": Text("The walk-around has not been recorded yet.", "server"),
    "consent": Text("Confirmation", "server"),
    "consent_text": Text(
        "I walked around the car with the service advisor and confirm that this sheet "
        "records its condition, the fuel level, the odometer reading and the items left "
        "in it when I handed it over. My data is used only for service and communication "
        "and is kept strictly confidential.",
        "server",
    ),
    "privacy_agreed": Text("Privacy notice accepted", "server"),
    "signature": Text("Customer's signature", "server"),
    "signed_at": Text("Signed at", "server"),
    "not_signed": Text("Not signed", "server"),
    "verification": Text("Signature check", "server"),
    "version": Text("Sheet version", "server"),
    "fingerprint": Text("Fingerprint of the signed content", "server"),
}
BELONGING_LABELS = {
    "spare_wheel": Text("Spare wheel", "server"),
    "jack": Text("Jack and tools", "server"),
    "documents": Text("Vehicle documents", "server"),
    "valuables": Text("Valuables", "server"),
    "child_seat": Text("Child seat", "server"),
}
LIGHT_LABELS = {
    "engine": Text("Check engine", "server"),
    "abs": Text("ABS", "server"),
    "airbag": Text("Airbag", "server"),
    "oil": Text("Oil pressure", "server"),
    "battery": Text("Battery", "server"),
    "brake": Text("Brake system", "server"),
    "tyre_pressure": Text("Tyre pressure", "server"),
    "coolant": Text("Coolant temperature", "server"),
}
TYRES = {
    "fl": Text("front left", "server"),
    "fr": Text("front right", "server"),
    "rl": Text("rear left", "server"),
    "rr": Text("rear right", "server"),
}


class _Sheet(FPDF):
    def __init__(self, lang: str, footer_text: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.lang = lang
        self.footer_text = footer_text
        self.set_auto_page_break(auto=True, margin=14)
        self.set_margins(10, 10, 10)
        self.add_font(FONT_NAME, "", str(FONT))
        self.set_font(FONT_NAME, size=9)
        self.set_creator("Service Lane Check-in")

    def t(self, key: str) -> str:
        return T[key].render(self.lang)

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(FONT_NAME, size=7)
        self.set_text_color(*GREY)
        page = Text("Page {number}", "server", {"number": self.page_no()}).render(self.lang)
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


def render_checkin_sheet(
    session: Session, sheet: AssembledWalkaround, lang: str, blobs: BlobStore
) -> bytes:
    """The PDF bytes of the visit's check-in sheet in ``lang`` (``en`` or ``zh_CN``)."""
    shop = shop_settings(session)
    zone = ZoneInfo(shop.timezone)
    visit = session.get(Visit, sheet.visit_id)
    assert visit is not None
    customer = session.get(Customer, visit.customer_id)
    vehicle = session.get(Vehicle, visit.vehicle_id)
    walkaround = sheet.walkaround

    def local(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else "—"

    pdf = _Sheet(lang, f"{shop.name} · {visit.ticket_number}")
    pdf.set_title(f"{T['title'].render(lang)} {visit.ticket_number}")
    pdf.add_page()

    # -- header
    pdf.set_font(FONT_NAME, size=15)
    pdf.cell(120, 8, shop.name)
    pdf.set_font(FONT_NAME, size=13)
    pdf.cell(0, 8, pdf.t("title"), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT_NAME, size=8)
    pdf.set_text_color(*GREY)
    contact = " · ".join(part for part in (shop.address, shop.phone) if part)
    pdf.cell(120, 5, contact)
    pdf.cell(
        0,
        5,
        f"{pdf.t('ticket')} {visit.ticket_number} · {pdf.t('checked_in')} "
        f"{local(visit.checked_in_at)}",
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
    pdf.pair(pdf.t("customer"), customer.name if customer else "")
    pdf.pair(pdf.t("phone"), customer.phone if customer else "")
    left_bottom = pdf.get_y()
    pdf.set_xy(105, top)
    pdf.set_left_margin(105)
    pdf.heading(pdf.t("vehicle"))
    car = " ".join(str(part) for part in (vehicle.make, vehicle.model, vehicle.year) if part)
    pdf.pair(pdf.t("plate"), vehicle.plate if vehicle else "", 20)
    pdf.pair(pdf.t("model"), car if vehicle else "", 20)
    pdf.pair(pdf.t("vin"), vehicle.vin if vehicle else "", 20)
    pdf.set_left_margin(10)
    pdf.set_xy(10, max(left_bottom, pdf.get_y()))

    # -- concern
    pdf.heading(pdf.t("concern"))
    concerns = [concern_label(code).render(lang) for code in visit.concern_codes or []]
    text = " · ".join(concerns)
    if visit.concern_text:
        text = f"{text} — {visit.concern_text}" if text else visit.concern_text
    pdf.multi_cell(0, 5, text or "—", align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # -- the diagram
    pdf.heading(pdf.t("diagram"))
    if walkaround is None:
        pdf.set_text_color(*STATE_COLOURS["unsigned"])
        pdf.multi_cell(0, 5, pdf.t("no_walkaround"), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(*INK)
    numbers = _draw_diagram(pdf, walkaround.marks if walkaround else [], sheet)
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
        lights = [
            LIGHT_LABELS[code].render(lang) if code in LIGHT_LABELS else code
            for code in sorted(walkaround.warning_lights)
        ]
        pdf.pair(pdf.t("lights"), " · ".join(lights) or pdf.t("none"))
        _belongings(pdf, walkaround)
        if walkaround.tyre_tread_mm:
            tread = " · ".join(
                f"{TYRES[p].render(lang)} {walkaround.tyre_tread_mm[p]:.1f}"
                for p in ("fl", "fr", "rl", "rr")
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
        if sheet.photos:
            if pdf.get_y() + 10 + PHOTO_BOX[1] + 6 > pdf.h - 16:
                pdf.add_page()  # the heading goes with its first row of photos
            pdf.heading(pdf.t("photos"))
            _photos(pdf, sheet, blobs, numbers)

    # -- consent, signature, check
    if pdf.get_y() > pdf.h - 80:
        pdf.add_page()
    pdf.heading(pdf.t("consent"))
    pdf.multi_cell(0, 4.6, pdf.t("consent_text"), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    consent = _consent(session, visit.id)
    if consent is not None:
        pdf.set_text_color(*GREY)
        pdf.cell(
            0,
            5,
            f"{pdf.t('privacy_agreed')}: {consent.text_version} · {local(consent.accepted_at)}",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.set_text_color(*INK)
    pdf.ln(2)
    signature = sheet.latest_signature
    y = pdf.get_y()
    pdf.set_text_color(*GREY)
    pdf.cell(60, 5, pdf.t("signature"), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*INK)
    pdf.set_draw_color(*RULE)
    pdf.rect(10, y + 6, 80, 30)
    pdf.set_draw_color(*INK)
    if signature is not None and signature.image is not None:
        if signature.image.sha256 in sheet.stored_blobs:
            pdf.image(str(blobs.original_path(signature.image.sha256)), 11, y + 7, 78, 28)
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
    pdf.set_text_color(*STATE_COLOURS[sheet.state])
    pdf.multi_cell(
        0, 5, STATE_TEXT[sheet.state].render(lang), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
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
    pdf: _Sheet, marks: list[DamageMark], sheet: AssembledWalkaround
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
        pdf.cell(width, 3, label(view).render(pdf.lang))
        for item in sheet.earlier:
            if item.mark.view == view:
                _badge(pdf, x + item.mark.x * width, y + item.mark.y * height, item.mark, None)
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


def _belongings(pdf: _Sheet, walkaround: Any) -> None:
    belongings = walkaround.belongings
    pdf.set_text_color(*GREY)
    pdf.cell(38, 5, pdf.t("belongings"))
    pdf.set_text_color(*INK)
    x = pdf.get_x()
    for name, text in BELONGING_LABELS.items():
        ticked = getattr(belongings, name)
        box_y = pdf.get_y() + 1
        pdf.rect(x, box_y, 3, 3)
        if ticked:
            pdf.line(x + 0.5, box_y + 1.6, x + 1.3, box_y + 2.6)
            pdf.line(x + 1.3, box_y + 2.6, x + 2.7, box_y + 0.4)
        pdf.set_x(x + 4)
        caption = text.render(pdf.lang)
        pdf.cell(pdf.get_string_width(caption) + 5, 5, caption)
        x = pdf.get_x()
    pdf.ln(5)
    pdf.pair(pdf.t("keys"), str(belongings.keys_count))
    if belongings.other_note:
        pdf.pair(pdf.t("other"), belongings.other_note)


def _photos(
    pdf: _Sheet, sheet: AssembledWalkaround, blobs: BlobStore, numbers: dict[str, int]
) -> None:
    box_w, box_h = PHOTO_BOX
    gap, per_row = 3.5, 4
    marks = sheet.walkaround.marks if sheet.walkaround else []
    row_top = pdf.get_y()
    for index, photo in enumerate(sheet.photos):
        if index % per_row == 0:
            if pdf.get_y() + box_h + 6 > pdf.h - 16:
                pdf.add_page()
            row_top = pdf.get_y()
        x = pdf.l_margin + (index % per_row) * (box_w + gap)
        ref = photo.image
        scale = min(box_w / ref.width, box_h / ref.height)
        width, height = ref.width * scale, ref.height * scale
        if ref.sha256 in sheet.stored_blobs:
            pdf.image(str(blobs.make_thumbnail(ref.sha256)), x, row_top, width, height)
            pins = [(mark, pin) for mark in marks for pin in mark.pins]
            for mark, pin in pins:
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
        if index % per_row == per_row - 1 or index == len(sheet.photos) - 1:
            pdf.set_xy(pdf.l_margin, row_top + box_h + 5)


def _consent(session: Session, visit_id: str) -> Any:
    rows = session.scalars(
        select(SyncRecord).where(
            SyncRecord.kind == "consent",
            SyncRecord.fields["visit_id"].as_string() == visit_id,
        )
    ).all()
    consents = []
    for row in rows:
        try:
            consents.append(from_wire("consent", {**row.fields, "id": row.id}))
        except WireError:
            continue
    return max(consents, key=lambda c: c.accepted_at) if consents else None
