"""The OpenAPI paths of the sync protocol and of what devices read beside it: pushing
changes, the changes feed, photos by hash, a car's history, a visit's walk-around and
check-in sheet, and one synced record."""

from __future__ import annotations

from typing import Any

from shared.sync_protocol import (
    MAX_CHANGE_IDS_PER_ASK,
    MAX_HASHES_PER_ASK,
    MAX_PULL_PAGE,
    MAX_PUSH_CHANGES,
    SCHEMA_VERSION,
)
from sync_server.api.openapi_shapes import (
    ANY_DEVICE_OR_STAFF,
    DEVICE,
    OBJECT,
    SHA,
    UUID,
    json_content,
    operation,
    path_parameter,
    query_parameter,
)


def sync_paths() -> dict[str, Any]:
    return {
        "/sync/push": {
            "post": operation(
                "Push a batch of changes (idempotent by change_id)",
                DEVICE,
                {
                    "200": {
                        "description": "one result per change",
                        **json_content(
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
                body=json_content(
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
            "get": operation(
                "Pull the changes feed with the feed's identity (for kiosks, a snapshot of "
                "today's appointments as slow salted look-up hashes)",
                DEVICE,
                {"200": {"description": "a page", **json_content(OBJECT)}},
                parameters=[
                    query_parameter("since", {"type": "integer", "minimum": 0}),
                    query_parameter(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": MAX_PULL_PAGE},
                        "at most this many entries; records the caller wrote all of "
                        "itself are skipped without counting",
                    ),
                    query_parameter(
                        "scope",
                        {"type": "string", "enum": ["working_set"]},
                        "with since=0: the shop's working set (open visits, today's and "
                        "tomorrow's appointments) instead of the whole feed",
                    ),
                ],
            )
        },
        "/sync/changes/missing": {
            "post": operation(
                "Which of these changes the server lacks (a device checking after the "
                "server was restored from a backup: a new feed epoch)",
                DEVICE,
                {"200": {"description": "the missing ones", **json_content(OBJECT)}},
                body=json_content(
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
            "get": operation(
                "A car's earlier visits with their walk-arounds and damage marks",
                DEVICE,
                {"200": {"description": "the records", **json_content(OBJECT)}},
                parameters=[path_parameter("vehicle_id")],
            )
        },
        "/blobs/missing": {
            "post": operation(
                "Which of these photos the server lacks (once any of them it is "
                "storing at that moment is stored)",
                DEVICE,
                {"200": {"description": "the missing ones", **json_content(OBJECT)}},
                body=json_content(
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
            "put": operation(
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
                parameters=[path_parameter("sha256", SHA)],
            ),
            "get": operation(
                "Download a photo",
                ANY_DEVICE_OR_STAFF,
                {"200": {"description": "the image"}},
                parameters=[path_parameter("sha256", SHA)],
            ),
        },
        "/blobs/{sha256}/thumbnail": {
            "get": operation(
                "A photo's thumbnail (JPEG, 320 px)",
                ANY_DEVICE_OR_STAFF,
                {"200": {"description": "the thumbnail"}},
                parameters=[path_parameter("sha256", SHA)],
            )
        },
        "/visits/{visit_id}/walkaround": {
            "get": operation(
                "The visit's check-in sheet: fields, damage marks (and earlier ones), "
                "photos (pending or stored) and whether the signature covers it",
                ANY_DEVICE_OR_STAFF,
                {"200": {"description": "the assembled walk-around", **json_content(OBJECT)}},
                parameters=[path_parameter("visit_id")],
            )
        },
        "/visits/{visit_id}/checkin-sheet.pdf": {
            "get": operation(
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
                    path_parameter("visit_id"),
                    query_parameter("lang", {"type": "string", "enum": ["en", "zh_CN"]}),
                ],
            )
        },
        "/records/{kind}/{record_id}": {
            "get": operation(
                "A synced record with its clocks, lost values and photo states",
                ANY_DEVICE_OR_STAFF,
                {"200": {"description": "the record", **json_content(OBJECT)}},
                parameters=[path_parameter("kind"), path_parameter("record_id")],
            )
        },
    }
