"""How the command-line options and the stored settings combine at start.

The stored settings win unless an option says otherwise: ``--server`` pointing at a
different server drops the stored token (a token is only good for the server that
issued it, and is never sent to another); ``--lang`` becomes the shop's default
language. Once paired, the role the server gave decides kiosk or tablet mode.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

from kiosk.services.device_store import DEFAULT_SERVER_URL, DeviceSettings, DeviceStore
from kiosk.services.staff_pin import hash_pin

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LaunchOptions:
    """What ``checkin-kiosk`` was asked to do; ``None`` means "as stored"."""

    data_dir: Path
    mode: str | None = None
    server_url: str | None = None
    language: str | None = None
    windowed: bool = False
    pair_code: str | None = None
    staff_pin: str | None = None
    idle_timeout_s: float | None = None

    def fullscreen(self, mode: str) -> bool:
        return mode == "kiosk" and not self.windowed


def resolve_settings(options: LaunchOptions, store: DeviceStore) -> DeviceSettings:
    """The settings to start with; saved when the options changed them."""
    stored = store.load()
    settings = stored
    if options.server_url:
        server_url = options.server_url.rstrip("/")
        if server_url != settings.server_url.rstrip("/") and settings.is_paired:
            log.warning(
                "Server changed from %s to %s: this device must be paired again",
                settings.server_url,
                server_url,
            )
            settings = settings.unpaired()
        settings = replace(settings, server_url=server_url)
    elif not settings.server_url:
        settings = replace(settings, server_url=DEFAULT_SERVER_URL)
    if options.mode:
        if settings.is_paired and settings.role and settings.role != options.mode:
            log.warning(
                "This device is paired as a %s; --mode %s is ignored (pair again to change)",
                settings.role,
                options.mode,
            )
        else:
            settings = replace(settings, mode=options.mode)
    if settings.is_paired and settings.role in ("kiosk", "tablet"):
        settings = replace(settings, mode=settings.role)
    if options.language:
        settings = replace(settings, language=options.language)
    if options.staff_pin:
        # Only the salted hash is kept; the PIN itself is never written anywhere.
        settings = replace(settings, staff_pin_hash=hash_pin(options.staff_pin))
    if options.idle_timeout_s is not None and options.idle_timeout_s > 0:
        settings = replace(settings, idle_timeout_s=options.idle_timeout_s)
    if settings != stored:
        store.save(settings)
    return settings
