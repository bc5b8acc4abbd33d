from __future__ import annotations

import pytest
from hypothesis import given, settings

from graph.ingest.rows import PARSERS, RowError, parse_account, parse_ip_range, parse_known, parse_link
from tests.pan_strategies import WrittenPan, digits_of, written_pans


def test_link_row_is_normalised() -> None:
    row = parse_link({"account_id": " a1 ", "kind": "IP", "value": "2001:DB8::1", "first_seen": "2026-01-01",
                      "last_seen": "", "count": ""})
    assert (row["account_id"], row["kind"], row["value"], row["count"]) == ("a1", "ip", "2001:db8::1", 1)
    assert row["last_seen"] == row["first_seen"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"account_id": "a", "kind": "fax", "value": "1"}, "kind"),
        ({"account_id": "", "kind": "ip", "value": "10.0.0.1"}, "account_id"),
        ({"account_id": "a", "kind": "ip", "value": "10.0.0.1", "first_seen": "soon"}, "first_seen"),
        ({"account_id": "a", "kind": "payment", "value": "5500 0000 0000 0004"}, "value"),
        ({"account_id": "a", "kind": "payment", "value": "pm_1", "bin": "5500000000000004"}, "bin"),
        ({"account_id": "a", "kind": "payment", "value": "pm_1", "last4": "12a4"}, "last4"),
        ({"account_id": "a", "kind": "phone", "value": "call me"}, "value"),
        ({"account_id": "a", "kind": "ip", "value": "10.0.0.1", "count": "0"}, "count"),
    ],
)
def test_link_row_errors_name_the_field(fields: dict[str, str], field: str) -> None:
    with pytest.raises(RowError) as caught:
        parse_link(fields)
    assert caught.value.field == field


def test_a_pan_never_reaches_the_error_value() -> None:
    with pytest.raises(RowError) as caught:
        parse_link({"account_id": "a", "kind": "payment", "value": "5500-0000-0000-0004"})
    assert "0000000" not in caught.value.value


def test_account_row_keeps_extra_columns_as_properties() -> None:
    row = parse_account({"account_id": "a", "email": "X@Krill-Labs.example", "plan": "pro", "country": "DE"})
    assert row["email"] == "x@krill-labs.example" and row["email_domain"] == "krill-labs.example"
    assert row["props"] == {"country": "DE", "plan": "pro"}
    with pytest.raises(RowError):
        parse_account({"account_id": "a", "bad column": "x"})


def test_ip_range_row() -> None:
    assert parse_ip_range({"cidr": "10.1.2.3/8", "asn": "AS64500", "network": "VPN"}) == {
        "cidr": "10.0.0.0/8", "asn": 64500, "organization": None, "network": "vpn",
    }
    with pytest.raises(RowError):
        parse_ip_range({"cidr": "10.0.0.0/8", "network": "satellite"})


# --- the guard every field of every row goes through (issue 10: findings 1, 5, 6) ------------------

_BASE_ROWS: dict[str, dict[str, str]] = {
    "accounts": {"account_id": "a1", "created_at": "2026-01-01T00:00:00Z", "email": "a1@example.org",
                 "country": "DE", "status": "active", "plan": "pro"},
    "links": {"account_id": "a1", "kind": "payment", "value": "pm_card_1", "first_seen": "2026-01-01",
              "last_seen": "2026-01-02", "count": "2", "brand": "visa", "bin": "411111", "last4": "1111",
              "country": "US"},
    "known": {"account_id": "a1", "organization": "Krill Labs", "source": "case-1", "since": "2025-01-01"},
    "ip_ranges": {"cidr": "203.0.113.0/24", "asn": "AS64500", "organization": "Krill Labs", "network": "corporate"},
}
_EVERY_FIELD = [(name, field) for name, row in _BASE_ROWS.items() for field in row]


def _no_raw_digits(error: RowError, digits: str) -> None:
    for text in (error.field, error.reason, error.value, str(error)):
        assert digits not in digits_of(text), text


def test_the_base_rows_are_valid() -> None:
    for name, row in _BASE_ROWS.items():
        PARSERS[name](dict(row))


@pytest.mark.parametrize(("file", "field"), _EVERY_FIELD)
@given(pan=written_pans())
@settings(max_examples=15, deadline=None)
def test_a_card_number_in_any_field_is_refused_and_masked(file: str, field: str, pan: WrittenPan) -> None:
    fields = {**_BASE_ROWS[file], field: pan.text}
    with pytest.raises(RowError) as caught:
        PARSERS[file](fields)
    assert caught.value.field == field
    _no_raw_digits(caught.value, pan.digits)
    assert "card number" in caught.value.reason


@pytest.mark.parametrize("file", list(_BASE_ROWS))
def test_a_card_number_as_a_column_name_is_refused_and_masked(file: str) -> None:
    fields = {**_BASE_ROWS[file], "x4111111111111111": "yes"}
    with pytest.raises(RowError) as caught:
        PARSERS[file](fields)
    _no_raw_digits(caught.value, "4111111111111111")
    assert "411111******1111" in caught.value.field


