"""Who may call what: deny by default, checked centrally on every request.

Each view declares its audience with ``@allow(role, ...)`` or ``@public``. The
``before_request`` check below refuses a view that declares nothing, authenticates the
caller (a device by its bearer token, a person by the session cookie) and refuses a
caller whose role is not listed. A revoked device fails on its very next request.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, current_app, g, request, session
from sqlalchemy import select

from shared.i18n import Text
from sync_server import db
from sync_server.problems import Problem
from sync_server.shop_tables import Device, User
from sync_server.sign_in import session_is_live
from sync_server.table_base import utcnow

log = logging.getLogger(__name__)

ROLES = frozenset({"manager", "advisor", "tablet", "kiosk"})
STAFF = ("manager", "advisor")
F = TypeVar("F", bound=Callable[..., Any])

# A device's last-seen time is written at most this often, to keep reads cheap.
LAST_SEEN_RESOLUTION_SECONDS = 60


@dataclass(frozen=True)
class Caller:
    """Whoever is making the current request."""

    kind: str  # "user" or "device"
    role: str
    id: int
    name: str
    uid: str = ""

    @property
    def is_device(self) -> bool:
        return self.kind == "device"


def allow(*roles: str) -> Callable[[F], F]:
    """Let only callers with one of ``roles`` reach this view."""
    unknown = set(roles) - ROLES
    if unknown or not roles:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    def mark(view: F) -> F:
        view.access_roles = frozenset(roles)  # type: ignore[attr-defined]
        return view

    return mark


def public(view: F) -> F:
    """Let anyone reach this view (it must do its own checks, e.g. a pairing code)."""
    view.access_roles = None  # type: ignore[attr-defined]
    return view


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def current_caller() -> Caller | None:
    return g.get("caller")


def require_caller() -> Caller:
    caller = current_caller()
    if caller is None:  # pragma: no cover - the central check guarantees a caller
        raise Problem(401, "unauthenticated")
    return caller


def _device_from_bearer(header: str) -> Caller:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(
            401, "unauthenticated", Text("Send the device token as a bearer token.", "server")
        )
    device = db.session().scalar(
        select(Device).where(Device.token_hash == token_hash(token.strip()))
    )
    if device is None:
        raise Problem(
            401,
            "device-unknown",
            Text("This device is not paired with this server. Pair it again.", "server"),
        )
    if device.is_revoked:
        raise Problem(
            401,
            "device-revoked",
            Text("This device was removed by the shop. Pair it again to use it.", "server"),
        )
    now = utcnow()
    if (
        device.last_seen_at is None
        or (now - device.last_seen_at).total_seconds() > LAST_SEEN_RESOLUTION_SECONDS
    ):
        device.last_seen_at = now
        device.last_seen_ip = request.remote_addr
        db.session().commit()
    return Caller("device", device.role.value, device.id, device.name, device.uid)


def _user_from_session() -> Caller | None:
    user_id = session.get("user_id")
    if user_id is None:
        return None
    user = db.session().get(User, user_id)
    if (
        user is None
        or not user.active
        or session.get("role") != user.role.value
        or not session_is_live(db.session(), user.id)  # signed out since: a replayed cookie
    ):
        session.clear()
        return None
    return Caller("user", user.role.value, user.id, user.display_name)


def check_access() -> None:
    """The central gate, run before every view."""
    if request.endpoint is None:
        return  # no such route: the 404 handler answers
    view = current_app.view_functions.get(request.endpoint)
    if request.endpoint == "static" or request.endpoint.endswith(".static"):
        return
    if view is None or not hasattr(view, "access_roles"):
        log.error("view %s declares no access rule; refused", request.endpoint)
        raise Problem(403, "forbidden")
    roles = view.access_roles
    header = request.headers.get("Authorization", "")
    caller = _device_from_bearer(header) if header else _user_from_session()
    g.caller = caller
    if roles is None:
        return
    if caller is None:
        raise Problem(401, "unauthenticated")
    if caller.role not in roles:
        log.info("refused %s for role %s", request.endpoint, caller.role)
        raise Problem(403, "forbidden")


def init_app(app: Flask) -> None:
    app.before_request(check_access)
