"""Whether the shop server is reachable and still accepts this device.

The UI runs :meth:`ConnectionChecker.check` every 30 seconds in a background thread.
A 401 means a manager revoked the device: its token is forgotten so the next screen is
pairing. Shop settings the server reports (name, plate region) are kept up to date.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from kiosk.services.device_store import DeviceStore
from kiosk.services.pairing import ClientFactory
from kiosk.services.server_client import DeviceInfo, ServerClient, ServerProblem

log = logging.getLogger(__name__)

CHECK_INTERVAL_S = 30.0


class ConnectionState(StrEnum):
    CHECKING = "checking"
    ONLINE = "online"
    OFFLINE = "offline"
    NOT_PAIRED = "not_paired"


@dataclass(frozen=True)
class ConnectionReport:
    state: ConnectionState
    device: DeviceInfo | None = None
    problem: ServerProblem | None = None


class ConnectionChecker:
    """Asks the server who this device is, and records what the answer implies."""

    def __init__(self, store: DeviceStore, client_factory: ClientFactory = ServerClient) -> None:
        self.store = store
        self.client_factory = client_factory

    def check(self) -> ConnectionReport:
        settings = self.store.load()
        if not settings.is_paired:
            return ConnectionReport(ConnectionState.NOT_PAIRED)
        try:
            with self.client_factory(settings.server_url, token=settings.token) as client:
                device = client.whoami()
        except ServerProblem as problem:
            if problem.needs_pairing:
                log.warning("The server refused this device's token; pairing again")
                self.store.forget_pairing(token=settings.token)
                return ConnectionReport(ConnectionState.NOT_PAIRED, problem=problem)
            return ConnectionReport(ConnectionState.OFFLINE, problem=problem)
        known = (
            device.shop_name,
            device.plate_region,
            device.device_name,
            device.ticket_prefix or settings.ticket_prefix,
            device.shop_timezone or settings.shop_timezone,
            device.status_link_key or settings.status_link_key,
            device.greeting_target_minutes or settings.greeting_target_minutes,
        )
        if known != (
            settings.shop_name,
            settings.plate_region,
            settings.device_name,
            settings.ticket_prefix,
            settings.shop_timezone,
            settings.status_link_key,
            settings.greeting_target_minutes,
        ):
            # Kiosks paired before the server sent a ticket prefix or a status-link key
            # get it here (a new key too, should the server's secret change); an answer
            # without one never erases what is stored.
            self.store.update(
                shop_name=device.shop_name,
                plate_region=device.plate_region,
                device_name=device.device_name or settings.device_name,
                ticket_prefix=known[3],
                shop_timezone=known[4],
                status_link_key=known[5],
                greeting_target_minutes=known[6],
            )
        return ConnectionReport(ConnectionState.ONLINE, device=device)
