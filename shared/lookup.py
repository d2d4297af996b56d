"""Slow, salted hashes for exact-match look-ups on a lobby kiosk.

A kiosk must find today's appointment by phone, plate or code while offline, yet a
stolen kiosk must not give away anyone's phone number or plate. So the kiosk keeps, per
appointment, nothing but a random salt and a memory-hard hash (scrypt, from OpenSSL
through :func:`hashlib.scrypt`) of the normalised phone, plate and code; there is no key
anywhere on the device. To look up, the kiosk hashes what the customer typed with each
appointment's salt and compares.

The cost is the point: every guess an attacker makes costs one scrypt per appointment,
and a different salt per appointment means no guess serves two appointments.
``benchmarks/lookup_attack.py`` measures the cost of recovering one phone number.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from shared.validation import plate_key

LOOKUP_KINDS = ("phone", "plate", "code")
# scrypt with N = 2**14, r = 8 uses 16 MiB per hash and about 60 ms of CPU: a look-up
# among 40 appointments takes about a second on two cores, a phone number's recovery
# CPU-years (benchmarks/lookup_attack.py). Changing these needs a new SCHEME name.
SCHEME = "scrypt-14-8-1"
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_MAXMEM = 64 * 1024 * 1024
HASH_BYTES = 16
SALT_BYTES = 16


def normalised(kind: str, value: str) -> str:
    """``kind`` is "phone" (already E.164), "plate" (any form) or "code" (any case)."""
    if kind == "plate":
        return plate_key(value)
    if kind == "code":
        return value.upper().replace("-", "").replace(" ", "")
    return value


def new_salt() -> str:
    """A fresh random salt (hex) for one appointment."""
    return secrets.token_hex(SALT_BYTES)


def lookup_hash(salt_hex: str, kind: str, value: str) -> str:
    """The slow hash (hex) of ``value`` as a look-up of ``kind``, under ``salt_hex``."""
    message = f"{kind}:{normalised(kind, value)}".encode()
    return hashlib.scrypt(
        message,
        salt=bytes.fromhex(salt_hex),
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        maxmem=SCRYPT_MAXMEM,
        dklen=HASH_BYTES,
    ).hex()


def matching(candidates: Sequence[tuple[str, str]], kind: str, value: str) -> list[bool]:
    """For each ``(salt_hex, stored_hash)``, whether ``value`` hashes to ``stored_hash``.

    The hashes run on all cores (OpenSSL's scrypt releases the GIL); a malformed salt
    or hash simply does not match.
    """

    def check(candidate: tuple[str, str]) -> bool:
        salt_hex, stored = candidate
        try:
            return hmac.compare_digest(lookup_hash(salt_hex, kind, value), stored)
        except (ValueError, TypeError):
            return False

    if len(candidates) <= 1:
        return [check(candidate) for candidate in candidates]
    with ThreadPoolExecutor(max_workers=min(len(candidates), os.cpu_count() or 1)) as pool:
        return list(pool.map(check, candidates))
