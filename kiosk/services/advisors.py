"""Advisors on the tablet: who may sign in, and how a PIN is checked online or offline.

A paired tablet is trusted as a device; the advisor's personal PIN says who is holding
it. While the server can be reached it checks the PIN (and locks it after five wrong
tries in a row). Every PIN the server accepted is remembered on the tablet only as a
salted PBKDF2 hash (``staff_pin.hash_pin``), so the same advisor can sign in when the
shop's network is down; the tablet counts wrong PINs itself then, and locks too. When
the server says a PIN is wrong or the person is gone, the remembered hash is dropped,
so an old PIN stops working offline as well. No Kivy here.

The list of advisors and the hashes live in ``advisors.json`` in the device's data
folder, written atomically (temporary file, fsync, rename) with mode 0600.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kiosk.services.device_store import write_private_file
from kiosk.services.server_client import ServerClient, ServerProblem, UserMessage
from kiosk.services.staff_pin import hash_pin, is_valid_pin, verify_pin
from shared.i18n import Text

log = logging.getLogger(__name__)

BOOK_FILE = "advisors.json"
# Wrong PINs in a row, checked on the tablet while offline, before the PIN is locked.
OFFLINE_MAX_FAILURES = 5
OFFLINE_LOCK = timedelta(minutes=15)

WRONG_PIN = Text("That PIN is not right.", "kiosk")
WRONG_PIN_LAST_TRY = Text(
    "That PIN is not right. One more wrong PIN locks it for {minutes} minutes.", "kiosk"
)
WRONG_PIN_TRIES_LEFT = Text(
    "That PIN is not right. {tries} more wrong PINs lock it for {minutes} minutes.", "kiosk"
)
PIN_FORMAT = Text("A PIN is 4 to 8 digits.", "kiosk")
NO_PIN = Text("{name} has no tablet PIN yet. A manager can set one.", "kiosk")
PIN_LOCKED = Text("Too many wrong PINs. Try again after {time}.", "kiosk")
NEVER_SIGNED_IN_HERE = Text(
    "The shop server cannot be reached, and {name} has not signed in on this tablet "
    "before. Sign in once while the network works; after that it works offline too.",
    "kiosk",
)
UNKNOWN_ADVISOR = Text("Choose your name first.", "kiosk")


@dataclass(frozen=True, slots=True)
class Advisor:
    """The advisor signed in on the tablet (the server's user)."""

    username: str
    display_name: str
    user_id: int | None = None


@dataclass(frozen=True, slots=True)
class KnownAdvisor:
    """One person the tablet may show on its sign-in screen."""

    username: str
    display_name: str
    user_id: int | None = None
    pin_verifier: str | None = None  # staff_pin hash of the last PIN the server accepted
    failures: int = 0  # wrong PINs in a row checked offline
    locked_until: datetime | None = None

    @property
    def advisor(self) -> Advisor:
        return Advisor(self.username, self.display_name, self.user_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "display_name": self.display_name,
            "user_id": self.user_id,
            "pin_verifier": self.pin_verifier,
            "failures": self.failures,
            "locked_until": self.locked_until.isoformat() if self.locked_until else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KnownAdvisor:
        locked = data.get("locked_until")
        user_id = data.get("user_id")
        verifier = data.get("pin_verifier")
        return cls(
            username=str(data["username"]),
            display_name=str(data.get("display_name") or data["username"]),
            user_id=user_id if isinstance(user_id, int) else None,
            pin_verifier=verifier if isinstance(verifier, str) else None,
            failures=int(data.get("failures") or 0),
            locked_until=datetime.fromisoformat(locked) if isinstance(locked, str) else None,
        )


class SignInRefused(Exception):
    """The PIN was not accepted; ``message`` says why, in words for the advisor."""

    def __init__(self, code: str, message: UserMessage) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class SignedIn:
    advisor: Advisor
    offline: bool = False  # checked against the tablet's remembered PIN


class AdvisorBook:
    """The tablet's list of advisors and their remembered PIN hashes, kept on disk."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.data_dir = Path(data_dir)
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self.data_dir / BOOK_FILE

    def people(self) -> list[KnownAdvisor]:
        """Everyone on the sign-in screen, by name."""
        with self._lock:
            return sorted(self._read().values(), key=lambda a: (a.display_name, a.username))

    def get(self, username: str) -> KnownAdvisor | None:
        with self._lock:
            return self._read().get(username)

    def replace_people(self, people: list[dict[str, Any]]) -> list[KnownAdvisor]:
        """The server's list now: newcomers added, names updated, people gone removed.

        Someone removed on the server (left the shop, PIN taken away) loses the remembered
        PIN hash too, so they cannot sign in on this tablet offline either.
        """
        with self._lock:
            known = self._read()
            fresh: dict[str, KnownAdvisor] = {}
            for entry in people:
                username = entry.get("username")
                if not isinstance(username, str) or not username:
                    continue
                name = entry.get("display_name")
                user_id = entry.get("user_id")
                before = known.get(username)
                base = before or KnownAdvisor(username=username, display_name=username)
                fresh[username] = replace(
                    base,
                    display_name=name if isinstance(name, str) and name else username,
                    user_id=user_id if isinstance(user_id, int) else base.user_id,
                )
            self._write(fresh)
        return self.people()

    def update(self, username: str, **changes: Any) -> KnownAdvisor:
        with self._lock:
            known = self._read()
            current = known.get(username) or KnownAdvisor(username=username, display_name=username)
            known[username] = replace(current, **changes)
            self._write(known)
            return known[username]

    def forget(self, username: str) -> None:
        with self._lock:
            known = self._read()
            if known.pop(username, None) is not None:
                self._write(known)

    # -- file --------------------------------------------------------------------------

    def _read(self) -> dict[str, KnownAdvisor]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return {
                entry["username"]: KnownAdvisor.from_json(entry)
                for entry in data.get("advisors", [])
            }
        except FileNotFoundError:
            return {}
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("The advisor list in %s is damaged; starting a new one", self.path)
            return {}

    def _write(self, known: dict[str, KnownAdvisor]) -> None:
        payload = json.dumps(
            {"advisors": [a.to_json() for a in known.values()]}, ensure_ascii=False, indent=2
        )
        write_private_file(self.path, payload + "\n")


Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class AdvisorSignIn:
    """Signs advisors in on the tablet; call from a background thread (it may ask the server).

    ``client`` makes a :class:`ServerClient` for this device (base URL and token bound);
    ``time_text`` writes a lock's end as the advisor reads it (local clock time).
    """

    book: AdvisorBook
    client: Callable[[], ServerClient]
    clock: Clock = _now
    time_text: Callable[[datetime], str] = field(
        default=lambda at: at.astimezone().strftime("%H:%M")
    )

    def refresh(self) -> list[KnownAdvisor]:
        """The server's list of advisors when it answers; the remembered list otherwise.

        A device the server no longer accepts raises :class:`ServerProblem`
        (``needs_pairing``) for the app to go back to pairing.
        """
        try:
            with self.client() as client:
                people = client.advisors()
        except ServerProblem as problem:
            if problem.needs_pairing:
                raise
            log.info("Advisor list not refreshed (%s); using the remembered one", problem.code)
            return self.book.people()
        return self.book.replace_people(people)

    def sign_in(self, username: str, pin: str) -> SignedIn:
        """The advisor, when ``pin`` is theirs; :class:`SignInRefused` says why not."""
        if not username:
            raise SignInRefused("unknown_advisor", UNKNOWN_ADVISOR)
        if not is_valid_pin(pin):
            raise SignInRefused("pin_format", PIN_FORMAT)
        known = self.book.get(username)
        name = known.display_name if known else username
        now = self.clock()
        if known and known.locked_until and known.locked_until > now:
            raise SignInRefused("pin_locked", self._locked(known.locked_until))
        try:
            with self.client() as client:
                answer = client.sign_in_advisor(username, pin)
        except ServerProblem as problem:
            if problem.needs_pairing:
                raise
            if problem.is_offline or (problem.status or 0) >= 500:
                return self._offline(username, name, pin, now)
            return self._refused_by_server(username, name, problem)
        # Remember the PIN (as a slow salted hash) for the next time the network is down.
        advisor = Advisor(
            username=str(answer.get("username") or username),
            display_name=str(answer.get("display_name") or name),
            user_id=answer["user_id"] if isinstance(answer.get("user_id"), int) else None,
        )
        self.book.update(
            username,
            display_name=advisor.display_name,
            user_id=advisor.user_id,
            pin_verifier=hash_pin(pin),
            failures=0,
            locked_until=None,
        )
        log.info("Advisor %s signed in on the tablet", username)
        return SignedIn(advisor)

    def _refused_by_server(self, username: str, name: str, problem: ServerProblem) -> SignedIn:
        kind = problem.problem_type
        # The server's word wins over what the tablet remembers: an old PIN is dropped.
        known = self.book.get(username) is not None
        if known and kind in ("pin-wrong", "pin-locked", "pin-not-set"):
            self.book.update(username, pin_verifier=None, failures=0, locked_until=None)
        if kind == "pin-wrong":
            tries = problem.document.get("tries_left")
            minutes = problem.document.get("lock_minutes")
            if isinstance(minutes, bool) or not isinstance(minutes, int):
                minutes = int(OFFLINE_LOCK.total_seconds() // 60)
            if isinstance(tries, int) and not isinstance(tries, bool) and tries > 0:
                raise SignInRefused("pin_wrong", wrong_pin(tries, minutes))
            raise SignInRefused("pin_wrong", WRONG_PIN)
        if kind == "pin-locked":
            until = _parse_time(problem.document.get("locked_until"))
            if until is not None:
                raise SignInRefused("pin_locked", self._locked(until))
            raise SignInRefused("pin_locked", problem.message)
        if kind == "pin-not-set":
            self.book.forget(username)
            raise SignInRefused("no_pin", Text(NO_PIN.message, "kiosk", {"name": name}))
        raise SignInRefused(problem.code, problem.message)

    def _offline(self, username: str, name: str, pin: str, now: datetime) -> SignedIn:
        known = self.book.get(username)
        if known is None or not known.pin_verifier:
            raise SignInRefused(
                "never_signed_in_here", Text(NEVER_SIGNED_IN_HERE.message, "kiosk", {"name": name})
            )
        if verify_pin(pin, known.pin_verifier):
            self.book.update(username, failures=0, locked_until=None)
            log.info("Advisor %s signed in offline (remembered PIN)", username)
            return SignedIn(known.advisor, offline=True)
        failures = known.failures + 1
        if failures >= OFFLINE_MAX_FAILURES:
            until = now + OFFLINE_LOCK
            self.book.update(username, failures=0, locked_until=until)
            raise SignInRefused("pin_locked", self._locked(until))
        self.book.update(username, failures=failures)
        minutes = int(OFFLINE_LOCK.total_seconds() // 60)
        raise SignInRefused("pin_wrong", wrong_pin(OFFLINE_MAX_FAILURES - failures, minutes))

    def _locked(self, until: datetime) -> Text:
        return Text(PIN_LOCKED.message, "kiosk", {"time": self.time_text(until)})


def wrong_pin(tries_left: int, minutes: int) -> Text:
    """ "That PIN is not right", with how many more wrong PINs the lock allows."""
    if tries_left == 1:
        return Text(WRONG_PIN_LAST_TRY.message, "kiosk", {"minutes": minutes})
    return Text(WRONG_PIN_TRIES_LEFT.message, "kiosk", {"tries": tries_left, "minutes": minutes})


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
