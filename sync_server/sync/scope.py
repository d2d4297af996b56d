"""What a tablet's feed holds: the shop's working set, not its whole past.

* **A newly paired tablet** (``GET /sync/changes?since=0&scope=working_set``) gets the
  working set in one answer: the open visits (not delivered, not cancelled) with their
  walk-arounds, marks, photos, signatures, consents and notes, today's and tomorrow's
  booked appointments, and the customers and cars of both; ``next_since`` is the feed's
  head, so what changes afterwards comes through the feed as usual. A year of delivered
  visits stays on the server.
* **Every page of the feed** also carries (as ``related``) the customer and the car of
  each visit in it:
  a returning customer's record may be months old (an old ``seq`` the tablet's cursor
  passed long ago, or pruned from the tablet since), and the queue needs their name.
* **A car's history** (``GET /vehicles/<id>/history``): its earlier visits with their
  walk-arounds and marks, fetched when a walk-around of the car opens and cached on the
  tablet (offline, the cache serves).

The server picks records by the typed tables' indexed columns and the sync records'
expression indexes (``visit_id``, ``walkaround_id``); the entries have the feed's shape.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from shared.visit_status import TERMINAL
from sync_server.shop import shop_settings, today_bounds
from sync_server.sync.projections import PROJECTIONS
from sync_server.sync.tables import SyncRecord
from sync_server.visit_tables import Appointment, Visit

WORKING_SET = "working_set"
# The records hanging off a visit (by ``visit_id``) and off a walk-around (``walkaround_id``).
VISIT_PARTS = ("walkaround", "photo", "signature", "consent", "note")
WALKAROUND_PARTS = ("damage_mark",)
# How many earlier visits of a car its history holds (newest first).
HISTORY_VISITS = 10
_CHUNK = 400


def working_set(session: Session) -> dict[str, Any]:
    """The answer to a new tablet's first pull (see the module's docstring)."""
    head = session.scalar(select(func.max(SyncRecord.seq))) or 0
    open_visits = session.execute(
        select(Visit.id, Visit.customer_id, Visit.vehicle_id).where(
            Visit.status.not_in([status.value for status in TERMINAL])
        )
    ).all()
    start, _ = today_bounds(shop_settings(session))
    appointments = session.execute(
        select(Appointment.id, Appointment.customer_id, Appointment.vehicle_id).where(
            Appointment.expected_arrival >= start,
            Appointment.expected_arrival < start + timedelta(days=2),
            Appointment.status == "booked",
        )
    ).all()
    visit_ids = [row.id for row in open_visits]
    people = [*open_visits, *appointments]
    entries = [
        *_records(session, "customer", {row.customer_id for row in people}),
        *_records(session, "vehicle", {row.vehicle_id for row in people}),
        *_records(session, "appointment", {row.id for row in appointments}),
        *_records(session, "visit", set(visit_ids)),
    ]
    entries += _parts_of(session, visit_ids)
    return {
        "changes": entries,
        "next_since": head,
        "more": False,
        "scope": WORKING_SET,
    }


def visit_people(
    session: Session, changes: list[dict[str, Any]], reader: str = ""
) -> list[dict[str, Any]]:
    """The customer and the car of each visit in a page of the feed that the page does
    not hold already (sent beside the page as ``related``, not counted, no cursor). A
    record whose every field ``reader`` wrote itself is left out, as in the feed."""
    listed = {(entry["kind"], entry["id"]) for entry in changes}
    wanted: dict[str, set[str]] = {"customer": set(), "vehicle": set()}
    for entry in changes:
        if entry["kind"] == "visit":
            for kind, ids in wanted.items():
                record_id = entry["fields"].get(f"{kind}_id")
                if isinstance(record_id, str) and (kind, record_id) not in listed:
                    ids.add(record_id)
    own = f"-{reader}"
    return [
        entry
        for kind, ids in wanted.items()
        for entry in _records(session, kind, ids)
        if not (
            reader and entry["clocks"] and all(c.endswith(own) for c in entry["clocks"].values())
        )
    ]


def vehicle_history(session: Session, vehicle_id: str) -> dict[str, Any]:
    """The car, its last :data:`HISTORY_VISITS` visits and their walk-arounds and marks."""
    visit_ids = list(
        session.scalars(
            select(Visit.id)
            .where(Visit.vehicle_id == vehicle_id)
            .order_by(Visit.checked_in_at.desc())
            .limit(HISTORY_VISITS)
        )
    )
    entries = [
        *_records(session, "vehicle", {vehicle_id}),
        *_records(session, "visit", set(visit_ids)),
    ]
    walkarounds = _records_by(session, ("walkaround",), "visit_id", visit_ids)
    entries += walkarounds
    entries += _records_by(
        session, WALKAROUND_PARTS, "walkaround_id", [entry["id"] for entry in walkarounds]
    )
    return {"vehicle_id": vehicle_id, "changes": entries}


def _parts_of(session: Session, visit_ids: list[str]) -> Iterator[dict[str, Any]]:
    parts = _records_by(session, VISIT_PARTS, "visit_id", visit_ids)
    yield from parts
    walkaround_ids = [entry["id"] for entry in parts if entry["kind"] == "walkaround"]
    yield from _records_by(session, WALKAROUND_PARTS, "walkaround_id", walkaround_ids)


def _records(session: Session, kind: str, ids: Iterable[str | None]) -> list[dict[str, Any]]:
    wanted = sorted(record_id for record_id in ids if record_id)
    found: list[dict[str, Any]] = []
    for chunk in _chunks(wanted):
        found += _entries(session, (SyncRecord.kind == kind, SyncRecord.id.in_(chunk)))
    return found


def _records_by(
    session: Session, kinds: Iterable[str], field: str, values: list[str]
) -> list[dict[str, Any]]:
    """The records of these kinds whose ``field`` is one of ``values``, found through
    the typed tables' indexes (``visit_id``, ``walkaround_id``)."""
    found: list[dict[str, Any]] = []
    for kind in kinds:
        model = PROJECTIONS[kind]
        for chunk in _chunks(sorted(set(values))):
            ids = session.scalars(select(model.id).where(getattr(model, field).in_(chunk)))
            found += _records(session, kind, ids)
    return found


def _entries(session: Session, where: tuple[Any, ...]) -> list[dict[str, Any]]:
    rows = session.execute(
        select(
            SyncRecord.seq,
            SyncRecord.kind,
            SyncRecord.id,
            SyncRecord.clocks,
            cast(SyncRecord.fields, String),
        )
        .where(*where)
        .order_by(SyncRecord.seq)
    ).all()
    return [
        {"seq": seq, "kind": kind, "id": record_id, "fields": json.loads(fields), "clocks": clocks}
        for seq, kind, record_id, clocks, fields in rows
    ]


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
