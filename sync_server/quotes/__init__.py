"""Transparent quotes (透明报价) and the customer's authorisation (方案确认).

A quote is a synced record of kind ``quote`` (one version of a visit's quote), written
through the single write path like everything else. A version once sent to the customer
is never edited: a change makes the next version, which needs its own approval. The
customer approves or declines line by line on their phone, through a link that carries a
signed, expiring token, and signs; the approval, the signature and the visit's step to
``approved`` are written in one transaction. ``sync.policy`` refuses ``approved`` and
``in_progress`` without a stored approval of the latest version, whoever asks.

Where useful a version offers options ("genuine pads" or "aftermarket pads", "repair" or
"replace"): two to four alternatives, each with its own lines and pros and cons, beside
the lines every option shares. The customer chooses one option, or none, and answers
the shared lines and the chosen option's lines; the approval names the option chosen.

The quotes area: this module (versions, sending, approval), ``changes`` (what changed
since the version the customer saw), ``link`` (whether the customer's link still
answers); its pages are ``web/quotes.py`` (the advisor's editor, with ``quote_form``)
and ``web/approval.py`` (the customer's phone).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import domain
from shared.i18n import Text
from shared.visit_status import VisitStatus
from shared.wire import canonical_sha256, to_wire
from sync_server import visits
from sync_server.back_office_tables import ApprovalRow, QuoteRow
from sync_server.sync.blobs import BlobStore
from sync_server.sync.records import lock_feed, put_server_record, update_server_record
from sync_server.sync.tables import Blob
from sync_server.table_base import utcnow
from sync_server.visit_tables import Visit

APPROVAL_TOKEN_SALT = "quote-approval-v1"
APPROVAL_LINK_DAYS = 3
CHOOSABLE_KINDS = frozenset({domain.QuoteLineKind.labour, domain.QuoteLineKind.part})
MAX_OPTIONS = 4
OPTION_LETTERS = "ABCD"


class QuoteRefused(Exception):
    """A quote step that cannot be taken now, with a message for the desk."""

    def __init__(self, message: Text) -> None:
        super().__init__(message.render("en"))
        self.message = message


class TokenRefused(Exception):
    """An approval link that is tampered with (``reason`` "invalid") or too old ("expired")."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class QuoteVersion:
    """A quote version with what the desk knows about it: when sent, and its approvals."""

    quote: domain.Quote
    sent_at: Any
    approvals: list[domain.Approval]

    @property
    def approval(self) -> domain.Approval | None:
        return self.approvals[-1] if self.approvals else None


def quote_versions(session: Session, visit_id: str) -> list[QuoteVersion]:
    """Every quote version of the visit, oldest first, with its approvals (the history)."""
    rows = session.scalars(
        select(QuoteRow).where(QuoteRow.visit_id == visit_id).order_by(QuoteRow.version)
    ).all()
    versions = []
    for row in rows:
        approvals = session.scalars(
            select(ApprovalRow)
            .where(ApprovalRow.quote_id == row.id, ApprovalRow.quote_version == row.version)
            .order_by(ApprovalRow.approved_at)
        ).all()
        versions.append(
            QuoteVersion(
                visits.quote_of(session, row),
                row.sent_at,
                [visits.approval_of(session, approval) for approval in approvals],
            )
        )
    return versions


def latest_version(session: Session, visit_id: str) -> QuoteVersion | None:
    versions = quote_versions(session, visit_id)
    return versions[-1] if versions else None


def option_letter(quote: domain.Quote, option_id: str | None) -> str:
    """The option's letter by its place in the quote: A, B, ... ("" for no option)."""
    for index, option in enumerate(quote.options):
        if option.id == option_id:
            return OPTION_LETTERS[index] if index < len(OPTION_LETTERS) else str(index + 1)
    return ""


