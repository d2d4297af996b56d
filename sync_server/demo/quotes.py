"""The demo visits' quotes with options: one sent, one approved on the phone with a
signature."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from shared import domain
from sync_server.back_office_tables import ApprovalRow, QuoteRow
from sync_server.demo.cast import demo_id, to_millis
from sync_server.demo.pictures import signature_png, signature_strokes, store_picture
from sync_server.demo.walkarounds import (
    DAVID_WALKAROUND,
    LIU_WALKAROUND,
    DemoWalkaround,
    demo_picture,
)
from sync_server.sync.blobs import BlobStore


def _labour(
    key: str,
    description: str,
    hours: str,
    rate: str,
    urgency: domain.Urgency,
    option: domain.QuoteOption | None = None,
) -> domain.QuoteLine:
    return domain.QuoteLine(
        id=demo_id("quote_line", key),
        kind=domain.QuoteLineKind.labour,
        description=description,
        hours=Decimal(hours),
        labour_rate=Decimal(rate),
        urgency=urgency,
        option_id=option.id if option else None,
    )


def _part(
    key: str,
    description: str,
    quantity: str,
    price: str,
    urgency: domain.Urgency,
    part_number: str = "",
    option: domain.QuoteOption | None = None,
    photos: tuple[str, ...] = (),
    kind: domain.QuoteLineKind = domain.QuoteLineKind.part,
) -> domain.QuoteLine:
    return domain.QuoteLine(
        id=demo_id("quote_line", key),
        kind=kind,
        description=description,
        quantity=Decimal(quantity),
        unit_price=Decimal(price),
        part_number=part_number,
        urgency=urgency,
        photo_sha256s=list(photos),
        option_id=option.id if option else None,
    )


def _photo_sha(index: int, demo: DemoWalkaround) -> str:
    return hashlib.sha256(demo_picture(demo.photos[index][1], demo.body)).hexdigest()


RED, YELLOW, GREEN = domain.Urgency.red, domain.Urgency.yellow, domain.Urgency.green


def david_quote() -> domain.Quote:
    """The BMW's engine light: one cracked ignition coil; replace it, or all six."""
    one = domain.QuoteOption(
        id=demo_id("quote_option", "david:one"),
        label="Replace the cracked coil (cylinder 3)",
        notes="Fixes today's misfire at the lowest cost. The other five coils are the "
        "same age and may fail later.",
    )
    six = domain.QuoteOption(
        id=demo_id("quote_option", "david:six"),
        label="Replace all six coils and the spark plugs",
        notes="Costs more now, but the plugs are due at 90,000 km anyway and it saves "
        "another visit for the next coil.",
    )
    coil = (_photo_sha(2, DAVID_WALKAROUND),)
    coil_number = "12 13 8 657 273"
    return domain.Quote(
        id=demo_id("quote", "david-mueller"),
        visit_id=demo_id("visit", "david-mueller"),
        option_label="Engine warning light: misfire on cylinder 3",
        notes="We read the fault codes and found a cracked ignition coil on cylinder 3.",
        options=[one, six],
        lines=[
            _labour("david:diagnosis", "Read fault codes and test the ignition", "0.5", "220", RED),
            _part(
                "david:filter", "Engine air filter (dirty)", "1", "168", GREEN, "13 71 8 577 170"
            ),
            _part(
                "david:one-coil",
                "Ignition coil, genuine BMW",
                "1",
                "620",
                RED,
                coil_number,
                one,
                coil,
            ),
            _labour("david:one-fit", "Fit the ignition coil", "0.4", "220", RED, one),
            _part(
                "david:six-coils",
                "Ignition coils, genuine BMW (set of 6)",
                "6",
                "590",
                RED,
                coil_number,
                six,
                coil,
            ),
            _part(
                "david:six-plugs",
                "Spark plugs (set of 6)",
                "6",
                "95",
                YELLOW,
                "12 12 0 039 664",
                six,
            ),
            _labour("david:six-fit", "Fit the coils and the plugs", "1.5", "220", YELLOW, six),
            _part(
                "david:loyalty",
                "Loyal customer discount",
                "1",
                "50",
                GREEN,
                option=six,
                kind=domain.QuoteLineKind.discount,
            ),
        ],
    )


