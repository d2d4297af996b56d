"""The sync trust boundary: what the server checks in a device's change before it
believes any of it (docs/sync.md "Clock rules" and "What the server trusts").

* **Clocks.** A change clocked more than ``SYNC_MAX_CLOCK_OFFSET_SECONDS`` (5 minutes)
  ahead of the server's own time is refused, with a problem that names the device's
  clock and the server's time; the server observes a change's clock only after the
  change passed every check, so a refused clock never moves any clock. A field whose
  stored clock lies beyond that limit (written before the rule existed) loses to any
  accepted change.
* **Values.** Every projected field keeps within its column: text no longer than the
  column, whole numbers within the column's range, amounts within its digits, and
  references (an advisor's user id) that exist. What ``shared.wire`` already refuses
  (NUL characters, numbers beyond 32 bits) never gets this far.
* **What only the server decides.** A device creates visits only as "checked in", and
  moves one to "walk-around done" only when the customer's signature covers the
  walk-around as the server holds it (the same batch may bring it, in any order). A
  visit's status token (the customer's status link) is the server's: a device's is
  kept only when it is exactly the derivation of the visit's id with that device's
  status-link key (``shared.domain.status_token_for``), else the server makes one. A customer's tier
  (VIP) is the server's too: a device's new customer is "regular" (or "vip" when its
  phone number is a VIP's in the customer file), and a device's change of the tier is
  dropped. Which customer a car, a visit or an appointment belongs to is the server's
  last word too: one filed under a customer file merged into another (a device that
  had not synced the merge) goes to the customer who stayed.

No Flask here: :func:`init_app` copies the settings; everything else takes the session.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, NamedTuple, get_args, get_type_hints

from sqlalchemy import Integer, Numeric, String
from sqlalchemy.orm import Session

from shared.domain import CustomerTier, new_status_token, status_token_for
from shared.hlc import DEFAULT_MAX_OFFSET_MS, limit_hlc, parse, wall_clock_ms
from shared.i18n import Text
from shared.sync_protocol import MAX_OFFSET_HEADER, SERVER_TIME_HEADER
from shared.validation import FieldIssue
from shared.visit_status import VisitStatus
from shared.wire import MAX_LENGTHS, MAX_WHOLE_NUMBER
from sync_server.pairing import status_link_key
from sync_server.sync.batch import batch_cache, cached_get
from sync_server.table_base import Base
from sync_server.visit_tables import Customer

# The limit a device's clock may run ahead of the server's (``init_app`` sets it).
max_clock_offset_ms = DEFAULT_MAX_OFFSET_MS
# What tests put in place of the server's wall clock.
server_now_ms: Callable[[], int] = wall_clock_ms


INT32_MAX = 2**31 - 1
_INT32 = -INT32_MAX - 1
INITIAL_VISIT_STATUSES = frozenset({VisitStatus.checked_in.value})
# What a device may move a visit to only with the customer's signature on the walk-around.
SIGNED_WALKAROUND_STATUSES = frozenset({VisitStatus.walkaround_done.value})
# The server's secret, from which each device's status-link key is derived (never logged).
_status_link_secret = ""


def init_app(app: Any) -> None:
    global max_clock_offset_ms, _status_link_secret
    max_clock_offset_ms = int(app.config.get("SYNC_MAX_CLOCK_OFFSET_MS", DEFAULT_MAX_OFFSET_MS))
    _status_link_secret = str(app.config["SECRET_KEY"] or "")  # or once read (server_secrets)
    from sync_server.sync import records

    records._server_clock.max_ahead_ms = max_clock_offset_ms


# --- clocks -------------------------------------------------------------------------


def latest_accepted_ms() -> int:
    """The highest wall time a device's clock may have right now."""
    return server_now_ms() + max_clock_offset_ms


_limit = (0, "")


def accepted_until() -> str:
    """An HLC string above every acceptable clock (compare as strings, no parsing)."""
    global _limit
    latest = server_now_ms() + max_clock_offset_ms
    if _limit[0] != latest:
        _limit = (latest, limit_hlc(latest))
    return _limit[1]


def clock_headers() -> dict[str, str]:
    """What every API answer tells a device about the server's time and the limit."""
    return {SERVER_TIME_HEADER: str(server_now_ms()), MAX_OFFSET_HEADER: str(max_clock_offset_ms)}


