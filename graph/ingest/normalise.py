"""Canonical forms of identifiers, so one real-world identifier is one node.

Also the guard that keeps raw card numbers (PANs) out of the graph.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime

__all__ = [
    "email_domain",
    "looks_like_pan",
    "mask_pan",
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
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_CHARS = re.compile(r"^\+?[\d\s().\-/]+$")
_NON_DIGITS = re.compile(r"\D")
_PAN_CANDIDATE = re.compile(r"^\d(?:[ -]?\d){12,18}$")


def normalise_ip(value: str) -> str:
    """Canonical text of an IPv4 or IPv6 address; IPv4-mapped IPv6 becomes IPv4. ValueError if malformed."""
    address = ipaddress.ip_address(value.strip())
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return address.compressed


def normalise_email(value: str) -> str:
    """Lower-cased address, with Gmail's dot rule and common providers' plus sub-addressing folded."""
    text = value.strip().lower()
    if not _EMAIL.match(text):
        raise ValueError(f"not an email address: {value!r}")
    local, domain = text.rsplit("@", 1)
    if domain in _GMAIL_DOMAINS:
        domain = "gmail.com"
        local = local.split("+", 1)[0].replace(".", "")
    elif domain in _PLUS_ADDRESSING_DOMAINS:
        local = local.split("+", 1)[0]
    if not local:
        raise ValueError(f"email address has an empty mailbox: {value!r}")
    return f"{local}@{domain}"


def email_domain(address: str) -> str:
    return address.rsplit("@", 1)[1]


def normalise_phone(value: str) -> str:
    """E.164-like form: `+` and digits for international numbers (`00` prefix too), digits otherwise."""
    text = value.strip()
    if not _PHONE_CHARS.match(text):
        raise ValueError(f"not a phone number: {value!r}")
    digits = _NON_DIGITS.sub("", text)
    # "00" is the international call prefix only when a country code (never starting with 0) follows.
    dialled_abroad = len(digits) > 2 and digits.startswith("00") and digits[2] != "0"
    international = text.startswith("+") or dialled_abroad
    if dialled_abroad:
        digits = digits[2:]
    if not 4 <= len(digits) <= 15:
        raise ValueError(f"a phone number has 4 to 15 digits: {value!r}")
    return f"+{digits}" if international else digits


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def looks_like_pan(value: str) -> bool:
    """True for a Luhn-valid 13–19 digit number, with or without spaces or dashes: a raw card number."""
    text = value.strip()
    if not _PAN_CANDIDATE.match(text):
        return False
    return _luhn_valid(_NON_DIGITS.sub("", text))


def mask_pan(value: str) -> str:
    """First six and last four digits only, for messages and rejects files."""
    digits = _NON_DIGITS.sub("", value)
    return f"{digits[:6]}{'*' * (len(digits) - 10)}{digits[-4:]}"


def parse_timestamp(value: str) -> datetime:
    """An ISO 8601 instant in UTC; a value without an offset is taken as UTC. ValueError if unparsable."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
