"""The results of checking what was typed in: field issues and checked values.

Part of ``shared.validation`` (import them from there); ``shared.wire`` reports its
issues in the same shape.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from shared.i18n import Text

T = TypeVar("T")

Severity = Literal["error", "warning"]
PlateRegion = Literal["CN", "generic"]
PhoneRegion = Literal["CN", "generic"]
PlateKind = Literal[
    "standard",
    "new_energy_small",
    "new_energy_large",
    "coach",
    "police",
    "trailer",
    "hong_kong_macau",
    "generic",
]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class FieldIssue:
    """One problem with one field, with a message for the person who typed it."""

    field: str
    code: str
    message: Text
    severity: Severity = "error"

    def to_dict(self) -> dict[str, str]:
        """The wire form used in problem documents (``errors`` array)."""
        return {
            "field": self.field,
            "code": self.code,
            "severity": self.severity,
            "message": self.message.render("en"),
            "message_zh": self.message.render("zh_CN"),
        }


@dataclass(frozen=True)
class Checked(Generic[T]):
    """A normalised value (``None`` when there is an error) and what was found."""

    value: T | None
    issues: tuple[FieldIssue, ...] = ()

    @property
    def ok(self) -> bool:
        """True when no issue is an error (warnings are allowed)."""
        return not self.errors

    @property
    def errors(self) -> tuple[FieldIssue, ...]:
        return tuple(issue for issue in self.issues if issue.severity == "error")

    @property
    def warnings(self) -> tuple[FieldIssue, ...]:
        return tuple(issue for issue in self.issues if issue.severity == "warning")


class ValidationError(Exception):
    """Raised when input cannot be accepted; carries every issue found (with warnings)."""

    def __init__(self, issues: Iterable[FieldIssue]) -> None:
        self.issues: list[FieldIssue] = list(issues)
        super().__init__("; ".join(f"{i.field}: {i.message.render('en')}" for i in self.issues))

    def to_dicts(self) -> list[dict[str, str]]:
        return [issue.to_dict() for issue in self.issues]


def validate_all(**checks: Checked[Any]) -> dict[str, Any]:
    """Values of several checks by name; raise :class:`ValidationError` if any has an error.

    ``validate_all(vin=check_vin(v), plate=check_plate(p))`` → ``{"vin": ..., "plate": ...}``.
    The exception carries the warnings of all checks as well as the errors.
    """
    issues = [issue for result in checks.values() for issue in result.issues]
    if any(issue.severity == "error" for issue in issues):
        raise ValidationError(issues)
    return {name: result.value for name, result in checks.items()}


def _issue(
    field: str,
    code: str,
    text: Text,
    severity: Severity = "error",
) -> FieldIssue:
    return FieldIssue(field=field, code=code, message=text, severity=severity)


def _result(value: T, issues: list[FieldIssue]) -> Checked[T]:
    failed = any(issue.severity == "error" for issue in issues)
    return Checked(value=None if failed else value, issues=tuple(issues))


def _nfkc(raw: object) -> str:
    """Text as typed, with full-width letters and digits (Chinese IMEs) made ASCII."""
    if raw is None:
        return ""
    return unicodedata.normalize("NFKC", str(raw)).strip()


def _quoted(characters: Iterable[str]) -> str:
    seen: dict[str, None] = dict.fromkeys(characters)
    return " ".join(f"“{c}”" for c in seen)
