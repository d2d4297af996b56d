"""The monthly approval summary (``sync_server.approval_months``) kept by the
projection, in the transaction of the change.

* An **approval** (the server's own record, written at the desk under the feed lock):
  what it counted for before the change is taken out, what it counts for after is put
  in; the same approval sent again changes nothing.
* A **quote** (also the server's): its approvals' totals follow its lines, and a quote
  that arrives after its approval brings that approval in.
* A **visit** whose advisor changes moves its approvals to the new advisor; a new visit
  brings in the approvals of quotes that came before it. At the desk this is done at
  once. In a device's push the visits are collected and handled once for the batch:
  their advisors before the batch are read, and their rows locked, just before the
  batch writes; their approvals are read and moved once the push holds the feed's
  counter row (on PostgreSQL, at its commit, ``feed.at_numbering``), when no desk
  writer can be adding an approval to them — one it added before was read with the
  advisor the visit had then, and is moved with the others.

While a rebuild projects every record again (``projections.rebuild``) nothing is kept
here: the summary is worked out again from the approvals at its end.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.shop_time import shop_zone
from sync_server import approval_months
from sync_server.approval_months import Deltas
from sync_server.back_office_tables import ApprovalRow
from sync_server.sync import feed
from sync_server.sync.batch import NewRow, batch_cache, cached_get
from sync_server.visit_tables import Visit

_REBUILDING = "approval_months_rebuilding"
_HOOK = "approval_months"


def pause(session: Session, paused: bool) -> None:
    """Stop (or start again) keeping the summary in this session: a rebuild's."""
    if paused:
        session.info[_REBUILDING] = True
    else:
        session.info.pop(_REBUILDING, None)


def kept(session: Session) -> bool:
    return _REBUILDING not in session.info


class Before:
    """What the records a change touches counted for before it (approvals and quotes)."""

    def __init__(self, session: Session, kind: str, record: Any) -> None:
        self.deltas: Deltas = {}
        self.zone = shop_zone(approval_months.summary_zone(session))
        self.approvals: list[Any] = []
        if kind == "approval":
            row = cached_get(session, ApprovalRow, record.id)
            self.approvals = [row] if row is not None else []
        elif kind == "quote":
            self.approvals = list(
                session.scalars(select(ApprovalRow).where(ApprovalRow.quote_id == record.id))
            )
        approval_months.approvals_counted(session, self.approvals, self.zone, -1, self.deltas)

    def after(self, session: Session, kind: str, record: Any) -> None:
        """Put in what they count for now, and write the difference."""
        if kind == "approval":
            self.approvals = [cached_get(session, ApprovalRow, record.id)]
        approval_months.approvals_counted(session, self.approvals, self.zone, 1, self.deltas)
        approval_months.apply(session, self.deltas)


def visit_changing(session: Session, existing: Any | None) -> tuple[bool, int | None]:
    """Before a visit's row is written: whether it was there, and its advisor."""
    if existing is None or isinstance(existing, NewRow):
        return False, None
    return True, existing.advisor_user_id


def visit_changed(
    session: Session, visit_id: str, before: tuple[bool, int | None], row: Any
) -> None:
    """After a visit's row is written: move its approvals if its advisor changed."""
    cache = batch_cache(session)
    if cache is None:
        deltas: Deltas = {}
        existed, advisor = before
        approval_months.visits_moved(
            session, {visit_id: (existed, advisor, row.advisor_user_id)}, deltas
        )
        approval_months.apply(session, deltas)
        return
    hook = cache.hooks.get(_HOOK)
    if hook is None:
        hook = cache.hooks[_HOOK] = _BatchVisits()
    hook.rows.setdefault(visit_id, row)


class _BatchVisits:
    """The visits a push changed; see the module's words for when each step happens."""

    def __init__(self) -> None:
        self.rows: dict[str, Any] = {}
        self.before: dict[str, int | None] = {}

    def before_write(self, session: Session) -> None:
        known = sorted(v for v, row in self.rows.items() if not isinstance(row, NewRow))
        with session.no_autoflush:
            for start in range(0, len(known), 400):
                query = (
                    select(Visit.id, Visit.advisor_user_id)
                    .where(Visit.id.in_(known[start : start + 400]))
                    .order_by(Visit.id)
                    .with_for_update()
                )
                self.before.update(
                    (visit_id, advisor) for visit_id, advisor in session.execute(query)
                )

    def written(self, session: Session) -> None:
        changes = {
            visit_id: (visit_id in self.before, self.before.get(visit_id), row.advisor_user_id)
            for visit_id, row in self.rows.items()
        }

        def move(session: Session) -> None:
            deltas: Deltas = {}
            approval_months.visits_moved(session, changes, deltas)
            approval_months.apply(session, deltas)

        if not feed.at_numbering(session, move):
            move(session)
