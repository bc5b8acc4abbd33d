"""Opaque identifiers (devices, payment tokens, fingerprints), phone numbers, and the card-number guard.

No value this package writes may contain what a card-number scanner would take for a PAN: a run of
13-19 digits (single spaces, dots or dashes allowed between them) that passes the Luhn check. Tokens
are base-32 strings whose every fifth character is a letter, so no token holds more than four digits
in a row; phone numbers stay at 12 digits or fewer. `card_like` is the independent check the tests
run over every field of every file.
"""

from __future__ import annotations

import re
from typing import Final

import numpy as np

__all__ = ["card_like", "luhn_valid", "opaque", "phone_numbers", "splitmix64"]

_ALPHABET: Final = np.frombuffer(b"0123456789abcdefghjkmnpqrstvwxyz", dtype=np.uint8)
_LETTERS: Final = np.frombuffer(b"abcdefghjkmnpqrstvwxyz", dtype=np.uint8)
_RUN: Final = re.compile(r"\d(?:[ .\-]?\d){12,}")
_MASK64: Final = np.uint64(0xFFFFFFFFFFFFFFFF)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser (Steele et al., 2014), vectorised: a bijective mix of 64-bit keys."""
    z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def opaque(prefix: str, keys: np.ndarray, salt: int, length: int = 16) -> np.ndarray:
    """`prefix` + `length` (<= 24) base-32 characters derived from each key (no digit run longer than 4)."""
    if length > 24:
        raise ValueError("opaque tokens carry at most 24 characters")
    keys = np.asarray(keys, dtype=np.uint64)
    with np.errstate(over="ignore"):
        high = splitmix64(keys ^ np.uint64(salt & 0xFFFFFFFFFFFFFFFF))
        low = splitmix64(high ^ np.uint64(0xD1B54A32D192ED03))
    chars = np.empty((keys.size, length), dtype=np.uint8)
    for position in range(length):
        word, shift = (high, 5 * position) if position < 12 else (low, 5 * (position - 12))
        value = (word >> np.uint64(shift)) & np.uint64(31)
        if position % 5 == 4:
            chars[:, position] = _LETTERS[(value % np.uint64(22)).astype(np.intp)]
        else:
            chars[:, position] = _ALPHABET[value.astype(np.intp)]
    body = chars.view(f"S{length}").ravel().astype(f"U{length}")
    return np.char.add(prefix, body)


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_like(text: str) -> bool:
    """True if `text` holds 13-19 consecutive digits (single separators allowed) that pass Luhn.

    Stricter than a PAN scanner: every window of every run counts, whatever its first digit.
    """
    for run in _RUN.finditer(text):
        digits = re.sub(r"[ .\-]", "", run.group())
        for size in range(13, min(19, len(digits)) + 1):
            for start in range(len(digits) - size + 1):
                if luhn_valid(digits[start : start + size]):
                    return True
    return False


def phone_numbers(rng: np.random.Generator, country_codes: list[str], national_digits: list[int]) -> list[str]:
    """E.164 numbers (`+` and at most 12 digits): country code, then a national number not starting 0."""
    out: list[str] = []
    firsts = rng.integers(1, 10, size=len(country_codes))
    rests = rng.integers(0, 10**8, size=len(country_codes))
    extra = rng.integers(0, 100, size=len(country_codes))
    for cc, digits, first, rest, more in zip(country_codes, national_digits, firsts, rests, extra, strict=True):
        national = f"{first}{rest:08d}{more:02d}"[:digits]
        if len(cc) + len(national) > 12:
            raise ValueError(f"phone +{cc}{national} would be longer than 12 digits")
        out.append(f"+{cc}{national}")
    return out
