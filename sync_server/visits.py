"""A visit's records read back from the typed tables as the shop's domain records.

The pages, the check-in sheet, messages and quotes read through here: consents,
signatures, walk-arounds with their damage marks and photos, notes, quote versions with
their lines and options, approvals with their line decisions. The sync JSON is never
read outside ``sync_server.sync``; what the typed tables hold is what
``sync_server.sync.projections`` wrote from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import domain
from sync_server.back_office_tables import ApprovalRow, QuoteRow
from sync_server.record_tables import (
    ApprovalDecisionRow,
    ApprovalSafetyAcknowledgementRow,
    ConsentRow,
    DamageMarkRow,
    QuoteLineRow,
    QuoteOptionRow,
    SignatureRow,
    VisitNoteRow,
    VisitPhotoRow,
    WalkaroundRow,
)


def _number(value: Decimal) -> Decimal:
    """A quantity without the column's trailing zeros ("1.500000" reads "1.5")."""
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal.as_tuple().exponent > 0 else normal  # type: ignore[operator]


def _image(row: VisitPhotoRow | SignatureRow) -> domain.PhotoRef | None:
    if row.image_sha256 is None:
        return None
    return domain.PhotoRef(
        sha256=row.image_sha256,
        size_bytes=row.image_size_bytes or 0,
        content_type=domain.ImageType(row.image_content_type),
        width=row.image_width or 0,
        height=row.image_height or 0,
    )


def consent_of(row: ConsentRow) -> domain.Consent:
    return domain.Consent(
        id=row.id,
        visit_id=row.visit_id,
        text_version=row.text_version,
        text_sha256=row.text_sha256,
        language=row.language,
        accepted_at=row.accepted_at,
    )


def signature_of(row: SignatureRow) -> domain.Signature:
    return domain.Signature(
        id=row.id,
        visit_id=row.visit_id,
        purpose=domain.SignaturePurpose(row.purpose),
        strokes=[
            [domain.StrokePoint(float(x), float(y), int(t)) for x, y, t in stroke]
            for stroke in row.strokes
        ],
        image=_image(row),
        signed_sha256=row.signed_sha256,
        signer_name=row.signer_name,
        signed_at=row.signed_at,
    )


def walkaround_of(row: WalkaroundRow) -> domain.Walkaround:
    """The walk-around's own fields (its marks and photos are read on their own)."""
    return domain.Walkaround(
        id=row.id,
        visit_id=row.visit_id,
        version=row.version,
        odometer_km=row.odometer_km,
        fuel_eighths=row.fuel_eighths,
        warning_lights=list(row.warning_lights),
        belongings=domain.Belongings(
            spare_wheel=row.spare_wheel,
            jack=row.jack,
            documents=row.documents,
            valuables=row.valuables,
            child_seat=row.child_seat,
            keys_count=row.keys_count,
            other_note=row.belongings_note,
        ),
        exterior_notes=row.exterior_notes,
        interior_notes=row.interior_notes,
        tyre_tread_mm={position: float(depth) for position, depth in row.tyre_tread_mm.items()},
    )


def damage_mark_of(row: DamageMarkRow) -> domain.DamageMark:
    return domain.DamageMark(
        id=row.id,
        walkaround_id=row.walkaround_id,
        view=domain.DiagramView(row.view),
        x=row.x,
        y=row.y,
        damage_type=domain.DamageType(row.damage_type),
        severity=row.severity,
        note=row.note,
        pins=[
            domain.PhotoPin(pin["photo_sha256"], float(pin["x"]), float(pin["y"]))
            for pin in row.pins
        ],
        created_at=row.created_at,
        deleted=row.deleted,
    )


def photo_of(row: VisitPhotoRow) -> domain.VisitPhoto:
    image = _image(row)
    assert image is not None, "a visit photo always has its picture"
    return domain.VisitPhoto(
        id=row.id,
        visit_id=row.visit_id,
        image=image,
        walkaround_id=row.walkaround_id,
        caption=row.caption,
        taken_at=row.taken_at,
    )


def note_of(row: VisitNoteRow) -> domain.VisitNote:
    return domain.VisitNote(id=row.id, visit_id=row.visit_id, text=row.text)


# --- by visit ------------------------------------------------------------------------


def consents(session: Session, visit_id: str) -> list[domain.Consent]:
    """The visit's consents, oldest first."""
    rows = session.scalars(
        select(ConsentRow)
        .where(ConsentRow.visit_id == visit_id)
        .order_by(ConsentRow.accepted_at, ConsentRow.id)
    )
    return [consent_of(row) for row in rows]


