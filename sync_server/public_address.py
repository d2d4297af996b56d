"""The address phones and other PCs reach this server at, for printed links and QR codes.

``PUBLIC_URL`` when set; otherwise, when the server listens on every interface
(``--host 0.0.0.0``), this machine's address on the shop network, so a QR code scanned
by a customer's phone opens the page (``127.0.0.1`` would point at the phone itself).
"""

from __future__ import annotations

import ipaddress
import socket

WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})
# A documentation address (RFC 5737): connecting a UDP socket to it sends nothing, but
# makes the system pick the interface, and so the address, it would route through.
_PROBE = ("192.0.2.1", 9)


def lan_address() -> str | None:
    """This machine's address on its network, or None when it has none but loopback."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(_PROBE)
            address = probe.getsockname()[0]
    except OSError:
        return None
    try:
        if ipaddress.ip_address(address).is_loopback or address == "0.0.0.0":
            return None
    except ValueError:
        return None
    return address


def public_base_url(host: str, port: int, configured: str = "") -> str:
    """The base address to print in links: ``PUBLIC_URL``, else the LAN address for a
    server on every interface, else the host it listens on."""
    if configured:
        return configured.rstrip("/")
    if host in WILDCARD_HOSTS:
        host = lan_address() or "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


__all__ = ["WILDCARD_HOSTS", "lan_address", "public_base_url"]
