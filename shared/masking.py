"""Masking of personal data: what a lobby kiosk may show, and what may go into logs.

A kiosk stands in a public lobby, so when it finds an appointment it shows only enough
for the customer to recognise their own: ``Zhang **``, ``京A·***45``, ``138****5678``.
The same functions mask phone numbers and VINs in log text (:class:`PersonalDataFilter`),
so that log files and error reports never carry them in full.

Every function accepts raw or normalised input, never raises, and returns ``""`` for
empty input.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any

from shared.validation import check_phone, normalize_plate, normalize_vin

__all__ = [
    "PersonalDataFilter",
    "install_log_masking",
    "mask_email",
    "mask_name",
    "mask_phone",
    "mask_plate",
    "mask_text",
    "mask_vin",
]

# --------------------------------------------------------------------------- names


_CJK_NAMES = ("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH", "HANGUL", "HIRAGANA")


def _is_cjk(char: str) -> bool:
    """Chinese, Japanese and Korean characters: names written without spaces."""
    return unicodedata.name(char, "").startswith((*_CJK_NAMES, "KATAKANA"))


def mask_name(name: str | None) -> str:
    """Keep the family name, hide the rest.

    * Chinese (also Japanese, Korean): the first character, then one ``*``
      for each further character, at most two: ``张伟`` → ``张*``, ``欧阳娜娜`` → ``欧**``.
    * Names written with spaces: the first word, then ``**``: ``Zhang Wei`` → ``Zhang **``.
    * A single Latin word is not kept whole: ``Madonna`` → ``M**``.

    A one-character name still gets one ``*`` so that the name is never shown complete.
    """
    words = (name or "").split()
    if not words:
        return ""
    if _is_cjk(words[0][0]):
        compact = "".join(words).replace("·", "").replace("•", "")
        return compact[0] + "*" * max(1, min(2, len(compact) - 1))
    if len(words) == 1:
        return words[0][0] + "**"
    return f"{words[0]} **"


# --------------------------------------------------------------------------- plates


def mask_plate(plate: str | None) -> str:
    """Province and issuing letter plus the last two characters.

    ``京A12345`` → ``京A·***45``, ``京AD12345`` → ``京A·****45``; a plate without a Chinese
    province keeps its first two and last two letters or digits: ``AB12CDE`` → ``AB***DE``.
    Short plates keep less (first and last character, or nothing).
    """
    compact = normalize_plate(plate, "CN")
    if not compact:
        return ""
    if not compact[0].isascii() and len(compact) >= 6:
        return f"{compact[:2]}·{'*' * (len(compact) - 4)}{compact[-2:]}"
    return _keep_ends(compact)


def _keep_ends(text: str) -> str:
    if len(text) >= 6:
        return text[:2] + "*" * (len(text) - 4) + text[-2:]
    if len(text) >= 3:
        return text[0] + "*" * (len(text) - 2) + text[-1]
    return "*" * len(text)


# --------------------------------------------------------------------------- phones

# ITU-T E.164 country codes are prefix-free: 1 and 7 have one digit, these two, the rest 3.
_TWO_DIGIT_COUNTRY_CODES = frozenset(
    {20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53}
    | {54, 55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94}
    | {95, 98}
)


def _country_code(digits: str) -> str:
    if digits[:1] in ("1", "7"):
        return digits[:1]
    if int(digits[:2]) in _TWO_DIGIT_COUNTRY_CODES:
        return digits[:2]
    return digits[:3]


def mask_phone(phone: str | None) -> str:
    """A mainland mobile as ``138****5678`` (with or without +86); another E.164 number
    keeps its country code and last four digits: ``+4915123456789`` → ``+49 *******6789``.
    Anything else keeps at most its last four digits."""
    text = (phone or "").strip()
    if not text:
        return ""
    checked = check_phone(text, region="CN")
    if checked.value is not None:
        if checked.value.startswith("+86"):
            national = checked.value[3:]
            return f"{national[:3]}****{national[-4:]}"
        digits = checked.value[1:]
        code = _country_code(digits)
        rest = digits[len(code) :]
        return f"+{code} {'*' * (len(rest) - 4)}{rest[-4:]}"
    digits = re.sub(r"[^0-9]", "", text)
    if len(digits) >= 8:
        return "*" * (len(digits) - 4) + digits[-4:]
    return "*" * len(digits) if digits else "***"


# --------------------------------------------------------------------------- VIN, e-mail


def mask_vin(vin: str | None) -> str:
    """World manufacturer code and the last four: ``LSVAU2180N2183294`` → ``LSV**********3294``."""
    compact = normalize_vin(vin)
    if len(compact) > 7:
        return compact[:3] + "*" * (len(compact) - 7) + compact[-4:]
    return "*" * len(compact)


def mask_email(email: str | None) -> str:
    """The first character of the mailbox and the domain: ``zhang.wei@example.com`` →
    ``z***@example.com``. Without an ``@``, only ``***``."""
    text = (email or "").strip()
    if not text:
        return ""
    local, at, domain = text.rpartition("@")
    if not at or not local:
        return "***"
    return f"{local[0]}***@{domain.lower()}"


# --------------------------------------------------------------------------- logs

_EDGE_BEFORE = r"(?<![0-9A-Za-z])"
_EDGE_AFTER = r"(?![0-9A-Za-z])"
_VIN_CHARS = r"[A-HJ-NPR-Za-hj-npr-z0-9]{17}"
_WITH_A_DIGIT = r"(?=[A-Za-z]*[0-9])"
# 17 characters of the VIN alphabet with at least one digit (so that words do not match).
_VIN_IN_TEXT = re.compile(_EDGE_BEFORE + _WITH_A_DIGIT + _VIN_CHARS + _EDGE_AFTER)
# A VIN glued to a label (``vinLFV3A28K6B3046008``, ``VIN:...`` is covered above), or an
# upper-case VIN glued to lower-case letters (``carLFV3A28K6B3046008x``), as database
# errors and hand-typed notes show them.
_VIN_AFTER_LABEL = re.compile(r"(?<=[Vv][Ii][Nn])" + _WITH_A_DIGIT + _VIN_CHARS + r"(?![0-9A-Z])")
_UPPER_VIN_IN_TEXT = re.compile(
    r"(?<![0-9A-HJ-NPR-Z])(?=[A-Z]*[0-9])[A-HJ-NPR-Z0-9]{17}(?![0-9A-HJ-NPR-Z])"
)
# A mainland mobile, optionally with +86 / 0086 / 86 and single spaces or dashes. Letters
# may touch it (``tel13912346002``); only more digits make it something else.
_CN_MOBILE_IN_TEXT = re.compile(
    r"(?<![0-9+])(?:(?:\+|00)?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{4}){2}(?![0-9])"
)
_E164_IN_TEXT = re.compile(r"(?<![0-9+])\+[1-9][0-9]{7,14}(?![0-9])")


def mask_text(text: str) -> str:
    """Mask every VIN, mainland mobile and E.164 number found in free text."""
    for vin_pattern in (_VIN_IN_TEXT, _VIN_AFTER_LABEL, _UPPER_VIN_IN_TEXT):
        text = vin_pattern.sub(lambda m: mask_vin(m.group()), text)
    text = _CN_MOBILE_IN_TEXT.sub(lambda m: mask_phone(m.group()), text)
    return _E164_IN_TEXT.sub(lambda m: mask_phone(m.group()), text)


class PersonalDataFilter(logging.Filter):
    """A logging filter that masks phones and VINs in the message, traceback and stack.

    The record is changed in place: ``msg`` becomes the masked, fully formatted message
    and ``args`` is emptied, so every handler after this filter sees the masked text.
    It never drops a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let the handler report it as usual
            return True
        record.msg = mask_text(message)
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True


