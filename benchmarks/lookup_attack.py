"""What a stolen lobby kiosk costs a thief: CPU time to recover one phone number.

The kiosk's copy of today's appointments holds, per appointment, a random salt and
scrypt hashes of the phone, plate and code (``shared.lookup``); no key, no masked
digits. The only attack left is to guess: hash every candidate phone number with the
appointment's salt until one matches. This script

1. builds a real kiosk store (``LocalStore``) with one appointment, as the server's
   snapshot sends it, and reads the salt and phone hash back off its disk, as a thief
   would;
2. runs the attack for real on a small window of candidates that holds the number
   (``--window``), measuring the CPU time per guess (``time.process_time``);
3. extrapolates to today's phone space, honestly: the per-guess cost measured here times
   half the candidates (the expected work to hit one number), for the whole 11-digit
   mobile format and for the numbers actually in service. Goal: ≥ 1 CPU-year.

For comparison it times the scheme this replaced (an HMAC under a key the kiosk held,
and 7 of 11 digits shown masked), where 10,000 guesses recovered a number.

    .venv/bin/python benchmarks/lookup_attack.py [--window 200]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from kiosk_flow_fixtures import appointment_entry

from kiosk.services.local_store import DATABASE_FILE, LocalStore
from shared.lookup import SCHEME, lookup_hash

CPU_YEAR_S = 365.25 * 24 * 3600
# Mainland mobile numbers: 11 digits, "1" then 3–9, then nine free digits.
MOBILE_FORMAT_SPACE = 7 * 10**9
# Mobile subscriptions in service in China (MIIT, 2025: about 1.8 billion). A thief
# with a list of live numbers needs to try only those.
NUMBERS_IN_SERVICE = 1.8 * 10**9
# Chinese plates once the city prefix (京A) is guessed: five characters of 24 letters
# and 10 digits (an upper bound), shown for honesty: plates are a smaller space.
PLATE_SPACE_ONE_CITY = 34**5


def stolen_salt_and_hash(data_dir: Path) -> tuple[str, str]:
    """Read the appointment's salt and phone hash straight off the kiosk's database."""
    with sqlite3.connect(data_dir / DATABASE_FILE) as db:
        (fields,) = db.execute(
            "SELECT json_extract(fields, '$.lookup_salt') || ' ' || "
            "json_extract(fields, '$.phone_hash') FROM records WHERE kind = 'appointment'"
        ).fetchone()
    salt, phone_hash = fields.split()
    return salt, phone_hash


def attack(salt: str, phone_hash: str, candidates: list[str]) -> tuple[str | None, float, int]:
    """Try each candidate; returns (number found, CPU seconds, guesses made)."""
    started = time.process_time()
    for guesses, number in enumerate(candidates, start=1):
        if lookup_hash(salt, "phone", number) == phone_hash:
            return number, time.process_time() - started, guesses
    return None, time.process_time() - started, len(candidates)


def old_scheme_cost(guesses: int = 200_000) -> float:
    """CPU seconds per guess against the replaced HMAC scheme (key on the kiosk)."""
    key = bytes(range(32))
    started = time.process_time()
    for n in range(guesses):
        hmac.new(key, f"phone:+86138{n:08d}".encode(), hashlib.sha256).hexdigest()
    return (time.process_time() - started) / guesses


def years(seconds: float) -> str:
    return f"{seconds / CPU_YEAR_S:,.1f} CPU-years ({seconds / 86400:,.0f} CPU-days)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=int, default=200, help="candidates actually tried")
    options = parser.parse_args()

    rng = random.Random(2026)
    phone = f"+86138{rng.randrange(10**8):08d}"
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        with LocalStore(data_dir, "5e1f3a2b-0c4d-4e5f-8a6b-7c8d9e0f1a2b") as store:
            entry = appointment_entry("Q7M4KX", "", phone, "京A12345", "BYD", "Han", "", [])
            store.replace_snapshot({"appointment"}, [entry])
        salt, phone_hash = stolen_salt_and_hash(data_dir)

    # The window: the true number somewhere among its neighbours, as if the thief had
    # been lucky enough to know all but the last few digits.
    start = int(phone[-8:]) - rng.randrange(options.window)
    candidates = [f"+86138{max(0, start + n):08d}" for n in range(options.window)]
    found, cpu_s, guesses = attack(salt, phone_hash, candidates)
    per_guess = cpu_s / guesses
    assert found == phone, "the attack must work on the window that holds the number"

    print(f"lookup scheme: {SCHEME} (scrypt, one 16-byte salt per appointment, no key)")
    print(f"attack on a real kiosk store: found the number after {guesses} guesses, "
          f"{cpu_s:.2f} CPU-s; {per_guess * 1000:.1f} ms of CPU per guess")  # fmt: skip
    for label, space in (
        ("every 11-digit mobile number (7e9)", MOBILE_FORMAT_SPACE),
        ("only numbers in service (1.8e9)", NUMBERS_IN_SERVICE),
    ):
        expected = space / 2 * per_guess
        verdict = "meets" if expected >= CPU_YEAR_S else "MISSES"
        print(f"one phone number, {label}: expected {years(expected)}, "
              f"worst {years(space * per_guess)} — {verdict} the goal of 1 CPU-year")  # fmt: skip
    plate = PLATE_SPACE_ONE_CITY / 2 * per_guess
    print(f"one plate, city prefix known (34^5): expected {years(plate)} (below the phone goal)")
    old = old_scheme_cost()
    print(f"replaced scheme (HMAC, key and 7 digits on the kiosk): {old * 1e6:.1f} µs per guess, "
          f"10,000 guesses = {old * 10_000:.3f} CPU-s per number")  # fmt: skip


if __name__ == "__main__":
    main()
