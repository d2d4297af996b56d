"""The pieces the OpenAPI description of ``/api/v1`` is built from: an operation with its
problem responses, parameters, the security schemes' requirements, and the schemas every
part shares (a change, a problem document)."""

from __future__ import annotations

from typing import Any

from shared.sync_protocol import HLC_PATTERN, SHA256_PATTERN, UUID_PATTERN
from sync_server.sync.records import DEVICE_KINDS

PROBLEM = {"$ref": "#/components/responses/Problem"}
DEVICE = [{"deviceToken": []}]
STAFF = [{"session": []}]
ANY_DEVICE_OR_STAFF = [{"deviceToken": []}, {"session": []}]


def json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def operation(
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


def query_parameter(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def path_parameter(name: str, pattern: str = "") -> dict[str, Any]:
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


def components() -> dict[str, Any]:
    """The document's security schemes, shared schemas and the problem response."""
    return {
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
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                },
            },
        },
    }
