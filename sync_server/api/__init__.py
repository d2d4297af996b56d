"""The JSON API under ``/api/v1``: one blueprint per area."""

from __future__ import annotations

from flask import Flask

from shared.sync_protocol import API_PREFIX


def init_app(app: Flask) -> None:
    from sync_server.api import advisors, auth, devices, follow_up, lookup, openapi, walkarounds

    for module in (advisors, auth, devices, lookup, openapi, walkarounds, follow_up):
        app.register_blueprint(module.bp, url_prefix=API_PREFIX)