def check_options(quote: domain.Quote) -> None:
    """Refuse options that offer no real choice (``QuoteRefused`` saying why)."""
    if not quote.options:
        if any(line.option_id is not None for line in quote.lines):
            raise QuoteRefused(
                Text("A line belongs to an option this quote does not have.", "server")
            )
        return
    ids = [option.id for option in quote.options]
    if len(set(ids)) != len(ids):
        raise QuoteRefused(Text("Two options of this quote have the same id.", "server"))
    if len(quote.options) == 1:
        raise QuoteRefused(
            Text(
                "One option is no choice: add a second option, or put its lines under "
                "“Every option”.",
                "server",
            )
        )
    if len(quote.options) > MAX_OPTIONS:
        raise QuoteRefused(
            Text("A quote offers at most {n} options.", "server", {"n": MAX_OPTIONS})
        )
    for option in quote.options:
        if not option.label.strip():
            raise QuoteRefused(Text("Give every option a name.", "server"))
        if not quote.option_lines(option.id):
            raise QuoteRefused(
                Text(
                    "Option “{option}” has no lines: give it at least one.",
                    "server",
                    {"option": option.label},
                )
            )
    if any(line.option_id is not None and line.option_id not in ids for line in quote.lines):
        raise QuoteRefused(Text("A line belongs to an option this quote does not have.", "server"))


def save_quote(
    session: Session,
    visit_id: str,
    *,
    lines: list[domain.QuoteLine],
    option_label: str,
    notes: str,
    tax_rate: Decimal,
    options: list[domain.QuoteOption] | None = None,
) -> domain.Quote:
    """Store the desk's quote: the unsent latest version is edited in place; once a
    version has been sent, a change makes the next version. Commits."""
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise QuoteRefused(Text("This visit does not exist.", "server"))
    if visit.status not in (VisitStatus.walkaround_done, VisitStatus.diagnosed):
        raise QuoteRefused(
            Text(
                "A quote can be written once the walk-around is done, and changed only "
                "before it is sent. Use “Revise quote” or “Problem found” first.",
                "server",
            )
        )
    latest = latest_version(session, visit_id)
    if latest is not None and latest.sent_at is None:
        quote_id, version = latest.quote.id, latest.quote.version
    else:
        quote_id, version = domain.new_id(), (latest.quote.version + 1 if latest else 1)
    quote = domain.Quote(
        id=quote_id,
        visit_id=visit_id,
        version=version,
        option_label=option_label,
        lines=lines,
        tax_rate=tax_rate,
        notes=notes,
        options=list(options or []),
    )
    check_options(quote)
    lock_feed(session)
    put_server_record(session, "quote", quote)
    session.commit()
    return quote


def move_visit(session: Session, visit_id: str, status: VisitStatus) -> None:
    """One status step through the single write path (the caller holds the feed lock)."""
    update_server_record(session, "visit", visit_id, {"status": status.value})


def send_quote(session: Session, visit_id: str, user_id: int | None) -> QuoteVersion:
    """Mark the latest version sent and move the visit to ``quote_sent`` (no commit)."""
    visit = session.get(Visit, visit_id)
    latest = latest_version(session, visit_id)
    if latest is None or not latest.quote.lines:
        raise QuoteRefused(Text("Write the quote before sending it.", "server"))
    check_options(latest.quote)
    if visit is None or visit.status not in (VisitStatus.walkaround_done, VisitStatus.diagnosed):
        raise QuoteRefused(Text("A quote can be sent once the car has been diagnosed.", "server"))
    lock_feed(session)
    if visit.status == VisitStatus.walkaround_done:
        move_visit(session, visit_id, VisitStatus.diagnosed)
    row = session.get(QuoteRow, latest.quote.id)
    assert row is not None
    row.sent_at = utcnow()
    row.sent_by_user_id = user_id
    move_visit(session, visit_id, VisitStatus.quote_sent)
    session.flush()
    return QuoteVersion(latest.quote, row.sent_at, latest.approvals)


# --- the customer's link ---------------------------------------------------------------


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=APPROVAL_TOKEN_SALT)


def approval_token(secret: str, quote: domain.Quote) -> str:
    """The signed token of the customer's approval link for this quote version."""
    return _serializer(secret).dumps({"q": quote.id, "v": quote.version})


