"""The advisor tablet's queue: the cars waiting in the shop, VIPs first, longest wait next.

Read from the tablet's local store (the visits, customers and vehicles the tablet
pulled from the server, and those it made itself), so the queue works offline. No Kivy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from kiosk.services.local_store import LocalStore
from shared.i18n import Text
from shared.validation import format_plate, plate_key
from shared.visit_status import VisitStatus, is_terminal

# The statuses of a visit still in the shop (the queue reads these through an index).
OPEN_STATUSES: tuple[str, ...] = tuple(s.value for s in VisitStatus if not is_terminal(s))

log = logging.getLogger(__name__)


class WalkaroundProgress(StrEnum):
    """How far the walk-around of a visit is, as the queue shows it."""

    not_started = "not_started"
    in_progress = "in_progress"  # sheet started, the customer has not signed
    signed = "signed"  # signed, unchanged since
    changed_after_signing = "changed_after_signing"


PROGRESS_LABELS: dict[WalkaroundProgress, Text] = {
    WalkaroundProgress.not_started: Text("Walk-around not started", "kiosk"),
    WalkaroundProgress.in_progress: Text("Walk-around started, not signed", "kiosk"),
    WalkaroundProgress.signed: Text("Signed by the customer", "kiosk"),
    WalkaroundProgress.changed_after_signing: Text("Changed after signing", "kiosk"),
}


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One car in the queue, with what the advisor needs to pick it."""

    visit_id: str
    ticket_number: str
    plate: str  # formatted, e.g. 京A·12345
    customer_name: str
    vip: bool
    checked_in_at: datetime
    status: VisitStatus
    concern: str
    make_model: str
    progress: WalkaroundProgress
    # Checked in by an advisor at the car (the visit carries the advisor).
    taken_by_advisor: bool = False

    def waiting_minutes(self, now: datetime | None = None) -> int:
        """Whole minutes since check-in (never negative, whatever the clocks say)."""
        now = now or datetime.now(UTC)
        return max(0, int((now - self.checked_in_at).total_seconds() // 60))

    @property
    def greeted(self) -> bool:
        """An advisor has taken the customer in hand: checked them in at the car, begun
        the walk-around, or the visit has moved past check-in."""
        return (
            self.taken_by_advisor
            or self.progress is not WalkaroundProgress.not_started
            or self.status is not VisitStatus.checked_in
        )

    def not_greeted_in_time(self, target_minutes: int, now: datetime | None = None) -> bool:
        """Waiting longer than the greeting target for an advisor to greet them."""
        return not self.greeted and self.waiting_minutes(now) >= target_minutes


def waiting_text(minutes: int) -> Text:
    """ "12 min" / "1 h 05 min" waiting, for the queue row."""
    if minutes < 60:
        return Text("{minutes} min", "kiosk", {"minutes": minutes})
    return Text(
        "{hours} h {minutes:02d} min", "kiosk", {"hours": minutes // 60, "minutes": minutes % 60}
    )


def open_visits(store: LocalStore, search: str = "") -> list[QueueEntry]:
    """Visits still in the shop (not delivered or cancelled): VIP first, then longest wait.

    ``search`` narrows to plates containing it (spaces, dots and case ignored, so
    "a12" finds 京A·12345) or to a ticket number. Reads only the open visits and what
    hangs off them, each through an index, however many visits the tablet has seen.
    """
    visits = store.find_in("visit", "status", OPEN_STATUSES) + store.find_missing("visit", "status")
    customers = store.get_many("customer", {str(v.get("customer_id")) for v in visits})
    vehicles = store.get_many("vehicle", {str(v.get("vehicle_id")) for v in visits})
    started = _walkaround_progress(store, [v["id"] for v in visits])
    wanted = plate_key(search) if search.strip() else ""
    entries: list[QueueEntry] = []
    for visit in visits:
        entry = _entry(visit, customers, vehicles, started)
        if entry is None:
            continue
        if wanted and not (
            wanted in plate_key(entry.plate) or wanted == plate_key(entry.ticket_number)
        ):
            continue
        entries.append(entry)
    entries.sort(key=lambda e: (not e.vip, e.checked_in_at, e.ticket_number))
    return entries


def _entry(
    visit: dict[str, Any],
    customers: dict[str, dict[str, Any]],
    vehicles: dict[str, dict[str, Any]],
    progress: dict[str, WalkaroundProgress],
) -> QueueEntry | None:
    try:
        status = VisitStatus(visit.get("status", VisitStatus.checked_in))
        checked_in_at = _time(visit.get("checked_in_at"))
    except (ValueError, TypeError):
        log.warning("Visit %s has a status or time the tablet cannot read", visit.get("id"))
        return None
    if is_terminal(status) or visit.get("deleted"):
        return None
    customer = customers.get(visit.get("customer_id", ""), {})
    vehicle = vehicles.get(visit.get("vehicle_id", ""), {})
    make_model = " ".join(str(vehicle.get(k) or "") for k in ("make", "model")).strip()
    return QueueEntry(
        visit_id=visit["id"],
        ticket_number=str(visit.get("ticket_number") or ""),
        plate=format_plate(vehicle.get("plate") or ""),
        customer_name=str(customer.get("name") or ""),
        vip=customer.get("tier") == "vip",
        checked_in_at=checked_in_at,
        status=status,
        concern=str(visit.get("concern_text") or ""),
        make_model=make_model,
        progress=progress.get(visit["id"], WalkaroundProgress.not_started),
        taken_by_advisor=visit.get("advisor_user_id") is not None,
    )


def _walkaround_progress(store: LocalStore, visit_ids: list[str]) -> dict[str, WalkaroundProgress]:
    """The walk-around progress of these (open) visits, from their records.

    Whether a signature still covers its sheet takes reading the whole sheet; that is
    worked out again only for a visit whose records changed since the last queue read
    (the queue is read after every sync round)."""
    from kiosk.services.walkaround import signed_sheet_states

    progress: dict[str, WalkaroundProgress] = {}
    signatures: dict[str, list[dict[str, Any]]] = {}
    found = store.find_in("signature", "visit_id", visit_ids, only=_SIGNATURE_FIELDS)
    for signature in found:
        if signature.get("purpose") == "checkin_sheet" and not signature.get("deleted"):
            signatures.setdefault(str(signature.get("visit_id")), []).append(signature)
    walkarounds = store.find_in("walkaround", "visit_id", visit_ids, only=("visit_id",))
    for walkaround in walkarounds:
        visit_id = walkaround.get("visit_id")
        if isinstance(visit_id, str) and visit_id not in signatures:
            progress[visit_id] = WalkaroundProgress.in_progress
    signed = [w for w in walkarounds if w.get("visit_id") in signatures]
    versions = _sheet_versions(store, signed)
    cache = _SIGNED_STATES.setdefault(str(store.database_path), {})
    stale = [w for w in signed if cache.get(w["visit_id"], (None,))[0] != versions[w["visit_id"]]]
    if stale:
        try:
            states = signed_sheet_states(store, [str(w["visit_id"]) for w in stale])
        except Exception:
            log.exception("The walk-arounds of the queue cannot be read")
            states = {}
        for visit_id, state in states.items():
            cache[visit_id] = (versions[visit_id], state)
    if len(cache) > 2 * len(visit_ids) + 100:  # forget visits that left the queue
        for visit_id in set(cache) - set(visit_ids):
            del cache[visit_id]
    for walkaround in signed:
        visit_id = str(walkaround["visit_id"])
        known = cache.get(visit_id)
        state = known[1] if known is not None and known[0] == versions[visit_id] else None
        progress[visit_id] = (
            WalkaroundProgress.in_progress
            if state is None
            else WalkaroundProgress.signed
            if state == "signed_unchanged"
            else WalkaroundProgress.changed_after_signing
        )
    return progress


_SIGNATURE_FIELDS = ("visit_id", "purpose", "deleted")
# Each store's signed sheets' states, by visit: (the sheet's records' versions, state).
_SIGNED_STATES: dict[str, dict[str, tuple[tuple[str, ...], str]]] = {}


def _sheet_versions(
    store: LocalStore, walkarounds: list[dict[str, Any]]
) -> dict[str, tuple[str, ...]]:
    """For each visit of these walk-arounds: the versions of every record of its sheet."""
    visit_ids = [str(w["visit_id"]) for w in walkarounds]
    parts: dict[str, list[str]] = {visit_id: [] for visit_id in visit_ids}
    sheet_visit = {str(w["id"]): str(w["visit_id"]) for w in walkarounds}
    for kind in ("walkaround", "photo", "signature"):
        for record_id, visit_id, version in store.versions_in(kind, "visit_id", visit_ids):
            parts[visit_id].append(f"{kind}:{record_id}:{version}")
    for record_id, sheet_id, version in store.versions_in(
        "damage_mark", "walkaround_id", list(sheet_visit)
    ):
        parts[sheet_visit[sheet_id]].append(f"damage_mark:{record_id}:{version}")
    return {visit_id: tuple(sorted(found)) for visit_id, found in parts.items()}


def _time(value: object) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    else:
        raise TypeError("no check-in time")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
