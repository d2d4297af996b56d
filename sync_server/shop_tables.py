"""The shop and who may use the server: the shop's settings row, the back office's people
(advisors, managers), the paired kiosks and tablets, and the codes that pair them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.shop_time import server_timezone_name
from sync_server.table_base import Base, enum_column, utcnow


class UserRole(enum.StrEnum):
    ADVISOR = "advisor"
    MANAGER = "manager"


class DeviceRole(enum.StrEnum):
    KIOSK = "kiosk"
    TABLET = "tablet"


class Shop(Base):
    """The shop's own settings: a single row, edited by managers."""

    __tablename__ = "shop"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), default="Service Centre")
    plate_region: Mapped[str] = mapped_column(String(10), default="CN")
    phone_region: Mapped[str] = mapped_column(String(10), default="CN")
    # The one time zone every page, screen, message and sheet shows times in (stored
    # times stay UTC); a new shop starts with the server's own.
    timezone: Mapped[str] = mapped_column(String(64), default=server_timezone_name)
    default_language: Mapped[str] = mapped_column(String(10), default="zh_CN")
    address: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    # Days a customer keeps a tier after the rules stop giving it (sync_server.tiers).
    tier_grace_days: Mapped[int] = mapped_column(default=90, server_default="90")


class User(Base):
    """A back-office person: an advisor or a manager."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[UserRole] = mapped_column(enum_column(UserRole, "user_role"))
    password_hash: Mapped[str] = mapped_column(String(255))
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    # Tablet PIN tries in a row that were wrong, and until when the PIN is locked.
    pin_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    pin_locked_until: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]


class Device(Base):
    """A paired kiosk or tablet. Only a hash of its token is kept."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[DeviceRole] = mapped_column(enum_column(DeviceRole, "device_role"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    paired_at: Mapped[datetime] = mapped_column(default=utcnow)
    paired_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    last_seen_at: Mapped[datetime | None]
    last_seen_ip: Mapped[str | None] = mapped_column(String(45))
    revoked_at: Mapped[datetime | None]
    revoked_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class PairingCode(Base):
    """A short single-use code a manager issues so a device can pair itself."""

    __tablename__ = "pairing_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[DeviceRole] = mapped_column(enum_column(DeviceRole, "pairing_role"))
    device_name: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
