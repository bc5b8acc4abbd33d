"""Validated, normalised bundle rows, or a rejection that names file, line and field.

Each `parse_*` function takes the raw fields of one row and returns a plain dict ready to be sent to
Cypher as a parameter, or raises `RowError` naming the field at fault. Before any field-specific
check, every field of the row, and the name of every column that has a value, passes one guard
(`_screen`): no card number anywhere (graph/ingest/card_numbers.py), clean Unicode text (no control
characters, no bytes that were not UTF-8, no byte-order mark) and a length cap per field. A row
that fails is refused whole, so nothing of it is stored; what a `RowError` carries is an excerpt,
with card numbers masked (graph/ingest/excerpt.py).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from graph.ingest.card_numbers import contains_card_number
from graph.ingest.csv_records import MAX_RECORD_CHARS
from graph.ingest.excerpt import excerpt
from graph.ingest.normalise import (
    MAX_EMAIL_LENGTH,
    email_domain,
    normalise_email,
    normalise_ip,
    normalise_phone,
    parse_timestamp,
)
from graph.ingest.readers import FILE_PROBLEM, ROW_PROBLEM, ROW_TEXT
from graph.vocabulary import ENTITY_KINDS, NETWORK_CLASSES

__all__ = [
    "FIELD_LENGTHS",
    "MAX_COUNT",
    "MAX_PROMPT_CHARS",
    "PARSERS",
    "PAYMENT_EXTRAS",
    "TEXT_LENGTH",
    "UNCLEAN",
    "RowError",
    "entity_value",
    "event_ip",
    "parse_account",
    "parse_event",
    "parse_ip_range",
    "parse_known",
    "parse_link",
]

_ACCOUNT_COLUMNS: Final = frozenset({"account_id", "created_at", "email", "country", "status"})
_PROPERTY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")  # fullmatch: `$` would let "plan\n" through
# Extra account columns may not overwrite what ringtrace itself maintains.
_RESERVED_PROPERTIES: Final = frozenset({"email_domain", "ring_id", "score"})
#: What a payment row may say of its method besides the fingerprint (kept on the PaymentMethod node).
PAYMENT_EXTRAS: Final = ("brand", "bin", "last4", "country")

# Longest accepted value per field: identifiers 256, emails 254 (RFC 5321), times and numbers far
# less; any other column (extra account properties) 1,024. Values of `links.value` have the cap of
# their kind. Caps keep every later step (validation, Neo4j, messages) bounded by the row.
_ID_LENGTH: Final = 256
TEXT_LENGTH: Final = 1024
FIELD_LENGTHS: Final[Mapping[str, int]] = {
    "account_id": _ID_LENGTH, "value": _ID_LENGTH, "organization": _ID_LENGTH, "source": _ID_LENGTH,
    "email": MAX_EMAIL_LENGTH, "kind": 32, "network": 32, "cidr": 64, "asn": 16, "count": 32,
    "created_at": 64, "first_seen": 64, "last_seen": 64, "since": 64,
    "brand": 64, "bin": 16, "last4": 16, "country": 64, "status": 64,
    "ts": 64, "prompt_fingerprint": _ID_LENGTH, "model": 128, "category": 128, "ip": 64,
    "input_tokens": 32, "output_tokens": 32,
}
#: Longest prompt fingerprinted (a CSV record's own cap); a longer one is refused, never quoted.
MAX_PROMPT_CHARS: Final = MAX_RECORD_CHARS
_MAX_TOKENS: Final = 10**9
_VALUE_LENGTHS: Final[Mapping[str, int]] = {"email": MAX_EMAIL_LENGTH, "phone": 32, "ip": 64}
_SHORTEST_CAP: Final = min(FIELD_LENGTHS.values())
#: Counts above 2^53 lose precision as floats (JSON, JavaScript, Bloom) and above 2^63 overflow Neo4j's integers.
MAX_COUNT: Final = 2**53
_MAX_ASN: Final = 2**32 - 1
_ASCII_DIGITS: Final = re.compile(r"[0-9]+")
# C0 and C1 controls but tab and line breaks, surrogates (undecodable bytes, JSON's lone "\ud800"), BOM.
UNCLEAN: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufeff]")
_CARD_NUMBER_REASON: Final = (
    "looks like a raw card number (a Luhn-valid 13-19 digit number); send a token or fingerprint, never the "
    "card number"
)


class RowError(ValueError):
    """One field of one row is wrong. Field, reason and value are excerpts: card numbers masked."""

    def __init__(self, field: str, reason: str, value: str = "") -> None:
        self.field = excerpt(field, 80)
        self.reason = excerpt(reason, 300)
        self.value = excerpt(value, 80)
        super().__init__(f"{self.field}: {self.reason}")


def _unclean(text: str) -> str | None:
    """Why `text` is not clean Unicode text, or None."""
    found = UNCLEAN.search(text)
    if found is None:
        return None
    char = found.group()
    if 0xDC80 <= ord(char) <= 0xDCFF:
        return f"not UTF-8 text (byte 0x{ord(char) - 0xDC00:02X}); save the file as UTF-8"
    if 0xD800 <= ord(char) <= 0xDFFF:
        return f"not UTF-8 text (an unpaired surrogate U+{ord(char):04X})"
    if char == "\ufeff":
        return "contains a byte-order mark (U+FEFF); were two files joined?"
    return f"contains a control character (U+{ord(char):04X})"


def _screen_text(field: str, text: str) -> None:
    if contains_card_number(text):  # first: of all reasons, this is the one the sender must hear
        raise RowError(field, _CARD_NUMBER_REASON, text)
    problem = _unclean(text)
    if problem is not None:
        raise RowError(field, problem, text)


def _screen(fields: Mapping[str, str]) -> None:
    """The guard every row passes first: caps, clean text, no card number, in any field or column name."""
    if ROW_PROBLEM in fields:
        raise RowError("(row)", fields[ROW_PROBLEM], fields.get(ROW_TEXT, ""))
    if FILE_PROBLEM in fields:
        raise RowError("(file)", fields[FILE_PROBLEM])
    # One pass over the whole row for the common, clean case: a line break ends any run of digits
    # or hexadecimal word, so nothing found in the joined text spans two fields.
    joined = "\n".join((*fields.values(), *fields))
    if UNCLEAN.search(joined) is not None or contains_card_number(joined):
        for name, value in fields.items():
            # Before the caps: a card number is named as such even in an overlong value.
            _screen_text(name, value)
            if value.strip():  # a column name with a value may become a property key (accounts)
                _screen_text(name, name)
    for name, value in fields.items():
        if len(value) <= _SHORTEST_CAP:
            continue
        cap = FIELD_LENGTHS.get(name, TEXT_LENGTH)
        if len(value) > cap and len(value.strip()) > cap:  # the cap is on the value, not the padding
            raise RowError(name, f"longer than {cap:,} characters, the limit for this field", value)


def _required(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name, "").strip()
    if not value:
        raise RowError(name, "required but empty")
    return value


def _timestamp(fields: Mapping[str, str], name: str) -> datetime | None:
    value = fields.get(name, "").strip()
    if not value:
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        raise RowError(name, "not an ISO 8601 timestamp (years 1 to 9999 in UTC)", value) from None


def _whole_number(name: str, text: str, low: int, high: int) -> int:
    """A whole number of ASCII digits in [low, high]: `int()` would also take `1_000`, `+5` and `١٢`."""
    if not _ASCII_DIGITS.fullmatch(text):
        raise RowError(name, "not a whole number", text)
    number = int(text)
    if not low <= number <= high:
        raise RowError(name, f"must be from {low:,} to {high:,}", text)
    return number


def parse_account(fields: dict[str, str]) -> dict[str, Any]:
    _screen(fields)
    account_id = _required(fields, "account_id")
    row: dict[str, Any] = {"account_id": account_id, "created_at": _timestamp(fields, "created_at")}
    email = fields.get("email", "").strip()
    if email:
        try:
            row["email"] = normalise_email(email)
        except ValueError as error:
            raise RowError("email", str(error), email) from None
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
        if not _PROPERTY_NAME.fullmatch(name) or name in _RESERVED_PROPERTIES:
            raise RowError(name, "column name cannot be a property name", value)
        props[name] = value.strip()
    row["props"] = props
    return row


def entity_value(kind: str, value: str) -> str:
    cap = _VALUE_LENGTHS.get(kind)
    if cap is not None and len(value) > cap:
        raise RowError("value", f"longer than {cap} characters, the limit for kind {kind}", value)
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
    _screen(fields)
    account_id = _required(fields, "account_id")
    kind = fields.get("kind", "").strip().lower()
    if kind not in ENTITY_KINDS:
        raise RowError("kind", f"unknown kind; expected one of {', '.join(ENTITY_KINDS)}", kind)
    value = entity_value(kind, _required(fields, "value"))
    first_seen = _timestamp(fields, "first_seen")
    last_seen = _timestamp(fields, "last_seen")
    if first_seen is not None and last_seen is not None and last_seen < first_seen:
        raise RowError("last_seen", "earlier than first_seen", fields["last_seen"])
    count = _whole_number("count", fields.get("count", "").strip() or "1", 1, MAX_COUNT)
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


def _payment_properties(fields: Mapping[str, str]) -> dict[str, str]:
    properties: dict[str, str] = {}
    brand = fields.get("brand", "").strip()
    if brand:
        properties["brand"] = brand.lower()
    bin_ = fields.get("bin", "").strip()
    if bin_:
        if not (_ASCII_DIGITS.fullmatch(bin_) and 6 <= len(bin_) <= 8):
            raise RowError("bin", "a BIN has 6 to 8 digits", bin_)
        properties["bin"] = bin_
    last4 = fields.get("last4", "").strip()
    if last4:
        if not (_ASCII_DIGITS.fullmatch(last4) and len(last4) == 4):
            raise RowError("last4", "last4 has exactly 4 digits", last4)
        properties["last4"] = last4
    country = fields.get("country", "").strip()
    if country:
        properties["country"] = country.upper()
    return properties


def parse_known(fields: dict[str, str]) -> dict[str, Any]:
    _screen(fields)
    return {
        "account_id": _required(fields, "account_id"),
        "organization": _required(fields, "organization"),
        "source": fields.get("source", "").strip() or None,
        "since": _timestamp(fields, "since"),
    }


def parse_ip_range(fields: dict[str, str]) -> dict[str, Any]:
    _screen(fields)
    cidr_text = _required(fields, "cidr")
    try:
        network = ipaddress.ip_network(cidr_text, strict=False)
    except ValueError:
        raise RowError("cidr", "not a CIDR range", cidr_text) from None
    asn_text = fields.get("asn", "").strip().upper().removeprefix("AS")
    asn = _whole_number("asn", asn_text, 0, _MAX_ASN) if asn_text else None
    network_class = fields.get("network", "").strip().lower() or "unknown"
    if network_class not in NETWORK_CLASSES:
        raise RowError("network", f"expected one of {', '.join(NETWORK_CLASSES)}", network_class)
    return {
        "cidr": network.compressed,
        "asn": asn,
        "organization": fields.get("organization", "").strip() or None,
        "network": network_class,
    }


@functools.lru_cache(maxsize=1 << 16)  # a usage log repeats its addresses: parsing one costs 13 µs
def event_ip(value: str) -> str:
    try:
        return entity_value("ip", value)
    except RowError as error:
        raise RowError("ip", error.reason, value) from None


def parse_event(fields: dict[str, str]) -> dict[str, Any]:
    """One request of the usage log. The prompt is screened apart from the other fields: it is only
    ever fingerprinted, so a card number in it is no reason to refuse the row (its digits are masked
    before anything is derived from it), and no reject quotes a word of it."""
    if ROW_PROBLEM in fields:  # the unreadable line may hold prompt text: name the problem only
        raise RowError("(row)", fields[ROW_PROBLEM])
    prompt = fields.get("prompt", "")
    _screen({name: value for name, value in fields.items() if name != "prompt"})
    if prompt:
        if len(prompt) > MAX_PROMPT_CHARS:
            raise RowError("prompt", f"longer than {MAX_PROMPT_CHARS:,} characters, the limit for this field")
        problem = _unclean(prompt)
        if problem is not None:
            raise RowError("prompt", problem)
    account_id = _required(fields, "account_id")
    ts = _timestamp(fields, "ts")
    if ts is None:
        raise RowError("ts", "required but empty")
    ip = fields.get("ip", "").strip()
    return {
        "account_id": account_id,
        "ts": ts,
        "prompt": prompt if prompt.strip() else None,
        "prompt_fingerprint": fields.get("prompt_fingerprint", "").strip() or None,
        "model": fields.get("model", "").strip() or None,
        "category": fields.get("category", "").strip().lower() or None,
        "input_tokens": _whole_number("input_tokens", fields.get("input_tokens", "").strip() or "0", 0, _MAX_TOKENS),
        "output_tokens": _whole_number(
            "output_tokens", fields.get("output_tokens", "").strip() or "0", 0, _MAX_TOKENS),
        "ip": event_ip(ip) if ip else None,
        "count": _whole_number("count", fields.get("count", "").strip() or "1", 1, MAX_COUNT),
    }


PARSERS: Final = {
    "accounts": parse_account,
    "links": parse_link,
    "events": parse_event,
    "known": parse_known,
    "ip_ranges": parse_ip_range,
}
