"""Device pairing, in the manner of RFC 8628's user code.

A manager issues a short code for a role (kiosk or tablet). The device redeems it once,
within its validity, for a long random token of its own. The server keeps only hashes
of both, so a copy of the database pairs nothing.

With its token the device gets its *status-link key* (:func:`status_link_key`), from
which it makes its visits' status tokens offline (``shared.domain.status_token_for``).
The key is derived from the server's secret and the device's id, so the server stores
none and recomputes it; devices paired before keys existed get theirs from
``GET /devices/me``. It is never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.i18n import Text
from sync_server.access import token_hash
from sync_server.public_url import public_base_url
from sync_server.shop_tables import Device, DeviceRole, PairingCode
from sync_server.table_base import utcnow

# No 0/O, 1/I/L: codes are read off a screen and typed on a touch keypad.
PAIRING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8


class PairingRefused(Exception):
    """The code cannot pair a device; ``reason`` is the problem's error code."""

    def __init__(self, reason: str, message: Text) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message


def status_link_key(server_secret: str, device_uid: str) -> str:
    """The device's status-link key: HMAC-SHA256 of its id under the server's secret.

    A new pairing (a new device id) or a new server secret gives a new key; tokens
    already stored on visits stay valid, as the server checks a token only when the
    visit is created.
    """
    digest = hmac.new(
        server_secret.encode("utf-8"),
        b"status-link:" + device_uid.encode("utf-8"),
        hashlib.sha256,
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class IssuedCode:
    code: str
    record: PairingCode

    @property
    def display(self) -> str:
        return f"{self.code[:4]}-{self.code[4:]}"


def normalize_code(raw: str) -> str:
    """What the person typed, as stored: upper case, without spaces or dashes."""
    return "".join(ch for ch in raw.upper() if ch not in " -\t")


def issue_code(
    session: Session,
    role: DeviceRole,
    *,
    device_name: str = "",
    minutes: int = 10,
    created_by_user_id: int | None = None,
) -> IssuedCode:
    code = "".join(secrets.choice(PAIRING_ALPHABET) for _ in range(CODE_LENGTH))
    record = PairingCode(
        code_hash=token_hash(code),
        role=role,
        device_name=device_name.strip()[:120],
        expires_at=utcnow() + timedelta(minutes=minutes),
        created_by_user_id=created_by_user_id,
    )
    session.add(record)
    session.commit()
    return IssuedCode(code, record)


@dataclass(frozen=True)
class PairedDevice:
    device: Device
    token: str


def redeem_code(
    session: Session, raw_code: str, *, device_name: str = "", ip_address: str | None = None
) -> PairedDevice:
    """Exchange a valid code for a device and its token, exactly once."""
    code = normalize_code(raw_code)
    record = session.scalar(select(PairingCode).where(PairingCode.code_hash == token_hash(code)))
    if record is None:
        raise PairingRefused(
            "pairing_code_unknown",
            Text("This pairing code is not known. Check it and type it again.", "server"),
        )
    now = utcnow()
    if record.used_at is not None:
        raise PairingRefused(
            "pairing_code_used",
            Text("This pairing code has already been used. Ask for a new one.", "server"),
        )
    if record.expires_at <= now:
        raise PairingRefused(
            "pairing_code_expired",
            Text("This pairing code has expired. Ask for a new one.", "server"),
        )
    # Claim the code atomically: of two devices racing with the same code, one wins.
    claimed = session.execute(
        update(PairingCode)
        .where(PairingCode.id == record.id, PairingCode.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:
        session.rollback()
        raise PairingRefused(
            "pairing_code_used",
            Text("This pairing code has already been used. Ask for a new one.", "server"),
        )
    token = secrets.token_urlsafe(32)
    # The name the manager gave with the code wins: it is how the shop knows the device.
    name = (record.device_name or device_name.strip() or f"{record.role.value} {code[:4]}")[:120]
    device = Device(
        uid=str(uuid.uuid4()),
        name=name,
        role=record.role,
        token_hash=token_hash(token),
        paired_at=now,
        paired_by_user_id=record.created_by_user_id,
        last_seen_at=now,
        last_seen_ip=ip_address,
    )
    session.add(device)
    session.flush()
    record.used_by_device_id = device.id
    session.commit()
    return PairedDevice(device, token)


def revoke_device(session: Session, device: Device, *, by_user_id: int | None = None) -> None:
    if device.revoked_at is None:
        device.revoked_at = utcnow()
        device.revoked_by_user_id = by_user_id
        session.commit()


def pairing_qr_payload(code: str) -> str:
    """What a pairing code's QR holds: ``checkin-pair:<server-url>#<code>``."""
    return f"checkin-pair:{public_base_url()}#{code}"
