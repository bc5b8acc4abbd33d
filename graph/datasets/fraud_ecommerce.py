"""The "Fraud e-commerce" first purchases (``fraud_ecommerce_subset``): user, device_id, ip_address, class.

Source: GitHub ``joyceft/TakeHomeDataChallenge`` ``fraud_data.csv`` + ``IpAddress_to_Country.csv``
(commit 4bcdcbc), a 30,190-row subset of the well-known ``Fraud_Data.csv`` take-home challenge
(Kaggle ``vbinh002/fraud-ecommerce``). Licence: none stated -- private evaluation only.

Mapping (one row = one account's sign-up and first purchase):

- ``user_id`` -> account; ``signup_time`` -> ``created_at``; ``purchase_value``, ``source`` and
  ``browser`` -> account properties (``sex`` and ``age`` are left out: personal, and no evidence).
- ``device_id`` (13-letter code) -> ``device`` link, as is.
- ``ip_address`` (an IPv4 address stored as a float) -> ``ip`` link as a dotted quad
  (``int(float(x))``); ``IpAddress_to_Country`` (if present) gives the account's ``country``
  (``Unknown`` outside its ranges is left empty). The IPs are synthetic, so ASN enrichment means nothing.
- Both links: ``first_seen`` = ``signup_time``, ``last_seen`` = ``purchase_time`` (source times are
  ``M/D/YYYY H:MM`` without zone, taken as UTC).
- Rows with an empty device or IP (the truncated last row) are skipped and counted.

Label: ``class`` 1 -> cohort ``fraud``, 0 -> ``legit``. The source has no ring ids; a ring is a
connected group of >= 2 fraud users sharing a device or an IP (fraud users only).
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from pathlib import Path

import numpy as np

from graph.datasets._bundle import (
    Adapter,
    BundleBuilder,
    ImportSummary,
    connected_groups,
    find_source_file,
    iso_utc,
    read_csv,
    ring_ids,
)

__all__ = ["ADAPTER", "import_fraud_ecommerce", "parse_us_time"]


def parse_us_time(text: str) -> str:
    """``M/D/YYYY H:MM[:SS]`` (no zone, taken as UTC) -> ISO 8601 UTC; empty if unparsable."""
    for fmt in ("%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return iso_utc(datetime.strptime(text.strip(), fmt))
        except ValueError:
            continue
    return ""


class _CountryRanges:
    def __init__(self, path: Path) -> None:
        lower: list[float] = []
        upper: list[float] = []
        names: list[str] = []
        for row in read_csv(path):
            lower.append(float(row["lower_bound_ip_address"]))
            upper.append(float(row["upper_bound_ip_address"]))
            names.append(row["country"])
        order = np.argsort(np.asarray(lower), kind="stable")
        self.lower = np.asarray(lower)[order]
        self.upper = np.asarray(upper)[order]
        self.names: list[str] = [names[int(i)] for i in order]

    def country(self, ip: float) -> str:
        pos = int(np.searchsorted(self.lower, ip, side="right")) - 1
        if pos >= 0 and ip <= self.upper[pos]:
            return self.names[pos]
        return ""


def import_fraud_ecommerce(source: Path, out: Path) -> ImportSummary:
    """Write the bundle + truth.csv for the e-commerce first purchases in `source` into `out`."""
    bundle = BundleBuilder("fraud_ecommerce", ("purchase_value", "source", "browser"))
    try:
        countries: _CountryRanges | None = _CountryRanges(find_source_file(source, "IpAddress_to_Country.csv"))
    except FileNotFoundError:
        countries = None
    fraud: set[str] = set()
    shared: list[tuple[str, str]] = []
    data = find_source_file(source, "fraud_data_subset.csv", "fraud_data.csv", "Fraud_Data.csv")
    for row in read_csv(data):
        account = row.get("user_id", "")
        device = row.get("device_id", "")
        raw_ip = row.get("ip_address", "")
        if not account or not device or not raw_ip:
            bundle.skip("row without user, device or ip")
            continue
        try:
            number = float(raw_ip)
            ip = str(ipaddress.IPv4Address(int(number)))
        except ValueError:
            bundle.skip("malformed ip")
            continue
        signup = parse_us_time(row.get("signup_time", ""))
        purchase = parse_us_time(row.get("purchase_time", "")) or signup
        country = countries.country(number) if countries is not None else ""
        bundle.account(
            account,
            created_at=signup,
            country="" if country == "Unknown" else country,
            purchase_value=row.get("purchase_value", ""),
            source=row.get("source", ""),
            browser=row.get("browser", ""),
        )
        for kind, value in (("device", device), ("ip", ip)):
            bundle.link(account, kind, value, signup)
            if purchase:
                bundle.link(account, kind, value, purchase)
        if row.get("class") == "1":
            fraud.add(account)
            shared += [(account, f"device:{device}"), (account, f"ip:{ip}")]
    # two observations (sign-up, purchase) of one link are one link seen twice
    rings = ring_ids(connected_groups(shared), "ecom-ring")
    for account in bundle.accounts:
        bundle.label(account, rings.get(account, ""), "fraud" if account in fraud else "legit")
    return bundle.write(out)


ADAPTER = Adapter(
    name="fraud_ecommerce",
    source="github.com/joyceft/TakeHomeDataChallenge fraud_data.csv, IpAddress_to_Country.csv",
    licence="none stated (private evaluation only)",
    run=import_fraud_ecommerce,
)
