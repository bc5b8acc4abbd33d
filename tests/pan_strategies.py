"""Hypothesis strategies for raw card numbers (PANs) as they turn up in data, shared by unit and integration tests.

A card number here is what ISO/IEC 7812 issues: 13 to 19 digits, first digit 1-9, Luhn check digit
last. It is written as data carries it: plain, in groups joined by single spaces, dots or dashes,
with any text before and after it that does not glue more digits onto it (that would make another,
longer number) or make it part of a hexadecimal word of 20+ characters (a digest, which the guard
does not search by design: see graph/ingest/card_numbers.py).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from hypothesis import assume
from hypothesis import strategies as st

__all__ = ["WrittenPan", "digits_of", "pan_digits", "written_pans"]

_HEX_WORD = re.compile(r"[0-9a-fA-F]{20,}")
_AFFIXES = ("", "tok_", "ps-", "pm_", "card ", "card:", "cc=", "id ", "ref 12 ", "x", "PAN ", "4111 ")
_SUFFIXES = ("", "_x", "-end", " exp 12/29", "z", ".", " (visa)")


def _luhn_check_digit(body: str) -> str:
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char)
        if position % 2 == 0:  # doubled: the check digit will sit to the right of it
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str((10 - total % 10) % 10)


@st.composite
def pan_digits(draw: st.DrawFn) -> str:
    """A Luhn-valid 13-19 digit card number, first digit 1-9."""
    length = draw(st.integers(13, 19))
    body = draw(st.sampled_from("123456789")) + draw(
        st.text(alphabet=string.digits, min_size=length - 2, max_size=length - 2)
    )
    return body + _luhn_check_digit(body)


@dataclass(frozen=True)
class WrittenPan:
    digits: str  # the card number
    text: str  # as the data carries it: affixes, groups, separators

    @property
    def masked(self) -> str:
        return self.digits[:6] + "*" * (len(self.digits) - 10) + self.digits[-4:]


def digits_of(text: str) -> str:
    """`text` without the separators a card number may be written with, to search it for the digits."""
    return re.sub(r"[ .\-]", "", text)


@st.composite
def _grouped(draw: st.DrawFn, digits: str) -> str:
    if draw(st.booleans()):
        return digits
    cuts = sorted(draw(st.sets(st.integers(1, len(digits) - 1), min_size=1, max_size=len(digits) - 1)))
    pieces = [digits[a:b] for a, b in zip([0, *cuts], [*cuts, len(digits)], strict=True)]
    out = pieces[0]
    for piece in pieces[1:]:
        out += draw(st.sampled_from(" .-")) + piece
    return out


_FREE_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8)


@st.composite
def written_pans(draw: st.DrawFn, max_affix: int = 8) -> WrittenPan:
    """A card number with separators, a prefix and a suffix, as a field of a bundle file might hold it."""
    digits = draw(pan_digits())
    prefix = draw(st.sampled_from(_AFFIXES) | _FREE_TEXT)[:max_affix]
    suffix = draw(st.sampled_from(_SUFFIXES) | _FREE_TEXT)[:max_affix]
    # A digit glued to the number would make it another, longer number. A digit group joined to it by a
    # separator (`ref 12 4111 ...`) is fine: the number is still a span of whole groups.
    assume(not prefix[-1:].isdecimal() and not suffix[:1].isdecimal())
    text = prefix + draw(_grouped(digits)) + suffix
    assume(not any(digits[:13] in m.group() for m in _HEX_WORD.finditer(text)))
    return WrittenPan(digits, text)
