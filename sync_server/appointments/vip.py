"""VIP customers: the appointment's VIP line, priority and a flag on the board and tablet.

A customer is a VIP when ``customers.vip`` is set — by a manager, with a reason, or by
the tier rules (which call :func:`set_vip` with their own reason) — or their tier is
``vip``. Both are the server's alone: a device's tier is never believed
(``sync_server.sync.trust``). The customer's synced record carries it to the tablets as
``tier: vip``. The lobby kiosk is never told (its look-up answer has no tier).

A walk-in typed in at the kiosk becomes a new customer record; the board
(:func:`phone_of_a_vip`) and the sync (:func:`vip_phones_among`) still know them by
their phone number.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.util import AliasedClass

from shared.domain import CustomerTier
from shared.i18n import Text
from sync_server.appointments.settings import SettingsError
from sync_server.visit_tables import Customer

REASON_LENGTH = 200


def set_vip(session: Session, customer_id: str, vip: bool, reason: str) -> Customer:
    """Make the customer a VIP (a reason is required) or take it back; the caller holds
    the feed lock (``lock_feed``) and commits."""
    from sync_server.sync.records import update_server_record

    customer = session.get(Customer, customer_id)
    if customer is None:
        raise SettingsError({"vip_reason": Text("This customer no longer exists.", "server")})
    reason = " ".join((reason or "").split())
    if vip and not reason:
        raise SettingsError(
            {"vip_reason": Text("Give the reason this customer is a VIP.", "server")}
        )
    if len(reason) > REASON_LENGTH:
        raise SettingsError(
            {
                "vip_reason": Text(
                    "The reason has at most {count} characters.", "server", {"count": 200}
                )
            }
        )
    tier = CustomerTier.vip if vip else CustomerTier.regular
    if customer.tier != tier:
        update_server_record(session, "customer", customer_id, {"tier": tier.value})
    customer = session.get(Customer, customer_id)
    assert customer is not None
    customer.vip, customer.vip_reason = vip, reason if vip else ""
    session.flush()
    return customer


def is_vip(customer: type[Customer] | AliasedClass[Customer] = Customer) -> ColumnElement[bool]:
    """Whether a customer row (``customers``, or an alias of it) is a VIP, for a query."""
    return or_(customer.vip.is_(True), customer.tier == CustomerTier.vip)


def vip_phone_queries(
    customer: type[Customer] | AliasedClass[Customer] = Customer,
) -> tuple[Select[tuple[str]], Select[tuple[str]]]:
    """The phone numbers of VIPs (``customer``'s column): those of VIPs still on file, and
    those of the files merged into a VIP. A file merged away is a VIP only through the
    customer who stayed, so a VIP taken back (or a tier dropped) on that customer is taken
    back everywhere."""
    stayed = aliased(Customer)
    on_file = select(customer.phone).where(customer.merged_into_id.is_(None), is_vip(customer))
    merged_into_vip = (
        select(customer.phone)
        .join(stayed, stayed.id == customer.merged_into_id)
        .where(is_vip(stayed))
    )
    return on_file, merged_into_vip


def phone_of_a_vip(phone: ColumnElement[str]) -> ColumnElement[bool]:
    """Whether a VIP (:func:`vip_phone_queries`) has this phone number, for a query — the
    board's walk-in typed in anew: index look-ups on ``customers.phone``."""
    other = aliased(Customer)
    on_file, merged_into_vip = vip_phone_queries(other)
    return and_(
        phone != "",
        or_(
            on_file.where(other.phone == phone).exists(),
            merged_into_vip.where(other.phone == phone).exists(),
        ),
    )


def vip_phones_among(session: Session, phones: Iterable[str]) -> set[str]:
    """Those of these phone numbers that are a VIP's (:func:`vip_phone_queries`): index
    look-ups on ``customers.phone``, 400 numbers a query, never a scan of every customer."""
    asked = sorted({phone for phone in phones if phone and phone.strip()})
    found: set[str] = set()
    for start in range(0, len(asked), 400):
        chunk = asked[start : start + 400]
        for query in vip_phone_queries():
            found.update(session.scalars(query.where(Customer.phone.in_(chunk)).distinct()))
    return found
