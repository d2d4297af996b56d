"""The walk-around put back together: the one assembly of the report the customer signed.

A walk-around travels as records of their own (docs/sync.md): the walk-around's fields,
each damage mark (``walkaround_id``; taken back: ``deleted``), each photo
(``visit_id``, ``walkaround_id``) and each signature (``visit_id``, ``purpose``). The
tablet (``kiosk.services.walkaround``), the server (``sync_server.walkarounds``, the
printed sheet) and the visit page all read them back through :func:`assemble` or
:func:`assemble_versions`, so that each computes ``Walkaround.report_sha256()`` from
the same marks and photos, numbers the marks in the same order, and says the same
thing about the customer's signature.

The rules, in one place:

* **Versions**: a visit's sheet is its walk-around with the highest ``version``; two
  with the same version (two tablets that each started one offline) are told apart by
  the higher id, so every node picks the same one (:func:`newest`).
* **Parts**: a sheet holds the marks and photos that name its id; a mark taken back is
  not part of it. Marks are in the order they were drawn, photos in the order they were
  taken (ties: by id), which is how the diagram and the printed sheet number them.
* **Signature**: the latest check-in sheet signature of the visit (by time, then id)
  either covers the sheet as it is now, or the sheet changed after the customer signed
  (:class:`SignatureState`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from shared.domain import DamageMark, Signature, SignaturePurpose, VisitPhoto, Walkaround

__all__ = [
    "SignatureState",
    "WalkaroundReport",
    "assemble",
    "assemble_versions",
    "newest",
    "signature_state",
]


class SignatureState(StrEnum):
    """Whether the customer's signature covers the check-in sheet as it is now."""

    signed_unchanged = "signed_unchanged"
    changed_after_signing = "changed_after_signing"
    unsigned = "unsigned"


def version_order(walkaround: Walkaround) -> tuple[int, str]:
    """The one rule for versions: the higher version, then the higher id, is newer."""
    return walkaround.version, walkaround.id


def newest(walkarounds: Iterable[Walkaround]) -> Walkaround | None:
    """The visit's sheet among its walk-arounds (see the module docstring)."""
    return max(walkarounds, key=version_order, default=None)


def sheet_signatures(signatures: Iterable[Signature], visit_id: str) -> list[Signature]:
    """The check-in sheet signatures of ``visit_id``, oldest first."""
    return sorted(
        (
            signature
            for signature in signatures
            if signature.purpose == SignaturePurpose.checkin_sheet
            and signature.visit_id == visit_id
        ),
        key=lambda signature: (signature.signed_at, signature.id),
    )


def signature_state(
    walkaround: Walkaround | None, signatures: Iterable[Signature]
) -> SignatureState:
    """The state of the latest check-in sheet signature against ``walkaround`` now.

    No walk-around (it is gone) with a signature counts as changed after signing.
    """
    if walkaround is None:
        return (
            SignatureState.changed_after_signing
            if any(s.purpose == SignaturePurpose.checkin_sheet for s in signatures)
            else SignatureState.unsigned
        )
    signed = sheet_signatures(signatures, walkaround.visit_id)
    if not signed:
        return SignatureState.unsigned
    if walkaround.is_covered_by(signed[-1]):
        return SignatureState.signed_unchanged
    return SignatureState.changed_after_signing


@dataclass
class WalkaroundReport:
    """One edition of a visit's check-in sheet with its photos and the visit's signatures.

    ``walkaround`` carries its marks (not taken back) and its photos' ``PhotoRef``s, so
    ``walkaround.report_sha256()`` is what the customer signed if nothing changed.
    """

    visit_id: str
    walkaround: Walkaround | None
    photos: list[VisitPhoto] = field(default_factory=list)
    signatures: list[Signature] = field(default_factory=list)

    @property
    def latest_signature(self) -> Signature | None:
        signed = sheet_signatures(self.signatures, self.visit_id)
        return signed[-1] if signed else None

    @property
    def state(self) -> SignatureState:
        return signature_state(self.walkaround, self.signatures)

    def signature_checks(self) -> list[tuple[Signature, bool]]:
        """Each check-in sheet signature, oldest first, and whether it covers this sheet."""
        return [
            (signature, self.walkaround is not None and self.walkaround.is_covered_by(signature))
            for signature in sheet_signatures(self.signatures, self.visit_id)
        ]


def _put_together(
    walkaround: Walkaround, marks: Iterable[DamageMark], photos: Iterable[VisitPhoto]
) -> list[VisitPhoto]:
    """Give ``walkaround`` its own marks and photos (in order); returns its photos."""
    walkaround.marks = sorted(
        (mark for mark in marks if mark.walkaround_id == walkaround.id and not mark.deleted),
        key=lambda mark: (mark.created_at, mark.id),
    )
    own = sorted(
        (photo for photo in photos if photo.walkaround_id == walkaround.id),
        key=lambda photo: (photo.taken_at, photo.id),
    )
    walkaround.photos = [photo.image for photo in own]
    return own


def assemble(
    visit_id: str,
    walkarounds: Iterable[Walkaround],
    marks: Iterable[DamageMark],
    photos: Iterable[VisitPhoto],
    signatures: Iterable[Signature],
) -> WalkaroundReport:
    """The visit's sheet: its newest walk-around, put together from its records.

    Takes the records as read from any store (the tablet's, the server's typed tables);
    records of other visits or walk-arounds among them are left out.
    """
    signatures = [s for s in signatures if s.visit_id == visit_id]
    walkaround = newest(w for w in walkarounds if w.visit_id == visit_id)
    if walkaround is None:
        return WalkaroundReport(visit_id, None, signatures=signatures)
    own = _put_together(walkaround, marks, photos)
    return WalkaroundReport(visit_id, walkaround, own, signatures)


def assemble_versions(
    visit_id: str,
    walkarounds: Iterable[Walkaround],
    marks: Iterable[DamageMark],
    photos: Iterable[VisitPhoto],
    signatures: Iterable[Signature],
) -> list[WalkaroundReport]:
    """Every walk-around of the visit put together, oldest first (the last is the sheet)."""
    marks, photos = list(marks), list(photos)
    signatures = [s for s in signatures if s.visit_id == visit_id]
    return [
        WalkaroundReport(visit_id, walkaround, _put_together(walkaround, marks, photos), signatures)
        for walkaround in sorted(
            (w for w in walkarounds if w.visit_id == visit_id), key=version_order
        )
    ]
