"""The desk's "Walk-around done" step: it needs the walk-around signed by the customer on
the tablet (and unchanged since), or a manager's override with the reason, which is kept
and shown on the visit page.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.i18n import Text
from shared.visit_status import VisitEvent, VisitStatus, next_status
from sync_server.shop_tables import User
from sync_server.sync.records import lock_feed, update_server_record
from sync_server.visit_tables import Visit, WalkaroundOverride
from sync_server.walkarounds import signature_state

MIN_REASON_LENGTH = 5
MAX_REASON_LENGTH = 500


class WalkaroundNotSigned(Exception):
    """The walk-around is not signed on the tablet (or changed since), with what to do."""

    def __init__(self, message: Text) -> None:
        super().__init__(message.render("en"))
        self.message = message


def has_signed_walkaround(session: Session, visit_id: str) -> bool:
    """True when the customer signed the visit's check-in sheet and it is unchanged."""
    return signature_state(session, visit_id) == "signed_unchanged"


def require_signed_walkaround(session: Session, visit_id: str) -> None:
    """Refuse "walk-around done" without a signed walk-around or a manager's override."""
    if has_signed_walkaround(session, visit_id):
        return
    state = signature_state(session, visit_id)
    if state == "changed_after_signing":
        message = Text(
            "The walk-around changed after the customer signed it: have it signed again on "
            "the tablet, or ask a manager to mark it done with a reason.",
            "server",
        )
    else:
        message = Text(
            "The walk-around is not signed yet: finish it on the tablet with the customer's "
            "signature, or ask a manager to mark it done with a reason.",
            "server",
        )
    raise WalkaroundNotSigned(message)


def override_walkaround(session: Session, visit: Visit, manager_id: int, reason: str) -> None:
    """Move the visit to "walk-around done" on a manager's word, keeping the reason in the
    same transaction. Raises ``TransitionRefused`` or ``ChangeRefused``; commits."""
    target = next_status(VisitStatus(visit.status), VisitEvent.complete_walkaround)
    lock_feed(session)
    update_server_record(session, "visit", visit.id, {"status": target.value})
    session.add(WalkaroundOverride(visit_id=visit.id, manager_user_id=manager_id, reason=reason))
    session.commit()


def overrides_of(session: Session, visit_id: str) -> list[tuple[WalkaroundOverride, str]]:
    """The visit's overrides, oldest first, each with the manager's name."""
    rows = session.execute(
        select(WalkaroundOverride, User)
        .join(User, User.id == WalkaroundOverride.manager_user_id)
        .where(WalkaroundOverride.visit_id == visit_id)
        .order_by(WalkaroundOverride.id)
    ).all()
    return [(override, user.display_name) for override, user in rows]
