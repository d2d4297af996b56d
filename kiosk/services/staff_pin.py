"""The staff PIN that lets a person leave kiosk mode; only a salted hash is stored.

PBKDF2-HMAC-SHA256 with a random salt, stored as ``pbkdf2_sha256$<iterations>$<salt
hex>$<hash hex>`` in ``DeviceSettings.staff_pin_hash``. Compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

PIN_MIN_LENGTH = 4
PIN_MAX_LENGTH = 8
ITERATIONS = 200_000
_SCHEME = "pbkdf2_sha256"


def is_valid_pin(pin: str) -> bool:
    """4 to 8 digits."""
    return pin.isascii() and pin.isdigit() and PIN_MIN_LENGTH <= len(pin) <= PIN_MAX_LENGTH


def hash_pin(pin: str, iterations: int = ITERATIONS) -> str:
    """The stored form of ``pin``; ``ValueError`` unless it has 4 to 8 digits."""
    if not is_valid_pin(pin):
        raise ValueError(f"a staff PIN has {PIN_MIN_LENGTH} to {PIN_MAX_LENGTH} digits")
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    return f"{_SCHEME}${iterations}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    """True when ``pin`` matches the stored hash (False for no or a malformed hash)."""
    try:
        scheme, iterations, salt_hex, digest_hex = stored.split("$")
        if scheme != _SCHEME:
            return False
        digest = hashlib.pbkdf2_hmac(
            "sha256", pin.encode(), bytes.fromhex(salt_hex), int(iterations)
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)
