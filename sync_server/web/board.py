"""The visit board: today's cars by status in columns, VIPs first, refreshing by itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import CompoundSelect, Row, bindparam, func, or_, select, union
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from shared.validation import check_phone, normalize_vin, plate_key
from shared.visit_status import ORDER, TERMINAL, VisitStatus
from sync_server import db, live
from sync_server.access import STAFF, allow
from sync_server.appointments.vip import is_vip, phone_of_a_vip
from sync_server.greeting import DEFAULT_TARGET_MINUTES, not_greeted
from sync_server.messaging.outbox import waiting_for_a_call
from sync_server.search import is_last4_query, model_search_key, plate_search_key
from sync_server.shop import shop_settings, today_bounds
from sync_server.table_base import utcnow
from sync_server.visit_tables import Customer, Vehicle, Visit

bp = Blueprint("board", __name__)

OPEN_STATUSES = tuple(status.value for status in ORDER if status not in TERMINAL)
TERMINAL_VALUES = frozenset(status.value for status in TERMINAL)
SEARCH_LIMIT = 50
# At most this many customers or cars per kind of match (a search for "王" is broad).
MATCH_LIMIT = 200
# Sorts right after every string that starts with a given prefix (prefix searches that
# can use the plate and VIN indexes).
PREFIX_END = "\uffff"


@dataclass(frozen=True)
class BoardCard:
    """One car on the board."""

    visit_id: str
    ticket_number: str
    status: str
    checked_in_at: datetime
    concern_text: str
    customer_name: str
    vip: bool
    plate: str
    make: str
    model: str
    to_call: bool = False  # the customer asked for a call, and it is not made yet
    not_greeted: bool = False  # waiting longer than the greeting target for an advisor

    @property
    def waiting(self) -> bool:
        """A car handed back (or cancelled) no longer waits."""
        return self.status not in TERMINAL_VALUES

    def waiting_minutes(self, now: datetime) -> int:
        return max(0, int((now - self.checked_in_at).total_seconds() // 60))


def _cards_query(vip: ColumnElement[bool] | None = None, *flags: ColumnElement[bool]):  # type: ignore[no-untyped-def]
    """The columns of a card; ``vip`` the customer's own flag unless given."""
    return (
        select(
            Visit.id,
            Visit.ticket_number,
            Visit.status,
            Visit.checked_in_at,
            Visit.concern_text,
            Customer.name,
            (is_vip() if vip is None else vip).label("vip"),
            Vehicle.plate,
            Vehicle.make,
            Vehicle.model,
            *flags,
        )
        .join(Customer, Customer.id == Visit.customer_id)
        .join(Vehicle, Vehicle.id == Visit.vehicle_id)
    )


def _card(row: Row[Any]) -> BoardCard:
    """A card from a row of :func:`_cards_query` (by position: a row's attributes by name
    cost a microsecond each, by a name it lacks ten)."""
    (visit_id, ticket, status, checked_in_at, concern, name, vip, plate, make, model, *flags) = row
    to_call, late = flags or (False, False)
    return BoardCard(
        visit_id=visit_id,
        ticket_number=ticket,
        status=status,
        checked_in_at=checked_in_at,
        concern_text=concern,
        customer_name=name,
        vip=bool(vip),
        plate=plate,
        make=make,
        model=model,
        to_call=bool(to_call),
        not_greeted=bool(late),
    )


def board_cards(session: Session, now: datetime | None = None) -> dict[str, list[BoardCard]]:
    """Today's visits and every visit still open, by status; VIPs first, then longest wait."""
    now = now or utcnow()
    start, end = today_bounds(shop_settings(session), now)
    target = int(current_app.config.get("GREETING_TARGET_MINUTES", DEFAULT_TARGET_MINUTES))
    statement = _board_statement(session.get_bind().dialect.name == "sqlite")
    rows = session.execute(
        statement, {"start": start, "end": end, "arrived_by": now - timedelta(minutes=target)}
    )
    columns: dict[str, list[BoardCard]] = {status.value: [] for status in ORDER}
    for row in rows:
        card = _card(row)
        columns.setdefault(card.status, []).append(card)
    for cards in columns.values():
        cards.sort(key=lambda card: (not card.vip, card.checked_in_at, card.ticket_number))
    return columns


@cache
def _board_statement(sqlite: bool) -> CompoundSelect:
    """The board in one statement, built once (its parameters ``start`` and ``end`` of
    the shop day, ``arrived_by`` for the greeting target): a VIP by their own flag or,
    a walk-in typed in anew, by a VIP's phone; the calls to make and the customers not
    greeted in time — each an index look-up per card, where asking for them by lists of
    ids cost more than the board's query itself."""
    vip = or_(is_vip(), phone_of_a_vip(Customer.phone))
    flags = (
        waiting_for_a_call().label("to_call"),
        not_greeted(bindparam("arrived_by")).label("not_greeted"),
    )
    # Two selects, each on its own index, rather than one with an OR: with a year's
    # statistics SQLite planned the OR as a scan of every customer (1.8 s at 100,000).
    today = _cards_query(vip, *flags).where(
        Visit.checked_in_at >= bindparam("start"), Visit.checked_in_at < bindparam("end")
    )
    is_open = Visit.status.in_(OPEN_STATUSES)
    if sqlite:
        # Its statistics hold only rows per status on average, not that open visits are
        # few among a year of delivered ones: say so, or it scans every customer.
        is_open = func.unlikely(is_open)
    still_open = _cards_query(vip, *flags).where(is_open)
    return union(today, still_open)  # a car both today's and still open: once


