"""Checks every request passes before any view sees it.

A NUL character has no place in any field this server keeps, and PostgreSQL refuses
one in text outright: a query or form holding one is answered 400 up front, so no view
has to remember it.

A browser signed in to the back office sends its session cookie with whatever another
site makes it send. The pages check a CSRF token on every form; the JSON API, signed in
by the same cookie, refuses a write that a browser says comes from another site or
another origin (``Sec-Fetch-Site``, else ``Origin``), so a page elsewhere on the shop's
network cannot revoke a tablet or sign a manager out. Devices send their token, not a
cookie, and are not affected; neither are scripts, which send neither header.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request

from shared.i18n import Text
from sync_server.problems import Problem

NUL = "\x00"


def refuse_nul_characters() -> None:
    values = [*request.args.keys(), *request.args.values()]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values += [*request.form.keys(), *request.form.values()]
    if any(NUL in value for value in values):
        raise Problem(
            400,
            "nul-character",
            Text("The request holds a NUL character, which no field may contain.", "server"),
        )


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _from_another_site() -> bool:
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None:
        return False  # no browser's cross-origin request: browsers send Origin on those
    return urlsplit(origin).hostname != urlsplit(request.host_url).hostname


def refuse_cross_site_api_writes() -> None:
    if (
        request.method in SAFE_METHODS
        or not request.path.startswith("/api/")
        or "Authorization" in request.headers
        or not request.cookies
    ):
        return
    if _from_another_site():
        raise Problem(
            403,
            "cross-site-request",
            Text("This request came from another site and was refused.", "server"),
        )


def init_app(app: Flask) -> None:
    app.before_request(refuse_nul_characters)
    app.before_request(refuse_cross_site_api_writes)
