"""Keyed hashes for exact-match lookups on a lobby kiosk.

A kiosk must find today's appointment by phone, plate or code while offline, yet never
hold another customer's phone number or plate in clear. The server sends it, for each
appointment, an HMAC of the normalised phone, plate and code under a shop key; the kiosk
hashes what the customer typed the same way and compares.
"""

from __future__ import annotations

import hashlib
import hmac

from shared.validation import plate_key


def lookup_hash(key: bytes, kind: str, value: str) -> str:
    """``kind`` is "phone" (E.164), "plate" (any form) or "code" (any case)."""
    if kind == "plate":
        value = plate_key(value)
    elif kind == "code":
        value = value.upper().replace("-", "").replace(" ", "")
    message = f"{kind}:{value}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]
