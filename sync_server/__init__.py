"""The sync server: a Flask app factory that the CLI, waitress and the tests all use."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from shared.sync_protocol import MAX_PUSH_BYTES


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the server. ``test_config`` replaces settings read from the environment."""
    instance_path = os.environ.get("CHECKIN_INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=str(Path(instance_path).resolve()) if instance_path else None,
        instance_relative_config=True,
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from sync_server.config import settings_from_environment

    if test_config is None:
        app.config.from_mapping(settings_from_environment(Path(app.instance_path)))
    else:
        app.config.from_mapping(
            {
                "SECRET_KEY": "test",
                "PAIRING_CODE_MINUTES": 10,
                "LOG_LEVEL": "INFO",
                "MAX_CONTENT_LENGTH": MAX_PUSH_BYTES,
                "PUBLIC_URL": "",
            }
        )
        app.config.from_mapping(test_config)

    _configure_logging(app)

    from sync_server import (
        access,
        cli,
        db,
        live,
        problems,
        public_links,
        request_guards,
        security_headers,
        server_secrets,
    )
    from sync_server.api import init_app as init_api
    from sync_server.sync.api import init_app as init_sync
    from sync_server.web import init_app as init_web

    db.init_app(app)
    from sync_server.follow_up import car_hooks

    car_hooks.install()  # each car's due dates kept current as its history changes
    live.init_app(app)
    server_secrets.init_app(app)
    problems.init_app(app)
    request_guards.init_app(app)
    security_headers.init_app(app)
    access.init_app(app)
    init_api(app)
    init_sync(app)
    init_web(app)
    public_links.init_app(app)  # after every view is registered
    cli.init_app(app)
    return app


def _configure_logging(app: Flask) -> None:
    level = getattr(logging, str(app.config.get("LOG_LEVEL", "INFO")).upper(), logging.INFO)
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app.logger.setLevel(level)
    from sync_server.migrate import quiet_alembic_logs

    quiet_alembic_logs()  # before Alembic is imported: it logs its plugins on import
    from shared.masking import install_log_masking

    # Phone numbers and VINs never reach a log file in clear.
    install_log_masking()
