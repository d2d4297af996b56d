"""The OpenAPI 3.1 description of ``/api/v1``, served at ``/api/v1/openapi.json``.

A test checks it against the OpenAPI schema and against the routes the app really has,
in both directions, so it cannot drift from what the server does. The pieces it is
built from are in ``openapi_shapes.py``; the sync protocol's paths in ``openapi_sync.py``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from shared.sync_protocol import API_PREFIX
from sync_server.access import public
from sync_server.api.openapi_shapes import (
    ANY_DEVICE_OR_STAFF,
    DEVICE,
    OBJECT,
    STAFF,
    components,
    json_content,
    operation,
    path_parameter,
    query_parameter,
)
from sync_server.api.openapi_sync import sync_paths

bp = Blueprint("openapi", __name__)


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Service Lane Check-in sync API",
            "version": "1",
            "description": "Devices (kiosk, tablet) authenticate with a bearer token from "
            "pairing; people with a session cookie from /auth/login. Errors are RFC 9457 "
            "problem documents. See docs/sync.md for the protocol.",
        },
        "servers": [{"url": API_PREFIX}],
        "components": components(),
        "paths": {
            "/health": {
                "get": operation("Is the server up?", None, {"200": {"description": "up"}})
            },
            "/openapi.json": {
                "get": operation("This document", None, {"200": {"description": "it"}})
            },
            "/auth/login": {
                "post": operation(
                    "Sign a person in (sets the session cookie)",
                    None,
                    {"200": {"description": "signed in", **json_content(OBJECT)}},
                    body=json_content(
                        {
                            "type": "object",
                            "required": ["username", "password"],
                            "properties": {
                                "username": {"type": "string"},
                                "password": {"type": "string"},
                            },
                        }
                    ),
                )
            },
            "/auth/logout": {"post": operation("Sign out", None, {"204": {"description": "out"}})},
            "/auth/me": {
                "get": operation(
                    "Who is signed in",
                    STAFF,
                    {"200": {"description": "the person", **json_content(OBJECT)}},
                )
            },
            "/pairing-codes": {
                "post": operation(
                    "Issue a pairing code (managers)",
                    STAFF,
                    {"201": {"description": "the code", **json_content(OBJECT)}},
                    body=json_content(
                        {
                            "type": "object",
                            "required": ["role"],
                            "properties": {
                                "role": {"enum": ["kiosk", "tablet"]},
                                "device_name": {"type": "string"},
                            },
                        }
                    ),
                )
            },
            "/devices/pair": {
                "post": operation(
                    "Redeem a pairing code for a device token",
                    None,
                    {"201": {"description": "paired", **json_content(OBJECT)}},
                    body=json_content(
                        {
                            "type": "object",
                            "required": ["code"],
                            "properties": {
                                "code": {"type": "string"},
                                "device_name": {"type": "string"},
                            },
                        }
                    ),
                )
            },
            "/sms/inbound": {
                "post": operation(
                    "A text message a customer sent (the SMS gateway, with the shared "
                    "secret in X-Inbound-Secret); TD or STOP opts them out of reminders",
                    None,
                    {
                        "200": {
                            "description": "how many customers were opted out",
                            **json_content(OBJECT),
                        }
                    },
                    body=json_content(
                        {
                            "type": "object",
                            "required": ["from"],
                            "properties": {"from": {"type": "string"}, "text": {"type": "string"}},
                        }
                    ),
                )
            },
            "/devices/me": {
                "get": operation(
                    "This device and the shop's settings",
                    DEVICE,
                    {"200": {"description": "it", **json_content(OBJECT)}},
                )
            },
            "/events": {
                "get": operation(
                    "Live events for tablets (server-sent events): `visit` with the ids of "
                    "visits that changed, `hello` when the stream opens, `resync` when events "
                    "were lost; a comment line every 15 s. 503 with Retry-After when the "
                    "process has its most streams open",
                    DEVICE,
                    {
                        "200": {
                            "description": "an event stream",
                            "content": {"text/event-stream": {"schema": {"type": "string"}}},
                        }
                    },
                )
            },
            "/advisors": {
                "get": operation(
                    "Who may sign in on a tablet (tablets)",
                    DEVICE,
                    {"200": {"description": "list", **json_content(OBJECT)}},
                )
            },
            "/advisor-sign-ins": {
                "post": operation(
                    "Check an advisor's tablet PIN (tablets); 403 wrong, 423 locked",
                    DEVICE,
                    {"200": {"description": "the advisor", **json_content(OBJECT)}},
                    body=json_content(
                        {
                            "type": "object",
                            "required": ["username", "pin"],
                            "properties": {
                                "username": {"type": "string"},
                                "pin": {"type": "string"},
                            },
                        }
                    ),
                )
            },
            "/devices": {
                "get": operation(
                    "Paired devices (managers)",
                    STAFF,
                    {"200": {"description": "list", **json_content(OBJECT)}},
                )
            },
            "/devices/{device_id}/revoke": {
                "post": operation(
                    "Revoke a device (managers)",
                    STAFF,
                    {"200": {"description": "revoked", **json_content(OBJECT)}},
                    parameters=[path_parameter("device_id")],
                )
            },
            "/customers": {
                "get": operation(
                    "Search customers (staff and tablets, never kiosks)",
                    ANY_DEVICE_OR_STAFF,
                    {"200": {"description": "a page", **json_content(OBJECT)}},
                    parameters=[
                        query_parameter("q", {"type": "string"}),
                        query_parameter("offset", {"type": "integer", "minimum": 0}),
                    ],
                )
            },
            "/appointments/lookup": {
                "get": operation(
                    "Today's appointment by exact code, phone or plate (masked for kiosks)",
                    ANY_DEVICE_OR_STAFF,
                    {"200": {"description": "matches", **json_content(OBJECT)}},
                    parameters=[
                        query_parameter("code", {"type": "string"}),
                        query_parameter("phone", {"type": "string"}),
                        query_parameter("plate", {"type": "string"}),
                    ],
                )
            },
            **sync_paths(),
        },
    }


@bp.get("/openapi.json")
@public
def openapi_json() -> ResponseReturnValue:
    return jsonify(document())
