"""Finding and masking card numbers (PANs) anywhere in a text."""

from __future__ import annotations

import random
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.ingest.card_numbers import contains_card_number, find_card_numbers, mask_card_number, mask_card_numbers
from tests.pan_strategies import WrittenPan, digits_of, pan_digits, written_pans


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111111",
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111.1111.1111.1111",
        "378282246310005",  # 15-digit Amex test number
        "3782 822463 10005",  # Amex grouping
        "pm_4111111111111111",  # a "token" that is a card number with a prefix
        "tok_4111111111111111",
        "ps-4111111111111111",
        "card4111111111111111",
        "ref 12 4111 1111 1111 1111",  # a group before it: the card number is a span of whole groups
        "4111111111111111-05",
        "sent 4111111111111111 twice",
        "6011000990139424",
        "4000056655665556",
    ],
)
def test_a_card_number_is_found_wherever_it_sits(text: str) -> None:
    assert contains_card_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111112",  # fails the Luhn check
        "411111",
        "12345678901234567890",  # 20 digits: a longer number, not a card
        "4111  1111  1111  1111",  # two spaces: separate numbers
        "0044 20 7946 0000",  # a leading zero: no issuer's number
        "+44 20 7946 0000",
        "+1 (415) 555-0100",
        "203.0.113.7",
        "2026-01-05T10:09:00+01:00",
        "dev_3f09a4111111111111111c7e",  # inside a 20+ character hexadecimal token
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",  # SHA-256
        "123e4567-e89b-12d3-a456-426614174000",  # a UUID
        "12345678-1234-1234-1234-123456789012",  # a UUID made of digits only
        "",
    ],
)
def test_what_is_not_a_card_number(text: str) -> None:
    assert not contains_card_number(text)


def test_random_identifiers_are_not_taken_for_card_numbers() -> None:
    # Without the UUID and hexadecimal-word rules one UUID in ~400 would be refused.
    ids = [str(uuid.UUID(int=(i * 0x9E3779B97F4A7C15F39CC0605CEDC835) % (1 << 128))) for i in range(20000)]
    assert [i for i in ids if contains_card_number(i)] == []


def test_mask_keeps_only_the_first_six_and_last_four_digits() -> None:
    assert mask_card_number("4111 1111 1111 1111") == "411111******1111"
    assert mask_card_numbers("tok_4111-1111-1111-1111 and 378282246310005.") == (
        "tok_411111******1111 and 378282*****0005."
    )
    assert mask_card_numbers("nothing here: 4111111111111112") == "nothing here: 4111111111111112"


@given(written_pans())
@settings(max_examples=400)
def test_every_written_card_number_is_found_and_masked(pan: WrittenPan) -> None:
    assert contains_card_number(pan.text), pan.text
    masked = mask_card_numbers(pan.text)
    assert pan.digits not in digits_of(masked)
    assert "*" in masked


# Filler without digits: digits in it could spell a number out of the six and four digits a mask keeps.
@given(st.lists(pan_digits(), min_size=1, max_size=4), st.text(st.characters(exclude_categories=["Nd"]), max_size=20))
def test_masking_removes_every_card_number_of_a_text(numbers: list[str], filler: str) -> None:
    text = f" {filler} ".join(numbers)
    masked = mask_card_numbers(text)
    assert not contains_card_number(masked)
    assert not any(n in digits_of(masked) for n in numbers)


def test_spans_point_at_the_number() -> None:
    text = "id tok_4111 1111 1111 1111 end"
    [(start, end)] = find_card_numbers(text)
    assert text[start:end] == "4111 1111 1111 1111"


# A backtracking scan takes minutes on these inputs; the timeout catches it without timing a fast run.
@pytest.mark.timeout(20)
def test_the_scan_is_linear() -> None:
    # Digit groups joined by single spaces: every start and end is a candidate span.
    hostile = "1 " * 50_000
    contains_card_number(hostile)
    mask_card_numbers(hostile)


# A backtracking scan takes minutes on these inputs; the timeout catches it without timing a fast run.
@pytest.mark.timeout(20)
def test_many_identifiers_and_candidates_cost_no_more_than_the_text() -> None:
    # 100 KB of hexadecimal words between runs of one-digit groups, about one span in ten Luhn-valid.
    digits = random.Random(7).choices("123456789", k=50_000)
    runs = [" ".join(digits[i : i + 20]) for i in range(0, len(digits), 20)]
    hostile = "".join(f"{'a' * 20} {run} " for run in runs)
    assert len(find_card_numbers(hostile)) > 1000
