"""What advisors type into the board's search, and the normalised columns it searches.

Advisors type a plate without its province character and in any case (``a3n2p8`` for
``苏A·3N2P8``), the last four digits of a phone (``5605``) or a model (``sylphy``). Each
of these is kept, normalised, in an indexed column of the typed tables
(``vehicles.plate_search``, ``vehicles.model_search``, ``customers.phone_last4``),
written with the row by the sync projection (:func:`search_columns`), so a search is an
index look-up, never a scan of every visit.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from shared.validation import plate_key

# Leading characters of a plate that are not Latin letters or digits: the province.
_PROVINCE = re.compile(r"^[^0-9A-Z]+")
_MODEL_SEPARATORS = re.compile(r"[\s\-_.·/]+")
_DIGITS = re.compile(r"\D+")


def plate_search_key(plate: str | None) -> str:
    """``苏A·3N2P8``, ``A3N2P8`` and ``a3n2p8`` all give ``A3N2P8``."""
    return _PROVINCE.sub("", plate_key(plate))[:16]


def model_search_key(model: str | None) -> str:
    """``Sylphy``, ``SYLPHY`` and ``sylphy`` give ``sylphy``; ``CR-V`` gives ``crv``."""
    text = unicodedata.normalize("NFKC", model or "").casefold()
    return _MODEL_SEPARATORS.sub("", text)[:60]


def phone_last4(phone: str | None) -> str:
    """The last four digits of a phone number, or "" when it has fewer."""
    digits = _DIGITS.sub("", unicodedata.normalize("NFKC", phone or ""))
    return digits[-4:] if len(digits) >= 4 else ""


def search_columns(kind: str, values: Mapping[str, Any]) -> dict[str, str]:
    """The normalised search columns of a customer's or a vehicle's typed row."""
    if kind == "customer":
        return {"phone_last4": phone_last4(values.get("phone"))}
    if kind == "vehicle":
        return {
            "plate_search": plate_search_key(values.get("plate")),
            "model_search": model_search_key(values.get("model")),
        }
    return {}


def is_last4_query(query: str) -> bool:
    """Exactly four digits: the end of a phone number (also a plate's digits)."""
    return len(query) == 4 and query.isascii() and query.isdigit()


__all__ = [
    "is_last4_query",
    "model_search_key",
    "phone_last4",
    "plate_search_key",
    "search_columns",
]
