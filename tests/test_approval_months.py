"""The monthly approval summary is kept exact by the projection: whatever approvals,
quotes and visits do, it equals the figures worked out from the approvals afresh."""

from __future__ import annotations

import random
import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from approval_fixtures import put_approved_visit
from flask import Flask
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared import domain
from sync_server import db
from sync_server.approval_month_tables import ApprovalMonth
from sync_server.approval_months import totals_from_approvals
from sync_server.people import create_user
from sync_server.reports import AdvisorMonth, MonthRange, approved_totals_by_advisor_month
from sync_server.shop import shop_settings
from sync_server.shop_tables import UserRole
from sync_server.sync.records import (
    Change,
    apply_change,
    end_batch,
    flush_batch,
    lock_feed,
    lock_records,
    put_server_record,
    server_hlc,
    start_batch,
    start_feed_writes,
    update_server_record,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Instants either side of the shop's month ends (Shanghai is UTC+8): 31 January 23:30,
# 1 February 00:30 (still January in UTC), mid-February, the last instant of February
# and 1 March 00:00, the end of March.
INSTANTS = [
    datetime(2026, 1, 31, 15, 30, tzinfo=UTC),
    datetime(2026, 1, 31, 16, 30, tzinfo=UTC),
    datetime(2026, 2, 14, 9, 0, tzinfo=UTC),
    datetime(2026, 2, 28, 15, 59, 59, 999000, tzinfo=UTC),
    datetime(2026, 2, 28, 16, 0, tzinfo=UTC),
    datetime(2026, 3, 31, 15, 30, tzinfo=UTC),
]
START, END = datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)


def _money(rng: random.Random) -> Decimal:
    return Decimal(rng.randint(1, 99_999)) / Decimal(100)


def _lines(rng: random.Random) -> list[domain.QuoteLine]:
    return [
        domain.QuoteLine(kind=domain.QuoteLineKind.part, description="Part", unit_price=_money(rng))
        for _ in range(rng.randint(1, 3))
    ]


class Workshop:
    """The records a workload made, and how it changes them."""

    def __init__(self, session: Session, advisors: list[int]) -> None:
        self.session = session
        self.advisors = advisors
        self.customers: list[str] = []
        self.visits: list[str] = []
        self.quotes: dict[str, domain.Quote] = {}
        self.approvals: dict[str, domain.Approval] = {}
        self.waiting: list[tuple[str, str]] = []  # (visit, quote id) approved before it came

    def step(self, op: str, seed: int, by_device: bool) -> None:
        rng = random.Random(seed)
        session = self.session
        if op == "advisor" and by_device and self.visits:
            self._push_advisor(rng.choice(self.visits), rng.choice([*self.advisors, None]))
            return
        lock_feed(session)
        if op == "visit" or not self.visits:
            customer = domain.Customer(name=f"Customer {seed}")
            vehicle = domain.Vehicle(customer_id=customer.id, plate=f"沪A{seed % 90000 + 10000}")
            visit = domain.Visit(
                ticket_number="A-001",
                customer_id=customer.id,
                vehicle_id=vehicle.id,
                advisor_user_id=rng.choice([*self.advisors, None]),
            )
            for kind, record in (("customer", customer), ("vehicle", vehicle), ("visit", visit)):
                put_server_record(session, kind, record)
            self.customers.append(customer.id)
            self.visits.append(visit.id)
        elif op == "quote":
            visit_id, quote_id = (
                self.waiting.pop() if self.waiting else (rng.choice(self.visits), domain.new_id())
            )
            quote = domain.Quote(id=quote_id, visit_id=visit_id, lines=_lines(rng))
            self.quotes[quote.id] = quote
            put_server_record(session, "quote", quote)
        elif op == "edit_quote" and self.quotes:
            quote = self.quotes[rng.choice(sorted(self.quotes))]
            edited = domain.Quote(
                id=quote.id, visit_id=quote.visit_id, version=quote.version, lines=_lines(rng)
            )
            self.quotes[quote.id] = edited
            put_server_record(session, "quote", edited)
        elif op == "approval":
            if self.quotes and rng.random() < 0.8:
                quote = self.quotes[rng.choice(sorted(self.quotes))]
            else:  # one that reaches the server before its quote
                quote = domain.Quote(visit_id=rng.choice(self.visits), lines=[])
                self.waiting.append((quote.visit_id, quote.id))
            approval = domain.Approval(
                quote_id=quote.id,
                quote_version=quote.version,
                decisions={line.id: domain.LineDecision.approved for line in quote.lines},
                signature_id=domain.new_id(),
                approved_at=rng.choice(INSTANTS),
            )
            self.approvals[approval.id] = approval
            put_server_record(session, "approval", approval)
        elif op == "redecide" and self.approvals:
            # The same approval again, with other decisions and maybe another time.
            approval = self.approvals[rng.choice(sorted(self.approvals))]
            quote = self.quotes.get(approval.quote_id)
            lines = quote.lines if quote else []
            again = domain.Approval(
                id=approval.id,
                quote_id=approval.quote_id,
                quote_version=approval.quote_version,
                decisions={line.id: rng.choice(list(domain.LineDecision)) for line in lines},
                signature_id=approval.signature_id,
                approved_at=rng.choice(INSTANTS),
            )
            self.approvals[again.id] = again
            put_server_record(session, "approval", again)
        elif op == "again" and self.approvals:
            approval = self.approvals[rng.choice(sorted(self.approvals))]
            put_server_record(session, "approval", approval)
        elif op == "advisor":
            update_server_record(
                session,
                "visit",
                rng.choice(self.visits),
                {"advisor_user_id": rng.choice([*self.advisors, None])},
            )
        elif op == "owner":  # as a merge of customers moves a visit
            update_server_record(
                session,
                "visit",
                rng.choice(self.visits),
                {"customer_id": rng.choice(self.customers)},
            )
        session.commit()

    def _push_advisor(self, visit_id: str, advisor: int | None) -> None:
        """The advisor set on a tablet, arriving in a device's push."""
        push_advisors(self.session, {visit_id: advisor})


