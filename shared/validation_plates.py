"""Number plates: Chinese plates (GA 36-2018) and plates of elsewhere, checked and shown.

Part of ``shared.validation`` (import them from there).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from shared.field_issues import (
    Checked,
    FieldIssue,
    PlateKind,
    PlateRegion,
    _issue,
    _nfkc,
    _quoted,
    _result,
)
from shared.i18n import Text

# --------------------------------------------------------------------------- plates

#: The 31 mainland province-level abbreviations, in the order plate pickers show them.
PROVINCE_ABBREVIATIONS: tuple[str, ...] = tuple(
    "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
)
#: Last characters of special 7-character plates and the kind they mean.
PLATE_SUFFIXES: Mapping[str, PlateKind] = {
    "学": "coach",
    "警": "police",
    "挂": "trailer",
    "港": "hong_kong_macau",
    "澳": "hong_kong_macau",
}
NEW_ENERGY_KINDS: frozenset[PlateKind] = frozenset({"new_energy_small", "new_energy_large"})

_PLATE_LETTER = "A-HJ-NP-Z"  # A-Z without I and O
_PLATE_CHAR = f"[{_PLATE_LETTER}0-9]"
_PROVINCE = f"[{''.join(PROVINCE_ABBREVIATIONS)}]"
_AUTHORITY = f"[{_PLATE_LETTER}]"
# GA 36-2018. Small new-energy: the serial's 1st character is D/A/B/C/E (pure electric) or
# F/G/H/J/K (other new energy), the 2nd a letter or digit, the last four digits.
# Large new-energy: five digits, then D (pure electric) or F (other).
_CN_PLATES: tuple[tuple[PlateKind, re.Pattern[str]], ...] = (
    ("standard", re.compile(f"{_PROVINCE}{_AUTHORITY}{_PLATE_CHAR}{{5}}")),
    ("new_energy_small", re.compile(f"{_PROVINCE}{_AUTHORITY}[DABCEFGHJK]{_PLATE_CHAR}[0-9]{{4}}")),
    ("new_energy_large", re.compile(f"{_PROVINCE}{_AUTHORITY}[0-9]{{5}}[DF]")),
    ("coach", re.compile(f"{_PROVINCE}{_AUTHORITY}{_PLATE_CHAR}{{4}}学")),
    ("police", re.compile(f"{_PROVINCE}{_AUTHORITY}{_PLATE_CHAR}{{4}}警")),
    ("trailer", re.compile(f"{_PROVINCE}{_AUTHORITY}{_PLATE_CHAR}{{4}}挂")),
    ("hong_kong_macau", re.compile(f"粤Z{_PLATE_CHAR}{{4}}[港澳]")),
)
_CN_PLATE_SEPARATORS = re.compile(r"[\s.·•・\-]+")
_GENERIC_PLATE = re.compile(r"[A-Z0-9]+(?:[ -][A-Z0-9]+)*")
_GENERIC_SEPARATORS = re.compile(r"[ -]")


def normalize_plate(raw: str | None, region: PlateRegion = "CN") -> str:
    """CN: uppercase without spaces, dots, '·' or dashes. Generic: uppercase, single
    spaces/dashes kept between groups (runs of whitespace become one space)."""
    text = _nfkc(raw).upper()
    if region == "CN":
        return _CN_PLATE_SEPARATORS.sub("", text)
    return re.sub(r"\s+", " ", text)


def plate_key(plate: str | None) -> str:
    """A comparison key for looking plates up: uppercase letters, digits and CJK only."""
    return _CN_PLATE_SEPARATORS.sub("", _nfkc(plate).upper())


def plate_kind(plate: str | None, region: PlateRegion = "CN") -> PlateKind | None:
    """What kind of plate this is (after normalising), or ``None`` if it is not valid."""
    if region == "generic":
        return "generic" if check_plate(plate, region="generic").ok else None
    normalised = normalize_plate(plate, "CN")
    for kind, pattern in _CN_PLATES:
        if pattern.fullmatch(normalised):
            return kind
    return None


def format_plate(plate: str | None) -> str:
    """For display: a Chinese plate as ``京A·12345``; anything else as normalised."""
    normalised = normalize_plate(plate, "CN")
    if plate_kind(normalised) is not None:
        return f"{normalised[:2]}·{normalised[2:]}"
    return normalize_plate(plate, "generic")


def check_plate(raw: str | None, region: PlateRegion = "CN", field: str = "plate") -> Checked[str]:
    """Normalise and check a number plate; see :func:`plate_kind` for the kind."""
    plate = normalize_plate(raw, region)
    if not plate:
        return _result(
            plate, [_issue(field, "plate_missing", Text("Please enter the number plate."))]
        )
    if region == "generic":
        return _check_generic_plate(plate, field)
    return _check_cn_plate(plate, field)


def _check_generic_plate(plate: str, field: str) -> Checked[str]:
    compact = _GENERIC_SEPARATORS.sub("", plate)
    if _GENERIC_PLATE.fullmatch(plate) and 2 <= len(compact) <= 10:
        return _result(plate, [])
    text = Text(
        "A number plate has 2 to 10 letters (A to Z) and digits. Groups may be "
        "separated by a single space or dash."
    )
    return _result(plate, [_issue(field, "plate_generic_format", text)])


def _check_cn_plate(plate: str, field: str) -> Checked[str]:
    issues: list[FieldIssue] = []
    first = plate[0]
    if first not in PROVINCE_ABBREVIATIONS:
        if first.isascii():
            text = Text(
                "A Chinese number plate starts with the short name of a province, such as 京 or 粤."
            )
            issues.append(_issue(field, "plate_province_missing", text))
        else:
            text = Text(
                "“{character}” is not a province on Chinese number plates. A plate starts "
                "with the short name of a province, such as 京 or 粤.",
                domain="shared",
                params=dict(character=first),
            )
            issues.append(_issue(field, "plate_province", text))
    if len(plate) < 7:
        text = Text(
            "This plate number is too short: a Chinese plate has 7 characters, or 8 on a "
            "green new-energy plate. You entered {count}.",
            domain="shared",
            params=dict(count=len(plate)),
        )
        issues.append(_issue(field, "plate_too_short", text))
    elif len(plate) > 8:
        text = Text(
            "This plate number is too long: a Chinese plate has 7 characters, or 8 on a "
            "green new-energy plate. You entered {count}.",
            domain="shared",
            params=dict(count=len(plate)),
        )
        issues.append(_issue(field, "plate_too_long", text))
    rest = plate[1:]
    if any(c in "IO" for c in rest):
        text = Text(
            "The letters I and O are not used on Chinese number plates — did you mean 1 or 0?"
        )
        issues.append(_issue(field, "plate_letters_io", text))
    strange = [c for c in rest if not ("A" <= c <= "Z" or "0" <= c <= "9" or c in PLATE_SUFFIXES)]
    if strange:
        text = Text(
            "After the province, a number plate has only letters and digits. "
            "Please remove: {characters}",
            domain="shared",
            params=dict(characters=_quoted(strange)),
        )
        issues.append(_issue(field, "plate_characters", text))
    elif rest and not first.isascii() and not ("A" <= rest[0] <= "Z"):
        text = Text(
            "The second character of a Chinese number plate is a letter, such as the A in 京A."
        )
        issues.append(_issue(field, "plate_authority", text))
    if issues:
        return _result(plate, issues)

    if plate_kind(plate) is not None:
        return _result(plate, [])
    if plate[-1] in "港澳":
        text = Text("Plates ending in 港 or 澳 are issued only as 粤Z plates.")
        issues.append(_issue(field, "plate_hong_kong_macau", text))
    elif len(plate) == 8 and plate[-1] not in PLATE_SUFFIXES:
        text = Text(
            "This looks like a green new-energy plate, but the letters are in the wrong "
            "places. On a small car the third character is one of the letters D, A, B, C, "
            "E, F, G, H, J or K and the last four are digits; on a large vehicle five "
            "digits are followed by D or F."
        )
        issues.append(_issue(field, "plate_new_energy", text))
    else:
        text = Text(
            "This does not look like a Chinese number plate. Please check it against the "
            "plate on the car."
        )
        issues.append(_issue(field, "plate_format", text))
    return _result(plate, issues)
