"""Checks every request passes before any view sees it.

A NUL character has no place in any field this server keeps, and PostgreSQL refuses
one in text outright: a query or form holding one is answered 400 up front, so no view
has to remember it.
"""

from __future__ import annotations

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


def init_app(app: Flask) -> None:
    app.before_request(refuse_nul_characters)