def push_advisors(session: Session, advisors: dict[str, int | None]) -> None:
    """One device push that sets these visits' advisors, as the push endpoint applies it
    (on PostgreSQL: no feed lock, numbers and the summary's moves at the commit)."""
    start_feed_writes(session)
    lock_records(session, [("visit", visit_id) for visit_id in advisors])
    changes = [
        Change(domain.new_id(), "visit", visit_id, server_hlc(), {"advisor_user_id": advisor})
        for visit_id, advisor in advisors.items()
    ]
    start_batch(session, changes)
    try:
        with session.no_autoflush:
            for change in changes:
                apply_change(session, change, origin="tablet-1", role="server")
        flush_batch(session)
    finally:
        end_batch(session)
    session.commit()


def kept_figures(session: Session) -> dict[tuple[Any, ...], tuple[int, Decimal]]:
    rows = session.scalars(select(ApprovalMonth)).all()
    assert {row.zone for row in rows} <= {"Asia/Shanghai"}
    assert all(row.approvals > 0 for row in rows)
    return {
        (row.advisor_user_id or None, row.year, row.month): (row.approvals, row.approved_total)
        for row in rows
    }


def fresh_figures(session: Session) -> dict[tuple[Any, ...], tuple[int, Decimal]]:
    return {
        (f.advisor_user_id, f.year, f.month): (f.approvals, f.approved_total)
        for f in totals_from_approvals(session, START, END, SHANGHAI)
    }


def _shop(app: Flask) -> list[int]:
    session = db.session()
    shop_settings(session).timezone = "Asia/Shanghai"
    advisors = [
        create_user(session, name, "long-password-1", UserRole.ADVISOR).id
        for name in ("li.na", "tom")
    ]
    session.commit()
    return advisors


