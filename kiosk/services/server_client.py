"""HTTP client for the shop's sync server (``/api/v1``), as this device sees it.

Every failure becomes a :class:`ServerProblem` with a stable ``code`` (the problem
document's ``errors[0].code`` when the server sent one) and a message the person at the
screen can act on, in either language.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests

from kiosk.services.pairing_code import normalize_code
from shared.i18n import Text, normalize_language
from shared.sync_protocol import API_PREFIX

CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 10.0


class UserMessage(Protocol):
    """Anything that can be shown in the reader's language (``shared.i18n.Text`` too)."""

    def render(self, lang: str) -> str: ...


@dataclass(frozen=True)
class ServerMessage:
    """A message the server wrote in both languages (``message`` / ``message_zh``)."""

    en: str
    zh_cn: str

    def render(self, lang: str) -> str:
        return self.zh_cn if normalize_language(lang) == "zh_CN" and self.zh_cn else self.en


# Problem codes this app gives itself when the server sent none.
SERVER_UNREACHABLE = "server_unreachable"
DEVICE_NOT_PAIRED = "device_not_paired"
SERVER_ERROR = "server_error"
UNEXPECTED_RESPONSE = "unexpected_response"
REQUEST_REFUSED = "request_refused"
SERVER_OUT_OF_SPACE = "server_out_of_space"

PAIRING_REFUSALS: dict[str, Text] = {
    "pairing_code_unknown": Text(
        "This pairing code is not known. Check the code and try again.", "kiosk"
    ),
    "pairing_code_expired": Text(
        "This pairing code has expired. Ask the service manager for a new one.", "kiosk"
    ),
    "pairing_code_used": Text(
        "This pairing code has already been used. Ask the service manager for a new one.",
        "kiosk",
    ),
}


class ServerProblem(Exception):
    """A request to the shop server failed in a way the person at the screen must hear."""

    def __init__(
        self,
        code: str,
        message: UserMessage,
        status: int | None = None,
        document: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code} ({status})" if status else code)
        self.code = code
        self.message = message
        self.status = status
        # The server's problem document (RFC 9457), for callers that need more of it.
        self.document = document or {}

    @property
    def problem_type(self) -> str:
        """The last part of the problem's ``type`` URI, e.g. ``pin-wrong``."""
        kind = self.document.get("type")
        return kind.rsplit("/", 1)[-1] if isinstance(kind, str) else ""

    @property
    def needs_pairing(self) -> bool:
        """The server no longer accepts this device's token: it must be paired again."""
        return self.code == DEVICE_NOT_PAIRED

    @property
    def is_offline(self) -> bool:
        return self.code == SERVER_UNREACHABLE


@dataclass(frozen=True)
class DeviceInfo:
    """The device record and the shop settings the server holds for this device."""

    device_id: str
    device_name: str
    role: str
    shop_name: str
    plate_region: str
    ticket_prefix: str = ""
    phone_region: str = ""
    # The shop's time zone: every time this device shows is the shop's clock time.
    shop_timezone: str = ""
    # Minutes a customer may wait to be greeted before the queue highlights them (the
    # shop's setting; None from a server that does not send it).
    greeting_target_minutes: int | None = None
    # The key this device makes its visits' status links with (a secret: not shown).
    status_link_key: str = field(default="", repr=False)


@dataclass(frozen=True)
class PairingResult(DeviceInfo):
    """What redeeming a pairing code gives: the device record plus its new token."""

    token: str = ""


def default_device_name() -> str:
    """A name the service manager will recognise in the device list: the host name."""
    return platform.node() or "Check-in device"


