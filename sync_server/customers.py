"""A customer's contact details: the desk's edit, and the history of every change.

Every change of a customer's name, phone, e-mail or preferred channel is kept
(``customer_contact_changes``) with its time, its old and new value and who made it:
a device (its changes arrive by sync), a person at the desk, or the server itself.
The history is written by ``sync.contact_changes.record_contact_changes``, which the sync
projection of ``customer`` records calls in the same transaction as the change, so a
change that comes by any path (kiosk, tablet, desk) is kept, and never one that was
rolled back.

The desk edits through :func:`edit_contact_details`, which goes through the single
write path of the sync engine, so devices get the new details in their feed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.domain import ContactChannel
from shared.i18n import Text
from shared.validation import check_email, check_phone
from sync_server.shop_tables import Device, Shop, User
from sync_server.sync.contact_changes import (
    CONTACT_FIELDS,
    acting_person,
    contact_text,
    record_contact_changes,
)
from sync_server.sync.records import lock_feed, update_server_record
from sync_server.visit_tables import Customer, CustomerContactChange, Visit

FIELD_LABELS = {
    "name": Text("Name", "server"),
    "phone": Text("Phone", "server"),
    "email": Text("Email", "server"),
    "preferred_channel": Text("Contact by", "server"),
}
NAME_MAX = 120


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
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise LookupError(customer_id)
    changed = {
        name: values[name]
        for name in CONTACT_FIELDS
        if name in values and contact_text(getattr(customer, name)) != values[name]
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
