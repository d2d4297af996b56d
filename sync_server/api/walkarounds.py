"""A visit's check-in sheet for the tablet and the desk: ``GET /visits/<id>/walkaround``
(fields, marks, photos, the signature check) and the printable sheet as a PDF. The sheet
is put together by ``sync_server.walkarounds``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from shared.domain import DamageMark
from shared.i18n import LANGUAGES, Text, normalize_language
from shared.wire import to_wire
from sync_server import db
from sync_server.access import STAFF, allow
from sync_server.problems import Problem
from sync_server.sheets.checkin_sheet import render_checkin_sheet
from sync_server.visit_tables import Visit
from sync_server.walkarounds import STATE_TEXT, AssembledWalkaround, assemble

bp = Blueprint("walkarounds", __name__)


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