@pytest.mark.parametrize("kind", ["ip", "email", "phone", "device"])
def test_a_card_number_in_a_typed_value_is_never_echoed(kind: str) -> None:
    # Before: "malformed ip: '4111 1111 1111 1111' does not appear to be an IPv4 or IPv6 address".
    with pytest.raises(RowError) as caught:
        parse_link({"account_id": "a", "kind": kind, "value": "4111 1111 1111 1111"})
    _no_raw_digits(caught.value, "4111111111111111")
    assert caught.value.value == "411111******1111"


def test_row_errors_mask_whatever_they_are_given() -> None:
    error = RowError("value", "not an IP address: '4111-1111-1111-1111'", "tok_4111111111111111")
    _no_raw_digits(error, "4111111111111111")
    assert error.value == "tok_411111******1111"


@pytest.mark.parametrize(
    ("file", "field", "length"),
    [
        ("accounts", "account_id", 257),
        ("accounts", "email", 255),
        ("accounts", "plan", 1025),
        ("links", "value", 257),
        ("links", "first_seen", 65),
        ("links", "count", 33),
        ("known", "organization", 257),
        ("ip_ranges", "cidr", 65),
    ],
)
def test_fields_have_length_caps(file: str, field: str, length: int) -> None:
    fields = {**_BASE_ROWS[file], field: "x" * length}
    with pytest.raises(RowError) as caught:
        PARSERS[file](fields)
    assert caught.value.field == field and "longer than" in caught.value.reason
    assert len(caught.value.value) <= 81


@pytest.mark.parametrize(("kind", "value"), [("email", "a@" + "b" * 250 + ".org"), ("phone", "1" * 33),
                                             ("ip", "1" * 65)])
def test_entity_values_have_caps_of_their_kind(kind: str, value: str) -> None:
    with pytest.raises(RowError) as caught:
        parse_link({"account_id": "a", "kind": kind, "value": value})
    assert caught.value.field == "value" and "longer than" in caught.value.reason


# A backtracking scan takes minutes on these inputs; the timeout catches it without timing a fast run.
@pytest.mark.timeout(20)
def test_a_hostile_email_is_refused_in_linear_time() -> None:
    for fields in ({"account_id": "a", "email": "a@" + "." * 65536 + "@"},
                   {"account_id": "a", "email": "a@" + "a." * 120 + " x"}):
        with pytest.raises(RowError):
            parse_account(fields)


@pytest.mark.parametrize("count", ["0", "-1", "9007199254740993", "99999999999999999999", "1e3", "1_000", "١٢",
                                   "+5", "2.5"])
def test_counts_are_whole_numbers_from_1_to_2_to_the_53(count: str) -> None:
    with pytest.raises(RowError) as caught:
        parse_link({"account_id": "a", "kind": "device", "value": "d", "count": count})
    assert caught.value.field == "count"


def test_the_largest_count_is_2_to_the_53() -> None:
    row = parse_link({"account_id": "a", "kind": "device", "value": "d", "count": "9007199254740992"})
    assert row["count"] == 2**53


@pytest.mark.parametrize("asn", ["AS4294967296", "99999999999999999999999", "²", "AS-1"])
def test_as_numbers_are_32_bit(asn: str) -> None:
    with pytest.raises(RowError) as caught:
        parse_ip_range({"cidr": "10.0.0.0/8", "asn": asn})
    assert caught.value.field == "asn"


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+01:00"])
def test_timestamps_out_of_range_are_refused(moment: str) -> None:
    with pytest.raises(RowError) as caught:
        parse_link({"account_id": "a", "kind": "device", "value": "d", "first_seen": moment})
    assert caught.value.field == "first_seen"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a\x00b", "control character"),
        ("caf\udce9", "UTF-8"),  # the byte 0xE9 of latin-1 text, as a UTF-8 reader with surrogateescape keeps it
        ("x\ud800", "UTF-8"),  # a lone surrogate from a JSON escape
        ("\ufeffa1", "byte-order mark"),
        ("a\x1b[2Jb", "control character"),  # a terminal escape sequence
    ],
)
def test_text_that_is_not_clean_unicode_is_refused(text: str, reason: str) -> None:
    with pytest.raises(RowError) as caught:
        parse_known({"account_id": "a1", "organization": text})
    assert caught.value.field == "organization" and reason in caught.value.reason
    assert caught.value.value.isprintable() and caught.value.value.encode("utf-8")


def test_nested_row_problems_from_the_reader_are_named() -> None:
    with pytest.raises(RowError) as caught:
        parse_link({"__row__": "a quoted field opened on this line is not closed"})
    assert caught.value.field == "(row)"


def test_a_card_number_after_a_format_character_is_masked_in_the_message() -> None:
    # Spelled out before masking, `\xad1000…` read as the hex word `ad1000…`, which is not searched.
    fields = {**_BASE_ROWS["ip_ranges"], "cidr": "\xad100000000000000008"}
    with pytest.raises(RowError) as caught:
        PARSERS["ip_ranges"](fields)
    _no_raw_digits(caught.value, "100000000000000008")
    assert "\\xad" in str(caught.value.value)
