"""Walk-arounds on the server: the check-in sheet put back together, and its signature check.

Devices send a walk-around's fields, each damage mark and each photo as records of their
own (docs/sync.md). :func:`assemble` reads them from the typed tables and puts the sheet
back together with ``shared.walkaround_report`` — the assembly the tablet uses too — so
that ``Walkaround.report_sha256()`` is computed here exactly as the tablet computed it
when the customer signed. :func:`signature_state` then says whether
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

from shared.checkin_words import SIGNATURE_STATES
from shared.domain import DamageMark
from shared.walkaround_report import SignatureState, WalkaroundReport, newest
from shared.walkaround_report import assemble as assemble_report
from sync_server import visits
from sync_server.sync.tables import Blob
from sync_server.visit_tables import Visit

# The states are ``shared.walkaround_report.SignatureState`` (a StrEnum: each equals its
# name as text), and their words ``shared.checkin_words.SIGNATURE_STATES``.
SignatureStateName = SignatureState
STATE_TEXT = SIGNATURE_STATES


@dataclass
class EarlierDamage:
    """A damage mark recorded at an earlier visit of the same car."""

    mark: DamageMark
    visit_id: str


@dataclass
class AssembledWalkaround(WalkaroundReport):
    """A visit's check-in sheet as the server holds it now, with which of its pictures
    the server has stored and the damage of the car's earlier visits."""

    stored_blobs: set[str] = field(default_factory=set)
    earlier: list[EarlierDamage] = field(default_factory=list)

    def photo_state(self, sha256: str) -> Literal["stored", "pending"]:
        return "stored" if sha256 in self.stored_blobs else "pending"


def assemble(session: Session, visit_id: str, *, with_earlier: bool = False) -> AssembledWalkaround:
    """The visit's newest walk-around with its marks and photos, and the visit's signatures."""
    walkaround = newest(visits.walkarounds(session, visit_id))
    report = assemble_report(
        visit_id,
        [walkaround] if walkaround is not None else [],
        visits.damage_marks(session, [walkaround.id]) if walkaround is not None else [],
        visits.photos(session, visit_id) if walkaround is not None else [],
        visits.signatures(session, visit_id),
    )
    assembled = AssembledWalkaround(visit_id, report.walkaround, report.photos, report.signatures)
    signatures = assembled.signatures
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
