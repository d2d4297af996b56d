"""The greeting target at arrival: a customer checked in and not greeted by an advisor
within ``GREETING_TARGET_MINUTES`` (a setting, 10 by default) is highlighted on the board
(and, from its own records, on the tablet's queue).

A customer counts as greeted once an advisor took them in hand: the check-in was made
by an advisor (at the car, on the tablet), the walk-around has begun, or the visit has
moved past check-in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists

from shared.visit_status import VisitStatus
from sync_server.record_tables import WalkaroundRow
from sync_server.visit_tables import Visit

DEFAULT_TARGET_MINUTES = 10


def not_greeted(arrived_by: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """Whether a visit checked in at or before ``arrived_by`` (now less the target) still
    waits to be greeted, for a query on ``visits``: no advisor, no walk-around begun (an
    index look-up)."""
    began = exists().where(WalkaroundRow.visit_id == Visit.id)
    return and_(
        Visit.status == VisitStatus.checked_in.value,
        Visit.advisor_user_id.is_(None),
        Visit.checked_in_at <= arrived_by,
        ~began,
    )
