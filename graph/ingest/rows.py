"""Validated, normalised bundle rows, or a rejection that names file, line and field.

Each `parse_*` function takes the raw fields of one row and returns a plain dict ready to be sent to
Cypher as a parameter, or raises `RowError` naming the field at fault.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from typing import Any, Final

from graph.ingest.normalise import (
    email_domain,
    looks_like_pan,
    mask_pan,
    normalise_email,
    normalise_ip,
    normalise_phone,
    parse_timestamp,
)
from graph.vocabulary import ENTITY_KINDS, NETWORK_CLASSES

__all__ = ["PARSERS", "RowError", "parse_account", "parse_ip_range", "parse_known", "parse_link"]

_ACCOUNT_COLUMNS: Final = frozenset({"account_id", "created_at", "email", "country", "status"})
_PROPERTY_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
# Extra account columns may not overwrite what ringtrace itself maintains.
_RESERVED_PROPERTIES: Final = frozenset({"email_domain", "ring_id", "score"})
_PAYMENT_EXTRAS: Final = ("brand", "bin", "last4", "country")
_MAX_ID_LENGTH: Final = 256


class RowError(ValueError):
    """One field of one row is wrong."""

    def __init__(self, field: str, reason: str, value: str = "") -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.value = value


def _structural(fields: dict[str, str]) -> None:
    if "__width__" in fields:
        raise RowError("(row)", fields["__width__"])
    if "__json__" in fields:
        raise RowError("(row)", fields["__json__"])


def _required(fields: dict[str, str], name: str) -> str:
    value = fields.get(name, "").strip()
    if not value:
        raise RowError(name, "required but empty")
    if len(value) > _MAX_ID_LENGTH:
        raise RowError(name, f"longer than {_MAX_ID_LENGTH} characters", value[:40])
    return value


def _timestamp(fields: dict[str, str], name: str) -> datetime | None:
    value = fields.get(name, "").strip()
    if not value:
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        raise RowError(name, "not an ISO 8601 timestamp", value) from None


def _guard_pan(fields: dict[str, str], names: tuple[str, ...]) -> None:
    for name in names:
        value = fields.get(name, "")
        if looks_like_pan(value):
            raise RowError(
                name,
                "looks like a raw card number (Luhn-valid, 13-19 digits); send a token or fingerprint, "
                "never the card number",
                mask_pan(value),
            )


def parse_account(fields: dict[str, str]) -> dict[str, Any]:
    _structural(fields)
    _guard_pan(fields, tuple(fields))
    account_id = _required(fields, "account_id")
    row: dict[str, Any] = {"account_id": account_id, "created_at": _timestamp(fields, "created_at")}
    email = fields.get("email", "").strip()
    if email:
        try:
            row["email"] = normalise_email(email)
        except ValueError:
            raise RowError("email", "not an email address", email) from None
        row["email_domain"] = email_domain(row["email"])
    else:
        row["email"] = None
        row["email_domain"] = None
    props: dict[str, str] = {}
    for name in ("country", "status"):
        value = fields.get(name, "").strip()
        if value:
            props[name] = value
    for name, value in fields.items():
        if name in _ACCOUNT_COLUMNS or not value.strip():
            continue
        if not _PROPERTY_NAME.match(name) or name in _RESERVED_PROPERTIES:
            raise RowError(name, "column name cannot be a property name", value[:40])
        props[name] = value.strip()
    row["props"] = props
    return row


def _entity_value(kind: str, value: str) -> str:
    try:
        if kind == "ip":
            return normalise_ip(value)
        if kind == "email":
            return normalise_email(value)
        if kind == "phone":
            return normalise_phone(value)
    except ValueError as error:
        raise RowError("value", f"malformed {kind}: {error}", value) from None
    return value


def parse_link(fields: dict[str, str]) -> dict[str, Any]:
    _structural(fields)
    account_id = _required(fields, "account_id")
    kind = fields.get("kind", "").strip().lower()
    if kind not in ENTITY_KINDS:
        raise RowError("kind", f"unknown kind; expected one of {', '.join(ENTITY_KINDS)}", kind)
    raw_value = _required(fields, "value")
    if kind == "payment":
        _guard_pan(fields, ("value", *_PAYMENT_EXTRAS))
    value = _entity_value(kind, raw_value)
    first_seen = _timestamp(fields, "first_seen")
    last_seen = _timestamp(fields, "last_seen")
    if first_seen is not None and last_seen is not None and last_seen < first_seen:
        raise RowError("last_seen", "earlier than first_seen", fields["last_seen"])
    count_text = fields.get("count", "").strip() or "1"
    try:
        count = int(count_text)
    except ValueError:
        raise RowError("count", "not a whole number", count_text) from None
    if count < 1:
        raise RowError("count", "must be at least 1", count_text)
    entity: dict[str, str] = {}
    if kind == "payment":
        entity = _payment_properties(fields)
    return {
        "account_id": account_id,
        "kind": kind,
        "value": value,
        "first_seen": first_seen,
        "last_seen": last_seen if last_seen is not None else first_seen,
        "count": count,
        "entity": entity,
    }


def _payment_properties(fields: dict[str, str]) -> dict[str, str]:
    properties: dict[str, str] = {}
    brand = fields.get("brand", "").strip()
    if brand:
        properties["brand"] = brand.lower()
    bin_ = fields.get("bin", "").strip()
    if bin_:
        if not (bin_.isdigit() and 6 <= len(bin_) <= 8):
            raise RowError("bin", "a BIN has 6 to 8 digits", bin_)
        properties["bin"] = bin_
    last4 = fields.get("last4", "").strip()
    if last4:
        if not (last4.isdigit() and len(last4) == 4):
            raise RowError("last4", "last4 has exactly 4 digits", last4)
        properties["last4"] = last4
    country = fields.get("country", "").strip()
    if country:
        properties["country"] = country.upper()
    return properties


def parse_known(fields: dict[str, str]) -> dict[str, Any]:
    _structural(fields)
    return {
        "account_id": _required(fields, "account_id"),
        "organization": _required(fields, "organization"),
        "source": fields.get("source", "").strip() or None,
        "since": _timestamp(fields, "since"),
    }


def parse_ip_range(fields: dict[str, str]) -> dict[str, Any]:
    _structural(fields)
    cidr_text = _required(fields, "cidr")
    try:
        network = ipaddress.ip_network(cidr_text, strict=False)
    except ValueError:
        raise RowError("cidr", "not a CIDR range", cidr_text) from None
    asn_text = fields.get("asn", "").strip().upper().removeprefix("AS")
    asn: int | None = None
    if asn_text:
        if not asn_text.isdigit():
            raise RowError("asn", "not an AS number", fields["asn"])
        asn = int(asn_text)
    network_class = fields.get("network", "").strip().lower() or "unknown"
    if network_class not in NETWORK_CLASSES:
        raise RowError("network", f"expected one of {', '.join(NETWORK_CLASSES)}", network_class)
    return {
        "cidr": network.compressed,
        "asn": asn,
        "organization": fields.get("organization", "").strip() or None,
        "network": network_class,
    }


PARSERS: Final = {
    "accounts": parse_account,
    "links": parse_link,
    "known": parse_known,
    "ip_ranges": parse_ip_range,
}