def liu_quote() -> domain.Quote:
    """The Geely's knock at the front left: a worn stabiliser link, genuine or not."""
    genuine = domain.QuoteOption(
        id=demo_id("quote_option", "liu:genuine"),
        label="原厂配件 Genuine Geely parts",
        notes="两年质保，今天可装好。2-year warranty; in stock, fitted today.",
    )
    aftermarket = domain.QuoteOption(
        id=demo_id("quote_option", "liu:aftermarket"),
        label="品牌副厂配件 Lemförder parts",
        notes="约便宜四成，一年质保。About 40% cheaper, 1-year warranty.",
    )
    tyre = (_photo_sha(1, LIU_WALKAROUND),)
    return domain.Quote(
        id=demo_id("quote", "liu-yang"),
        visit_id=demo_id("visit", "liu-yang"),
        option_label="前左异响与轮胎 Front-left knock and tyre",
        notes="异响来自磨损的前左稳定杆连杆。The knock comes from a worn stabiliser link.",
        options=[genuine, aftermarket],
        lines=[
            _part("liu:tyre", "前左轮胎 Front-left tyre 225/55 R18", "1", "780", RED, photos=tyre),
            _labour("liu:alignment", "四轮定位 Wheel alignment", "1", "180", YELLOW),
            _part("liu:wipers", "雨刮片 Wiper blades (pair)", "1", "120", GREEN),
            _part(
                "liu:genuine-link",
                "稳定杆连杆 Stabiliser link, genuine",
                "1",
                "420",
                RED,
                "4013034800",
                genuine,
            ),
            _labour("liu:genuine-fit", "更换连杆 Replace the link", "1", "180", RED, genuine),
            _part(
                "liu:after-link",
                "稳定杆连杆 Stabiliser link, Lemförder",
                "1",
                "250",
                RED,
                "LF-38211",
                aftermarket,
            ),
            _labour("liu:after-fit", "更换连杆 Replace the link", "1", "180", RED, aftermarket),
        ],
    )


def seed_quote(session: Session, key: str, quote: domain.Quote, sent_at: datetime) -> None:
    from sync_server.sync.records import put_server_record

    put_server_record(session, "quote", quote)
    row = session.get(QuoteRow, quote.id)
    assert row is not None
    if row.sent_at is None:
        row.sent_at = sent_at


def seed_approval(
    session: Session, blob_store: BlobStore | None, key: str, approved_at: datetime
) -> None:
    """The customer chose the first option on their phone and signed."""
    from sync_server.quotes import signed_content_sha256
    from sync_server.sync.records import put_server_record

    quote = david_quote()
    option_id = quote.options[0].id
    decisions = {
        line.id: (
            domain.LineDecision.declined
            if line.id == demo_id("quote_line", "david:filter")
            else domain.LineDecision.approved
        )
        for line in quote.lines_for(option_id)
        if line.kind in (domain.QuoteLineKind.labour, domain.QuoteLineKind.part)
    }
    strokes = signature_strokes(7)
    image = store_picture(session, blob_store, signature_png(strokes), "image/png")
    signature = domain.Signature(
        id=demo_id("signature", f"{key}:approval"),
        visit_id=quote.visit_id,
        purpose=domain.SignaturePurpose.approval,
        strokes=strokes,
        image=image,
        signed_sha256=signed_content_sha256(quote, decisions, option_id),
        signer_name="David Müller",
        signed_at=to_millis(approved_at),
    )
    approval = domain.Approval(
        id=demo_id("approval", key),
        quote_id=quote.id,
        quote_version=quote.version,
        decisions=decisions,
        signature_id=signature.id,
        approved_at=to_millis(approved_at),
        ip_address="203.0.113.24",
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Mobile Safari/604.1",
        option_id=option_id,
    )
    put_server_record(session, "signature", signature)
    put_server_record(session, "approval", approval)
    assert session.get(ApprovalRow, approval.id) is not None