class ServerClient:
    """Talks to one sync server; ``token`` authenticates this device once paired."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        session: requests.Session | None = None,
        language: str = "en",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.language = language
        self._own_session = session is None
        self.session = session or requests.Session()

    def close(self) -> None:
        if self._own_session:
            self.session.close()

    def __enter__(self) -> ServerClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- API ---------------------------------------------------------------------------

    def pair(self, code: str, device_name: str) -> PairingResult:
        """Redeem a pairing code (``POST /devices/pair``) for this device's token."""
        body = self._request(
            "POST", "/devices/pair", json={"code": normalize_code(code), "device_name": device_name}
        )
        try:
            return PairingResult(**_device_fields(body), token=_required_text(body, "token"))
        except (KeyError, TypeError, ValueError):
            raise _unexpected_response(self.base_url) from None

    def whoami(self) -> DeviceInfo:
        """This device's record (``GET /devices/me``); 401 means it must pair again."""
        body = self._request("GET", "/devices/me")
        try:
            return DeviceInfo(**_device_fields(body))
        except (KeyError, TypeError, ValueError):
            raise _unexpected_response(self.base_url) from None

    def advisors(self) -> list[dict[str, Any]]:
        """Who may sign in on this tablet (``GET /advisors``): username, name, user id."""
        body = self._request("GET", "/advisors")
        advisors = body.get("advisors")
        if not isinstance(advisors, list) or not all(isinstance(a, dict) for a in advisors):
            raise _unexpected_response(self.base_url)
        return advisors

    def sign_in_advisor(self, username: str, pin: str) -> dict[str, Any]:
        """Check an advisor's PIN (``POST /advisor-sign-ins``); the advisor on success.

        A wrong PIN is a :class:`ServerProblem` with ``problem_type`` ``pin-wrong``,
        a locked one ``pin-locked`` (``document["locked_until"]`` says until when).
        """
        body = self._request("POST", "/advisor-sign-ins", json={"username": username, "pin": pin})
        advisor = body.get("advisor")
        if not isinstance(advisor, dict):
            raise _unexpected_response(self.base_url)
        return advisor

    # -- plumbing ----------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        headers = {
            "Accept": "application/json, application/problem+json",
            "Accept-Language": "zh-CN" if normalize_language(self.language) == "zh_CN" else "en",
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        url = self.base_url + API_PREFIX + path
        try:
            response = self.session.request(
                method, url, headers=headers, timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S), **kwargs
            )
        except requests.RequestException:
            raise ServerProblem(
                SERVER_UNREACHABLE,
                Text(
                    "Cannot reach the shop server at {url}. Check the network and try again.",
                    "kiosk",
                    {"url": self.base_url},
                ),
            ) from None
        with response:
            if response.ok:
                try:
                    body = response.json()
                except ValueError:
                    body = None
                if not isinstance(body, dict):
                    raise _unexpected_response(self.base_url, response.status_code)
                return body
            raise _problem_from_response(response)


def _problem_from_response(response: requests.Response) -> ServerProblem:
    status = response.status_code
    try:
        document = response.json()
    except ValueError:
        document = None
    first_error: dict[str, Any] = {}
    if isinstance(document, dict):
        errors = document.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first_error = errors[0]
    code = first_error.get("code") if isinstance(first_error.get("code"), str) else None

    if code in PAIRING_REFUSALS:
        return ServerProblem(code, PAIRING_REFUSALS[code], status)
    if status == 401:
        return ServerProblem(
            DEVICE_NOT_PAIRED,
            Text(
                "The shop server no longer accepts this device. "
                "Ask the service manager for a new pairing code.",
                "kiosk",
            ),
            status,
        )
    if status >= 500:
        return ServerProblem(
            code or SERVER_ERROR,
            Text(
                "The shop server has a problem (error {status}). Try again in a minute; "
                "if it keeps happening, tell the service manager.",
                "kiosk",
                {"status": status},
            ),
            status,
        )
    message: UserMessage
    if isinstance(first_error.get("message"), str):
        message = ServerMessage(first_error["message"], str(first_error.get("message_zh") or ""))
    else:
        message = Text(
            "The shop server refused the request (error {status}).",
            "kiosk",
            {"status": status},
        )
    return ServerProblem(
        code or REQUEST_REFUSED,
        message,
        status,
        document if isinstance(document, dict) else None,
    )


def _unexpected_response(base_url: str, status: int | None = None) -> ServerProblem:
    return ServerProblem(
        UNEXPECTED_RESPONSE,
        Text(
            "The answer from {url} was not understood. Check that this is the address "
            "of the shop server.",
            "kiosk",
            {"url": base_url},
        ),
        status,
    )


def _required_text(body: dict[str, Any], key: str) -> str:
    value = body[key]
    if not isinstance(value, str) or not value:
        raise ValueError(key)
    return value


def _minutes(value: object) -> int | None:
    """A greeting target the server sent, if it is a sensible number of minutes."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 24 * 60:
        return None
    return value


def _device_fields(body: dict[str, Any]) -> dict[str, Any]:
    # The server names the device "name"; the architecture note says "device_name".
    shop = body.get("shop") or {}
    if not isinstance(shop, dict):
        raise TypeError("shop")
    return {
        "device_id": str(body["device_id"]),
        "device_name": str(body.get("device_name") or body.get("name") or ""),
        "role": _required_text(body, "role"),
        "shop_name": str(shop.get("name") or ""),
        "plate_region": str(shop.get("plate_region") or ""),
        "ticket_prefix": str(body.get("ticket_prefix") or ""),
        "phone_region": str(shop.get("phone_region") or ""),
        "shop_timezone": str(shop.get("timezone") or ""),
        "greeting_target_minutes": _minutes(shop.get("greeting_target_minutes")),
        "status_link_key": str(body.get("status_link_key") or ""),
    }
