"""The check-in sheet (接车单) PDF from what the server holds, in English or Chinese.

The drawing is shared with the advisor tablet (``shared.checkin_sheet``, which prints
the same sheet offline from its own records); this module gathers the visit, customer,
car, consent, the assembled walk-around and its signature check
(``sync_server.walkarounds``) from the database, and gives the sheet its words from the
server's catalog. Photos are placed from the blob store's thumbnails.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shared.checkin_sheet import SheetContent, render_sheet_pdf
from shared.i18n import Text
from shared.shop_time import shop_zone
from sync_server import visits
from sync_server.models import Customer, Vehicle, Visit
from sync_server.shop import shop_settings
from sync_server.sync.blobs import BlobStore
from sync_server.walkarounds import STATE_TEXT, AssembledWalkaround

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
    "page": Text("Page {number}", "server"),
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


def sheet_labels(lang: str) -> dict[str, str]:
    """Every word of the sheet in ``lang``, from the server's catalog."""
    # Rendered without parameters, "Page {number}" keeps its placeholder for each page.
    labels = {key: text.render(lang) for key, text in T.items()}
    labels.update({f"belonging.{k}": v.render(lang) for k, v in BELONGING_LABELS.items()})
    labels.update({f"light.{k}": v.render(lang) for k, v in LIGHT_LABELS.items()})
    labels.update({f"tyre.{k}": v.render(lang) for k, v in TYRES.items()})
    labels.update({f"state.{k}": v.render(lang) for k, v in STATE_TEXT.items()})
    return labels


def render_checkin_sheet(
    session: Session, sheet: AssembledWalkaround, lang: str, blobs: BlobStore
) -> bytes:
    """The PDF bytes of the visit's check-in sheet in ``lang`` (``en`` or ``zh_CN``)."""
    shop = shop_settings(session)
    visit = session.get(Visit, sheet.visit_id)
    assert visit is not None
    customer = session.get(Customer, visit.customer_id)
    vehicle = session.get(Vehicle, visit.vehicle_id)
    consent = _consent(session, visit.id)
    signature = sheet.latest_signature
    signature_image = None
    image = signature.image if signature is not None else None
    if image is not None and image.sha256 in sheet.stored_blobs:
        signature_image = str(blobs.original_path(image.sha256))

    def photo_image(sha256: str) -> str | None:
        if sha256 not in sheet.stored_blobs:
            return None  # still uploading: the sheet says so
        return str(blobs.make_thumbnail(sha256))

    car = ""
    if vehicle is not None:
        car = " ".join(str(part) for part in (vehicle.make, vehicle.model, vehicle.year) if part)
    content = SheetContent(
        shop_name=shop.name,
        shop_contact=" · ".join(part for part in (shop.address, shop.phone) if part),
        ticket_number=visit.ticket_number,
        checked_in_at=visit.checked_in_at,
        customer_name=customer.name if customer else "",
        customer_phone=customer.phone if customer else "",
        plate=vehicle.plate if vehicle else "",
        car=car,
        vin=vehicle.vin if vehicle else "",
        concern_codes=list(visit.concern_codes or []),
        concern_text=visit.concern_text or "",
        walkaround=sheet.walkaround,
        photos=sheet.photos,
        earlier_marks=[item.mark for item in sheet.earlier],
        signature=signature,
        state=sheet.state,
        consent_version=consent.text_version if consent is not None else "",
        consent_accepted_at=consent.accepted_at if consent is not None else None,
        timezone=shop_zone(shop.timezone),
        photo_image=photo_image,
        signature_image=signature_image,
    )
    return render_sheet_pdf(content, sheet_labels(lang), lang)


def _consent(session: Session, visit_id: str) -> Any:
    consents = visits.consents(session, visit_id)
    return max(consents, key=lambda c: c.accepted_at) if consents else None
