"""This device's settings and token, kept in ``DATA_DIR/device.json``.

The file is replaced atomically (temporary file in the same folder, fsync, rename,
fsync of the folder), so a power cut during a save leaves either the old file or the
new one, never half of one. It holds the device's bearer token and its status-link
key, so it is readable by its owner only (0600) inside a 0700 folder.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import threading
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from shared.atomic_file import write_atomically

log = logging.getLogger(__name__)

APP_DIR_NAME = "service-lane-kiosk"
SETTINGS_FILE = "device.json"
# Keys older versions stored and this one erases (see DeviceStore.load).
FORMER_SECRETS = frozenset({"kiosk_lookup_key"})
DEFAULT_SERVER_URL = "http://127.0.0.1:5000"
MODES: tuple[str, ...] = ("kiosk", "tablet")


def default_data_dir() -> Path:
    """The per-user folder for this app's data on this platform."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / APP_DIR_NAME
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / APP_DIR_NAME
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / APP_DIR_NAME


@dataclass(frozen=True)
class DeviceSettings:
    """What this device knows about itself and the shop it is paired with."""

    server_url: str = DEFAULT_SERVER_URL
    mode: str = "kiosk"
    device_id: str | None = None
    device_name: str = ""
    token: str | None = None
    role: str | None = None
    # Given at pairing (or by ``GET /devices/me`` to a device paired before): the key
    # this device makes its visits' status links with, offline (docs/sync.md). A secret
    # like the token: never shown, never logged.
    status_link_key: str = field(default="", repr=False)
    shop_name: str = ""
    plate_region: str = ""
    # The shop's time zone (IANA name), sent with the shop settings: times shown here
    # are the shop's clock, the same as the back office's.
    shop_timezone: str = ""
    language: str = "en"
    # Given at pairing: the prefix of this device's ticket numbers ("K3").
    ticket_prefix: str = ""
    # Leaving kiosk mode: a salted hash of the staff PIN (kiosk.services.staff_pin).
    staff_pin_hash: str = ""
    # Seconds without a touch before "Are you still there?" wipes a check-in.
    idle_timeout_s: float = 60.0
    # A customer checked in and not greeted by an advisor this long is highlighted on
    # the tablet's queue (the back office's board has the same target).
    greeting_target_minutes: int = 10
    # Days a finished (delivered, cancelled) visit stays on a tablet once the server has
    # all of it; a kiosk keeps its check-ins this long too, at most.
    keep_finished_days: float = 7.0

    @property
    def is_paired(self) -> bool:
        return bool(self.token)

    def unpaired(self) -> DeviceSettings:
        """The same settings without the pairing (token, key, id and role dropped)."""
        return replace(
            self, token=None, device_id=None, role=None, ticket_prefix="", status_link_key=""
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeviceSettings:
        known = {f.name for f in fields(cls)}
        # Keys written by a newer version are ignored rather than fatal.
        return cls(**{key: value for key, value in data.items() if key in known})


class DeviceStore:
    """Loads and saves :class:`DeviceSettings` in one data folder."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.data_dir = Path(data_dir)
        # Pairing and the status check save from background threads.
        self._lock = threading.RLock()

    @property
    def path(self) -> Path:
        return self.data_dir / SETTINGS_FILE

    def load(self) -> DeviceSettings:
        """The stored settings, or the defaults when nothing (usable) is stored."""
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return DeviceSettings()
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("device.json does not hold an object")
            settings = DeviceSettings.from_json(data)
        except (ValueError, TypeError) as exc:
            # Keep the unreadable file for a technician; start unpaired.
            keep = self.path.with_name(SETTINGS_FILE + ".unreadable")
            log.warning("Settings file %s is unreadable (%s); kept as %s", self.path, exc, keep)
            with contextlib.suppress(OSError):
                os.replace(self.path, keep)
            return DeviceSettings()
        if FORMER_SECRETS & data.keys():
            # Older versions kept a lookup key that let a stolen kiosk reveal phone
            # numbers; the look-ups need none now, so it is erased from the disk.
            with contextlib.suppress(OSError):
                self.save(settings)
        return settings

    def save(self, settings: DeviceSettings) -> None:
        """Write the settings atomically; on any error the previous file is intact."""
        with self._lock:
            self._write(settings)

    def update(self, **changes: Any) -> DeviceSettings:
        """Load, change some fields, save; returns the saved settings."""
        with self._lock:
            settings = replace(self.load(), **changes)
            self._write(settings)
            return settings

    def forget_pairing(self, token: str | None = None) -> DeviceSettings:
        """Drop the token (the device was revoked) and return what is left.

        With ``token``, only that token is dropped: a pairing made meanwhile is kept.
        """
        with self._lock:
            settings = self.load()
            if token is not None and settings.token != token:
                return settings
            settings = settings.unpaired()
            self._write(settings)
            return settings

    def _write(self, settings: DeviceSettings) -> None:
        payload = json.dumps(settings.to_json(), ensure_ascii=False, indent=2) + "\n"
        write_private_file(self.path, payload)


def write_private_file(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically and durably, readable by its owner only
    (``shared.atomic_file``: a token is never readable by others, even for a moment)."""
    write_atomically(path, text)
