"""What a piece of text typed or imported by a person may hold.

One line (a name, a reference, a UPN) holds no control character at all: a line break in a
setting's name once broke the email job's headers, and a NUL byte cannot be stored by
PostgreSQL. Free text (notes, reasons, views) may hold line breaks and tabs, and nothing else
of the control characters. Neither holds half of a character (a lone UTF-16 surrogate, which
JSON can carry and no database can store). Every channel (forms, imports, the API) asks these
functions, so the same value is refused the same way wherever it comes from.
"""

from __future__ import annotations

import unicodedata

from ap_register.domain.errors import Refusal

# Line breaks and tabs a person types in a box of several lines.
_LAYOUT = frozenset("\n\r\t")
# Unicode's own line and paragraph separators end a line for mail headers and CSV readers too.
_SEPARATORS = frozenset("\u2028\u2029\u0085")


def _is_control(character: str) -> bool:
    return unicodedata.category(character) == "Cc" or character in _SEPARATORS


def control_character_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why this text cannot be kept, or None. A NUL byte is named as such (it is the usual
    sign of a file or request that is not text at all)."""
    if value.isprintable():
        # Nothing to look at one by one (most values): every character printable, so none is a
        # control character, a separator, half of a character or a noncharacter.
        return None
    if "\x00" in value:
        return "must not contain a NUL byte (the text is not readable text)"
    allowed = _LAYOUT if multiline else frozenset()
    for character in value:
        if "\ud800" <= character <= "\udfff":
            return f"must be readable text (found U+{ord(character):04X}, half of a character)"
        if _is_noncharacter(character):  # never text, and no XML file (a census return) can hold it
            return f"must be readable text (found U+{ord(character):04X}, which is not a character)"
        if character not in allowed and _is_control(character):
            if character in "\n\r\u2028\u2029\u0085":
                return "must be on one line"
            return f"must not contain control characters (found U+{ord(character):04X})"
    return None


def _is_noncharacter(character: str) -> bool:
    """Unicode's noncharacters: U+FDD0 to U+FDEF, and the last two code points of every plane."""
    code = ord(character)
    return 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE


def has_nul(value: str) -> bool:
    return "\x00" in value


def counted(number: int, thing: str, things: str | None = None) -> str:
    """A count with its noun as people write it: "1 session", "2 sessions"."""
    return f"{number:,} {thing if number == 1 else (things or thing + 's')}"


def kept_text(
    refusal: Refusal, field: str, label: str, value: str | None, limit: int, *, multiline: bool = False
) -> str | None:
    """Typed text as it is kept: a browser's line breaks as one character, no space around it;
    None when there is none. What is wrong with it (too long, a control character) is added to
    the refusal against `field`, as "<label> must ..."."""
    if value is None:
        return None
    value = value.replace("\r\n", "\n").strip()
    if not value:
        return None
    problem = control_character_problem(value, multiline=multiline)
    if len(value) > limit:
        refusal.add(field, f"{label} must be {limit} characters or fewer")
    elif problem:
        refusal.add(field, f"{label} {problem}")
    return value
