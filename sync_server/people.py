"""Back-office people: advisors and managers, with hashed passwords and tablet PINs."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from shared.i18n import Text
from sync_server.shop_tables import User, UserRole
from sync_server.table_base import utcnow

MIN_PASSWORD_LENGTH = 8
# zxcvbn's score (0–4): 2 and up is "somewhat guessable" or better, i.e. not among the
# common passwords, keyboard runs, dates and names that an attacker tries first.
MIN_PASSWORD_SCORE = 2
USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
# scrypt's cost is the point in a shop; a test run sets CHECKIN_TEST_FAST_HASHES=1
# (tests/conftest.py), as hashing was the largest part of the suite's CPU time. The
# method is stored inside each hash, so either kind of hash is still checked correctly.
_HASH_METHOD = (
    "pbkdf2:sha256:1000" if os.environ.get("CHECKIN_TEST_FAST_HASHES") == "1" else "scrypt"
)
# Checked against a dummy hash when the user is unknown, so timing does not tell.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method=_HASH_METHOD)


# What technicians do, the work a booking needs one for, in the order the pages list them.
SPECIALITIES: Mapping[str, Text] = {
    "maintenance": Text("Maintenance", "server"),
    "engine": Text("Engine", "server"),
    "brakes": Text("Brakes", "server"),
    "tyres": Text("Tyres", "server"),
    "electrics": Text("Electrics", "server"),
    "air_conditioning": Text("Air conditioning", "server"),
    "body": Text("Body and paint", "server"),
}


class PeopleError(ValueError):
    def __init__(self, field: str, code: str, message: Text) -> None:
        super().__init__(code)
        self.field = field
        self.code = code
        self.message = message


def create_user(
    session: Session, username: str, password: str, role: UserRole, display_name: str = ""
) -> User:
    username = username.strip().lower()
    if not USERNAME_PATTERN.fullmatch(username):
        raise PeopleError(
            "username",
            "username_invalid",
            Text(
                "A username is 1–64 letters or digits; dots, dashes and underscores are allowed.",
                "server",
            ),
        )
    if session.scalar(select(func.count()).select_from(User).where(User.username == username)):
        raise PeopleError(
            "username", "username_taken", Text("This username is already taken.", "server")
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PeopleError(
            "password",
            "password_too_short",
            Text("A password needs at least {n} characters.", "server", {"n": MIN_PASSWORD_LENGTH}),
        )
    check_password_strength(password, username, display_name)
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        role=role,
        password_hash=generate_password_hash(password, method=_HASH_METHOD),
    )
    session.add(user)
    session.commit()
    return user


def check_password_strength(password: str, *personal: str) -> None:
    """Refuse a password that is common or too simple (``12345678``, ``password``), or
    made of the person's own names. Raises :class:`PeopleError` for field ``password``."""
    words = [text for text in personal if text]
    words += [word for text in words for word in text.replace(".", " ").split()]
    if zxcvbn(password[:100], user_inputs=words)["score"] < MIN_PASSWORD_SCORE:
        raise PeopleError(
            "password",
            "password_weak",
            Text(
                "This password is too easy to guess: it is a common password, a simple "
                "pattern or your own name. Use a few unrelated words, or mix in digits.",
                "server",
            ),
        )


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (same cost either way)."""
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    user.last_login_at = utcnow()
    session.commit()
    return user


# --- tablet PINs ------------------------------------------------------------------------

PIN_PATTERN = re.compile(r"[0-9]{4,8}")
# Wrong PINs in a row before the PIN is locked, and for how long.
PIN_MAX_FAILURES = 5
PIN_LOCK_MINUTES = 15


class PinRefused(Exception):
    """A tablet sign-in refused: ``code`` is ``pin_wrong``, ``pin_locked`` or ``no_pin``."""

    def __init__(
        self,
        code: str,
        message: Text,
        locked_until: datetime | None = None,
        tries_left: int | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.locked_until = locked_until
        self.tries_left = tries_left  # wrong PINs still allowed before the lock


def set_pin(session: Session, user: User, pin: str) -> None:
    """Give ``user`` a tablet PIN (4–8 digits), hashed; unlocks a locked PIN."""
    if not PIN_PATTERN.fullmatch(pin):
        raise PeopleError("pin", "pin_invalid", Text("A PIN is 4 to 8 digits.", "server"))
    user.pin_hash = generate_password_hash(pin, method=_HASH_METHOD)
    user.pin_failures = 0
    user.pin_locked_until = None
    session.commit()


def check_pin(session: Session, username: str, pin: str, now: datetime | None = None) -> User:
    """The active user whose tablet PIN this is; raises :class:`PinRefused` otherwise.

    Five wrong PINs in a row lock the PIN for 15 minutes (a PIN is only a few digits);
    a right PIN resets the count. Unknown users cost the same as known ones.
    """
    now = now or utcnow()
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None or not user.active or not user.pin_hash:
        check_password_hash(_DUMMY_HASH, pin)
        raise PinRefused(
            "no_pin", Text("This person has no tablet PIN. A manager can set one.", "server")
        )
    locked_until = user.pin_locked_until
    if locked_until is not None and locked_until > now:
        raise PinRefused(
            "pin_locked",
            Text("Too many wrong PINs. Try again after {time}.", "server"),
            locked_until,
        )
    if not check_password_hash(user.pin_hash, pin):
        user.pin_failures = (user.pin_failures or 0) + 1
        if user.pin_failures >= PIN_MAX_FAILURES:
            user.pin_failures = 0
            user.pin_locked_until = now + timedelta(minutes=PIN_LOCK_MINUTES)
            session.commit()
            raise PinRefused(
                "pin_locked",
                Text("Too many wrong PINs. Try again after {time}.", "server"),
                user.pin_locked_until,
            )
        session.commit()
        raise PinRefused(
            "pin_wrong",
            Text("That PIN is not right.", "server"),
            tries_left=PIN_MAX_FAILURES - user.pin_failures,
        )
    user.pin_failures = 0
    user.pin_locked_until = None
    user.last_login_at = now
    session.commit()
    return user


def tablet_people(session: Session) -> list[User]:
    """Who may sign in on a tablet: active people with a PIN, by name."""
    return list(
        session.scalars(
            select(User)
            .where(User.active.is_(True), User.pin_hash.is_not(None))
            .order_by(User.display_name, User.username)
        )
    )
