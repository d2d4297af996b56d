"""Pairing this device with the shop server using a code from the service manager.

The code's form is checked here first, so a typo is explained without a round trip;
then the server redeems it and the new token and shop settings are saved. The UI calls
:meth:`PairingService.pair` from a background thread: it blocks on the network.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from kiosk.services.device_store import MODES, DeviceSettings, DeviceStore
from kiosk.services.pairing_code import (
    CODE_LENGTH,
    PAIRING_ALPHABET,
    code_problem,
    display_code,
    normalize_code,
)
from kiosk.services.server_client import (
    ServerClient,
    ServerProblem,
    UserMessage,
    default_device_name,
)
from shared.i18n import Text

__all__ = [
    "CODE_LENGTH",
    "PAIRING_ALPHABET",
    "PairingError",
    "PairingService",
    "ServerProblem",
    "code_problem",
    "display_code",
    "normalize_code",
]

log = logging.getLogger(__name__)

ClientFactory = Callable[..., ServerClient]
DEVICE_NAME_MAX = 120  # what the server keeps


class PairingError(Exception):
    """Pairing did not happen (or was not saved); ``message`` says why, in both languages."""

    def __init__(self, message: UserMessage, code: str = "pairing_failed") -> None:
        super().__init__(code)
        self.message = message
        self.code = code


class PairingService:
    """Redeems a pairing code and stores what the server gives this device."""

    def __init__(self, store: DeviceStore, client_factory: ClientFactory = ServerClient) -> None:
        self.store = store
        self.client_factory = client_factory

    def pair(self, typed_code: str, device_name: str = "", language: str = "en") -> DeviceSettings:
        """Pair with the stored server; raises :class:`PairingError` or ``ServerProblem``."""
        problem = code_problem(typed_code)
        if problem is not None:
            raise PairingError(problem, "pairing_code_format")
        settings = self.store.load()
        name = (device_name.strip() or default_device_name())[:DEVICE_NAME_MAX]
        with self.client_factory(settings.server_url, language=language) as client:
            result = client.pair(normalize_code(typed_code), name)
        paired = replace(
            settings,
            token=result.token,
            device_id=result.device_id,
            role=result.role,
            # The code was issued for a role; the server decides what this device is.
            mode=result.role if result.role in MODES else settings.mode,
            device_name=result.device_name or name,
            shop_name=result.shop_name,
            plate_region=result.plate_region,
            shop_timezone=result.shop_timezone,
            ticket_prefix=result.ticket_prefix,
            status_link_key=result.status_link_key,
            greeting_target_minutes=(
                result.greeting_target_minutes or settings.greeting_target_minutes
            ),
        )
        try:
            self.store.save(paired)
        except OSError as exc:
            log.exception("Paired, but could not save %s", self.store.path)
            raise PairingError(
                Text(
                    "Paired, but this device could not save its settings ({error}). "
                    "Tell the service manager.",
                    "kiosk",
                    {"error": exc.strerror or type(exc).__name__},
                ),
                "settings_not_saved",
            ) from exc
        log.info("Paired as %s device %s with %s", paired.role, paired.device_id, paired.server_url)
        return paired
