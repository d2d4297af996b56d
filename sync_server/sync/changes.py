"""A change as a device sends it: its form, its checks of form, and how a refusal is told.

A change sets some fields of one record (``kind`` + ``id``) at one hybrid logical clock.
:func:`read_change` turns the JSON of a push into a :class:`Change` or refuses it with a
problem the device can show; who may send it is ``policy``'s question, what it does is
``merge``'s.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from shared.i18n import Text
from shared.sync_protocol import change_problems, is_hlc, is_sha256
from sync_server.sync.projections import PROJECTIONS

# Every kind of record the sync engine knows: each has its typed table.
SYNCED_KINDS = frozenset(PROJECTIONS)


@dataclass(frozen=True)
class Change:
    change_id: str
    kind: str
    id: str
    hlc: str
    fields: dict[str, Any]
    # The clock each field had on the device when it was edited: an edit made knowing
    # the current value replaces it; one made without knowing it is a real conflict.
    base: dict[str, str | None] | None = None

    def content_sha256(self) -> str:
        """What makes two pushes of this change id the same change.

        The change arrived as plain JSON, so the standard encoder with sorted keys is a
        stable form of it (and much faster than the general canonical encoder).
        """
        content = {
            "kind": self.kind,
            "id": self.id,
            "hlc": self.hlc,
            "fields": self.fields,
            "base": self.base,
        }
        encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(encoded.encode("utf-8")).hexdigest()

    def knew(self, name: str, current_hlc: str) -> bool:
        return self.base is not None and self.base.get(name) == current_hlc


class ChangeRefused(Exception):
    """A change that cannot be applied, with the HTTP-like status of its result."""

    def __init__(
        self,
        status: int,
        kind: str,
        message: Text,
        errors: list[dict[str, Any]] | None = None,
        *,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(kind)
        self.status = status
        self.kind = kind
        self.message = message
        self.errors = errors or []
        self.extra = extra or {}  # more members of the problem document


def read_change(raw: Any) -> Change:
    """A change from its JSON form, or ``ChangeRefused`` (422) saying what is wrong."""
    if not isinstance(raw, dict):
        raise ChangeRefused(
            422, "change-malformed", Text("Each change must be a JSON object.", "server")
        )
    problems = change_problems(raw, SYNCED_KINDS)  # the form both ends agree on
    if problems:
        raise ChangeRefused(
            422,
            "change-malformed",
            Text(
                "This change is not in the sync format: check {names}.",
                "server",
                {"names": ", ".join(problems)},
            ),
            [{"field": name, "code": "invalid"} for name in problems],
        )
    return Change(
        raw["change_id"], raw["kind"], raw["id"], raw["hlc"], raw["fields"], raw.get("base")
    )


def issue_dict(issue: Any) -> dict[str, Any]:
    to_dict = getattr(issue, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    return {"field": getattr(issue, "field", ""), "code": getattr(issue, "code", "invalid")}


def blob_refs(value: Any) -> Iterator[str]:
    """Every photo hash a record's fields refer to."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("sha256", "photo_sha256") and isinstance(item, str):
                if is_sha256(item):
                    yield item
            elif isinstance(item, dict | list):
                yield from blob_refs(item)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict | list):
                yield from blob_refs(item)


def stamped_by(hlc: str) -> str:
    """The node id in an HLC: the device (its uid) or the server that made the change."""
    return hlc.split("-", 2)[2] if is_hlc(hlc) else ""
