"""Raw card numbers (PANs) anywhere in a text: found, so that no field carrying one is loaded, and masked,
so that a message can point at one without repeating it.

A card number, as ISO/IEC 7812 issues them, has 13 to 19 digits, a first digit (the major industry
identifier) from 1 to 9 and a Luhn check digit last. It counts wherever it sits in a value:
`tok_4111111111111111`, `4111 1111 1111 1111`, `4111.1111.1111.1111`, `ps-4111-1111-1111-1111`.
Digit groups may be joined by single spaces, dots or dashes; the candidates are the spans of whole
groups inside such a run. Digits glued to more digits make another, longer number (a 20-digit order
id is no card number), so a card number is only told apart where a separator or a non-digit bounds it.

Two kinds of identifier are not searched, because their digit stretches are Luhn-valid by chance
often enough to refuse one UUID in 400 and one hex token in 1,000, and nobody writes a card number
into one by accident: a UUID (8-4-4-4-12 hexadecimal digits) and a hexadecimal word of 20 or more
characters (a digest, a random token such as `dev_3f09...`), bounded by characters that are not
hexadecimal. `card4111111111111111` is still found: the `r` bounds the hexadecimal word `d4111...`.

About one random 13-19 digit number in ten passes the Luhn check, so the guard also refuses some
numbers that never were cards (a 13-digit phone number written without its `+`, a float with 16
decimals); the rejection says why, and leading-zero numbers such as `0044 20 7946 0000` never match.

The scan is linear in the text: each run is split into groups once, and each span's Luhn sum comes
from prefix sums in constant time, whatever the number of groups.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from typing import Final

__all__ = ["MAX_CARD_TEXT", "contains_card_number", "find_card_numbers", "mask_card_number", "mask_card_numbers"]

_MIN_DIGITS: Final = 13
_MAX_DIGITS: Final = 19
#: The longest text a card number takes: 19 digits with a separator between each pair.
MAX_CARD_TEXT: Final = 2 * _MAX_DIGITS - 1
# A run: 13 or more digits, any two of them joined by at most one separator.
_RUN: Final = re.compile(r"\d(?:[ .\-]?\d){12,}")
_SEPARATOR: Final = re.compile(r"[ .\-]")
_NOT_SEARCHED: Final = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{20,}"
)
_DOUBLED: Final = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)  # a digit's Luhn contribution in a doubled position
# ASCII text without 13 digits in a row once separators are dropped holds no card number. Checking
# that with bytes.translate and a substring search costs a tenth of the regular expression's scan,
# which pays its way on the clean rows that are nearly all rows (the loader screens every one).
_DIGITS_AS_ZERO: Final = bytes.maketrans(b"123456789", b"000000000")
_SEPARATORS: Final = b" .-"
_THIRTEEN_ZEROS: Final = b"0" * _MIN_DIGITS


def _may_hold_one(text: str) -> bool:
    if not text.isascii():  # other scripts' digits: the regular expression decides
        return True
    return _THIRTEEN_ZEROS in text.encode("ascii").translate(_DIGITS_AS_ZERO, _SEPARATORS)


def _inside(start: int, end: int, identifiers: list[tuple[int, int]], starts: list[int]) -> bool:
    """Whether [start, end) lies in one of `identifiers` (sorted, not overlapping; `starts` their
    starts): a bisection, so that many identifiers and many candidates cost no more than the text."""
    index = bisect_right(starts, start) - 1
    return index >= 0 and end <= identifiers[index][1]


def _card_spans_in_run(run: str, offset: int) -> list[tuple[int, int]]:
    """(start, end) text offsets of the Luhn-valid 13-19 digit spans of whole groups in one run."""
    group_starts: list[int] = []  # text offset of each group
    ends: list[int] = [0]  # digits before each group, then the total: ends[i]..ends[i+1] is group i
    digits: list[int] = []
    position = 0
    for group in _SEPARATOR.split(run):
        group_starts.append(offset + position)
        position += len(group) + 1
        digits.extend(int(char) for char in group)
        ends.append(len(digits))
    # Luhn sums by prefix: plain[p][k] and doubled[p][k] add up digits before k at index parity p.
    plain = [[0], [0]]
    doubled = [[0], [0]]
    for index, digit in enumerate(digits):
        parity = index % 2
        plain[parity].append(plain[parity][-1] + digit)
        doubled[parity].append(doubled[parity][-1] + _DOUBLED[digit])
        plain[1 - parity].append(plain[1 - parity][-1])
        doubled[1 - parity].append(doubled[1 - parity][-1])
    found: list[tuple[int, int]] = []
    for first, start in enumerate(ends[:-1]):
        if digits[start] == 0:
            continue
        lo = bisect_left(ends, start + _MIN_DIGITS)
        hi = bisect_right(ends, start + _MAX_DIGITS)
        for boundary in range(max(lo, first + 1), hi):
            end = ends[boundary]
            # The check digit (index end-1) is not doubled, nor is every second digit left of it.
            keep = (end - 1) % 2
            total = (plain[keep][end] - plain[keep][start]) + (doubled[1 - keep][end] - doubled[1 - keep][start])
            if total % 10 == 0:
                last = boundary - 1
                found.append((group_starts[first], group_starts[last] + ends[boundary] - ends[last]))
    return found


def find_card_numbers(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of every card number in `text`, in order; overlapping spans are merged."""
    spans: list[tuple[int, int]] = []
    if not _may_hold_one(text):
        return spans
    identifiers: list[tuple[int, int]] | None = None  # found only once a candidate needs them
    starts: list[int] = []
    for run in _RUN.finditer(text):
        for start, end in _card_spans_in_run(run.group(), run.start()):
            if identifiers is None:
                identifiers = [m.span() for m in _NOT_SEARCHED.finditer(text)]
                starts = [lo for lo, _ in identifiers]
            if _inside(start, end, identifiers, starts):
                continue
            if spans and start < spans[-1][1]:
                spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
            else:
                spans.append((start, end))
    return spans


def contains_card_number(text: str) -> bool:
    """True when `text` holds a card number anywhere (see the module docstring for what counts)."""
    return bool(find_card_numbers(text))


def mask_card_number(digits_and_separators: str) -> str:
    """One card number as its first six and last four digits, the rest `*`: `411111******1111`."""
    digits = [char for char in digits_and_separators if char.isdecimal()]
    hidden = max(len(digits) - 10, 0)
    return "".join(digits[:6]) + "*" * hidden + "".join(digits[6 + hidden :])


def mask_card_numbers(text: str) -> str:
    """`text` with every card number in it masked (`tok_411111******1111`), the rest unchanged."""
    spans = find_card_numbers(text)
    if not spans:
        return text
    parts: list[str] = []
    position = 0
    for start, end in spans:
        parts.append(text[position:start])
        parts.append(mask_card_number(text[start:end]))
        position = end
    parts.append(text[position:])
    return "".join(parts)
