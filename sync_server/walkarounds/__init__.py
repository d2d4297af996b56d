"""Walk-arounds on the server: the check-in sheet put back together, and its signature check.

Devices send a walk-around's fields, each damage mark and each photo as records of their
own (docs/sync.md). :func:`assemble` puts the sheet back together from those records —
the visit's newest walk-around, its marks (tombstoned ones left out) and its photos as
``PhotoRef``s — so that ``Walkaround.report_sha256()`` is computed here exactly as the
tablet computed it when the customer signed. :func:`signature_state` then says whether
the latest check-in sheet signature still covers the sheet.

Everything is read from the typed tables (``sync_server.visits``), and the state is
computed when it is read: in ``GET /api/v1/visits/<visit_id>/walkaround`` and the printed
sheet (``sync_server/api/walkarounds.py``), on the visit page and at the desk's
"walk-around done" step (``walkarounds.gate``). A sync only writes the records; the
projection logs a warning when a sheet's new version arrives, i.e. an edit made after
the customer signed (the tablet raises the version for nothing else).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.domain import DamageMark, Signature, SignaturePurpose, VisitPhoto, Walkaround
from shared.i18n import Text
from sync_server import visits
from sync_server.models import Blob, Visit

SignatureStateName = Literal["signed_unchanged", "changed_after_signing", "unsigned"]

STATE_TEXT: dict[str, Text] = {
    "signed_unchanged": Text(
        "Signed by the customer; the sheet is unchanged since it was signed.", "server"
    ),
    "changed_after_signing": Text(
        "Changed after the customer signed: the customer must sign this version again.",
        "server",
    ),
    "unsigned": Text("Not signed by the customer yet.", "server"),
}


@dataclass
class EarlierDamage:
    """A damage mark recorded at an earlier visit of the same car."""

    mark: DamageMark
    visit_id: str


@dataclass
class AssembledWalkaround:
    """A visit's check-in sheet as the server holds it now."""

    visit_id: str
    walkaround: Walkaround | None
    photos: list[VisitPhoto] = field(default_factory=list)
    signatures: list[Signature] = field(default_factory=list)
    stored_blobs: set[str] = field(default_factory=set)
    earlier: list[EarlierDamage] = field(default_factory=list)

    @property
    def latest_signature(self) -> Signature | None:
        sheet = [s for s in self.signatures if s.purpose == SignaturePurpose.checkin_sheet]
        return max(sheet, key=lambda s: (s.signed_at, s.id)) if sheet else None

    @property
    def state(self) -> SignatureStateName:
        latest = self.latest_signature
        if latest is None:
            return "unsigned"
        if self.walkaround is not None and self.walkaround.is_covered_by(latest):
            return "signed_unchanged"
        return "changed_after_signing"

    def photo_state(self, sha256: str) -> Literal["stored", "pending"]:
        return "stored" if sha256 in self.stored_blobs else "pending"


def assemble(session: Session, visit_id: str, *, with_earlier: bool = False) -> AssembledWalkaround:
    """The visit's newest walk-around with its marks and photos, and the visit's signatures."""
    walkarounds = visits.walkarounds(session, visit_id)
    signatures = visits.signatures(session, visit_id)
    assembled = AssembledWalkaround(visit_id, None, signatures=signatures)
    if walkarounds:
        walkaround = max(walkarounds, key=lambda w: (w.version, w.id))
        walkaround.marks = visits.damage_marks(session, [walkaround.id])
        photos = [
            photo
            for photo in visits.photos(session, visit_id)
            if photo.walkaround_id == walkaround.id
        ]
        walkaround.photos = [photo.image for photo in photos]
        assembled.walkaround, assembled.photos = walkaround, photos
    hashes = {photo.image.sha256 for photo in assembled.photos} | {
        s.image.sha256 for s in signatures if s.image is not None
    }
    if hashes:
        assembled.stored_blobs = set(
            session.scalars(select(Blob.sha256).where(Blob.sha256.in_(sorted(hashes))))
        )
    if with_earlier:
        assembled.earlier = earlier_damage(session, visit_id)
    return assembled


def earlier_damage(session: Session, visit_id: str) -> list[EarlierDamage]:
    """Damage marked at the car's earlier visits (their newest sheets, not taken back)."""
    visit = session.get(Visit, visit_id)
    if visit is None:
        return []
    others = session.scalars(
        select(Visit).where(Visit.vehicle_id == visit.vehicle_id, Visit.id != visit_id)
    ).all()
    found: list[EarlierDamage] = []
    for other in sorted(others, key=lambda v: v.checked_in_at):
        sheet = assemble(session, other.id)
        if sheet.walkaround is not None:
            found.extend(EarlierDamage(mark, other.id) for mark in sheet.walkaround.marks)
    return found


def signature_state(session: Session, visit_id: str) -> SignatureStateName:
    """Whether the latest check-in sheet signature covers the visit's sheet as it is now.

    ``"signed_unchanged"``: it does. ``"changed_after_signing"``: the sheet (a field, a
    mark, a photo, a pin) changed since, or the walk-around is gone. ``"unsigned"``: no
    check-in sheet signature.
    """
    return assemble(session, visit_id).state
