"""What changed in a quote since the version the customer saw.

A revised quote (version N+1) is read against the last version sent to the customer:
lines added, lines changed (with what they were), lines taken out. Lines keep their id
from version to version (the editor carries it), so a line is compared with itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shared import domain

# What makes two versions of a line the same line for the customer.
COMPARED = (
    "kind",
    "description",
    "hours",
    "labour_rate",
    "quantity",
    "unit_price",
    "part_number",
    "option_id",
)


@dataclass(frozen=True)
class QuoteChanges:
    """The changes of one version against ``since_version``, the one the customer saw."""

    since_version: int
    new: frozenset[str] = frozenset()
    changed: dict[str, domain.QuoteLine] = field(default_factory=dict)  # id → as seen
    removed: tuple[domain.QuoteLine, ...] = ()

    def of(self, line_id: str) -> str:
        """ "new", "changed" or "" for a line of the newer version."""
        if line_id in self.new:
            return "new"
        return "changed" if line_id in self.changed else ""

    def __bool__(self) -> bool:
        return bool(self.new or self.changed or self.removed)


def same_line(before: domain.QuoteLine, after: domain.QuoteLine) -> bool:
    if any(getattr(before, name) != getattr(after, name) for name in COMPARED):
        return False
    # Urgency means something for work only (not for fees and discounts).
    return before.kind not in ("labour", "part") or before.urgency == after.urgency


def changes_since(seen: domain.Quote, now: domain.Quote) -> QuoteChanges:
    """How ``now`` differs from ``seen``, line by line."""
    before = {line.id: line for line in seen.lines}
    after_ids = {line.id for line in now.lines}
    return QuoteChanges(
        since_version=seen.version,
        new=frozenset(line.id for line in now.lines if line.id not in before),
        changed={
            line.id: before[line.id]
            for line in now.lines
            if line.id in before and not same_line(before[line.id], line)
        },
        removed=tuple(line for line in seen.lines if line.id not in after_ids),
    )


def seen_before(versions: Sequence[Any], version: int) -> Any | None:
    """The newest version older than ``version`` that was sent to the customer (the one
    they saw), from ``quotes.quote_versions``; None when there is none."""
    sent = [v for v in versions if v.sent_at is not None and v.quote.version < version]
    return sent[-1] if sent else None


def changes_by_version(versions: Sequence[Any]) -> dict[int, QuoteChanges]:
    """For each version after the first one sent, its changes against the one seen."""
    found = {}
    for each in versions:
        seen = seen_before(versions, each.quote.version)
        if seen is not None:
            found[each.quote.version] = changes_since(seen.quote, each.quote)
    return found
