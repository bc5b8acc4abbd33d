"""What of a value from data may appear in a message, a log line, an API answer or a rejects file.

An excerpt masks every card number in it (first six and last four digits), spells out the characters
that would act on a terminal or hide in one (control characters and escape sequences, bidirectional
overrides, byte-order marks, bytes that were not UTF-8) and is at most `limit` characters long.
Card numbers are masked before the cut, so the cut never leaves part of one in clear, and before the
spelling out, so they are masked where the guard that refused them found them.
"""

from __future__ import annotations

import unicodedata
from typing import Final

from graph.ingest.card_numbers import MAX_CARD_TEXT, mask_card_numbers

__all__ = ["excerpt", "printable"]

# Control, format and surrogate code points, and the line and paragraph separators.
_SPELLED_OUT: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# A UTF-8 reader with errors="surrogateescape" keeps an undecodable byte B as the code point U+DC00+B.
_ESCAPED_BYTES: Final = range(0xDC80, 0xDD00)


def _spelled(char: str) -> str:
    code = ord(char)
    if code in _ESCAPED_BYTES:
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with control and format characters written as `\\xNN` / `\\uNNNN`: safe on one terminal line."""
    if text.isprintable():
        return text
    return "".join(_spelled(c) if unicodedata.category(c) in _SPELLED_OUT else c for c in text)


def excerpt(text: str, limit: int = 80) -> str:
    """At most `limit` characters of `text` (and `…` when cut), printable, every card number masked."""
    head = text[: limit + MAX_CARD_TEXT]  # a card number that starts before the cut ends inside the head
    # Masked as written, as the guard found it: spelled out first, `\xad4111…` would read as the hex word
    # `ad4111…`, which the guard does not search.
    shown = printable(mask_card_numbers(head))
    if len(shown) > limit or len(head) < len(text):
        return shown[:limit] + "…"
    return shown
