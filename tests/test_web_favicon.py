"""Every page names its icon, so a browser does not ask for a missing /favicon.ico.

The shop's first look at the demo in a browser showed a console error on every page:
"Failed to load resource: 404" for the icon the browser looks for by itself.
"""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import Shop
from web_fixtures import make_visit, web_login


def _icon_of(html: str) -> str:
    found = re.search(r'<link rel="icon"[^>]*href="([^"]+)"', html)
    assert found, "the page names no icon"
    return found.group(1)


def test_the_sign_in_board_and_status_pages_name_an_icon_the_server_serves(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    sign_in = client.get("/login")
    with client.get(_icon_of(sign_in.get_data(as_text=True))) as icon:
        assert icon.status_code == 200
        assert icon.mimetype == "image/svg+xml"
        assert b"<svg" in icon.get_data()

    web_login(client, shop, role="manager")
    board = client.get("/board")
    assert _icon_of(board.get_data(as_text=True)) == _icon_of(sign_in.get_data(as_text=True))
    visit = make_visit(app)
    status = client.get(f"/status/{visit.status_token}")
    assert status.status_code == 200
    assert _icon_of(status.get_data(as_text=True))
