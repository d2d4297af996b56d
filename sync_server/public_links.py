"""Guessing at the customers' links and at pairing codes: an address that keeps trying
ones that do not exist is refused for a while.

Every public view whose address carries a ``<token>`` — the status page, the quote
approval, the survey, the reminder's opt-out and booking pages, and any added later —
shares one limit per network address: ``PUBLIC_LINK_MISSES`` answers of 404 (no such
link) or 410 (expired) within ``PUBLIC_LINK_WINDOW_MINUTES``; past it, every such page
answers 429 from that address until the oldest miss is a window old. A link that works
costs nothing, so a customer opening their own link again and again is never refused;
someone walking through made-up tokens on the shop's Wi-Fi is, long before a guess could
pay (the tokens carry 128 bits or more).

Pairing a device (``POST /api/v1/devices/pair``) is guessed at the same way, and a code
that works gives a tablet's access to every customer: ``PAIRING_MISSES`` refused codes
(400) from one address within ``PUBLIC_LINK_WINDOW_MINUTES`` refuse that address's
pairing (429, with the message in both languages for the kiosk or tablet to show). The
SMS gateway's inbound door counts wrong secrets (403) the same way.

The counting is Flask-Limiter's, kept in each server process's memory: with several
processes behind one proxy the limit holds per process. The address is the one waitress
reports (behind a proxy, ``TRUSTED_PROXY`` makes it the customer's own).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from shared.i18n import Text, plural_text
from sync_server.problems import Problem, field_error, problem_response

DEFAULT_MISSES = 30
DEFAULT_PAIRING_MISSES = 10
PAIRING_ENDPOINT = "devices.pair_device"
# The SMS gateway's own door, which its shared secret opens (403 for a wrong one).
SMS_INBOUND_ENDPOINT = "follow_up_api.inbound_sms"
DEFAULT_WINDOW_MINUTES = 10
MISSED = frozenset({404, 410})


def _missed(response: Response) -> bool:
    return response.status_code in MISSED


def _code_refused(response: Response) -> bool:
    return response.status_code == 400


def _secret_refused(response: Response) -> bool:
    return response.status_code == 403


def is_public_link(app: Flask, endpoint: str, arguments: frozenset[str] | set[str]) -> bool:
    """Whether the view at ``endpoint`` opens to anyone holding a token in its address."""
    view = app.view_functions.get(endpoint)
    return getattr(view, "access_roles", "") is None and "token" in arguments


def init_app(app: Flask) -> None:
    """After every blueprint is registered: the limit on each public link's view."""
    misses = int(app.config.get("PUBLIC_LINK_MISSES", DEFAULT_MISSES))
    minutes = int(app.config.get("PUBLIC_LINK_WINDOW_MINUTES", DEFAULT_WINDOW_MINUTES))
    limiter = Limiter(
        key_func=get_remote_address,
        app=app,
        storage_uri="memory://",
        strategy="moving-window",
        headers_enabled=False,
    )
    guarded: Callable[[Any], Any] = limiter.shared_limit(
        f"{misses} per {minutes} minutes", scope="public-links", deduct_when=_missed
    )
    for rule in app.url_map.iter_rules():
        if is_public_link(app, rule.endpoint, set(rule.arguments)):
            app.view_functions[rule.endpoint] = guarded(app.view_functions[rule.endpoint])
    pairing_misses = int(app.config.get("PAIRING_MISSES", DEFAULT_PAIRING_MISSES))
    pairing: Callable[[Any], Any] = limiter.limit(
        f"{pairing_misses} per {minutes} minutes", deduct_when=_code_refused
    )
    if PAIRING_ENDPOINT in app.view_functions:
        app.view_functions[PAIRING_ENDPOINT] = pairing(app.view_functions[PAIRING_ENDPOINT])
    sms: Callable[[Any], Any] = limiter.limit(
        f"{pairing_misses} per {minutes} minutes", deduct_when=_secret_refused
    )
    if SMS_INBOUND_ENDPOINT in app.view_functions:
        app.view_functions[SMS_INBOUND_ENDPOINT] = sms(app.view_functions[SMS_INBOUND_ENDPOINT])

    @app.errorhandler(RateLimitExceeded)
    def _too_many(_exc: RateLimitExceeded) -> Response:
        headers = {"Retry-After": str(minutes * 60)}
        if request.endpoint == PAIRING_ENDPOINT:
            message = plural_text(
                "Too many wrong pairing codes were tried from this network. Please try "
                "again in {minutes} minute with the code the service manager gives you.",
                "Too many wrong pairing codes were tried from this network. Please try "
                "again in {minutes} minutes with the code the service manager gives you.",
                minutes,
                "server",
                minutes=minutes,
            )
            error = field_error("code", "pairing_attempts_exceeded", message)
            return problem_response(
                Problem(429, "too-many-pairing-codes", message, errors=[error], headers=headers)
            )
        if request.endpoint == SMS_INBOUND_ENDPOINT:
            refused = Text("Too many wrong secrets were sent from this address.", "server")
            return problem_response(
                Problem(429, "too-many-wrong-secrets", refused, headers=headers)
            )
        message = plural_text(
            "Too many links that do not exist were opened from this network. "
            "Please try again in {minutes} minute, or call the service desk.",
            "Too many links that do not exist were opened from this network. "
            "Please try again in {minutes} minutes, or call the service desk.",
            minutes,
            "server",
            minutes=minutes,
        )
        title = Text("Please wait a moment", "server")
        return problem_response(
            Problem(429, "too-many-wrong-links", message, title=title, headers=headers)
        )