def signatures(session: Session, visit_id: str) -> list[domain.Signature]:
    """The visit's signatures (consent, check-in sheet, approvals), oldest first."""
    rows = session.scalars(
        select(SignatureRow)
        .where(SignatureRow.visit_id == visit_id)
        .order_by(SignatureRow.signed_at, SignatureRow.id)
    )
    return [signature_of(row) for row in rows]


def walkarounds(session: Session, visit_id: str) -> list[domain.Walkaround]:
    """The visit's walk-arounds, oldest version first, without marks and photos."""
    rows = session.scalars(
        select(WalkaroundRow)
        .where(WalkaroundRow.visit_id == visit_id)
        .order_by(WalkaroundRow.version, WalkaroundRow.id)
    )
    return [walkaround_of(row) for row in rows]


def damage_marks(
    session: Session, walkaround_ids: Iterable[str], *, with_deleted: bool = False
) -> list[domain.DamageMark]:
    """The marks of these walk-arounds in the order they were drawn; taken-back marks
    (tombstones) only when asked for."""
    ids = sorted(set(walkaround_ids))
    if not ids:
        return []
    query = select(DamageMarkRow).where(DamageMarkRow.walkaround_id.in_(ids))
    if not with_deleted:
        query = query.where(DamageMarkRow.deleted.is_(False))
    rows = session.scalars(query.order_by(DamageMarkRow.created_at, DamageMarkRow.id))
    return [damage_mark_of(row) for row in rows]


def photos(session: Session, visit_id: str) -> list[domain.VisitPhoto]:
    """The visit's photos in the order they were taken."""
    rows = session.scalars(
        select(VisitPhotoRow)
        .where(VisitPhotoRow.visit_id == visit_id)
        .order_by(VisitPhotoRow.taken_at, VisitPhotoRow.id)
    )
    return [photo_of(row) for row in rows]


def notes(session: Session, visit_id: str) -> list[domain.VisitNote]:
    rows = session.scalars(
        select(VisitNoteRow).where(VisitNoteRow.visit_id == visit_id).order_by(VisitNoteRow.id)
    )
    return [note_of(row) for row in rows]


# --- quotes and approvals ------------------------------------------------------------


def quote_of(session: Session, row: QuoteRow) -> domain.Quote:
    """One quote version with its lines and options, in the quote's own order."""
    lines = session.scalars(
        select(QuoteLineRow).where(QuoteLineRow.quote_id == row.id).order_by(QuoteLineRow.position)
    )
    options = session.scalars(
        select(QuoteOptionRow)
        .where(QuoteOptionRow.quote_id == row.id)
        .order_by(QuoteOptionRow.position)
    )
    return domain.Quote(
        id=row.id,
        visit_id=row.visit_id,
        version=row.version,
        option_label=row.option_label,
        lines=[
            domain.QuoteLine(
                id=line.line_id,
                kind=domain.QuoteLineKind(line.kind),
                description=line.description,
                hours=_number(line.hours),
                labour_rate=_number(line.labour_rate),
                quantity=_number(line.quantity),
                unit_price=_number(line.unit_price),
                part_number=line.part_number,
                urgency=domain.Urgency(line.urgency),
                photo_sha256s=list(line.photo_sha256s),
                option_id=line.option_id,
            )
            for line in lines
        ],
        tax_rate=_number(row.tax_rate),
        currency=row.currency,
        notes=row.notes,
        options=[
            domain.QuoteOption(id=option.option_id, label=option.label, notes=option.notes)
            for option in options
        ],
    )


def quote(session: Session, quote_id: str) -> domain.Quote | None:
    row = session.get(QuoteRow, quote_id)
    return quote_of(session, row) if row is not None else None


def approval_of(session: Session, row: ApprovalRow) -> domain.Approval:
    decisions = session.scalars(
        select(ApprovalDecisionRow).where(ApprovalDecisionRow.approval_id == row.id)
    ).all()
    return domain.Approval(
        id=row.id,
        quote_id=row.quote_id,
        quote_version=row.quote_version,
        decisions={item.line_id: domain.LineDecision(item.decision) for item in decisions},
        signature_id=row.signature_id,
        approved_at=row.approved_at,
        ip_address=row.ip_address,
        user_agent=row.user_agent,
        option_id=row.option_id,
        safety_acknowledged=sorted(
            session.scalars(
                select(ApprovalSafetyAcknowledgementRow.line_id).where(
                    ApprovalSafetyAcknowledgementRow.approval_id == row.id
                )
            )
        ),
    )
