"""Amazon Fraud Detector sample data (``aws_fraud_detector_samples``): registrations and card transactions.

Source: GitHub ``aws-samples/aws-fraud-detector-samples`` (commit 071bd8c), files
``data/registration_data_20K_minimum.csv``, ``data/coldstart/registration_data_2K_coldstart.csv`` and
``data/coldstart/transaction_data_2K_coldstart.csv``. Licence: MIT-0. Synthetic (Faker) data.

Three parts, imported into one bundle with disjoint account-id prefixes (or singly with
:func:`import_parts`); every file present in the source folder is imported:

``registration_20k`` (``r20k-NNNNN``, one account per registration event, numbered by file row)
    ``email_address`` -> account ``email``; ``ip_address`` -> ``ip`` link at ``EVENT_TIMESTAMP``
    (also ``created_at``). Emails recur across ~13 events each, so they are deliberately noisy links.
``registration_2k`` (``r2k-NNNN``)
    as above plus ``phone_number`` -> ``phone``; ``user_agent`` -> ``device`` (NOTES.md: a *weak*
    proxy -- a user-agent string is shared by every user of one browser build; it is exported as
    the token ``ua_<hash>`` and weighs like a device in the projection, which overstates it);
    ``billing_state`` -> account property ``billing_state``. ``billing_address`` and
    ``billing_postal`` are left out: there is no address kind.
``transactions_2k`` (``txc-<hash>``, one account per ``ENTITY_ID``; the id is SSN-shaped, so it is
    hashed)
    per transaction: ``ip_address`` -> ``ip``, ``customer_email`` -> ``email``, ``billing_phone`` ->
    ``phone``, ``user_agent`` -> ``device`` token, all at ``EVENT_TIMESTAMP`` and merged per account.
    ``card_bin`` is kept as the property ``card_bin`` and **not** made a ``payment`` link: a BIN
    names an issuer's range shared by millions of cards, not one instrument. Names, street
    addresses and merchants are left out.

Labels: ``EVENT_LABEL`` ``fraud``/``legit`` (``1``/``0`` in transactions) -> cohort; an empty label is
``unlabeled``; a customer with any fraud transaction is ``fraud``. No ring ids exist; a ring is a
connected group of >= 2 fraud accounts of one part sharing an identifier -- for the registration
parts IP, phone and user agent (not email: NOTES.md finds fraud to be an IP-level phenomenon and
emails shared across fraud and legit events alike), for transactions any identifier (expected: none,
the file is a negative control).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from graph.datasets._bundle import (
    Adapter,
    BundleBuilder,
    ImportSummary,
    connected_groups,
    find_source_file,
    read_csv,
    ring_ids,
    token,
)

__all__ = ["ADAPTER", "PARTS", "import_aws_fraud", "import_parts"]

PARTS: Final[dict[str, str]] = {
    "registration_20k": "registration_data_20K_minimum.csv",
    "registration_2k": "registration_data_2K_coldstart.csv",
    "transactions_2k": "transaction_data_2K_coldstart.csv",
}
_RING_KINDS_REGISTRATION: Final = frozenset({"ip", "phone", "device"})


def _cohort(label: str) -> str:
    text = label.strip().lower()
    if text in ("fraud", "1"):
        return "fraud"
    if text in ("legit", "0"):
        return "legit"
    return "unlabeled"


def _registrations(bundle: BundleBuilder, path: Path, prefix: str, rings: list[tuple[str, str]]) -> None:
    rows = list(read_csv(path))
    width = max(4, len(str(len(rows))))
    for number, row in enumerate(rows, 1):
        account = f"{prefix}-{number:0{width}d}"
        seen = row.get("EVENT_TIMESTAMP", "")
        bundle.account(
            account, created_at=seen, email=row.get("email_address", ""), billing_state=row.get("billing_state", "")
        )
        cohort = _cohort(row.get("EVENT_LABEL", ""))
        bundle.label(account, "", cohort)
        user_agent = row.get("user_agent", "")
        for kind, value in (
            ("ip", row.get("ip_address", "")),
            ("phone", row.get("phone_number", "")),
            ("device", token("ua", user_agent, 20) if user_agent else ""),
        ):
            stored = bundle.link(account, kind, value, seen)
            if stored is not None and cohort == "fraud" and kind in _RING_KINDS_REGISTRATION:
                rings.append((account, f"{prefix}:{kind}:{stored}"))


def _transactions(bundle: BundleBuilder, path: Path, rings: list[tuple[str, str]]) -> None:
    cohorts: dict[str, set[str]] = {}
    observed: dict[str, list[str]] = {}
    for row in read_csv(path):
        entity = row.get("ENTITY_ID", "")
        if not entity:
            bundle.skip("transaction without ENTITY_ID")
            continue
        account = f"txc-{hashlib.sha256(entity.encode()).hexdigest()[:12]}"
        seen = row.get("EVENT_TIMESTAMP", "")
        bundle.account(account, created_at=seen, card_bin=row.get("card_bin", ""))
        cohorts.setdefault(account, set()).add(_cohort(row.get("EVENT_LABEL", "")))
        user_agent = row.get("user_agent", "")
        for kind, value in (
            ("ip", row.get("ip_address", "")),
            ("email", row.get("customer_email", "")),
            ("phone", row.get("billing_phone", "")),
            ("device", token("ua", user_agent, 20) if user_agent else ""),
        ):
            stored = bundle.link(account, kind, value, seen)
            if stored is not None:
                observed.setdefault(account, []).append(f"txn:{kind}:{stored}")
        # created_at is the earliest transaction seen
        current = bundle.accounts[account].get("created_at", "")
        if seen and seen < current:
            bundle.accounts[account]["created_at"] = seen
    for account, labels in cohorts.items():
        cohort = "fraud" if "fraud" in labels else "legit" if "legit" in labels else "unlabeled"
        bundle.label(account, "", cohort)
        if cohort == "fraud":
            rings += [(account, key) for key in observed.get(account, [])]


def import_parts(source: Path, out: Path, parts: Sequence[str] | None = None) -> ImportSummary:
    """Import the named `parts` (keys of :data:`PARTS`; default: every part present in `source`)."""
    wanted = list(PARTS) if parts is None else list(parts)
    unknown = [p for p in wanted if p not in PARTS]
    if unknown:
        raise ValueError(f"unknown aws_fraud part(s) {unknown}; expected some of {sorted(PARTS)}")
    bundle = BundleBuilder("aws_fraud", ("billing_state", "card_bin"))
    rings: list[tuple[str, str]] = []
    found = 0
    for part in wanted:
        try:
            path = find_source_file(source, PARTS[part])
        except FileNotFoundError:
            if parts is not None:
                raise
            continue
        found += 1
        if part == "transactions_2k":
            _transactions(bundle, path, rings)
        else:
            _registrations(bundle, path, "r20k" if part == "registration_20k" else "r2k", rings)
    if not found:
        raise FileNotFoundError(f"{source}: none of {', '.join(PARTS.values())} (.gz) found")
    for account, ring in ring_ids(connected_groups(rings), "aws-ring").items():
        _ring, organization, cohort = bundle.truth[account]
        bundle.label(account, ring, cohort, organization)
    return bundle.write(out)


def import_aws_fraud(source: Path, out: Path) -> ImportSummary:
    """Write the bundle + truth.csv for every AWS sample file present in `source` into `out`."""
    return import_parts(source, out)


ADAPTER = Adapter(
    name="aws_fraud",
    source="github.com/aws-samples/aws-fraud-detector-samples data/ (registration + transaction samples)",
    licence="MIT-0",
    run=import_aws_fraud,
)
