"""Typed tables for every synced kind: what the changes write, a rebuild writes too."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import Flask
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shared import domain
from shared.wire import from_wire, to_wire
from sync_server import db, visits
from sync_server.back_office_tables import ApprovalRow, QuoteRow
from sync_server.record_tables import (
    ApprovalDecisionRow,
    ConsentRow,
    DamageMarkRow,
    QuoteLineRow,
    QuoteOptionRow,
    SignatureRow,
    VisitNoteRow,
    VisitPhotoRow,
    WalkaroundRow,
)
from sync_server.sync.records import (
    end_batch,
    flush_batch,
    lock_feed,
    put_server_record,
    start_batch,
    update_server_record,
)
from sync_server.visit_tables import Customer, Visit

# --- a workload of random records and edits ------------------------------------------

SHA = [f"{n:064x}" for n in range(1, 6)]


def _money(rng: random.Random) -> Decimal:
    return Decimal(rng.randint(0, 200_000)) / Decimal(100)


def _line(rng: random.Random, option_id: str | None = None) -> domain.QuoteLine:
    kind = rng.choice(list(domain.QuoteLineKind))
    return domain.QuoteLine(
        kind=kind,
        description=f"Line {rng.randint(1, 99)}",
        hours=Decimal(rng.randint(1, 40)) / Decimal(10),
        labour_rate=_money(rng),
        quantity=Decimal(rng.randint(1, 8)),
        unit_price=_money(rng),
        urgency=rng.choice(list(domain.Urgency)),
        photo_sha256s=rng.sample(SHA, rng.randint(0, 2)),
        option_id=option_id,
    )


def _quote(rng: random.Random, visit_id: str, quote_id: str) -> domain.Quote:
    options = []
    lines = [_line(rng) for _ in range(rng.randint(1, 3))]
    if rng.random() < 0.4:
        options = [domain.QuoteOption(label=f"Option {n}") for n in range(2)]
        lines += [_line(rng, option.id) for option in options]
    return domain.Quote(
        id=quote_id,
        visit_id=visit_id,
        version=rng.randint(1, 3),
        option_label="Brakes",
        lines=lines,
        tax_rate=Decimal(rng.choice(["0", "0.06", "0.13"])),
        options=options,
    )


@dataclass
class Shop:
    """What the workload has made so far."""

    visits: list[str] = field(default_factory=list)
    walkarounds: list[str] = field(default_factory=list)
    marks: list[str] = field(default_factory=list)
    consents: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    quotes: dict[str, domain.Quote] = field(default_factory=dict)
    future_quotes: list[tuple[str, str]] = field(default_factory=list)  # (visit, quote id)


OPS = (
    "visit",
    "consent",
    "signature",
    "walkaround",
    "mark",
    "photo",
    "note",
    "quote",
    "edit_quote",
    "approval",
    "edit",
)


def _records(shop: Shop, op: str, rng: random.Random) -> list[tuple[str, Any]]:
    """The records one step of the workload writes (as the server would)."""
    if op == "visit" or not shop.visits:
        customer = domain.Customer(
            name=f"Customer {rng.randint(1, 999)}", tier=domain.CustomerTier.vip
        )
        vehicle = domain.Vehicle(customer_id=customer.id, plate=f"京A{rng.randint(10000, 99999)}")
        visit = domain.Visit(ticket_number="A-001", customer_id=customer.id, vehicle_id=vehicle.id)
        shop.visits.append(visit.id)
        return [("customer", customer), ("vehicle", vehicle), ("visit", visit)]
    visit_id = rng.choice(shop.visits)
    image = domain.PhotoRef(
        sha256=rng.choice(SHA),
        size_bytes=1000,
        content_type=domain.ImageType.jpeg,
        width=640,
        height=480,
    )
    if op == "consent":
        consent = domain.Consent(
            visit_id=visit_id,
            text_version="2026-1",
            text_sha256="c" * 64,
            language=rng.choice(["en", "zh_CN"]),
        )
        shop.consents.append(consent.id)
        return [("consent", consent)]
    if op == "signature":
        strokes = [
            [domain.StrokePoint(rng.random(), rng.random(), n * 10) for n in range(3)]
            for _ in range(rng.randint(1, 2))
        ]
        signature = domain.Signature(
            visit_id=visit_id,
            purpose=rng.choice(list(domain.SignaturePurpose)),
            strokes=strokes,
            image=domain.PhotoRef(
                sha256=rng.choice(SHA),
                size_bytes=900,
                content_type=domain.ImageType.png,
                width=600,
                height=200,
            )
            if rng.random() < 0.5
            else None,
            signed_sha256="d" * 64,
        )
        return [("signature", signature)]
    if op == "walkaround":
        walkaround = domain.Walkaround(
            visit_id=visit_id,
            version=rng.randint(1, 3),
            odometer_km=rng.randint(0, 300_000),
            fuel_eighths=rng.randint(0, 8),
            warning_lights=rng.sample(["abs", "engine", "oil"], rng.randint(0, 2)),
            belongings=domain.Belongings(jack=rng.random() < 0.5, keys_count=rng.randint(0, 3)),
            tyre_tread_mm={"fl": rng.randint(10, 80) / 10},
        )
        shop.walkarounds.append(walkaround.id)
        return [("walkaround", walkaround)]
    if op == "mark":
        # Now and then a mark whose walk-around never reached the server.
        walkaround_id = (
            rng.choice(shop.walkarounds)
            if shop.walkarounds and rng.random() < 0.8
            else domain.new_id()
        )
        mark = domain.DamageMark(
            walkaround_id=walkaround_id,
            view=rng.choice(list(domain.DiagramView)),
            x=rng.random(),
            y=rng.random(),
            damage_type=rng.choice(list(domain.DamageType)),
            severity=rng.randint(1, 3),
            pins=[domain.PhotoPin(rng.choice(SHA), rng.random(), rng.random())],
        )
        shop.marks.append(mark.id)
        return [("damage_mark", mark)]
    if op == "photo":
        walkaround_id = rng.choice(shop.walkarounds) if shop.walkarounds else None
        return [
            (
                "photo",
                domain.VisitPhoto(visit_id=visit_id, image=image, walkaround_id=walkaround_id),
            )
        ]
    if op == "note":
        note = domain.VisitNote(visit_id=visit_id, text=f"Note {rng.randint(1, 99)}")
        shop.notes.append(note.id)
        return [("note", note)]
    if op == "quote":
        visit_id, quote_id = (
            shop.future_quotes.pop() if shop.future_quotes else (visit_id, domain.new_id())
        )
        quote = _quote(rng, visit_id, quote_id)
        shop.quotes[quote.id] = quote
        return [("quote", quote)]
    if op == "edit_quote" and shop.quotes:
        quote = shop.quotes[rng.choice(sorted(shop.quotes))]
        lines = list(quote.lines)
        if len(lines) > 1 and rng.random() < 0.5:
            lines.pop(rng.randrange(len(lines)))
        else:
            lines[0] = domain.QuoteLine(**{**to_wire_fields(lines[0]), "unit_price": _money(rng)})
        lines.append(_line(rng))
        edited = domain.Quote(
            id=quote.id,
            visit_id=quote.visit_id,
            version=quote.version,
            option_label=quote.option_label,
            lines=lines,
            tax_rate=quote.tax_rate,
            options=quote.options,
        )
        shop.quotes[quote.id] = edited
        return [("quote", edited)]
    if op == "approval":
        if shop.quotes and rng.random() < 0.7:
            quote = shop.quotes[rng.choice(sorted(shop.quotes))]
            quote_id, version, lines = quote.id, quote.version, quote.lines
            option = rng.choice(quote.options).id if quote.options else None
        else:  # an approval that reaches the server before its quote
            quote_id, version, lines, option = domain.new_id(), 1, [], None
            shop.future_quotes.append((visit_id, quote_id))
        approval = domain.Approval(
            quote_id=quote_id,
            quote_version=version,
            decisions={
                line.id: rng.choice(list(domain.LineDecision))
                for line in lines
                if rng.random() < 0.8
            },
            signature_id=domain.new_id(),
            option_id=option,
        )
        return [("approval", approval)]
    return []


def to_wire_fields(line: domain.QuoteLine) -> dict[str, Any]:
    return {name: getattr(line, name) for name in line.__slots__}  # type: ignore[attr-defined]


def _edit(session: Session, shop: Shop, rng: random.Random) -> None:
    """An edit of some fields of a record made before: a tombstone, a language, ..."""
    choices = [
        ("damage_mark", shop.marks, lambda: {"deleted": rng.random() < 0.5}),
        ("consent", shop.consents, lambda: {"language": rng.choice(["en", "zh_CN"])}),
        ("note", shop.notes, lambda: {"text": f"Edited {rng.randint(1, 99)}"}),
        ("walkaround", shop.walkarounds, lambda: {"odometer_km": rng.randint(0, 9999)}),
    ]
    kind, ids, fields = rng.choice(choices)
    if ids:
        update_server_record(session, kind, rng.choice(ids), fields())


def _apply(session: Session, shop: Shop, op: str, seed: int, as_batch: bool) -> None:
    rng = random.Random(seed)
    lock_feed(session)
    if op == "edit":
        _edit(session, shop, rng)
        session.commit()
        return
    records = _records(shop, op, rng)
    server_kinds = {"quote", "approval"}
    if as_batch and not server_kinds & {kind for kind, _ in records}:
        from sync_server.sync.records import Change

        changes = []
        for kind, record in records:
            fields = to_wire(record)
            fields.pop("id")
            hlc = f"{1_700_000_000_000 + seed:016d}-0000-device"
            changes.append(Change(domain.new_id(), kind, record.id, hlc, fields))
        from sync_server.sync.records import apply_change

        start_batch(session, changes)
        try:
            with session.no_autoflush:
                for change in changes:
                    apply_change(session, change, origin="device", role="server")
            flush_batch(session)
        finally:
            end_batch(session)
    else:
        for kind, record in records:
            put_server_record(session, kind, record)
    session.commit()


# The typed tables a rebuild writes, with the columns that are the record's (the rows'
# own bookkeeping times are not).
SNAPSHOT_TABLES = (
    Customer,
    Visit,
    ConsentRow,
    SignatureRow,
    WalkaroundRow,
    DamageMarkRow,
    VisitPhotoRow,
    VisitNoteRow,
    QuoteRow,
    QuoteLineRow,
    QuoteOptionRow,
    ApprovalRow,
    ApprovalDecisionRow,
)
BOOKKEEPING = {"created_at", "updated_at"}


def _snapshot(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    session.expire_all()
    found = {}
    for model in SNAPSHOT_TABLES:
        table = model.__table__
        columns = [
            c for c in table.columns if c.name not in BOOKKEEPING or model not in (Customer, Visit)
        ]
        rows = session.execute(select(*columns).order_by(*table.primary_key.columns)).all()
        found[table.name] = [tuple(row) for row in rows]
    return found


def _wipe(session: Session) -> None:
    """Empty the tables only the projection writes (children first)."""
    for model in (
        ApprovalDecisionRow,
        QuoteLineRow,
        QuoteOptionRow,
        DamageMarkRow,
        VisitPhotoRow,
        SignatureRow,
        ConsentRow,
        VisitNoteRow,
        WalkaroundRow,
    ):
        session.execute(delete(model))
    session.commit()


workloads = st.lists(
    st.tuples(st.sampled_from(OPS), st.integers(0, 10**6), st.booleans()),
    min_size=1,
    max_size=30,
)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(workload=workloads)
# Lines dropped from a quote, an approval before its quote, marks taken back, by batch.
@example(
    workload=[("visit", 1, False), ("quote", 5, False)]
    + [("edit_quote", n, False) for n in range(4)]
)
@example(
    workload=[
        ("visit", 1, True),
        ("approval", 9, False),
        ("quote", 2, False),
        ("walkaround", 3, True),
        ("mark", 4, True),
        ("consent", 5, True),
        ("edit", 6, False),
        ("edit", 7, False),
    ]
)
def test_a_rebuild_equals_the_incremental_projection(
    app: Flask, workload: list[tuple[str, int, bool]]
) -> None:
    from sync_server.sync.projections import rebuild

    with app.app_context():
        session = db.session()
        shop = Shop()
        for op, seed, as_batch in workload:
            _apply(session, shop, op, seed, as_batch)
        incremental = _snapshot(session)

        lock_feed(session)
        rebuild(session)
        session.commit()
        assert _snapshot(session) == incremental

        _wipe(session)
        lock_feed(session)
        rebuild(session)
        session.commit()
        assert _snapshot(session) == incremental


def test_typed_rows_read_back_as_the_records_that_were_synced(app: Flask) -> None:
    """Walk-around, marks, photos, signatures, consent, note, quote and approval: what
    the pages read from the typed tables equals what the change carried."""
    rng = random.Random(7)
    with app.app_context():
        session = db.session()
        shop = Shop()
        written: dict[str, list[Any]] = {}
        for op in ("visit", "walkaround", "mark", "photo", "signature", "consent", "note", "quote"):
            lock_feed(session)
            for kind, record in _records(shop, op, rng):
                put_server_record(session, kind, record)
                written.setdefault(kind, []).append(record)
            session.commit()
        quote = written["quote"][0]
        approval = domain.Approval(
            quote_id=quote.id,
            quote_version=quote.version,
            decisions={line.id: domain.LineDecision.approved for line in quote.lines},
            signature_id=domain.new_id(),
            option_id=quote.options[0].id if quote.options else None,
        )
        lock_feed(session)
        put_server_record(session, "approval", approval)
        session.commit()

        visit_id = shop.visits[0]
        (walkaround,) = visits.walkarounds(session, visit_id)
        assert walkaround == written["walkaround"][0]
        assert visits.damage_marks(session, [walkaround.id]) == written["damage_mark"]
        assert visits.photos(session, visit_id) == written["photo"]
        assert visits.signatures(session, visit_id) == written["signature"]
        assert visits.consents(session, visit_id) == written["consent"]
        assert visits.notes(session, visit_id) == written["note"]
        read_quote = visits.quote(session, quote.id)
        assert read_quote == quote
        assert read_quote is not None and read_quote.totals() == quote.totals()
        row = session.get(ApprovalRow, approval.id)
        assert row is not None
        assert visits.approval_of(session, row) == approval
        assert row.approved_total == approval.approved_total(quote)
        quote_row = session.get(QuoteRow, quote.id)
        assert quote_row is not None and quote_row.total == quote.total
        # The customer's language is a column of their own, from their consent.
        customer = session.get(Customer, session.get(Visit, visit_id).customer_id)
        assert customer is not None
        assert customer.language == written["consent"][0].language
        assert from_wire("quote", to_wire(read_quote)) == quote


def test_the_rebuild_command_puts_back_typed_rows_from_the_sync_records(app: Flask) -> None:
    rng = random.Random(3)
    with app.app_context():
        session = db.session()
        shop = Shop()
        for op in ("visit", "consent", "note"):
            lock_feed(session)
            for kind, record in _records(shop, op, rng):
                put_server_record(session, kind, record)
            session.commit()
        before = _snapshot(session)
        _wipe(session)
        assert _snapshot(session)["consents"] == []

    result = app.test_cli_runner().invoke(args=["projections", "rebuild", "--kind", "consent"])
    assert result.exit_code == 0, result.output
    assert "consent: 1 record projected" in result.output
    with app.app_context():
        after = _snapshot(db.session())
    assert after["consents"] == before["consents"]
    assert after["visit_notes"] == []  # only the kind asked for

    result = app.test_cli_runner().invoke(args=["projections", "rebuild"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert _snapshot(db.session()) == before
