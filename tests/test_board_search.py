"""The board's search finds what advisors type: the plate without its province character,
in any case, with or without the dot; the last four digits of the phone; the model."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import Shop
from sqlalchemy import event
from web_fixtures import web_login

from shared import domain
from shared.visit_status import VisitStatus
from sync_server import db
from sync_server.search import model_search_key, phone_last4, plate_search_key
from sync_server.sync.records import lock_feed, put_server_record, update_server_record
from sync_server.visit_tables import Customer, Vehicle


def add_visit(app: Flask, name: str, phone: str, plate: str, make: str, model: str) -> str:
    with app.app_context():
        session = db.session()
        customer = domain.Customer(name=name, phone=phone)
        vehicle = domain.Vehicle(customer_id=customer.id, plate=plate, make=make, model=model)
        visit = domain.Visit(
            ticket_number="A-003",
            customer_id=customer.id,
            vehicle_id=vehicle.id,
            status=VisitStatus.checked_in,
            checked_in_at=domain.utcnow() - timedelta(minutes=12),
            status_token=domain.new_status_token(),
        )
        lock_feed(session)
        put_server_record(session, "customer", customer)
        put_server_record(session, "vehicle", vehicle)
        put_server_record(session, "visit", visit)
        session.commit()
        return vehicle.id


def cards(client: FlaskClient, query: str) -> str:
    response = client.get("/board/cards", query_string={"q": query})
    body = response.get_data(as_text=True)
    response.close()
    return body


# Each of these, as an advisor types it, finds 苏A·3N2P8, Nissan Sylphy, +86 139 1234 5605.
QUERIES = [
    "A3N2P8",
    "a3n2p8",
    "苏A3N2P8",
    "苏a·3n2p8",
    "A·3N2P8",
    "a.3n2p8",
    " a3n2 ",
    "5605",
    "Sylphy",
    "SYLPHY",
    "sylphy",
    "Zhou",
]


def test_board_search_finds_what_advisors_type(app: Flask, client: FlaskClient, shop: Shop) -> None:
    add_visit(app, "Zhou Min", "+8613912345605", "苏A3N2P8", "Nissan", "Sylphy")
    add_visit(app, "Other Olga", "+8613700002222", "沪B99999", "Toyota", "Camry")
    web_login(client, shop)
    for query in QUERIES:
        body = cards(client, query)
        assert "Zhou Min" in body, query
        assert "Other Olga" not in body, query
    # A plate is searched from its start (after the province), a phone by its last four.
    for query in ("3N2P8", "560", "12345605x", "ylphy"):
        assert "Zhou Min" not in cards(client, query), query


def test_search_follows_a_changed_plate_and_phone(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    vehicle_id = add_visit(app, "Zhou Min", "+8613912345605", "苏A3N2P8", "Nissan", "Sylphy")
    with app.app_context():
        session = db.session()
        customer_id = session.get(Vehicle, vehicle_id).customer_id
        lock_feed(session)
        update_server_record(
            session, "vehicle", vehicle_id, {"plate": "苏E77Q21", "model": "Teana"}
        )
        update_server_record(session, "customer", customer_id, {"phone": "+8613912348888"})
        session.commit()
        assert session.get(Customer, customer_id).phone_last4 == "8888"
    web_login(client, shop)
    assert "Zhou Min" in cards(client, "e77q21")
    assert "Zhou Min" in cards(client, "teana")
    assert "Zhou Min" in cards(client, "8888")
    assert "Zhou Min" not in cards(client, "a3n2p8")
    assert "Zhou Min" not in cards(client, "5605")
    assert "Zhou Min" not in cards(client, "sylphy")


def test_search_keys() -> None:
    assert plate_search_key("苏A·3N2P8") == plate_search_key("a3n2p8") == "A3N2P8"
    assert plate_search_key("京") == ""
    assert model_search_key("CR-V") == model_search_key("cr v") == "crv"
    assert phone_last4("+86 139 1234 5605") == "5605"
    assert phone_last4("123") == ""


def test_searches_are_index_look_ups_not_scans(app: Flask) -> None:
    """What advisors type is found through the indexes of the normalised columns: no
    statement of the search reads a whole table (SQLite's query plans, read back)."""
    if app.extensions["db_engine"].dialect.name != "sqlite":
        return  # the plans are read on SQLite; PostgreSQL plans by its table statistics
    add_visit(app, "Zhou Min", "+8613912345605", "苏A3N2P8", "Nissan", "Sylphy")
    engine = app.extensions["db_engine"]
    statements: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        statements.append((statement, parameters))

    from sync_server.web.board import search_visits

    event.listen(engine, "before_cursor_execute", keep)
    try:
        with app.app_context():
            for query in ("a3n2p8", "5605", "sylphy", "苏A·3N2P8"):
                statements.clear()
                assert [card.plate for card in search_visits(db.session(), query)] == [
                    "苏A3N2P8"
                ], query
                with engine.connect() as connection:
                    for statement, parameters in list(statements):
                        plan = connection.exec_driver_sql(
                            f"EXPLAIN QUERY PLAN {statement}", parameters
                        ).all()
                        scans = [row[-1] for row in plan if str(row[-1]).startswith("SCAN")]
                        assert scans == [], (query, statement, scans)
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def _customer_on_file(app: Flask, name: str, phone: str, *, vip: bool = False) -> str:
    """A customer in the customer file, with no visit; a VIP by a manager's hand."""
    from sync_server.appointments.vip import set_vip

    with app.app_context():
        session = db.session()
        customer = domain.Customer(name=name, phone=phone)
        lock_feed(session)
        put_server_record(session, "customer", customer)
        if vip:
            set_vip(session, customer.id, True, "Fleet owner")
        session.commit()
        return customer.id


def test_the_board_is_one_statement_of_index_searches(app: Flask) -> None:
    """The board is one statement that flags a walk-in typed in anew whose phone is a
    VIP's, or a file merged into a VIP's; with the table statistics of a year (100,000
    visits, most delivered) every part of it is an index search — no scan of customers
    or visits (SQLite's plans; PostgreSQL plans by its own statistics)."""
    engine = app.extensions["db_engine"]
    add_visit(app, "Zhou Min", "+8613912345605", "苏A3N2P8", "Nissan", "Sylphy")
    _customer_on_file(app, "Wang Fang", "+8613800001111", vip=True)
    add_visit(app, "Wang F.", "+8613800001111", "京A11111", "Toyota", "Camry")
    stayed = _customer_on_file(app, "Li Na", "+8613800002222", vip=True)
    merged = _customer_on_file(app, "Li N.", "+8613800003333")
    add_visit(app, "Li Na", "+8613800003333", "京A22222", "Toyota", "Camry")
    regular = _customer_on_file(app, "Zhao Lei", "+8613800004444")
    merged_to_regular = _customer_on_file(app, "Zhao L.", "+8613800005555")
    add_visit(app, "Zhao Lei", "+8613800005555", "京A33333", "Toyota", "Camry")
    with app.app_context():
        session = db.session()
        for file, into in ((merged, stayed), (merged_to_regular, regular)):
            customer = session.get(Customer, file)
            assert customer is not None
            customer.merged_into_id = into
        session.commit()
    sqlite = engine.dialect.name == "sqlite"
    year = [
        ("visits", "ix_visits_status", "100000 11000"),
        ("visits", "ix_visits_checked_in_at", "100000 2"),
        ("visits", "ix_visits_customer_id", "100000 5"),
        ("visits", "ix_visits_vehicle_id", "100000 5"),
        ("visits", None, "100000"),
        ("customers", None, "20000"),
        ("vehicles", None, "20000"),
    ]
    if sqlite:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
            connection.exec_driver_sql("DELETE FROM sqlite_stat1")
            for table, index, stat in year:
                connection.exec_driver_sql(
                    "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)",
                    (table, index, stat),
                )
        engine.dispose()  # new connections read the statistics
    statements: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        statements.append((statement, parameters))

    from sync_server.web.board import board_cards

    event.listen(engine, "before_cursor_execute", keep)
    try:
        with app.app_context():
            columns = board_cards(db.session())
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    flags = {card.plate: card.vip for card in columns[VisitStatus.checked_in.value]}
    assert flags == {"苏A3N2P8": False, "京A11111": True, "京A22222": True, "京A33333": False}
    assert len([s for s in statements if "FROM visits" in s[0]]) == 1
    if not sqlite:
        return
    with engine.connect() as connection:
        for statement, parameters in statements:
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            scans = [row[-1] for row in plan if str(row[-1]).startswith("SCAN")]
            assert scans == [], (statement, scans)
