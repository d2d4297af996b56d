"""Signing people in: throttled wrong passwords, and sessions the server can end.

Wrong passwords are counted in the database (``sign_in_failures``), so the limits hold
across every server process on one database: ``ACCOUNT_LIMIT`` wrong passwords for one
username, or ``ADDRESS_LIMIT`` from one network address, within ``WINDOW`` lock further
sign-ins there until the oldest of them is ``WINDOW`` old. A locked sign-in is refused
before the password is even checked, so guessing on stops paying.

A session cookie names a row of ``staff_sessions`` (by a hash of its random id); signing
out deletes the row, so a copy of the cookie replayed after logout is signed out too.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import datetime, timedelta

from flask import current_app, request, session
from sqlalchemy import ForeignKey, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.i18n import Text, plural_text
from sync_server.shop_tables import User
from sync_server.table_base import Base, utcnow

ACCOUNT_LIMIT = 10
ADDRESS_LIMIT = 30
WINDOW = timedelta(minutes=15)
SESSION_KEY = "sid"


class SignInFailure(Base):
    """One wrong password: for whom and from where (kept for ``WINDOW``)."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    failed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class StaffSession(Base):
    """A signed-in browser or app; the cookie holds the id whose hash is ``id_hash``."""

    __tablename__ = "staff_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)


class SignInLocked(Exception):
    """Too many wrong passwords: sign-in is possible again in ``minutes`` minutes."""

    def __init__(self, minutes: int) -> None:
        super().__init__(minutes)
        self.minutes = minutes

    @property
    def message(self) -> Text:
        return plural_text(
            "Too many wrong passwords. Try again in {minutes} minute.",
            "Too many wrong passwords. Try again in {minutes} minutes.",
            self.minutes,
            "server",
            minutes=self.minutes,
        )

    @property
    def retry_after_seconds(self) -> int:
        return self.minutes * 60


def _address() -> str:
    return (request.remote_addr or "unknown")[:64]


def _normal(username: str) -> str:
    return username.strip().lower()[:64]


def check_not_locked(db_session: Session, username: str, now: datetime | None = None) -> None:
    """Raise :class:`SignInLocked` while this username or this address is locked."""
    now = now or utcnow()
    since = now - WINDOW
    recent = select(func.count(), func.min(SignInFailure.failed_at)).where(
        SignInFailure.failed_at > since
    )
    for column, value, limit in (
        (SignInFailure.username, _normal(username), ACCOUNT_LIMIT),
        (SignInFailure.address, _address(), ADDRESS_LIMIT),
    ):
        count, oldest = db_session.execute(recent.where(column == value)).one()
        if count >= limit and oldest is not None:
            wait = (oldest + WINDOW - now).total_seconds()
            raise SignInLocked(max(1, math.ceil(wait / 60)))


def record_failure(db_session: Session, username: str) -> None:
    """Count one wrong password (and forget those older than the window)."""
    now = utcnow()
    db_session.execute(delete(SignInFailure).where(SignInFailure.failed_at <= now - WINDOW))
    db_session.add(SignInFailure(username=_normal(username), address=_address(), failed_at=now))
    db_session.commit()


def start_session(db_session: Session, user: User) -> None:
    """Sign ``user`` in: a fresh session (no fixation) named in ``staff_sessions``."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    session_id = secrets.token_urlsafe(32)
    lifetime = current_app.permanent_session_lifetime
    db_session.execute(delete(StaffSession).where(StaffSession.started_at < utcnow() - lifetime))
    db_session.execute(delete(SignInFailure).where(SignInFailure.username == user.username))
    db_session.add(StaffSession(id_hash=_hash(session_id), user_id=user.id))
    db_session.commit()
    session[SESSION_KEY] = session_id
    session["user_id"] = user.id
    session["role"] = user.role.value
    session.permanent = True


def session_is_live(db_session: Session, user_id: int) -> bool:
    """Whether the cookie's session was started by this user and not ended since."""
    session_id = session.get(SESSION_KEY)
    if not isinstance(session_id, str):
        return False
    row = db_session.get(StaffSession, _hash(session_id))
    if row is None or row.user_id != user_id:
        return False
    return row.started_at > utcnow() - current_app.permanent_session_lifetime


def end_session(db_session: Session) -> None:
    """Sign out: the session ends on the server, whatever copies of the cookie exist."""
    session_id = session.get(SESSION_KEY)
    if isinstance(session_id, str):
        db_session.execute(delete(StaffSession).where(StaffSession.id_hash == _hash(session_id)))
        db_session.commit()
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()
