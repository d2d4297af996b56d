"""The check-in sheet (接车单) PDF from what the server holds, in English or Chinese.

The drawing is shared with the advisor tablet (``shared.checkin_sheet``, which prints
the same sheet offline from its own records); this module gathers the visit, customer,
car, consent, the assembled walk-around and its signature check
(``sync_server.walkarounds``) from the database; the sheet's words are
``shared.checkin_words``, the same the tablet prints. Photos are placed from the blob
store's thumbnails.
"""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy.orm import Session

from shared.checkin_sheet import SheetContent, render_sheet_pdf
from shared.checkin_words import sheet_labels
from shared.shop_time import shop_zone
from sync_server import visits
from sync_server.shop import shop_settings
from sync_server.sync.blobs import BlobStore
from sync_server.visit_tables import Customer, Vehicle, Visit
from sync_server.walkarounds import AssembledWalkaround


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
        signature_image = io.BytesIO(blobs.original_bytes(image.sha256))

    def photo_image(sha256: str) -> io.BytesIO | None:
        if sha256 not in sheet.stored_blobs:
            return None  # still uploading: the sheet says so
        return io.BytesIO(blobs.thumbnail_bytes(sha256))

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
