"""Whether the customer's approval link can still be answered, and what it says if not.

A link names one quote version. It is open while that version is the latest, has been
sent, has no answer yet and the visit waits for the customer (``quote_sent``). The moment
the advisor revises the quote (the visit goes back to ``diagnosed``) or writes a newer
version, the link says so in words the customer understands — never a status name —
and takes no answer.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.orm import Session

from shared import domain
from shared.i18n import Text
from shared.visit_status import VisitStatus
from sync_server.quotes import quote_versions
from sync_server.visit_tables import Visit


class LinkState(StrEnum):
    open = "open"  # the customer may answer
    answered = "answered"  # this version has the customer's answer
    updating = "updating"  # the advisor is changing the quote; a new link will follow
    replaced = "replaced"  # a newer version was sent: its link is the one to open
    closed = "closed"  # the visit was cancelled


# What the customer reads on a link that cannot be answered, by state.
MESSAGES: dict[LinkState, Text] = {
    LinkState.updating: Text(
        "Your advisor is updating this quote; a new link is on its way.", "server"
    ),
    LinkState.replaced: Text(
        "This quote has been replaced by a newer one. Please open the latest link we sent you.",
        "server",
    ),
    LinkState.closed: Text(
        "This quote is no longer open. Please call the service desk if you have questions.",
        "server",
    ),
}


def link_state(session: Session, quote: domain.Quote) -> LinkState:
    """Where the link of ``quote`` (one version) stands now."""
    versions = quote_versions(session, quote.visit_id)
    mine = next((v for v in versions if v.quote.id == quote.id), None)
    visit = session.get(Visit, quote.visit_id)
    if mine is None or visit is None or visit.status == VisitStatus.cancelled:
        return LinkState.closed
    newer = [v for v in versions if v.quote.version > mine.quote.version]
    if newer:
        return LinkState.replaced if any(v.sent_at for v in newer) else LinkState.updating
    if mine.approvals:
        return LinkState.answered
    if mine.sent_at is not None and visit.status == VisitStatus.quote_sent:
        return LinkState.open
    return LinkState.updating
