"""The manager's quality checklists page: for each job type, the items a quality check
ticks, in English and in Chinese, edited in place; or back to the shop's default list.

A refused list shows the page again with that list as it was typed and a message at
each row, and nothing of it saved (``sync_server.checklist_settings``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from shared.i18n import Text
from sync_server import db
from sync_server.access import allow, require_caller
from sync_server.checklist_settings import (
    GENERAL,
    JOB_TYPES,
    ChecklistRefused,
    TypedItem,
    back_to_default,
    checklists_for_page,
    save_checklist,
    typed_items,
)
from sync_server.people import SPECIALITIES
from sync_server.web import render_text

bp = Blueprint("checklist_settings", __name__)

# Empty rows under each list, for new items.
NEW_ROWS = 3
# "" (a job of no known type) in addresses and element ids.
GENERAL_SLUG = "general"


def _slug(job_type: str) -> str:
    return job_type or GENERAL_SLUG


def _job_type(slug: str) -> str:
    job_type = "" if slug == GENERAL_SLUG else slug
    if job_type not in JOB_TYPES:
        abort(404)
    return job_type


def _page(
    status: int = 200,
    *,
    refused_type: str | None = None,
    typed: list[TypedItem] | None = None,
    errors: dict[str, Text] | None = None,
) -> ResponseReturnValue:
    lists: list[dict[str, Any]] = []
    for job_type, own, items in checklists_for_page(db.session()):
        rows = [TypedItem(item.key, item.label_en, item.label_zh) for item in items]
        if job_type == refused_type and typed is not None:
            rows = list(typed)
            while rows and not (rows[-1].en.strip() or rows[-1].zh.strip()):
                rows.pop()  # the empty rows come again below
        lists.append(
            {
                "slug": _slug(job_type),
                "name": render_text(SPECIALITIES[job_type] if job_type else GENERAL),
                "own": own,
                "rows": rows + [TypedItem("", "", "")] * NEW_ROWS,
                "errors": {key: render_text(text) for key, text in (errors or {}).items()}
                if job_type == refused_type
                else {},
            }
        )
    return render_template("checklists/settings.html", lists=lists), status


@bp.get("/settings/checklists")
@allow("manager")
def page() -> ResponseReturnValue:
    return _page()


@bp.post("/settings/checklists/<slug>")
@allow("manager")
def save(slug: str) -> ResponseReturnValue:
    job_type = _job_type(slug)
    session = db.session()
    if request.form.get("action") == "default":
        back_to_default(session, job_type)
        session.commit()
        flash(render_text(Text("The default list is in use again.", "server")), "success")
        return redirect(url_for("checklist_settings.page") + f"#checklist-{slug}")
    typed = typed_items(request.form)
    try:
        save_checklist(session, job_type, typed, require_caller().id)
    except ChecklistRefused as refused:
        session.rollback()
        return _page(400, refused_type=job_type, typed=typed, errors=refused.errors)
    session.commit()
    flash(render_text(Text("The checklist is saved.", "server")), "success")
    return redirect(url_for("checklist_settings.page") + f"#checklist-{slug}")