def search_visits(session: Session, query: str) -> list[BoardCard]:
    """Visits whose plate, phone, VIN, model or customer name matches, newest first.

    Each kind of match is its own query on its own index (plate, plate without province,
    model and VIN by prefix; phone and its last four digits exactly); an OR across the
    joined tables would read every visit instead.
    """
    query = query.strip()[:60]
    if not query:
        return []
    vehicle_ids: set[str] = set()
    customer_ids: set[str] = set()
    key = plate_key(query)
    if key:
        vehicle_ids.update(
            session.scalars(
                select(Vehicle.id)
                .where(Vehicle.plate >= key, Vehicle.plate < key + PREFIX_END)
                .limit(MATCH_LIMIT)
            )
        )
    tail = plate_search_key(query)
    if len(tail) >= 3:  # the plate without its province character, any case, dot or not
        vehicle_ids.update(
            session.scalars(
                select(Vehicle.id)
                .where(Vehicle.plate_search >= tail, Vehicle.plate_search < tail + PREFIX_END)
                .limit(MATCH_LIMIT)
            )
        )
    model = model_search_key(query)
    if len(model) >= 2:
        vehicle_ids.update(
            session.scalars(
                select(Vehicle.id)
                .where(Vehicle.model_search >= model, Vehicle.model_search < model + PREFIX_END)
                .limit(MATCH_LIMIT)
            )
        )
    if is_last4_query(query):  # the last four digits of the customer's phone
        customer_ids.update(
            session.scalars(
                select(Customer.id).where(Customer.phone_last4 == query).limit(MATCH_LIMIT)
            )
        )
    vin = normalize_vin(query)
    if len(vin) >= 6:
        vehicle_ids.update(
            session.scalars(
                select(Vehicle.id)
                .where(Vehicle.vin >= vin, Vehicle.vin < vin + PREFIX_END)
                .limit(MATCH_LIMIT)
            )
        )
    if sum(ch.isdigit() for ch in query) >= 7:
        phone = check_phone(query)
        if phone.ok:
            customer_ids.update(
                session.scalars(select(Customer.id).where(Customer.phone == phone.value))
            )
    # Names have no digits, and a query that is a model's very name is not a name:
    # spare the scan of every name then.
    if not any(ch.isdigit() for ch in query) and not _is_a_model(session, model):
        customer_ids.update(
            session.scalars(
                select(Customer.id).where(_name_contains(session, query)).limit(MATCH_LIMIT)
            )
        )
    found: dict[str, BoardCard] = {}
    for column, ids in ((Visit.vehicle_id, vehicle_ids), (Visit.customer_id, customer_ids)):
        if not ids:
            continue
        rows = session.execute(
            _cards_query()
            .where(column.in_(sorted(ids)))
            .order_by(Visit.checked_in_at.desc())
            .limit(SEARCH_LIMIT)
        ).all()
        for row in rows:
            found.setdefault(row[0], _card(row))
    return sorted(found.values(), key=lambda card: card.checked_in_at, reverse=True)[:SEARCH_LIMIT]


def _is_a_model(session: Session, model: str) -> bool:
    """Some car's model is exactly this (``sylphy``): an index look-up."""
    if len(model) < 2:
        return False
    found = session.scalar(select(Vehicle.id).where(Vehicle.model_search == model).limit(1))
    return found is not None


def _name_contains(session: Session, query: str) -> ColumnElement[bool]:
    """The customer's name contains ``query``, in any case. SQLite's LIKE already ignores
    the case of Latin letters, and is far cheaper than ``lower(name) LIKE lower(?)``."""
    pattern = f"%{_escape_like(query)}%"
    if session.get_bind().dialect.name == "sqlite":
        return Customer.name.like(pattern, escape="\\")
    return Customer.name.ilike(pattern, escape="\\")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _context() -> dict[str, object]:
    session = db.session()
    query = request.args.get("q", "").strip()
    now = utcnow()
    return {
        "query": query,
        "now": now,
        "columns": board_cards(session, now) if not query else {},
        "results": search_visits(session, query) if query else [],
        "order": [status.value for status in ORDER],
        "terminal": {status.value for status in TERMINAL},
        "VisitStatus": VisitStatus,
        "greeting_target": int(
            current_app.config.get("GREETING_TARGET_MINUTES", DEFAULT_TARGET_MINUTES)
        ),
    }


@bp.get("/board")
@allow(*STAFF)
def board() -> ResponseReturnValue:
    return render_template("board/board.html", **_context())


@bp.get("/board/events")
@allow(*STAFF)
def events() -> ResponseReturnValue:
    """The board's live events: "visits changed" (ids only); the page then fetches its
    cards again (``board.js``), and falls back to its periodic refresh without them."""
    return live.live().open_stream()


@bp.get("/board/cards")
@allow(*STAFF)
def cards() -> ResponseReturnValue:
    """The board's columns (or search results) alone, for the page's own refresh."""
    response = render_template("board/_cards.html", **_context())
    return response, 200, {"Cache-Control": "no-store"}
