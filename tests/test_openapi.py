"""The OpenAPI document is valid and describes exactly the routes the server has."""

from __future__ import annotations

import re

from flask import Flask
from openapi_spec_validator import validate

from sync_server.api.openapi import document


def test_document_is_valid_openapi(client) -> None:  # type: ignore[no-untyped-def]
    served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200
    validate(served.json)


def test_document_matches_the_routes(app: Flask) -> None:
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((path, method.lower()))
    described = {(path, method) for path, item in document()["paths"].items() for method in item}
    assert routes - described == set(), "routes missing from the document"
    assert described - routes == set(), "document describes routes that do not exist"
