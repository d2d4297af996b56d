"""The format of a pairing code, checked on the device before anything is sent.

A code is 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L), shown
grouped as ``XXXX-XXXX``. People type it in any case, with or without the dash.
"""

from __future__ import annotations

from shared.i18n import Text

PAIRING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
LOOK_ALIKES = frozenset("0O1IL")
_SEPARATORS = frozenset(" -\t\u00a0")


def normalize_code(typed: str) -> str:
    """What was typed, as the server compares it: upper case, no spaces or dashes."""
    return "".join(ch for ch in typed.upper() if ch not in _SEPARATORS)


def display_code(code: str) -> str:
    """``K7QM4XPD`` as people read it: ``K7QM-4XPD``."""
    code = normalize_code(code)
    return f"{code[:4]}-{code[4:]}" if len(code) > 4 else code


def is_code_character(char: str) -> bool:
    """Whether one typed character (any case) may appear in a pairing code."""
    return len(char) == 1 and char.upper() in PAIRING_ALPHABET


def invalid_character_message(chars: str) -> Text:
    """Why the characters ``chars`` cannot be part of a pairing code."""
    if any(ch in LOOK_ALIKES for ch in chars.upper()):
        return Text(
            "Pairing codes never use 0, O, 1, I or L, so they cannot be mixed up. "
            "Check the code again.",
            "kiosk",
        )
    return Text(
        "A pairing code has only the digits 2–9 and the letters A–Z. Not allowed: {chars}",
        "kiosk",
        {"chars": " ".join(sorted(set(chars)))},
    )


def code_problem(typed: str) -> Text | None:
    """What is wrong with a typed code, or ``None`` when it has the right form."""
    code = normalize_code(typed)
    if not code:
        return Text("Type the 8-character pairing code.", "kiosk")
    wrong = "".join(ch for ch in code if ch not in PAIRING_ALPHABET)
    if wrong:
        return invalid_character_message(wrong)
    if len(code) != CODE_LENGTH:
        return Text(
            "A pairing code has 8 characters; this one has {count}.",
            "kiosk",
            {"count": len(code)},
        )
    return None
