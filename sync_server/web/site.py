"""What every page shares as a blueprint: the static files (CSS, the pages' scripts), the
templates folder and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

from shared.i18n import LANGUAGES
from sync_server.access import public
from sync_server.web import safe_next

bp = Blueprint(
    "web",
    __name__,
    static_folder="static",
    static_url_path="/static/web",
    template_folder="templates",
)


@bp.get("/lang/<code>")
@public
def switch_language(code: str) -> ResponseReturnValue:
    if code in LANGUAGES:
        session["lang"] = code
    if request.args.get("next"):
        return redirect(safe_next(request.args["next"], url_for("board.board")))
    back = request.referrer or ""
    parts = urlsplit(back)
    target = parts.path + (f"?{parts.query}" if parts.query else "") if back else ""
    if parts.netloc and parts.netloc != request.host:
        target = ""
    return redirect(safe_next(target, url_for("board.board")))
