"""The kiosk's own recent check-ins: ticket numbers, the expected wait, and the
check-in a customer already made (so trying again never makes a second visit).

Everything here reads only the check-ins of the last day or so, through the local
store's check-in time index: a kiosk that checked in a year of customers numbers its
next ticket as fast as on its first day.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from kiosk.services.local_store import LocalStore

log = logging.getLogger(__name__)

# Minutes an advisor needs per customer waiting ahead, for the wait shown on the ticket.
MINUTES_PER_CUSTOMER_AHEAD = 5
QUEUE_WINDOW_MINUTES = 30
# A check-in saved this recently for the same appointment (or phone and plate) is the
# customer trying again, not a new visit.
RETRY_WINDOW_MINUTES = 120


@dataclass(frozen=True)
class CheckinReceipt:
    """What the Done screen shows once every record of the check-in is committed."""

    ticket_number: str
    visit_id: str
    status_token: str
    status_url: str
    expected_wait_minutes: int
    saved_records: tuple[tuple[str, str], ...]  # (kind, id) in the order saved


def find_earlier_checkin(
    store: LocalStore,
    device_id: str | None,
    appointment_id: str | None,
    walk_in: tuple[str, str] | None,
    server_url: str,
    now: datetime,
    recent: list[dict[str, Any]] | None = None,
) -> CheckinReceipt | None:
    """The receipt of a check-in this kiosk saved in the last ``RETRY_WINDOW_MINUTES``
    for this appointment, or for this walk-in's ``(plate, phone)``; else ``None``.

    ``recent`` is :func:`recent_checkins` when the caller read it already. Only the
    visits of the window are compared; a walk-in's cars and customers are read in one
    query each, however many customers checked in lately."""
    if appointment_id is None and not (walk_in and all(walk_in)):
        return None
    window = now - timedelta(minutes=RETRY_WINDOW_MINUTES)
    candidates = [
        visit
        for visit in (recent_checkins(store, now) if recent is None else recent)
        if not visit.get("deleted")
        and visit.get("checked_in_device_id") == device_id
        and _at_or_after(visit.get("checked_in_at"), window)
    ]
    if appointment_id is not None:
        same = [visit for visit in candidates if visit.get("appointment_id") == appointment_id]
    else:
        candidates = [visit for visit in candidates if not visit.get("appointment_id")]
        vehicles = store.get_many("vehicle", {str(v.get("vehicle_id")) for v in candidates})
        customers = store.get_many("customer", {str(v.get("customer_id")) for v in candidates})
        same = [
            visit
            for visit in candidates
            if (
                vehicles.get(str(visit.get("vehicle_id")), {}).get("plate"),
                customers.get(str(visit.get("customer_id")), {}).get("phone"),
            )
            == walk_in
        ]
    if not same:
        return None
    visit = max(same, key=lambda v: str(v.get("checked_in_at") or ""))
    log.info("Check-in %s was saved already: shown again", visit.get("ticket_number"))
    return receipt_of(store, visit, server_url, now, recent)


def status_url(server_url: str, status_token: str) -> str:
    """The customer's status page for the ticket's QR code."""
    return f"{server_url.rstrip('/')}/status/{status_token}"


def _local_day(moment: str | datetime) -> date | None:
    try:
        when = (
            datetime.fromisoformat(moment.replace("Z", "+00:00"))
            if isinstance(moment, str)
            else moment
        )
    except ValueError:
        return None
    return when.astimezone().date()


# The fields of a visit the kiosk's own history needs (the rest is never decoded).
CHECKIN_FIELDS: tuple[str, ...] = (
    "ticket_number",
    "checked_in_at",
    "checked_in_device_id",
    "appointment_id",
    "customer_id",
    "vehicle_id",
    "status_token",
    "deleted",
)


# Times on the wire may carry an offset (at most 14 h): a range of their text is
# widened by this much each side, and the caller tests each time exactly.
OFFSET_MARGIN = timedelta(hours=14)


def recent_checkins(store: LocalStore, now: datetime) -> list[dict[str, Any]]:
    """What the next ticket, the wait and a retry need, read once through the check-in
    time index: the visits checked in since the start of today (or of the retry
    window, if earlier) up to ``now``, only :data:`CHECKIN_FIELDS`."""
    local = now.astimezone()
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    start = min(midnight, now - timedelta(minutes=RETRY_WINDOW_MINUTES)) - OFFSET_MARGIN
    end = max(now, midnight + timedelta(days=1)) + OFFSET_MARGIN
    low, high = (moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M") for moment in (start, end))
    return store.find_between("visit", "checked_in_at", low, high, only=CHECKIN_FIELDS)


def next_ticket_number(
    store: LocalStore, prefix: str, now: datetime, recent: list[dict[str, Any]] | None = None
) -> str:
    """``{prefix}-{n:03d}``: one more than the highest of today's tickets of this prefix
    (today's check-ins only are read, through the check-in time index; ``recent`` is
    :func:`recent_checkins` when the caller read it already)."""
    prefix = prefix or "K"
    today = _local_day(now)
    highest = 0
    pattern = re.compile(rf"{re.escape(prefix)}-(\d+)")
    for visit in recent_checkins(store, now) if recent is None else recent:
        matched = pattern.fullmatch(str(visit.get("ticket_number") or ""))
        if matched and _local_day(str(visit.get("checked_in_at") or "")) == today:
            highest = max(highest, int(matched.group(1)))
    return f"{prefix}-{highest + 1:03d}"


def expected_wait_minutes(
    store: LocalStore, now: datetime, recent: list[dict[str, Any]] | None = None
) -> int:
    """A rough wait to be greeted: a few minutes per customer checked in here lately."""
    since = now - timedelta(minutes=QUEUE_WINDOW_MINUTES)
    ahead = sum(
        1
        for visit in (recent_checkins(store, now) if recent is None else recent)
        if _at_or_after(visit.get("checked_in_at"), since)
        and not _at_or_after(visit.get("checked_in_at"), now, strictly=True)
    )
    return MINUTES_PER_CUSTOMER_AHEAD * (ahead + 1)


def _at_or_after(moment: object, start: datetime, *, strictly: bool = False) -> bool:
    """Whether the wire time ``moment`` is at or after ``start`` (after, ``strictly``);
    False when it is not a time."""
    try:
        at = datetime.fromisoformat(str(moment).replace("Z", "+00:00"))
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
    except ValueError:
        return False
    return at > start if strictly else at >= start


def receipt_of(
    store: LocalStore,
    visit: dict[str, Any],
    server_url: str,
    now: datetime,
    recent: list[dict[str, Any]] | None = None,
) -> CheckinReceipt:
    """The Done screen's receipt for a check-in saved earlier."""
    visit_id = str(visit["id"])
    saved: list[tuple[str, str]] = []
    if not visit.get("appointment_id"):
        saved += [
            ("customer", str(visit.get("customer_id"))),
            ("vehicle", str(visit.get("vehicle_id"))),
        ]
    saved.append(("visit", visit_id))
    for kind in ("consent", "signature"):
        saved += [(kind, record["id"]) for record in store.find(kind, visit_id=visit_id)]
    token = str(visit.get("status_token") or "")
    return CheckinReceipt(
        ticket_number=str(visit.get("ticket_number") or ""),
        visit_id=visit_id,
        status_token=token,
        status_url=status_url(server_url, token),
        expected_wait_minutes=expected_wait_minutes(store, now, recent),
        saved_records=tuple(saved),
    )
