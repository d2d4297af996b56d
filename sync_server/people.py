"""Back-office people: advisors and managers, with hashed passwords and tablet PINs."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from shared.i18n import Text
from sync_server.models import User, UserRole, utcnow

MIN_PASSWORD_LENGTH = 8
USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
# Checked against a dummy hash when the user is unknown, so timing does not tell.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


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
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        role=role,
        password_hash=generate_password_hash(password),
    )
    session.add(user)
    session.commit()
    return user


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
