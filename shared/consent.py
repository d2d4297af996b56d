"""The privacy promise a customer agrees to at check-in, word for word and versioned.

The sources ask the shop to tell customers that their data is used only for service and
communication and is kept strictly confidential (承诺严格保密), and to record that consent
with the text shown. The text is fixed per version (not a gettext message, which a
translator could change): a Consent record stores :data:`CONSENT_VERSION` and the
SHA-256 of the exact text shown (:func:`consent_sha256`), so what was agreed to can be
proved later. Change the wording only together with a new version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from shared.i18n import normalize_language

CONSENT_VERSION = "2026-11-v1"

_CONSENT_TEXTS: Mapping[str, str] = {
    "en": (
        "We use your name, phone number and vehicle details only to service your car and "
        "to contact you about this visit and, if you agree to reminders, about future "
        "maintenance. We keep them strictly confidential: we do not sell them or pass them "
        "on to anyone else. You can ask the service desk at any time to see, correct or "
        "delete your data, and to stop reminders."
    ),
    "zh_CN": (
        "您的姓名、电话号码和车辆信息仅用于为您的车辆提供维修保养服务，以及就本次到店与您联系；"
        "如您同意接收提醒，也会用于提醒您今后的保养。我们承诺严格保密：不会出售您的信息，"
        "也不会提供给任何第三方。您可随时到服务台查看、更正或删除您的信息，或取消提醒。"
    ),
}


def consent_text(lang: str) -> str:
    """The consent text of :data:`CONSENT_VERSION` in ``lang`` (English by default)."""
    return _CONSENT_TEXTS[normalize_language(lang)]


def consent_sha256(lang: str) -> str:
    """SHA-256 (lowercase hex) of the UTF-8 text shown in ``lang``."""
    return hashlib.sha256(consent_text(lang).encode("utf-8")).hexdigest()
