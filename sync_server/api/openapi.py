"""The OpenAPI 3.1 description of ``/api/v1``, served at ``/api/v1/openapi.json``.

A test checks it against the OpenAPI schema and against the routes the app really has,
in both directions, so it cannot drift from what the server does.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from shared.sync_protocol import (
    API_PREFIX,
    HLC_PATTERN,
    MAX_CHANGE_IDS_PER_ASK,
    MAX_HASHES_PER_ASK,
    MAX_PULL_PAGE,
    MAX_PUSH_CHANGES,
    SCHEMA_VERSION,
    SHA256_PATTERN,
    UUID_PATTERN,
)
from sync_server.access import public
from sync_server.sync.records import DEVICE_KINDS

bp = Blueprint("openapi", __name__)

PROBLEM = {"$ref": "#/components/responses/Problem"}
DEVICE = [{"deviceToken": []}]
STAFF = [{"session": []}]
ANY_DEVICE_OR_STAFF = [{"deviceToken": []}, {"session": []}]


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _op(
    summary: str,
    security: list[dict[str, list[str]]] | None,
    responses: dict[str, Any],
    *,
    body: dict[str, Any] | None = None,
    parameters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "security": security if security is not None else [],
        "responses": {**responses, "4XX": PROBLEM, "5XX": PROBLEM},
    }
    if body is not None:
        operation["requestBody"] = {"required": True, **body}
    if parameters:
        operation["parameters"] = parameters
    return operation


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _path(name: str, pattern: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if pattern:
        schema["pattern"] = pattern
    return {"name": name, "in": "path", "required": True, "schema": schema}


OBJECT = {"type": "object"}
SHA = f"^{SHA256_PATTERN.pattern}$"
UUID = f"^{UUID_PATTERN.pattern}$"

CHANGE = {
    "type": "object",
    "required": ["change_id", "kind", "id", "hlc", "fields"],
    "properties": {
        "change_id": {"type": "string", "format": "uuid", "pattern": UUID},
        "kind": {
            "type": "string",
            "enum": sorted(DEVICE_KINDS),
        },
        "id": {"type": "string", "format": "uuid", "pattern": UUID},
        "hlc": {"type": "string", "pattern": f"^{HLC_PATTERN.pattern}$"},
        "fields": {"type": "object", "minProperties": 1},
    },
}


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
        "components": {
            "securitySchemes": {
                "deviceToken": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "schemas": {
                "Problem": {
                    "type": "object",
                    "required": ["type", "title", "status"],
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "errors": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "field": {"type": "string"},
                                    "code": {"type": "string"},
                                    "message": {"type": "string"},
                                    "message_zh": {"type": "string"},
                                },
                            },
                        },
                    },
                },
                "Change": CHANGE,
            },
            "responses": {
                "Problem": {
                    "description": "A problem document",
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    },
                },
            },
        },
        "paths": {
            "/health": {"get": _op("Is the server up?", None, {"200": {"description": "up"}})},
            "/openapi.json": {"get": _op("This document", None, {"200": {"description": "it"}})},
            "/auth/login": {
                "post": _op(
                    "Sign a person in (sets the session cookie)",
                    None,
                    {"200": {"description": "signed in", **_json(OBJECT)}},
                    body=_json(
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
            "/auth/logout": {"post": _op("Sign out", None, {"204": {"description": "out"}})},
            "/auth/me": {
                "get": _op(
                    "Who is signed in",
                    STAFF,
                    {"200": {"description": "the person", **_json(OBJECT)}},
                )
            },
            "/pairing-codes": {
                "post": _op(
                    "Issue a pairing code (managers)",
                    STAFF,
                    {"201": {"description": "the code", **_json(OBJECT)}},
                    body=_json(
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
                "post": _op(
                    "Redeem a pairing code for a device token",
                    None,
                    {"201": {"description": "paired", **_json(OBJECT)}},
                    body=_json(
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
                "post": _op(
                    "A text message a customer sent (the SMS gateway, with the shared "
                    "secret in X-Inbound-Secret); TD or STOP opts them out of reminders",
                    None,
                    {"200": {"description": "how many customers were opted out", **_json(OBJECT)}},
                    body=_json(
                        {
                            "type": "object",
                            "required": ["from"],
                            "properties": {"from": {"type": "string"}, "text": {"type": "string"}},
                        }
                    ),
                )
            },
            "/devices/me": {
                "get": _op(
                    "This device and the shop's settings",
                    DEVICE,
                    {"200": {"description": "it", **_json(OBJECT)}},
                )
            },
            "/advisors": {
                "get": _op(
                    "Who may sign in on a tablet (tablets)",
                    DEVICE,
                    {"200": {"description": "list", **_json(OBJECT)}},
                )
            },
            "/advisor-sign-ins": {
                "post": _op(
                    "Check an advisor's tablet PIN (tablets); 403 wrong, 423 locked",
                    DEVICE,
                    {"200": {"description": "the advisor", **_json(OBJECT)}},
                    body=_json(
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
                "get": _op(
                    "Paired devices (managers)",
                    STAFF,
                    {"200": {"description": "list", **_json(OBJECT)}},
                )
            },
            "/devices/{device_id}/revoke": {
                "post": _op(
                    "Revoke a device (managers)",
                    STAFF,
                    {"200": {"description": "revoked", **_json(OBJECT)}},
                    parameters=[_path("device_id")],
                )
            },
            "/customers": {
                "get": _op(
                    "Search customers (staff and tablets, never kiosks)",
                    ANY_DEVICE_OR_STAFF,
                    {"200": {"description": "a page", **_json(OBJECT)}},
                    parameters=[
                        _query("q", {"type": "string"}),
                        _query("offset", {"type": "integer", "minimum": 0}),
                    ],
                )
            },
            "/appointments/lookup": {
                "get": _op(
                    "Today's appointment by exact code, phone or plate (masked for kiosks)",
                    ANY_DEVICE_OR_STAFF,
                    {"200": {"description": "matches", **_json(OBJECT)}},
                    parameters=[
                        _query("code", {"type": "string"}),
                        _query("phone", {"type": "string"}),
                        _query("plate", {"type": "string"}),
                    ],
                )
            },
            "/sync/push": {
                "post": _op(
                    "Push a batch of changes (idempotent by change_id)",
                    DEVICE,
                    {
                        "200": {
                            "description": "one result per change",
                            **_json(
                                {
                                    "type": "object",
                                    "properties": {
                                        "results": {"type": "array", "items": OBJECT},
                                        "missing_blobs": {
                                            "type": "array",
                                            "items": {"type": "string", "pattern": SHA},
                                        },
                                    },
                                }
                            ),
                        }
                    },
                    body=_json(
                        {
                            "type": "object",
                            "required": ["schema", "changes"],
                            "properties": {
                                "schema": {"const": SCHEMA_VERSION},
                                "changes": {
                                    "type": "array",
                                    "maxItems": MAX_PUSH_CHANGES,
                                    "items": {"$ref": "#/components/schemas/Change"},
                                },
                            },
                        }
                    ),
                )
            },
            "/sync/changes": {
                "get": _op(
                    "Pull the changes feed with the feed's identity (for kiosks, a snapshot of "
                    "today's appointments as slow salted look-up hashes)",
                    DEVICE,
                    {"200": {"description": "a page", **_json(OBJECT)}},
                    parameters=[
                        _query("since", {"type": "integer", "minimum": 0}),
                        _query(
                            "limit",
                            {"type": "integer", "minimum": 1, "maximum": MAX_PULL_PAGE},
                            "at most this many entries; records the caller wrote all of "
                            "itself are skipped without counting",
                        ),
                        _query(
                            "scope",
                            {"type": "string", "enum": ["working_set"]},
                            "with since=0: the shop's working set (open visits, today's and "
                            "tomorrow's appointments) instead of the whole feed",
                        ),
                    ],
                )
            },
            "/sync/changes/missing": {
                "post": _op(
                    "Which of these changes the server lacks (a device checking after the "
                    "server was restored from a backup: a new feed epoch)",
                    DEVICE,
                    {"200": {"description": "the missing ones", **_json(OBJECT)}},
                    body=_json(
                        {
                            "type": "object",
                            "required": ["change_ids"],
                            "properties": {
                                "change_ids": {
                                    "type": "array",
                                    "maxItems": MAX_CHANGE_IDS_PER_ASK,
                                    "items": {"type": "string", "format": "uuid", "pattern": UUID},
                                }
                            },
                        }
                    ),
                )
            },
            "/vehicles/{vehicle_id}/history": {
                "get": _op(
                    "A car's earlier visits with their walk-arounds and damage marks",
                    DEVICE,
                    {"200": {"description": "the records", **_json(OBJECT)}},
                    parameters=[_path("vehicle_id")],
                )
            },
            "/blobs/missing": {
                "post": _op(
                    "Which of these photos the server lacks (once any of them it is "
                    "storing at that moment is stored)",
                    DEVICE,
                    {"200": {"description": "the missing ones", **_json(OBJECT)}},
                    body=_json(
                        {
                            "type": "object",
                            "required": ["sha256"],
                            "properties": {
                                "sha256": {
                                    "type": "array",
                                    "maxItems": MAX_HASHES_PER_ASK,
                                    "items": {"type": "string", "pattern": SHA},
                                }
                            },
                        }
                    ),
                )
            },
            "/blobs/{sha256}": {
                "put": _op(
                    "Upload one photo, streamed; kept only if its hash matches",
                    DEVICE,
                    {
                        "200": {"description": "already there"},
                        "201": {"description": "stored"},
                        "503": {
                            "description": "the photo store (a bucket) cannot be reached: "
                            "nothing kept, send it again after Retry-After"
                        },
                    },
                    body={
                        "content": {
                            "image/jpeg": {
                                "schema": {"type": "string", "contentMediaType": "image/jpeg"}
                            },
                            "image/png": {
                                "schema": {"type": "string", "contentMediaType": "image/png"}
                            },
                        }
                    },
                    parameters=[_path("sha256", SHA)],
                ),
                "get": _op(
                    "Download a photo",
                    ANY_DEVICE_OR_STAFF,
                    {"200": {"description": "the image"}},
                    parameters=[_path("sha256", SHA)],
                ),
            },
            "/blobs/{sha256}/thumbnail": {
                "get": _op(
                    "A photo's thumbnail (JPEG, 320 px)",
                    ANY_DEVICE_OR_STAFF,
                    {"200": {"description": "the thumbnail"}},
                    parameters=[_path("sha256", SHA)],
                )
            },
            "/visits/{visit_id}/walkaround": {
                "get": _op(
                    "The visit's check-in sheet: fields, damage marks (and earlier ones), "
                    "photos (pending or stored) and whether the signature covers it",
                    ANY_DEVICE_OR_STAFF,
                    {"200": {"description": "the assembled walk-around", **_json(OBJECT)}},
                    parameters=[_path("visit_id")],
                )
            },
            "/visits/{visit_id}/checkin-sheet.pdf": {
                "get": _op(
                    "The printable check-in sheet (PDF) in English or Simplified Chinese",
                    ANY_DEVICE_OR_STAFF,
                    {
                        "200": {
                            "description": "the sheet",
                            "content": {
                                "application/pdf": {
                                    "schema": {
                                        "type": "string",
                                        "contentMediaType": "application/pdf",
                                    }
                                }
                            },
                        }
                    },
                    parameters=[
                        _path("visit_id"),
                        _query("lang", {"type": "string", "enum": ["en", "zh_CN"]}),
                    ],
                )
            },
            "/records/{kind}/{record_id}": {
                "get": _op(
                    "A synced record with its clocks, lost values and photo states",
                    ANY_DEVICE_OR_STAFF,
                    {"200": {"description": "the record", **_json(OBJECT)}},
                    parameters=[_path("kind"), _path("record_id")],
                )
            },
        },
    }


@bp.get("/openapi.json")
@public
def openapi_json() -> ResponseReturnValue:
    return jsonify(document())
