"""Security headers on every answer, pages and API alike.

The Content-Security-Policy lets scripts come only from this server's own files (no
inline script, no ``eval``), and no other site may frame a page (clickjacking on the
approval page). ``nosniff`` makes a browser take a photo for the image type it is served
as, even with HTML appended to it. Links to other sites carry no referrer, so an approval
link's token never leaks. Inline ``style`` attributes stay allowed: the photo pins are
placed with them, and a style cannot run code.

Nothing the server answers is kept by a browser's or a proxy's cache unless the view says
otherwise (the photos and car drawings do; the static files follow Flask's own rule):
the pages and answers carry customers' names, phones and plates, and a shop PC is
shared, so each answer without its own ``Cache-Control`` gets ``no-store``.
"""

from __future__ import annotations

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    endpoint = request.endpoint or ""
    if "Cache-Control" not in response.headers and not (
        endpoint == "static" or endpoint.endswith(".static")
    ):
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
