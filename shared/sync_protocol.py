"""The sync protocol between the shop's devices and its server, defined once.

Everything both ends must agree on lives here and nowhere else (docs/sync.md,
"Protocol"): where the API is (``API_PREFIX``), the version of the push message
(``SCHEMA_VERSION``), how many changes and bytes one push may carry, how long a page of
the feed may be, what an id, a photo's fingerprint and a clock look like, and the shape
of one change on the wire::

    {"change_id": "<uuid>", "kind": "visit", "id": "<uuid>",
     "hlc": "0001763803123456-0000-<node>", "fields": {...}, "base"?: {...}}

The device builds its messages with :func:`change_message` and :func:`push_message`;
the server reads them with :func:`change_problems` (which members are malformed) before
its own policy (which kinds a caller may send) and the merge. A test checks that no
other module defines these limits or patterns again.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Mapping
from typing import Any

from shared.hlc import HLC, HLC_PATTERN

__all__ = [
    "API_PREFIX",
    "CHANGE_MEMBERS",
    "EPOCH_HEADER",
    "HLC_PATTERN",
    "MAX_CHANGE_IDS_PER_ASK",
    "MAX_HASHES_PER_ASK",
    "MAX_OFFSET_HEADER",
    "MAX_PULL_PAGE",
    "MAX_PUSH_BYTES",
    "MAX_PUSH_CHANGES",
    "SCHEMA_VERSION",
    "SERVER_TIME_HEADER",
    "SHA256_PATTERN",
    "STATUS_TOKEN_PATTERN",
    "SUPPORTED_SCHEMAS",
    "UUID_PATTERN",
    "change_message",
    "change_problems",
    "is_hlc",
    "is_sha256",
    "is_supported_schema",
    "is_uuid",
    "push_message",
]

# Where the server answers devices (and the back office's JSON API).
API_PREFIX = "/api/v1"

# Headers of the protocol: the feed epoch a device knows (a restored server refuses a
# push from an older one), and on every answer the server's clock and how far ahead of
# it a change may be clocked (docs/sync.md, "Clock rules").
EPOCH_HEADER = "X-Feed-Epoch"
SERVER_TIME_HEADER = "X-Server-Time-Ms"
MAX_OFFSET_HEADER = "X-Max-Clock-Offset-Ms"

# The version of the push message; a server refuses versions it does not know.
SCHEMA_VERSION = 1
SUPPORTED_SCHEMAS: frozenset[int] = frozenset({SCHEMA_VERSION})

# One push carries at most this many changes and this many bytes of JSON (the server's
# default ``MAX_CONTENT_LENGTH``; a body over it is refused before it is read).
MAX_PUSH_CHANGES = 500
MAX_PUSH_BYTES = 2 * 1024 * 1024
# One page of the changes feed holds at most this many changes.
MAX_PULL_PAGE = 500
# A device asks which of its photos (``POST /blobs/missing``) and which of its changes
# (``POST /sync/changes/missing``, after a restore) the server lacks, at most this many
# at a time.
MAX_HASHES_PER_ASK = 5000
MAX_CHANGE_IDS_PER_ASK = 1000

# Record ids and change ids: lowercase canonical UUIDs, as ``uuid.uuid4()`` writes them.
UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# A photo or signature picture is known by its SHA-256: 64 lowercase hex digits.
SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")

# A visit's status token as a device may make it (``shared.domain.new_status_token``,
# ``secrets.token_urlsafe(16)``): 22 URL-safe characters, 128 random bits. The kiosk
# prints it on the ticket offline; the server keeps it only when it has this form.
STATUS_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{22}")

# The members of one change; ``base`` may be left out.
CHANGE_MEMBERS: frozenset[str] = frozenset({"change_id", "kind", "id", "hlc", "fields", "base"})


def is_uuid(value: object) -> bool:
    """Whether ``value`` is an id both ends accept (a lowercase canonical UUID)."""
    return isinstance(value, str) and UUID_PATTERN.fullmatch(value) is not None


def is_sha256(value: object) -> bool:
    """Whether ``value`` is a picture's fingerprint (64 lowercase hex digits)."""
    return isinstance(value, str) and SHA256_PATTERN.fullmatch(value) is not None


def is_hlc(value: object) -> bool:
    """Whether ``value`` is a clock in the form ``shared.hlc`` writes."""
    return isinstance(value, str) and HLC_PATTERN.fullmatch(value) is not None


def is_supported_schema(value: object) -> bool:
    """Whether a push message's ``schema`` is a version this software reads."""
    return isinstance(value, int) and not isinstance(value, bool) and value in SUPPORTED_SCHEMAS


def change_message(
    change_id: str,
    kind: str,
    record_id: str,
    hlc: HLC,
    fields: dict[str, Any],
    base: Mapping[str, HLC | None] | None = None,
) -> dict[str, Any]:
    """One change as it goes on the wire (``base`` only when the device knew clocks)."""
    message: dict[str, Any] = {
        "change_id": change_id,
        "kind": kind,
        "id": record_id,
        "hlc": hlc,
        "fields": fields,
    }
    if base is not None:
        message["base"] = dict(base)
    return message


def push_message(changes: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The body of ``POST /sync/push``: the schema version and the changes."""
    return {"schema": SCHEMA_VERSION, "changes": list(changes)}


def change_problems(raw: Mapping[str, Any], kinds: Container[str] | None = None) -> list[str]:
    """The members of a change (a JSON object) that are not in the sync format.

    Empty when the change is well formed. ``kinds``, when given, are the kinds the
    reader knows; whether this caller may send its kind, and whether its fields make a
    valid record, is for the server to judge after this.
    """
    problems: list[str] = []
    if not is_uuid(raw.get("change_id")):
        problems.append("change_id")
    kind = raw.get("kind")
    if not (isinstance(kind, str) and kind and (kinds is None or kind in kinds)):
        problems.append("kind")
    if not is_uuid(raw.get("id")):
        problems.append("id")
    if not is_hlc(raw.get("hlc")):
        problems.append("hlc")
    fields = raw.get("fields")
    if not (isinstance(fields, dict) and fields):
        problems.append("fields")
    base = raw.get("base")
    if base is not None and not (
        isinstance(base, dict) and all(v is None or is_hlc(v) for v in base.values())
    ):
        problems.append("base")
    return problems
