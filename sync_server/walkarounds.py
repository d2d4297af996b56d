"""Walk-arounds on the server: the check-in sheet put back together, and its signature check.

Devices send a walk-around's fields, each damage mark and each photo as records of their
own (docs/sync.md). :func:`assemble` reads them from the typed tables and puts the sheet
back together with ``shared.walkaround_report`` — the assembly the tablet uses too — so
that ``Walkaround.report_sha256()`` is computed here exactly as the tablet computed it
when the customer signed. :func:`signature_state` then says whether
the latest check-in sheet signature still covers the sheet.

Everything is read from the typed tables (``sync_server.visit_records``). The check also
runs on every sync: the projection notes the walk-arounds and visits whose sheet a
transaction touched, and after the flush the state of each such visit is logged, with a
warning when a signed sheet was changed afterwards. The same state is in
``GET /api/v1/visits/<visit_id>/walkaround``, on the visit page and on the printed sheet
(``GET /api/v1/visits/<visit_id>/checkin-sheet.pdf``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from shared.checkin_words import SIGNATURE_STATES
from shared.domain import DamageMark
from shared.i18n import LANGUAGES, Text, normalize_language
from shared.walkaround_report import SignatureState, WalkaroundReport, newest
from shared.walkaround_report import assemble as assemble_report
from shared.wire import to_wire
from sync_server import db, visit_records
from sync_server.access import STAFF, allow
from sync_server.models import Blob, Visit
from sync_server.problems import Problem
from sync_server.record_tables import WalkaroundRow
from sync_server.sync.projections import SHEETS_TOUCHED

log = logging.getLogger(__name__)

bp = Blueprint("walkarounds", __name__)

# The states are ``shared.walkaround_report.SignatureState`` (a StrEnum: each equals its
# name as text).
SignatureStateName = SignatureState

STATE_TEXT = SIGNATURE_STATES  # the words of each state (shared.checkin_words)


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
    walkaround = newest(visit_records.walkarounds(session, visit_id))
    report = assemble_report(
        visit_id,
        [walkaround] if walkaround is not None else [],
        visit_records.damage_marks(session, [walkaround.id]) if walkaround is not None else [],
        visit_records.photos(session, visit_id) if walkaround is not None else [],
        visit_records.signatures(session, visit_id),
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


# -- the check on every sync ----------------------------------------------------------


@event.listens_for(Session, "after_flush_postexec")
def _check_touched_sheets(session: Session, _context: Any) -> None:
    touched: set[tuple[str, str]] = session.info.pop(SHEETS_TOUCHED, set())
    if not touched:
        return
    try:
        _log_sheet_states(session, touched)
    except Exception:  # a check that only informs must never fail a device's push
        log.exception("could not check the check-in sheets of %d records", len(touched))


def _log_sheet_states(session: Session, touched: set[tuple[str, str]]) -> None:
    visits = {record_id for kind, record_id in touched if kind == "visit"}
    walkaround_ids = sorted(record_id for kind, record_id in touched if kind == "walkaround")
    if walkaround_ids:
        visits.update(
            session.scalars(
                select(WalkaroundRow.visit_id).where(WalkaroundRow.id.in_(walkaround_ids))
            )
        )
    for visit_id in sorted(visits):
        state = signature_state(session, visit_id)
        if state == "changed_after_signing":
            log.warning("check-in sheet of visit %s changed after the customer signed", visit_id)
        else:
            log.debug("check-in sheet of visit %s: %s", visit_id, state)


@event.listens_for(Session, "after_rollback")
def _forget_touched(session: Session) -> None:
    session.info.pop(SHEETS_TOUCHED, None)


# -- the API --------------------------------------------------------------------------


def _load(visit_id: str) -> tuple[Session, AssembledWalkaround]:
    session = db.session()
    if session.get(Visit, visit_id) is None:
        raise Problem(404, "not-found")
    return session, assemble(session, visit_id, with_earlier=True)


def _mark_json(mark: DamageMark) -> dict[str, Any]:
    data = to_wire(mark)
    data["condition_code"] = mark.condition_code
    return data


def walkaround_json(sheet: AssembledWalkaround) -> dict[str, Any]:
    """The assembled sheet as ``GET /visits/<id>/walkaround`` returns it."""
    walkaround = sheet.walkaround
    fields = None
    if walkaround is not None:
        fields = to_wire(walkaround)
        fields.pop("marks"), fields.pop("photos")
    latest = sheet.latest_signature
    state_text = STATE_TEXT[sheet.state]
    return {
        "visit_id": sheet.visit_id,
        "walkaround": fields,
        "report": walkaround.condition_report() if walkaround else None,
        "report_sha256": walkaround.report_sha256() if walkaround else None,
        "marks": [_mark_json(mark) for mark in walkaround.marks] if walkaround else [],
        "earlier_marks": [
            {**_mark_json(item.mark), "visit_id": item.visit_id} for item in sheet.earlier
        ],
        "photos": [
            {
                "id": photo.id,
                "sha256": photo.image.sha256,
                "width": photo.image.width,
                "height": photo.image.height,
                "caption": photo.caption,
                "taken_at": to_wire(photo)["taken_at"],
                "state": sheet.photo_state(photo.image.sha256),
            }
            for photo in sheet.photos
        ],
        "signature": {
            "state": sheet.state,
            "message": {lang: state_text.render(lang) for lang in LANGUAGES},
            "signature_id": latest.id if latest else None,
            "signed_sha256": latest.signed_sha256 if latest else None,
            "signed_at": to_wire(latest)["signed_at"] if latest else None,
            "signer_name": latest.signer_name if latest else None,
            "image_state": (
                sheet.photo_state(latest.image.sha256) if latest and latest.image else None
            ),
        },
    }


@bp.get("/visits/<visit_id>/walkaround")
@allow("tablet", *STAFF)
def visit_walkaround(visit_id: str) -> ResponseReturnValue:
    """The visit's check-in sheet: fields, marks, photos (pending/stored), signature check."""
    _, sheet = _load(visit_id)
    return jsonify(walkaround_json(sheet))


@bp.get("/visits/<visit_id>/checkin-sheet.pdf")
@allow("tablet", *STAFF)
def checkin_sheet_pdf(visit_id: str) -> ResponseReturnValue:
    """The printable check-in sheet (接车单), in English or Simplified Chinese."""
    from flask import current_app

    from sync_server.sheets.checkin_sheet import render_checkin_sheet

    lang = normalize_language(request.args.get("lang"))
    if request.args.get("lang") not in (None, *LANGUAGES):
        raise Problem(400, "bad-request", Text("lang must be en or zh_CN.", "server"))
    session, sheet = _load(visit_id)
    pdf = render_checkin_sheet(session, sheet, lang, current_app.extensions["blob_store"])
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'inline; filename="checkin-sheet-{visit_id[:8]}-{lang}.pdf"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response
