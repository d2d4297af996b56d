"""Reading a JSON request body with clear answers for every way it can be wrong."""

from __future__ import annotations

from typing import Any

from flask import request

from shared.i18n import Text
from sync_server.problems import Problem, field_error


def json_object() -> dict[str, Any]:
    """The body as a JSON object, or a 4xx problem saying what is wrong with it."""
    if not request.is_json:
        raise Problem(
            415,
            "unsupported-media-type",
            Text("Send the body as JSON with Content-Type: application/json.", "server"),
        )
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested deeper than any real body: refused like bad JSON
        data = None
    if data is None:
        raise Problem(400, "malformed-json", Text("The body is not valid JSON.", "server"))
    if not isinstance(data, dict):
        raise Problem(400, "malformed-json", Text("The body must be a JSON object.", "server"))
    return data


def whole_number_arg(name: str, default: int, *, maximum: int = 2**63 - 1) -> int:
    """A query argument that is a whole number from 0 to ``maximum`` (a BIGINT's range)."""
    raw = request.args.get(name, "").strip() or str(default)
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or int(raw) > maximum:
        raise Problem(
            400,
            "bad-request",
            Text(
                "{name} must be a whole number from 0 to {maximum}.",
                "server",
                {"name": name, "maximum": maximum},
            ),
        )
    return int(raw)


def text_field(
    data: dict[str, Any], name: str, *, required: bool = False, max_length: int = 200
) -> str:
    value = data.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Problem(
            422,
            "validation",
            errors=[field_error(name, "wrong_type", Text("This must be text.", "server"))],
        )
    if "\x00" in value:  # no field holds one, and PostgreSQL refuses it in text
        raise Problem(
            422,
            "validation",
            errors=[
                field_error(
                    name, "nul_character", Text("This must not contain a NUL character.", "server")
                )
            ],
        )
    value = value.strip()
    if required and not value:
        raise Problem(
            422,
            "validation",
            errors=[field_error(name, "required", Text("This field is required.", "server"))],
        )
    if len(value) > max_length:
        raise Problem(
            422,
            "validation",
            errors=[
                field_error(
                    name,
                    "too_long",
                    Text("At most {n} characters, please.", "server", {"n": max_length}),
                )
            ],
        )
    return value
