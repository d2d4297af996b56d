"""The address printed in links to customers and in pairing QR codes.

``PUBLIC_URL`` when the shop set it. Without it, the ``Host`` a request names is used
only when it is one of this machine's own names or addresses (``localhost``, the
machine's host name, an IP address this machine holds), so that nobody can make the
server write ``http://evil.example/approve/…`` into a customer's message by sending a
forged ``Host`` header. Any other ``Host`` gives the address the server itself serves on.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import socket

from flask import current_app, request

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=256)
def _is_own_address(host: str) -> bool:
    """Whether ``host`` names this machine; an IP only if this machine can bind to it."""
    name = host.lower().rstrip(".")
    own_name = socket.gethostname().lower()
    if name in ("localhost", own_name, f"{own_name}.local", f"{own_name}.lan"):
        return True
    try:
        address = ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((str(address), 0))
    except OSError:
        return False
    return True


def public_base_url() -> str:
    """The base address (no trailing slash) for links that leave this server."""
    configured = current_app.config.get("PUBLIC_URL")
    if configured:
        return str(configured).rstrip("/")
    host = request.host
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if hostname and _is_own_address(hostname):
        return request.host_url.rstrip("/")
    log.warning("ignored a Host header that is not this server's (set PUBLIC_URL)")
    server_name = request.environ.get("SERVER_NAME") or socket.gethostname()
    if server_name in ("0.0.0.0", "::", ""):
        server_name = socket.gethostname()
    port = str(request.environ.get("SERVER_PORT", ""))
    default_port = {"http": "80", "https": "443"}.get(request.scheme)
    netloc = server_name if port in ("", default_port) else f"{server_name}:{port}"
    return f"{request.scheme}://{netloc}"
