"""``GET /api/v1/events``: the paired tablets' live events (server-sent events).

"Visits changed", with their ids: the tablet then pulls its feed and redraws its queue.
Kiosks get none (they never list the shop's visits); staff's board has its own stream.
"""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from sync_server import live
from sync_server.access import allow

bp = Blueprint("live", __name__)


@bp.get("/events")
@allow("tablet")
def events() -> ResponseReturnValue:
    return live.live().open_stream()
