"""Canonical forms of identifiers, so one real-world identifier is one node.

Validation is linear in the length of the value (no backtracking regular expression sees an
unbounded value), and error messages never repeat the value: the caller names the field and shows
an excerpt of it with card numbers masked (graph/ingest/excerpt.py). Card numbers themselves are
found by graph/ingest/card_numbers.py.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime
from typing import Final

__all__ = [
    "MAX_EMAIL_LENGTH",
    "email_domain",
    "epoch_seconds",
    "normalise_email",
    "normalise_ip",
    "normalise_phone",
    "parse_timestamp",
]

# Providers whose local-part rules are documented: dots are ignored (Gmail only) and "+tag" is a
# sub-address of the same mailbox. Other providers may treat dots as significant, so only these.
_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
_PLUS_ADDRESSING_DOMAINS = frozenset(
    {"outlook.com", "hotmail.com", "live.com", "proton.me", "protonmail.com", "icloud.com", "fastmail.com"}
)
#: RFC 5321's limit on a forward path, the longest address a mail server accepts.
MAX_EMAIL_LENGTH: Final = 254
_PHONE_CHARS = re.compile(r"^\+?[\d\s().\-/]+$")
_NON_DIGITS = re.compile(r"\D")


def normalise_ip(value: str) -> str:
    """Canonical text of an IPv4 or IPv6 address; IPv4-mapped IPv6 becomes IPv4. ValueError if malformed."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        raise ValueError("not an IPv4 or IPv6 address") from None  # ipaddress's own message repeats the value
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return address.compressed


def normalise_email(value: str) -> str:
    """Lower-cased address, with Gmail's dot rule and common providers' plus sub-addressing folded.

    An address is `local@domain` with one `@`, no white space and a dot inside the domain, checked in
    one pass: the regular expression it replaces backtracked over every dot (a 64 KB cell took 29 s).
    """
    text = value.strip().lower()
    if len(text) > MAX_EMAIL_LENGTH:
        raise ValueError(f"an email address has at most {MAX_EMAIL_LENGTH} characters")
    local, _, domain = text.rpartition("@")
    if not local or "@" in local or "." not in domain[1:-1] or len(text.split()) != 1:  # no white space
        raise ValueError("not an email address")
    if domain in _GMAIL_DOMAINS:
        domain = "gmail.com"
        local = local.split("+", 1)[0].replace(".", "")
    elif domain in _PLUS_ADDRESSING_DOMAINS:
        local = local.split("+", 1)[0]
    if not local:
        raise ValueError("the address has an empty mailbox")
    return f"{local}@{domain}"


def email_domain(address: str) -> str:
    return address.rsplit("@", 1)[1]


def normalise_phone(value: str) -> str:
    """E.164-like form: `+` and digits for international numbers (`00` prefix too), digits otherwise."""
    text = value.strip()
    if not _PHONE_CHARS.match(text):
        raise ValueError("not a phone number")
    digits = _NON_DIGITS.sub("", text)
    # "00" is the international call prefix only when a country code (never starting with 0) follows.
    dialled_abroad = len(digits) > 2 and digits.startswith("00") and digits[2] != "0"
    international = text.startswith("+") or dialled_abroad
    if dialled_abroad:
        digits = digits[2:]
    if not 4 <= len(digits) <= 15:
        raise ValueError("a phone number has 4 to 15 digits")
    return f"+{digits}" if international else digits


def parse_timestamp(value: str) -> datetime:
    """An ISO 8601 instant in UTC; a value without an offset is taken as UTC.

    ValueError if unparsable, or if the instant falls outside years 1-9999 once in UTC (a datetime
    cannot hold it: `9999-12-31T23:59:59-01:00` would raise OverflowError).
    """
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("outside the years 1 to 9999 in UTC") from None


def epoch_seconds(moment: datetime | None) -> int | None:
    """The instant as whole seconds since the epoch, as Neo4j stores it (truncated, like `int()`)."""
    return None if moment is None else int(moment.timestamp())
