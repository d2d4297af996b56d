"""Who may send what: the kinds each caller may write, and the steps of a visit's status
that need the desk or the customer's approval.

Checked by ``merge.apply_change`` before anything is written; the server itself (role
``server``) may write every kind.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.i18n import Text
from shared.visit_status import VisitStatus, allowed_events, next_status
from sync_server.back_office_tables import ApprovalRow, QuoteRow
from sync_server.sync.changes import Change, ChangeRefused
from sync_server.sync.tables import SyncRecord

# What each kind of caller may send. Appointments, quotes and approvals are made on the
# server only. A kiosk creates check-ins; it never changes what others made.
DEVICE_KINDS = frozenset(
    {
        "customer",
        "vehicle",
        "visit",
        "consent",
        "signature",
        "walkaround",
        "damage_mark",
        "photo",
        "note",
    }
)
KIOSK_KINDS = frozenset({"customer", "vehicle", "visit", "consent", "signature", "photo"})
# Parts that are records of their own (merged by union), not fields of their parent.
CHILD_COLLECTIONS: Mapping[str, frozenset[str]] = {"walkaround": frozenset({"marks", "photos"})}


def check_permission(change: Change, origin: str, role: str, existing: SyncRecord | None) -> None:
    if role == "server":
        return
    allowed = KIOSK_KINDS if role == "kiosk" else DEVICE_KINDS
    if change.kind not in allowed:
        raise ChangeRefused(
            403,
            "kind-not-allowed",
            Text("This device may not send records of this kind.", "server"),
        )
    if role == "kiosk" and existing is not None and existing.created_by != origin:
        raise ChangeRefused(
            403,
            "record-not-yours",
            Text("A kiosk may only change the check-ins it made itself.", "server"),
        )
    if change.kind in CHILD_COLLECTIONS and CHILD_COLLECTIONS[change.kind] & change.fields.keys():
        raise ChangeRefused(
            422,
            "child-records-inline",
            Text(
                "Send marks and photos as records of their own, not inside the walk-around.",
                "server",
            ),
        )


# Devices may move a visit's status only this way; everything else is the desk's.
DEVICE_STATUS_EVENTS = frozenset({"complete_walkaround"})


def check_status_change(change: Change, role: str, existing: SyncRecord | None) -> None:
    """A visit's status moves only along the status machine (shared.visit_status)."""
    if change.kind != "visit" or "status" not in change.fields or existing is None:
        return
    current, wanted = existing.fields.get("status"), change.fields["status"]
    if current == wanted:
        return
    event = (
        next(
            (
                event
                for event in allowed_events(VisitStatus(current))
                if next_status(VisitStatus(current), event) == wanted
            ),
            None,
        )
        if current in VisitStatus.__members__.values()
        else None
    )
    if event is None:
        raise ChangeRefused(
            422,
            "status-transition",
            Text(
                "A visit cannot go from {current} to {wanted}.",
                "server",
                {"current": current, "wanted": wanted},
            ),
            [{"field": "status", "code": "transition_refused"}],
        )
    if role != "server" and event.value not in DEVICE_STATUS_EVENTS:
        raise ChangeRefused(
            403,
            "status-is-the-desks",
            Text("Only the service desk moves a visit to this step.", "server"),
        )


# Work starts only after the customer's explicit authorisation: these steps need a stored
# approval of the visit's latest quote version, whoever asks for them.
AUTHORISED_STATUSES = frozenset({VisitStatus.approved.value, VisitStatus.in_progress.value})


def latest_quote_is_approved(session: Session, visit_id: str) -> bool:
    """True when the newest quote version of the visit has a stored customer approval."""
    latest = session.scalars(
        select(QuoteRow)
        .where(QuoteRow.visit_id == visit_id)
        .order_by(QuoteRow.version.desc())
        .limit(1)
    ).first()
    if latest is None:
        return False
    return (
        session.scalars(
            select(ApprovalRow.id).where(
                ApprovalRow.quote_id == latest.id, ApprovalRow.quote_version == latest.version
            )
        ).first()
        is not None
    )


def check_customer_authorised(
    session: Session, change: Change, existing: SyncRecord | None
) -> None:
    if change.kind != "visit" or "status" not in change.fields or existing is None:
        return
    current, wanted = existing.fields.get("status"), change.fields["status"]
    if current == wanted or wanted not in AUTHORISED_STATUSES:
        return
    if wanted == VisitStatus.in_progress.value and current != VisitStatus.approved.value:
        return  # back from a failed quality check: the work was authorised before
    session.flush()
    if not latest_quote_is_approved(session, change.id):
        raise ChangeRefused(
            422,
            "approval-missing",
            Text(
                "Work cannot start before the customer has approved the latest quote.",
                "server",
            ),
            [{"field": "status", "code": "approval_missing"}],
        )