OPS = ("visit", "quote", "edit_quote", "approval", "redecide", "again", "advisor", "owner")
workloads = st.lists(
    st.tuples(st.sampled_from(OPS), st.integers(0, 10**6), st.booleans()),
    min_size=1,
    max_size=30,
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(workload=workloads)
# An approval before its quote, re-decided, sent again; the advisor moved from a tablet
# and at the desk; the quote edited after the approval.
@example(
    workload=[
        ("visit", 1, False),
        ("approval", 7, False),
        ("quote", 2, False),
        ("redecide", 3, False),
        ("again", 4, False),
        ("advisor", 5, True),
        ("edit_quote", 6, False),
        ("advisor", 8, False),
        ("owner", 9, False),
    ]
)
def test_the_kept_summary_equals_the_figures_worked_out_afresh(
    app: Flask, workload: list[tuple[str, int, bool]]
) -> None:
    from sync_server.sync.projections import rebuild

    with app.app_context():
        session = db.session()
        shop = Workshop(session, _shop_once(app))
        for op, seed, by_device in workload:
            shop.step(op, seed, by_device)
        kept = kept_figures(session)
        assert kept == fresh_figures(session)

        lock_feed(session)
        rebuild(session, ["approval"])
        session.commit()
        assert kept_figures(session) == kept


def _shop_once(app: Flask) -> list[int]:
    """The shop's two advisors, made by the first example of the app."""
    from sync_server.shop_tables import User

    session = db.session()
    found = session.scalars(select(User.id).order_by(User.id)).all()
    return list(found) if found else _shop(app)


FIRST_QUARTER = MonthRange(date(2026, 1, 1), date(2026, 3, 1), SHANGHAI)


def test_the_report_reads_the_summary_and_a_rebuild_puts_it_right(app: Flask) -> None:
    """What the page shows comes from the summary (a row changed by hand shows), and
    ``projections rebuild --kind approval`` works it out again from the approvals."""
    with app.app_context():
        session = db.session()
        li, tom = _shop(app)
        put_approved_visit(
            session, li, datetime(2026, 1, 31, 15, 30, tzinfo=UTC), "100"
        )  # Jan, shop
        put_approved_visit(
            session, li, datetime(2026, 1, 31, 16, 30, tzinfo=UTC), "200"
        )  # Feb, shop
        visit = put_approved_visit(session, tom, datetime(2026, 3, 2, tzinfo=UTC), "300").visit
        expected = [
            AdvisorMonth(li, 2026, 1, 1, Decimal("110.00")),
            AdvisorMonth(li, 2026, 2, 1, Decimal("220.00")),
            AdvisorMonth(tom, 2026, 3, 1, Decimal("330.00")),
        ]
        assert approved_totals_by_advisor_month(session, FIRST_QUARTER) == expected

        # The tablet gives Tom's visit to Li: the approval goes with it.
        push_advisors(session, {visit.id: li})
        moved = [*expected[:2], AdvisorMonth(li, 2026, 3, 1, Decimal("330.00"))]
        assert approved_totals_by_advisor_month(session, FIRST_QUARTER) == moved

        session.execute(update(ApprovalMonth).values(approvals=99))
        session.commit()
        tampered = approved_totals_by_advisor_month(session, FIRST_QUARTER)
        assert [row.approvals for row in tampered] == [99, 99, 99]

    result = app.test_cli_runner().invoke(args=["projections", "rebuild", "--kind", "approval"])
    assert result.exit_code == 0, result.output
    assert "approval months: 3 rows" in result.output
    with app.app_context():
        assert approved_totals_by_advisor_month(db.session(), FIRST_QUARTER) == moved


def test_a_new_shop_clock_keeps_the_figures_and_the_summary_follows_it(app: Flask) -> None:
    """Figures asked in another zone than the summary's come from the approvals; moving
    the shop's clock with ``checkin-server shop --timezone`` rebuilds the summary in it."""
    with app.app_context():
        session = db.session()
        li, _ = _shop(app)
        put_approved_visit(session, li, datetime(2026, 1, 31, 16, 30, tzinfo=UTC), "200")
        in_utc = MonthRange(date(2026, 1, 1), date(2026, 3, 1), UTC)
        january = [AdvisorMonth(li, 2026, 1, 1, Decimal("220.00"))]
        assert approved_totals_by_advisor_month(session, in_utc) == january
        assert approved_totals_by_advisor_month(session, FIRST_QUARTER) == [
            AdvisorMonth(li, 2026, 2, 1, Decimal("220.00"))
        ]

    result = app.test_cli_runner().invoke(args=["shop", "--timezone", "UTC"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        session = db.session()
        assert set(session.scalars(select(ApprovalMonth.zone))) == {"UTC"}
        assert approved_totals_by_advisor_month(session, in_utc) == january


def test_pushes_through_two_processes_lose_no_update(app: Flask) -> None:
    """On PostgreSQL two pushes apply at once; each moves a visit's approval between the
    same two advisors' rows, while the desk records a third approval: nothing is lost."""
    if app.extensions["db_engine"].dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    with app.app_context():
        session = db.session()
        li, tom = _shop(app)
        when = datetime(2026, 2, 10, tzinfo=UTC)
        first = put_approved_visit(session, li, when, "100").visit
        second = put_approved_visit(session, li, when, "200").visit
        third_quote = put_approved_visit(session, tom, when, "50").quote
    both_applied = threading.Barrier(2, timeout=20)
    failures: list[BaseException] = []

    def push(visit_id: str) -> None:
        try:
            with app.app_context():
                session = db.session()
                start_feed_writes(session)
                change = Change(
                    domain.new_id(), "visit", visit_id, server_hlc(), {"advisor_user_id": tom}
                )
                start_batch(session, [change])
                try:
                    with session.no_autoflush:
                        apply_change(session, change, origin="tablet-1", role="server")
                    flush_batch(session)
                finally:
                    end_batch(session)
                both_applied.wait()
                session.commit()
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=push, args=(v.id,)) for v in (first, second)]
    for thread in threads:
        thread.start()
    with app.app_context():  # the desk, meanwhile: another approval on Tom's visit
        session = db.session()
        lock_feed(session)
        put_server_record(
            session,
            "approval",
            domain.Approval(
                quote_id=third_quote.id,
                quote_version=1,
                decisions={third_quote.lines[0].id: domain.LineDecision.approved},
                signature_id=domain.new_id(),
                approved_at=when,
            ),
        )
        session.commit()
    for thread in threads:
        thread.join(30)
    assert failures == []
    with app.app_context():
        session = db.session()
        assert kept_figures(session) == fresh_figures(session)
        assert kept_figures(session) == {(tom, 2026, 2): (4, Decimal("440.00"))}