def _mask_at_creation() -> None:
    """Mask every record as it is made, so handlers added later never see clear text."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "masks_personal_data", False):
        return
    masking = PersonalDataFilter()

    def masked_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        masking.filter(record)
        return record

    masked_record.masks_personal_data = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(masked_record)


def install_log_masking(logger: logging.Logger | None = None) -> PersonalDataFilter:
    """Add one :class:`PersonalDataFilter` to ``logger`` (default: root) and its handlers.

    A filter on a logger only sees records logged on that very logger, a filter on a
    handler sees everything the handler writes, including records from child loggers;
    so both get it. Call it after the handlers are set up (handlers added later are not
    covered). Calling it again does not add a second filter. Returns the filter, so that
    it can be removed again with ``removeFilter``. For the root logger (the default) it
    also masks each record as it is created, which covers handlers added later too.
    """
    target = logger if logger is not None else logging.getLogger()
    if logger is None:
        _mask_at_creation()
    existing = next((f for f in target.filters if isinstance(f, PersonalDataFilter)), None)
    masking = existing if existing is not None else PersonalDataFilter()
    if existing is None:
        target.addFilter(masking)
    for handler in target.handlers:
        if not any(isinstance(f, PersonalDataFilter) for f in handler.filters):
            handler.addFilter(masking)
    return masking