def read_approval_token(
    secret: str, token: str, max_age_days: int = APPROVAL_LINK_DAYS
) -> tuple[str, int]:
    """(quote id, version) from a token, or ``TokenRefused``."""
    try:
        data = _serializer(secret).loads(token, max_age=max_age_days * 86400)
    except SignatureExpired:
        raise TokenRefused("expired") from None
    except BadSignature:
        raise TokenRefused("invalid") from None
    if not (
        isinstance(data, dict) and isinstance(data.get("q"), str) and isinstance(data.get("v"), int)
    ):
        raise TokenRefused("invalid")
    return data["q"], data["v"]


def quote_for_token(session: Session, quote_id: str, version: int) -> domain.Quote | None:
    quote = visits.quote(session, quote_id)
    if quote is None or quote.version != version:
        return None
    return quote


def signed_content_sha256(
    quote: domain.Quote,
    decisions: dict[str, domain.LineDecision],
    option_id: str | None = None,
    safety_acknowledged: list[str] | None = None,
) -> str:
    """What the customer's approval signature binds: this quote version, their answers
    and, for a quote with options, the option chosen; and the safety lines they declined
    knowing the risk."""
    content: dict[str, Any] = {
        "quote": to_wire(quote),
        "decisions": {key: str(value) for key, value in decisions.items()},
    }
    if quote.options:
        content["option_id"] = option_id
    if safety_acknowledged:
        content["safety_acknowledged"] = sorted(safety_acknowledged)
    return canonical_sha256(content)


def record_approval(
    session: Session,
    blob_store: BlobStore,
    quote: domain.Quote,
    *,
    decisions: dict[str, domain.LineDecision],
    strokes: list[list[domain.StrokePoint]],
    signature_png: bytes,
    signer_name: str,
    ip_address: str,
    user_agent: str,
    option_id: str | None = None,
    safety_acknowledged: list[str] | None = None,
) -> domain.Approval:
    """Keep the customer's signed answer and move the visit to ``approved`` (no commit).

    ``option_id`` is the option chosen (None: none, or the quote has no options); only
    the answers to lines offered with it are kept. ``safety_acknowledged`` names the red
    lines declined after the customer confirmed they understood the risk.
    """
    if option_id is not None and quote.option(option_id) is None:
        raise QuoteRefused(Text("Please choose one of the options offered.", "server"))
    offered = {line.id for line in quote.lines_for(option_id)}
    decisions = {key: value for key, value in decisions.items() if key in offered}
    acknowledged = sorted(
        line_id
        for line_id in set(safety_acknowledged or ())
        if decisions.get(line_id) == domain.LineDecision.declined
    )
    sha = hashlib.sha256(signature_png).hexdigest()
    stored = blob_store.receive(sha, "image/png", io.BytesIO(signature_png))
    if session.get(Blob, sha) is None:
        session.add(
            Blob(
                sha256=sha,
                content_type="image/png",
                size_bytes=stored.size_bytes,
                width=stored.width,
                height=stored.height,
                uploaded_by="customer",
                uploaded_at=utcnow(),
            )
        )
    signature = domain.Signature(
        visit_id=quote.visit_id,
        purpose=domain.SignaturePurpose.approval,
        strokes=strokes,
        image=domain.PhotoRef(
            sha256=sha,
            size_bytes=stored.size_bytes,
            content_type=domain.ImageType.png,
            width=stored.width,
            height=stored.height,
        ),
        signed_sha256=signed_content_sha256(quote, decisions, option_id, acknowledged),
        signer_name=signer_name,
    )
    approval = domain.Approval(
        quote_id=quote.id,
        quote_version=quote.version,
        decisions=decisions,
        signature_id=signature.id,
        ip_address=ip_address,
        user_agent=user_agent[:400],
        option_id=option_id,
        safety_acknowledged=acknowledged,
    )
    lock_feed(session)
    # Checked again under the writers' lock: two taps on "confirm" make one approval.
    latest = latest_version(session, quote.visit_id)
    if latest is None or latest.quote.id != quote.id or latest.approvals:
        raise QuoteRefused(Text("This quote has already been answered.", "server"))
    put_server_record(session, "signature", signature)
    put_server_record(session, "approval", approval)
    move_visit(session, quote.visit_id, VisitStatus.approved)
    session.flush()
    return approval
