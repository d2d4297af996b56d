"""The JSON API under ``/api/v1``: one blueprint per area."""

from __future__ import annotations

from flask import Flask

API_PREFIX = "/api/v1"


def init_app(app: Flask) -> None:
    from sync_server.api import advisors, auth, devices, lookup, openapi, walkarounds

    for module in (advisors, auth, devices, lookup, openapi, walkarounds):
        app.register_blueprint(module.bp, url_prefix=API_PREFIX)
