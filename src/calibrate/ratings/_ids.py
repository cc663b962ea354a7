"""What an id may be: NFC text without control or invisible characters, at most 200 long."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MAX_ID_LENGTH", "id_problem", "normalise_id"]

#: The longest id (submission, reviewer, criterion, round) accepted, in characters.
MAX_ID_LENGTH = 200

# ASCII controls; everything else is decided by the Unicode category (Cc, Cf).
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BAD_CATEGORIES = ("Cc", "Cf")


def normalise_id(text: str) -> str:
    """The id ``text`` stands for: surrounding whitespace stripped, Unicode NFC.

    NFC makes the composed and decomposed spellings of "Renée" one id; nothing else is
    rewritten (no case folding, no removal of characters: :func:`id_problem` refuses those).

    >>> normalise_id(" Rene\\u0301e ") == "Ren\\u00e9e"
    True
    """
    text = text.strip()
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def id_problem(text: str) -> str | None:
    """Why ``text`` (already normalised) cannot be an id, or None when it can.

    Refused: control characters and invisible format characters (Unicode categories Cc
    and Cf: zero-width space U+200B, joiner U+200D, BOM U+FEFF, word joiner U+2060, the
    bidirectional controls ...), which make two ids that look alike differ, and ids longer
    than :data:`MAX_ID_LENGTH` characters.

    >>> id_problem("RV01\\u200b")
    'holds an invisible or control character (U+200B ZERO WIDTH SPACE at position 5); ids are what people can read and type'
    >>> id_problem("RV01") is None
    True

    References
    ----------
    The Unicode Consortium (2023). *Unicode Standard Annex #15: Unicode Normalization
    Forms*; *Unicode Technical Standard #39: Unicode Security Mechanisms*.
    """
    if len(text) > MAX_ID_LENGTH:
        return f"is {len(text):,} characters long; an id has at most {MAX_ID_LENGTH}"
    if text.isascii():
        m = _ASCII_CONTROL.search(text)
        bad = None if m is None else m.start()
    else:
        bad = next(
            (i for i, ch in enumerate(text) if unicodedata.category(ch) in _BAD_CATEGORIES), None
        )
    if bad is None:
        return None
    ch = text[bad]
    name = unicodedata.name(ch, "control character")
    return (
        f"holds an invisible or control character (U+{ord(ch):04X} {name} at position "
        f"{bad + 1}); ids are what people can read and type"
    )
