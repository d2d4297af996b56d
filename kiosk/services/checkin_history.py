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
) -> CheckinReceipt | None:
    """The receipt of a check-in this kiosk saved in the last ``RETRY_WINDOW_MINUTES``
    for this appointment, or for this walk-in's ``(plate, phone)``; else ``None``."""
    if appointment_id is None and not (walk_in and all(walk_in)):
        return None
    for visit in recent_visits(store, now, RETRY_WINDOW_MINUTES):
        if visit.get("deleted") or visit.get("checked_in_device_id") != device_id:
            continue
        if appointment_id is not None:
            same = visit.get("appointment_id") == appointment_id
        else:
            vehicle = store.get("vehicle", str(visit.get("vehicle_id") or "")) or {}
            customer = store.get("customer", str(visit.get("customer_id") or "")) or {}
            same = (vehicle.get("plate"), customer.get("phone")) == walk_in
        if same:
            log.info("Check-in %s was saved already: shown again", visit.get("ticket_number"))
            return receipt_of(store, visit, server_url, now)
    return None


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


def recent_visits(store: LocalStore, now: datetime, minutes: float) -> list[dict[str, Any]]:
    """Visits checked in on this device from ``minutes`` before ``now`` (a little more,
    checked exactly by the caller) to now, through the check-in time index."""
    return visits_checked_in_between(store, now - timedelta(minutes=minutes), now)


def visits_checked_in_between(
    store: LocalStore, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Visits whose check-in time is between ``start`` and ``end`` (a day's margin
    each side, since times on the wire may carry an offset; callers test exactly)."""
    low = (start - timedelta(days=1)).astimezone(UTC).strftime("%Y-%m-%d")
    high = (end + timedelta(days=2)).astimezone(UTC).strftime("%Y-%m-%d")
    return store.find_between("visit", "checked_in_at", low, high)


def next_ticket_number(store: LocalStore, prefix: str, now: datetime) -> str:
    """``{prefix}-{n:03d}``: one more than the highest of today's tickets of this prefix
    (today's check-ins only are read, through the check-in time index)."""
    prefix = prefix or "K"
    today = _local_day(now)
    highest = 0
    pattern = re.compile(rf"{re.escape(prefix)}-(\d+)")
    for visit in visits_checked_in_between(store, now - timedelta(days=1), now + timedelta(days=1)):
        matched = pattern.fullmatch(str(visit.get("ticket_number") or ""))
        if matched and _local_day(str(visit.get("checked_in_at") or "")) == today:
            highest = max(highest, int(matched.group(1)))
    return f"{prefix}-{highest + 1:03d}"


def expected_wait_minutes(store: LocalStore, now: datetime) -> int:
    """A rough wait to be greeted: a few minutes per customer checked in here lately."""
    recent = 0
    for visit in recent_visits(store, now, QUEUE_WINDOW_MINUTES):
        try:
            at = datetime.fromisoformat(str(visit.get("checked_in_at")).replace("Z", "+00:00"))
        except ValueError:
            continue
        if 0 <= (now - at).total_seconds() <= QUEUE_WINDOW_MINUTES * 60:
            recent += 1
    return MINUTES_PER_CUSTOMER_AHEAD * (recent + 1)


def receipt_of(
    store: LocalStore, visit: dict[str, Any], server_url: str, now: datetime
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
        expected_wait_minutes=expected_wait_minutes(store, now),
        saved_records=tuple(saved),
    )
