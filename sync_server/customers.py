"""A customer's contact details: the desk's edit, and the history of every change.

Every change of a customer's name, phone, e-mail or preferred channel is kept
(``customer_contact_changes``) with its time, its old and new value and who made it:
a device (its changes arrive by sync), a person at the desk, or the server itself.
The history is written by :func:`record_contact_changes`, which the sync projection of
``customer`` records calls in the same transaction as the change, so a change that comes
by any path (kiosk, tablet, desk) is kept, and never one that was rolled back.

The desk edits through :func:`edit_contact_details`, which goes through the single
write path of the sync engine, so devices get the new details in their feed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.domain import ContactChannel
from shared.i18n import Text
from shared.validation import check_email, check_phone
from sync_server.models import CustomerContactChange, Device, Shop, User, utcnow

# The contact details whose every change is kept.
CONTACT_FIELDS = ("name", "phone", "email", "preferred_channel")
FIELD_LABELS = {
    "name": Text("Name", "server"),
    "phone": Text("Phone", "server"),
    "email": Text("Email", "server"),
    "preferred_channel": Text("Contact by", "server"),
}
SERVER_ORIGIN = "server"
# Who the server is acting for (a person's user id), while a desk edit is applied.
_ACTING_PERSON = "customers.acting_person"
NAME_MAX = 120


def _text(value: Any) -> str:
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
        old, new = _text(getattr(before, name, None)), _text(after[name])
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


@dataclass(frozen=True)
class ContactChangeView:
    """One line of a customer's history, as the desk reads it."""

    changed_at: datetime
    field: str
    old_value: str
    new_value: str
    source: str
    by: str  # the person's or the device's name


def contact_history(session: Session, customer_id: str) -> list[ContactChangeView]:
    """The customer's contact changes, newest first, with who made each."""
    rows = session.execute(
        select(CustomerContactChange, User.display_name, Device.name)
        .outerjoin(User, User.id == CustomerContactChange.user_id)
        .outerjoin(Device, Device.uid == CustomerContactChange.device_uid)
        .where(CustomerContactChange.customer_id == customer_id)
        .order_by(CustomerContactChange.id.desc())
    ).all()
    return [
        ContactChangeView(
            change.changed_at,
            change.field,
            change.old_value,
            change.new_value,
            change.source,
            person or device or change.device_uid or "",
        )
        for change, person, device in rows
    ]


@dataclass
class ContactForm:
    """What the desk typed, checked: the new values, or the messages per field."""

    values: dict[str, str]
    issues: dict[str, Text]

    @property
    def ok(self) -> bool:
        return not self.issues


def check_contact_form(form: Mapping[str, str], shop: Shop | None) -> ContactForm:
    """Check the desk's contact form; nothing typed is lost (``values`` keeps it)."""
    values = {name: (form.get(name) or "").strip() for name in CONTACT_FIELDS}
    issues: dict[str, Text] = {}
    if len(values["name"]) > NAME_MAX:
        issues["name"] = Text(
            "A name has at most {count} characters.", "server", {"count": NAME_MAX}
        )
    if values["phone"]:
        phone = check_phone(values["phone"], (shop.phone_region if shop else "CN"))  # type: ignore[arg-type]
        _take(phone, "phone", values, issues)
    if values["email"]:
        email = check_email(values["email"])
        _take(email, "email", values, issues)
    try:
        ContactChannel(values["preferred_channel"])
    except ValueError:
        issues["preferred_channel"] = Text(
            "Choose how the customer wants to hear from us.", "server"
        )
    if not issues:
        if values["preferred_channel"] == ContactChannel.email and not values["email"]:
            issues["email"] = Text("To write by e-mail, give the e-mail address.", "server")
        elif values["preferred_channel"] != ContactChannel.email and not values["phone"]:
            issues["phone"] = Text("To call or text, give the mobile number.", "server")
    return ContactForm(values, issues)


def _take(checked: Any, name: str, values: dict[str, str], issues: dict[str, Text]) -> None:
    if checked.errors:
        issues[name] = checked.errors[0].message
    elif checked.value:
        values[name] = checked.value


def edit_contact_details(
    session: Session,
    customer_id: str,
    values: Mapping[str, str],
    user_id: int,
    visit_id: str = "",
) -> int:
    """Write the desk's new contact details through the sync engine, as this person;
    returns how many details changed. A new preferred channel also becomes the channel
    of ``visit_id`` (the visit the advisor edits from), so its messages follow it.
    The caller commits."""
    from sync_server.models import Customer, Visit
    from sync_server.sync.records import lock_feed, update_server_record

    customer = session.get(Customer, customer_id)
    if customer is None:
        raise LookupError(customer_id)
    changed = {
        name: values[name]
        for name in CONTACT_FIELDS
        if name in values and _text(getattr(customer, name)) != values[name]
    }
    visit = session.get(Visit, visit_id) if visit_id else None
    channel = values.get("preferred_channel")
    visit_follows = (
        visit is not None
        and visit.customer_id == customer_id
        and channel
        and visit.contact_channel != channel
    )
    if not changed and not visit_follows:
        return 0
    lock_feed(session)
    with acting_person(session, user_id):
        if changed:
            update_server_record(session, "customer", customer_id, changed)
        if visit_follows:
            update_server_record(session, "visit", visit_id, {"contact_channel": channel})
    return len(changed) + (1 if visit_follows else 0)


__all__ = [
    "CONTACT_FIELDS",
    "FIELD_LABELS",
    "ContactChangeView",
    "ContactForm",
    "acting_person",
    "check_contact_form",
    "contact_history",
    "edit_contact_details",
    "record_contact_changes",
]
