"""The history of a customer's contact details, written by the projection of ``customer``
records in the change's own transaction (``customer_contact_changes``): each changed
name, phone, e-mail or preferred channel with its time, old and new value, and source
(a device, a person at the desk, or the server). The desk's edit and the history's
reading are the customers area's (``sync_server/customers.py``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from sync_server.table_base import utcnow
from sync_server.visit_tables import CustomerContactChange

# The contact details whose every change is kept.
CONTACT_FIELDS = ("name", "phone", "email", "preferred_channel")
SERVER_ORIGIN = "server"
# Who the server is acting for (a person's user id), while a desk edit is applied.
_ACTING_PERSON = "contact_changes.acting_person"


def contact_text(value: Any) -> str:
    value = getattr(value, "value", value)
    return "" if value is None else str(value)


@contextmanager
def acting_person(session: Session, user_id: int) -> Iterator[None]:
    """Changes the server applies inside this block were made by this person."""
    previous = session.info.get(_ACTING_PERSON)
    session.info[_ACTING_PERSON] = user_id
    try:
        yield
    finally:
        if previous is None:
            session.info.pop(_ACTING_PERSON, None)
        else:
            session.info[_ACTING_PERSON] = previous


def record_contact_changes(
    session: Session,
    customer_id: str,
    before: Any,
    after: Mapping[str, Any],
    origin: str,
    now: datetime | None = None,
) -> int:
    """Keep each contact detail of ``before`` (the customer's typed row as it was) that
    ``after`` changes; returns how many. ``origin`` is the device's uid or ``server``."""
    if before is None:
        return 0
    now = now or utcnow()
    if origin == SERVER_ORIGIN:
        user_id = session.info.get(_ACTING_PERSON)
        source, device_uid = ("person" if user_id else "server"), None
    else:
        source, device_uid, user_id = "device", origin, None
    count = 0
    for name in CONTACT_FIELDS:
        if name not in after:
            continue
        old, new = contact_text(getattr(before, name, None)), contact_text(after[name])
        if old == new:
            continue
        session.add(
            CustomerContactChange(
                customer_id=customer_id,
                field=name,
                old_value=old[:254],
                new_value=new[:254],
                changed_at=now,
                source=source,
                device_uid=device_uid,
                user_id=user_id,
            )
        )
        count += 1
    return count
