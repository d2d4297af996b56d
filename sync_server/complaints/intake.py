"""Complaints the customer raises without the desk: a survey's hot alert (source
"survey") and "something is not right" on the car's status page (source "status page").

The case opens as the desk's do (received, both deadlines from now over the shop's
calendar) with no user as its author. The status page is public, so its intake is held to
``STATUS_PAGE_LIMIT`` cases per visit in ``STATUS_PAGE_WINDOW`` and a text of at most
``MAX_TEXT`` characters.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.i18n import Text
from sync_server.appointments.capacity import calendar_for
from sync_server.complaints.labels import complaint_settings
from sync_server.complaints.tables import ComplaintCase, ComplaintStep
from sync_server.shop import shop_settings

CUSTOMER_CHANNELS = ("survey", "status_page")
MAX_TEXT = 2000
STATUS_PAGE_LIMIT = 3
STATUS_PAGE_WINDOW = timedelta(hours=24)


class IntakeRefused(ValueError):
    """The customer's complaint refused, with a message per field."""

    def __init__(self, errors: dict[str, Text]) -> None:
        super().__init__(", ".join(text.render("en") for text in errors.values()))
        self.errors = errors


def receive_from_customer(
    session: Session,
    *,
    customer_id: str,
    visit_id: str,
    channel: str,
    summary: str,
    now: datetime,
) -> ComplaintCase:
    """Open a case the customer raised (``channel``: survey or status page); flushed."""
    if channel not in CUSTOMER_CHANNELS:
        raise ValueError(f"not a customer's channel: {channel}")
    now = now.astimezone(UTC)
    rules = complaint_settings(session)
    calendar = calendar_for(session, shop_settings(session))
    case = ComplaintCase(
        customer_id=customer_id,
        visit_id=visit_id,
        channel=channel,
        summary=summary.strip(),
        category_id=None,
        state="received",
        received_at=now,
        first_response_due=calendar.add_business_time(
            now, timedelta(minutes=rules.first_response_minutes)
        ).astimezone(UTC),
        resolution_started_at=now,
        resolution_due=calendar.add_business_time(
            now, timedelta(minutes=rules.resolution_minutes)
        ).astimezone(UTC),
        paused_seconds=0,
        created_by_user_id=None,
    )
    session.add(case)
    session.flush()
    session.add(
        ComplaintStep(
            case_id=case.id,
            action="receive",
            state_after="received",
            user_id=None,
            at=now,
            notes=summary.strip(),
        )
    )
    session.flush()
    return case


def check_status_page_text(text: str) -> str:
    """The customer's words from the status page, refused when empty or too long."""
    words = text.strip()
    if not words:
        raise IntakeRefused({"text": Text("Write what is not right.", "server")})
    if len(words) > MAX_TEXT:
        raise IntakeRefused(
            {
                "text": Text(
                    "Please keep this to {maximum} characters.", "server", {"maximum": MAX_TEXT}
                )
            }
        )
    return words


def status_page_allowed(session: Session, visit_id: str, now: datetime) -> bool:
    """Whether the status page may open another case for this visit now."""
    recent = session.scalar(
        select(func.count()).where(
            ComplaintCase.visit_id == visit_id,
            ComplaintCase.channel == "status_page",
            ComplaintCase.received_at > now - STATUS_PAGE_WINDOW,
        )
    )
    return int(recent or 0) < STATUS_PAGE_LIMIT
