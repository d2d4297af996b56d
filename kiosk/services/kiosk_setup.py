"""What the check-in flow knows of this kiosk and its shop: the kiosk's setup, the shop's
plate and phone rules, and when a mobile number typed on a pad is whole."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.validation import check_phone

# A Chinese mobile number is complete at 11 digits: looked up (or taken) at once.
CN_MOBILE_DIGITS = 11


@dataclass(frozen=True)
class KioskSetup:
    """What the flow needs to know about this kiosk and its shop."""

    device_id: str = ""
    ticket_prefix: str = "K"
    plate_region: str = "CN"  # "CN" or "generic"
    phone_region: str = "CN"
    server_url: str = ""
    # The device's status-link key (given at pairing): the ticket's status link is made
    # from it offline and kept by the server. Without it (a device paired before keys
    # existed, until its next status check) the server replaces the token, and the
    # kiosk learns the server's on its next sync.
    status_link_key: str = field(default="", repr=False)


def shop_region(setting: str) -> str:
    """The shop's rules for plates and phones from its setting: ``"generic"``, else
    China's."""
    return "generic" if setting.strip().lower() == "generic" else "CN"


def phone_prefix(phone_region: str) -> str:
    """What every mobile number of the shop's country starts with, shown already typed
    on the phone pads: "1" in China (a customer who types it anyway loses nothing)."""
    return "1" if phone_region == "CN" else ""


def phone_complete(phone_region: str, typed: str) -> bool:
    """Whether ``typed`` is a whole mobile number the kiosk may act on without a touch
    on "Continue": 11 valid digits in China (other countries' lengths vary)."""
    return phone_region == "CN" and len(typed) == CN_MOBILE_DIGITS and check_phone(typed, "CN").ok
