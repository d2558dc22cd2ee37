"""Unique pupil numbers (DfE UPN standard).

A UPN is 13 characters: a check letter, the allocating LA's 3-digit code, the school's
4-digit establishment number, 2 digits of year and a 3-character serial. A temporary UPN
ends in a letter. The check letter is the sum of each character's value (digits as
themselves, letters by their place in the 23-letter table) times its position 2..13,
modulo 23, looked up in that table.
"""

from __future__ import annotations

from dataclasses import dataclass

from ap_register.domain.reference_data import WELSH_LA_CODES, english_la_codes

# The UPN alphabet: no I, O or S, which look like 1, 0 and 5.
LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


def _value(char: str) -> int:
    return int(char) if char.isdigit() else LETTERS.index(char)


def check_letter(body: str) -> str:
    """The check letter for the 12 characters that follow it."""
    total = sum(_value(char) * position for position, char in enumerate(body, start=2))
    return LETTERS[total % 23]


@dataclass(frozen=True)
class UpnCheck:
    upn: str
    valid: bool
    message: str | None = None
    temporary: bool = False
    la_code: str | None = None


def normalise(upn: str) -> str:
    return "".join(upn.split()).upper()


def check_upn(raw: str) -> UpnCheck:
    """Validate a UPN and say why it fails, in words a data officer can act on."""
    upn = normalise(raw)
    if not upn:
        return UpnCheck(upn, False, "Enter a UPN")
    if len(upn) != 13:
        return UpnCheck(upn, False, f"A UPN must be 13 characters; this one has {len(upn)}")
    first, middle, last = upn[0], upn[1:12], upn[12]
    if first not in LETTERS:
        return UpnCheck(upn, False, "A UPN must start with a check letter (A to Z, not I, O or S)")
    if not (middle.isascii() and middle.isdigit()):
        return UpnCheck(upn, False, "Characters 2 to 12 of a UPN must be digits")
    if not ((last.isascii() and last.isdigit()) or last in LETTERS):
        return UpnCheck(upn, False, "The last character of a UPN must be a digit or a letter other than I, O or S")
    la_code = upn[1:4]
    if la_code not in english_la_codes() and la_code not in WELSH_LA_CODES:
        return UpnCheck(upn, False, f"Characters 2 to 4 ({la_code}) are not an English or Welsh LA code")
    expected = check_letter(upn[1:])
    if first != expected:
        return UpnCheck(upn, False, f"The check letter is wrong: a UPN ending {upn[1:]} starts with {expected}")
    return UpnCheck(upn, True, None, temporary=not last.isdigit(), la_code=la_code)


def make_upn(body: str) -> str:
    """A UPN from its last 12 characters (used by the demo and tests to build valid numbers)."""
    return check_letter(body) + body
