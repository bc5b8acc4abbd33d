from __future__ import annotations

import pytest

from graph.ingest.rows import RowError, parse_account, parse_ip_range, parse_link


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
