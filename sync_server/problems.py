"""Errors as RFC 9457 problem documents, in the reader's language, never with a trace.

Views raise :class:`Problem` (or a ``shared.validation.ValidationError``); every other
error, down to a crash, is turned into a problem document by the handlers installed
here. The full traceback goes to the log only, under an id the client is shown.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from shared.i18n import Text, normalize_language

log = logging.getLogger(__name__)

PROBLEM_BASE = "https://service-lane.example/problems/"
PROBLEM_JSON = "application/problem+json"

_TITLES: Mapping[int, Text] = {
    400: Text("The request could not be understood", "server"),
    401: Text("Please sign in or pair this device", "server"),
    403: Text("This is not allowed for your role", "server"),
    404: Text("Not found", "server"),
    405: Text("This method is not allowed here", "server"),
    409: Text("This conflicts with what the server already has", "server"),
    413: Text("The upload is too large", "server"),
    415: Text("This type of content is not accepted", "server"),
    422: Text("Some fields need attention", "server"),
    429: Text("Too many attempts; please wait a moment", "server"),
    500: Text("Something went wrong on the server", "server"),
    503: Text("The server is busy", "server"),
}


def request_language() -> str:
    """The reader's language from ``Accept-Language`` (English when unsure)."""
    best = request.accept_languages.best_match(["en", "zh-CN", "zh"]) if request else None
    return normalize_language(best)


class Problem(Exception):
    """An error a client can act on; raised by views, rendered as problem+json."""

    def __init__(
        self,
        status: int,
        kind: str,
        detail: Text | None = None,
        *,
        title: Text | None = None,
        errors: Iterable[Mapping[str, Any]] = (),
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(kind)
        self.status = status
        self.kind = kind
        self.title = title or _TITLES.get(status, _TITLES[400 if status < 500 else 500])
        self.detail = detail
        self.errors = [dict(error) for error in errors]
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})  # e.g. Retry-After, Allow
        self.cause: Exception | None = None

    def to_dict(self, lang: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.kind,
            "title": self.title.render(lang),
            "status": self.status,
        }
        if self.detail is not None:
            body["detail"] = self.detail.render(lang)
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


def field_error(field: str, code: str, message: Text, severity: str = "error") -> dict[str, Any]:
    """One entry of a problem's ``errors`` list, in both languages."""
    return {
        "field": field,
        "code": code,
        "severity": severity,
        "message": message.render("en"),
        "message_zh": message.render("zh_CN"),
    }


def wants_html() -> bool:
    """Pages (everything outside ``/api/``) get HTML error pages, the API problem+json."""
    return bool(request) and not request.path.startswith("/api/")


def logged_path() -> str:
    """The request's path for a log line, with a customer's link token left out: the
    token opens their page, and logs are read by more people than the customer."""
    token = (request.view_args or {}).get("token")
    if isinstance(token, str) and token:
        return request.path.replace(token, "<token>")
    return request.path


def problem_response(problem: Problem) -> Response:
    render_page = current_app.extensions.get("html_error_page")
    if render_page is not None and wants_html():
        try:
            page = render_page(problem)
            page.headers.update(problem.headers)
            return page
        except Exception:  # an error page must never fail: fall back to the document
            log.exception("could not render the error page for %s", problem.kind)
    response = jsonify(problem.to_dict(request_language()))
    response.status_code = problem.status
    response.mimetype = PROBLEM_JSON
    response.headers.update(problem.headers)
    if problem.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="service-lane"'
    return response


def _http_kind(status: int) -> str:
    return {
        400: "bad-request",
        401: "unauthenticated",
        403: "forbidden",
        404: "not-found",
        405: "method-not-allowed",
        413: "too-large",
        415: "unsupported-media-type",
    }.get(status, "http-error")


# PostgreSQL's answers when a wait was cut short (``lock_timeout``), two writers waited
# for each other (a deadlock, one is rolled back) or a session idle in its transaction
# was ended: nothing was saved, and the same request a moment later goes through.
BUSY_SQLSTATES = frozenset({"55P03", "40P01", "40001", "25P03"})
BUSY_RETRY_AFTER_S = 2


def is_busy_database(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps) is PostgreSQL saying "busy, try again"."""
    while exc is not None:
        if getattr(exc, "sqlstate", None) in BUSY_SQLSTATES:
            return True
        orig = getattr(exc, "orig", None)
        exc = orig if orig is not None and orig is not exc else exc.__cause__  # type: ignore[assignment]
    return False


def busy_problem() -> Problem:
    return Problem(
        503,
        "server-busy",
        Text("The server is busy. Nothing was lost; try again in a moment.", "server"),
        headers={"Retry-After": str(BUSY_RETRY_AFTER_S)},
    )


def init_app(app: Flask) -> None:
    @app.errorhandler(Problem)
    def _problem(problem: Problem) -> Response:
        return problem_response(problem)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        detail = None
        if status == 413:
            limit = request.max_content_length or app.config.get("MAX_CONTENT_LENGTH")
            detail = Text(
                "The limit here is {megabytes} MB.",
                "server",
                {"megabytes": round((limit or 0) / 1_048_576, 1)},
            )
        headers = {}
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            headers["Allow"] = ", ".join(sorted(exc.valid_methods))
        problem = Problem(status, _http_kind(status), detail, headers=headers)
        problem.cause = exc
        return problem_response(problem)

    @app.errorhandler(Exception)
    def _crash(exc: Exception) -> Response:
        from sync_server.disk_full import is_disk_full, out_of_space_problem

        if is_disk_full(exc):
            log.error("out of disk space: %s %s: %s", request.method, logged_path(), exc)
            return problem_response(out_of_space_problem())
        if is_busy_database(exc):
            log.warning("database busy: %s %s: %s", request.method, logged_path(), exc)
            return problem_response(busy_problem())
        incident = uuid.uuid4().hex[:12]
        log.exception(
            "unhandled error, incident %s, %s %s", incident, request.method, logged_path()
        )
        return problem_response(
            Problem(
                500,
                "server-error",
                Text(
                    "Please try again. If it keeps happening, quote incident {incident}.",
                    "server",
                    {"incident": incident},
                ),
                extra={"incident": incident},
            )
        )
