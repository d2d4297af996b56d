"""A car's deferred work on the tablet: what the customer declined at earlier visits and
has not had done since, for the advisor at the car to offer again.

The server works it out from the approved quotes (``sync_server/customer_file/health.py``)
and sends it with the car's history (``GET /vehicles/<id>/history``, ``deferred_work``).
The tablet keeps the last answer per car in its local store, so the walk-around shows it
offline too; an answer that does not read is dropped item by item, never shown half.

No Kivy.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.i18n import Text

log = logging.getLogger(__name__)

URGENCY_WORDS: dict[str, Text] = {
    "red": Text("Safety: needed now", "kiosk"),
    "yellow": Text("Needed soon", "kiosk"),
    "green": Text("Can wait", "kiosk"),
}
URGENCIES = tuple(URGENCY_WORDS)


@dataclass(frozen=True)
class DeferredItem:
    """One line of work the customer declined, with the day it falls due."""

    visit_id: str
    line_id: str
    description: str
    part_number: str
    urgency: str
    declined_on: date
    due_on: date

    def overdue(self, today: date) -> bool:
        return self.due_on < today

    def as_json(self) -> dict[str, str]:
        return {
            "visit_id": self.visit_id,
            "line_id": self.line_id,
            "description": self.description,
            "part_number": self.part_number,
            "urgency": self.urgency,
            "declined_on": self.declined_on.isoformat(),
            "due_on": self.due_on.isoformat(),
        }


def read_deferred_work(answer: object) -> list[DeferredItem]:
    """The items of a ``deferred_work`` answer that read, soonest due first (an item with
    a missing or malformed field is left out and logged)."""
    if not isinstance(answer, Sequence) or isinstance(answer, str | bytes):
        return []
    items = []
    for entry in answer:
        item = _item(entry)
        if item is None:
            log.warning("A deferred work item from the server does not read; left out")
            continue
        items.append(item)
    return sorted(items, key=lambda item: (item.due_on, URGENCIES.index(item.urgency)))


def _item(entry: object) -> DeferredItem | None:
    if not isinstance(entry, Mapping):
        return None
    texts = {
        key: entry.get(key)
        for key in ("visit_id", "line_id", "description", "part_number", "urgency")
    }
    if not all(isinstance(value, str) for value in texts.values()):
        return None
    if not texts["description"] or texts["urgency"] not in URGENCY_WORDS:
        return None
    try:
        declined_on = date.fromisoformat(str(entry.get("declined_on")))
        due_on = date.fromisoformat(str(entry.get("due_on")))
    except ValueError:
        return None
    values: dict[str, Any] = texts
    return DeferredItem(**values, declined_on=declined_on, due_on=due_on)


__all__ = ["URGENCY_WORDS", "DeferredItem", "read_deferred_work"]