def _shown_time(wall_ms: int) -> str:
    try:
        return datetime.fromtimestamp(wall_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return f"{wall_ms} ms"


def check_clock(hlc: str) -> str:
    """Refuse a change clocked too far ahead of the server (``ChangeRefused`` 422);
    returns :func:`accepted_until` as it was checked."""
    limit = accepted_until()
    if hlc <= limit:
        return limit
    from sync_server.sync.records import ChangeRefused

    now = server_now_ms()
    device_ms = parse(hlc).wall_ms
    raise ChangeRefused(
        422,
        "clock-ahead",
        Text(
            "This device's clock says {device_time}, but the server's time is {server_time}. "
            "Set the device's date and time to automatic (network time) and sync again.",
            "server",
            {"device_time": _shown_time(device_ms), "server_time": _shown_time(now)},
        ),
        [
            FieldIssue(
                "hlc",
                "clock_ahead",
                Text(
                    "The device's clock is more than {minutes} minutes ahead of the server's.",
                    "server",
                    {"minutes": max(1, max_clock_offset_ms // 60_000)},
                ),
            ).to_dict()
        ],
        extra={
            "device_clock": hlc,
            "server_time_ms": now,
            "max_clock_offset_ms": max_clock_offset_ms,
            "accepted_until": limit_hlc(now + max_clock_offset_ms),
        },
    )


# --- values against their columns ---------------------------------------------------


class _Bound(NamedTuple):
    """What one projected column holds: worked out once per kind of record."""

    name: str
    max_chars: int | None  # String(n)
    whole_numbers: bool  # Integer: 32 bits
    max_amount: Decimal | None  # Numeric(p, s): below 10 ** (p - s)
    refers_to: type[Base] | None  # a foreign key's table


def _wire_keeps_length(record_type: type, name: str, length: int) -> bool:
    """Whether ``shared.wire`` already keeps this text field within ``length``."""
    if MAX_LENGTHS.get((record_type, name), length + 1) <= length:
        return True
    hint = get_type_hints(record_type)[name]
    if (name == "id" or name.endswith("_id")) and str in (hint, *get_args(hint)):
        return length >= 36  # a UUID
    enums = [t for t in (hint, *get_args(hint)) if isinstance(t, type) and issubclass(t, Enum)]
    return bool(enums) and all(len(member.value) <= length for member in enums[0])


@cache
def _column_bounds(
    model: type[Base], names: tuple[str, ...], record_type: type
) -> tuple[_Bound, ...]:
    """The bound of each projected field whose column has one that ``shared.wire`` does
    not already keep (every whole number on the wire fits 32 bits; most text fields have
    their column's length there): typically the references, and the columns of a table
    newer than the wire's limits."""
    bounds = []
    for name in names:
        column = model.__table__.columns[name]
        kind = column.type
        max_chars = kind.length if isinstance(kind, String) else None
        if max_chars is not None and _wire_keeps_length(record_type, name, max_chars):
            max_chars = None
        bound = _Bound(
            name,
            max_chars,
            isinstance(kind, Integer) and MAX_WHOLE_NUMBER > INT32_MAX,
            Decimal(10) ** (kind.precision - (kind.scale or 0))
            if isinstance(kind, Numeric) and kind.precision
            else None,
            _referenced_model(column),
        )
        if bound.max_chars or bound.whole_numbers or bound.max_amount or bound.refers_to:
            bounds.append(bound)
    return tuple(bounds)


def _issue(name: str, code: str, message: Text) -> dict[str, str]:
    return FieldIssue(name, code, message).to_dict()


def _value_issue(bound: _Bound, value: Any) -> dict[str, str] | None:
    if bound.max_chars is not None and isinstance(value, str) and len(value) > bound.max_chars:
        return _issue(
            bound.name,
            "too_long",
            Text("At most {n} characters.", "server", {"n": bound.max_chars}),
        )
    if bound.whole_numbers and isinstance(value, int) and not -INT32_MAX - 1 <= value <= INT32_MAX:
        return _issue(
            bound.name, "out_of_range", Text("This number is too large to keep.", "server")
        )
    if (
        bound.max_amount is not None
        and isinstance(value, Decimal)
        and value.is_finite()
        and abs(value) >= bound.max_amount
    ):
        return _issue(
            bound.name, "out_of_range", Text("This amount is too large to keep.", "server")
        )
    return None


def check_columns(
    session: Session,
    model: type[Base],
    names: tuple[str, ...],
    record: Any,
    get: Callable[[Session, type[Base], Any], Any],
) -> None:
    """Refuse values the record's typed table cannot hold (``ChangeRefused`` 422, one
    issue per field), instead of failing the whole push at the database."""
    issues = []
    for bound in _column_bounds(model, names, type(record)):
        value = getattr(record, bound.name)
        if value is None:
            continue
        # Cheap tests first: nearly every value is within its bounds.
        if (
            (bound.max_chars is not None and type(value) is str and len(value) > bound.max_chars)
            or (bound.whole_numbers and type(value) is int and not _INT32 <= value <= INT32_MAX)
            or (bound.max_amount is not None and type(value) is Decimal)
        ):
            issue = _value_issue(bound, value)
            if issue is not None:
                issues.append(issue)
                continue
        if bound.refers_to is not None and get(session, bound.refers_to, value) is None:
            issues.append(
                _issue(
                    bound.name,
                    "reference_missing",
                    Text(
                        "This record refers to one the server does not have ({field}).",
                        "server",
                        {"field": bound.name},
                    ),
                )
            )
    if issues:
        from sync_server.sync.records import ChangeRefused

        raise ChangeRefused(
            422,
            "validation",
            Text("Some fields of this record need attention.", "server"),
            issues,
        )


@cache
def _models_by_table() -> dict[str, type[Base]]:
    return {
        mapper.class_.__tablename__: mapper.class_
        for mapper in Base.registry.mappers
        if hasattr(mapper.class_, "__tablename__")
    }


def _referenced_model(column: Any) -> type[Base] | None:
    (foreign_key,) = tuple(column.foreign_keys)[:1] or (None,)
    if foreign_key is None:
        return None
    return _models_by_table().get(foreign_key.column.table.name)


# --- what only the server decides ---------------------------------------------------


def check_new_visit(fields: dict[str, Any], role: str, is_new: bool) -> None:
    """A device creates a visit only as "checked in"; its later steps are the
    status machine's (``policy.check_status_change``)."""
    if role == "server" or not is_new:
        return
    status = fields.get("status", VisitStatus.checked_in.value)
    if status not in INITIAL_VISIT_STATUSES:
        from sync_server.sync.records import ChangeRefused

        raise ChangeRefused(
            422,
            "status-transition",
            Text(
                "A device creates visits only as checked in, not as {wanted}.",
                "server",
                {"wanted": status},
            ),
            [{"field": "status", "code": "transition_refused"}],
        )


def needs_signed_walkaround(kind: str, fields: dict[str, Any]) -> bool:
    """Whether a device's change asks for a step that needs the customer's signature on
    the walk-around: the push applies such changes after the rest of their batch, so a
    signature in the same batch counts whatever the order (``sync.api``)."""
    return kind == "visit" and fields.get("status") in SIGNED_WALKAROUND_STATUSES


def check_walkaround_signed(
    session: Session,
    fields: dict[str, Any],
    role: str,
    existing_fields: dict[str, Any] | None,
    visit_id: str,
) -> None:
    """A device moves a visit to "walk-around done" only when the customer's signature
    covers the walk-around as the server holds it now (``ChangeRefused`` 422 otherwise,
    with what to do). The desk's own step has its gate, with a manager's override
    (``sync_server.walkarounds.gate``)."""
    if role == "server" or existing_fields is None:
        return
    wanted = fields.get("status")
    if wanted not in SIGNED_WALKAROUND_STATUSES or wanted == existing_fields.get("status"):
        return
    from sync_server.walkarounds.gate import WalkaroundNotSigned, require_signed_walkaround

    try:
        require_signed_walkaround(session, visit_id)
    except WalkaroundNotSigned as refused:
        from sync_server.sync.records import ChangeRefused

        raise ChangeRefused(
            422,
            "walkaround-not-signed",
            refused.message,
            [_issue("status", "walkaround_not_signed", refused.message)],
        ) from None


def device_status_link_key(device_uid: str) -> str:
    """The status-link key of the device ``device_uid`` (``sync_server.pairing``): from
    the secret of the app serving the request, as ``GET /devices/me`` gives it."""
    from flask import current_app, has_app_context

    secret = current_app.config["SECRET_KEY"] if has_app_context() else _status_link_secret
    return status_link_key(str(secret), device_uid)


def settle_customer_tier(
    fields: dict[str, Any],
    role: str,
    existing_fields: dict[str, Any] | None,
    session: Session | None = None,
) -> dict[str, Any]:
    """A customer change with the tier made the server's (``fields`` itself when the
    change leaves it alone, else a copy).

    A device's new customer is "regular" — unless the phone number typed is a VIP's in
    the customer file (a VIP who walked in at the kiosk without looking themselves up):
    then the new record is a VIP too, so the tablets flag the car at once."""
    if role == "server":
        return fields
    if existing_fields is None:
        phone = fields.get("phone")
        if session is not None and isinstance(phone, str) and vip_phone(session, phone):
            return {**fields, "tier": CustomerTier.vip.value}
        if fields.get("tier", "regular") == "regular":
            return fields
        return {**fields, "tier": "regular"}
    if "tier" not in fields:
        return fields
    return {name: value for name, value in fields.items() if name != "tier"}


def vip_phone(session: Session, phone: str) -> bool:
    """Whether a VIP customer in the customer file has this phone number (an index
    look-up on ``customers.phone``; a file merged into another counts only while the
    customer who stayed is a VIP; in a push, answered from :func:`load_vip_phones`)."""
    if not phone.strip():
        return False
    cache = batch_cache(session)
    known = cache.facts.get(_VIP_PHONES) if cache is not None else None
    if known is not None and phone in known[0]:
        return phone in known[1]
    from sync_server.appointments.vip import vip_phones_among

    return bool(vip_phones_among(session, [phone]))


def load_vip_phones(session: Session, phones: Iterable[Any]) -> None:
    """Look up, in one query, which of these phone numbers (a push's customers') are a
    VIP's: :func:`vip_phone` then answers from memory for the rest of the batch."""
    from sync_server.appointments.vip import vip_phones_among

    cache = batch_cache(session)
    asked = {phone for phone in phones if isinstance(phone, str) and phone.strip()}
    if cache is not None and asked:
        cache.facts[_VIP_PHONES] = (asked, vip_phones_among(session, asked))


_VIP_PHONES = "vip_phones"


def settle_status_token(
    fields: dict[str, Any],
    role: str,
    existing_fields: dict[str, Any] | None,
    *,
    visit_id: str,
    device_uid: str,
) -> dict[str, Any]:
    """The fields of a visit change with the status token made the server's.

    A new visit keeps the device's token (the kiosk prints it on the ticket while
    offline) only when it is exactly ``status_token_for(key, visit_id)`` with the
    sending device's status-link key; any other (made up, random, another device's, or
    made before the device had its key) is replaced by one the server makes. A token
    never changes afterwards: a device's attempt is dropped. Returns ``fields`` itself
    when nothing changes, else a copy.
    """
    if role == "server":
        return fields
    if existing_fields is None:
        token = fields.get("status_token")
        derived = status_token_for(device_status_link_key(device_uid), visit_id)
        if isinstance(token, str) and hmac.compare_digest(token.encode(), derived.encode()):
            return fields
        return {**fields, "status_token": new_status_token()}
    if "status_token" in fields and fields["status_token"] != existing_fields.get("status_token"):
        return {name: value for name, value in fields.items() if name != "status_token"}
    return fields


# Kinds whose records name the customer they belong to.
OWNED_BY_A_CUSTOMER = frozenset({"vehicle", "visit", "appointment"})
# A merge points files merged earlier at the customer who stays, so one step reaches
# the survivor; a few more cost nothing and survive a database edited by hand.
_MERGE_STEPS = 8


def settle_merged_customer(session: Session, fields: dict[str, Any]) -> dict[str, Any]:
    """The fields of a car, visit or appointment change with its customer made the one
    who stayed, when the change names a customer file merged into another (a device
    that had not synced the merge checks a car in under the old file). Returns
    ``fields`` itself when nothing changes, else a copy."""
    named = fields.get("customer_id")
    if not isinstance(named, str):
        return fields
    customer_id, seen = named, {named}
    for _step in range(_MERGE_STEPS):
        row = cached_get(session, Customer, customer_id)
        stayed = getattr(row, "merged_into_id", None) if row is not None else None
        if not stayed or stayed in seen:
            break
        customer_id = stayed
        seen.add(stayed)
    return fields if customer_id == named else {**fields, "customer_id": customer_id}
