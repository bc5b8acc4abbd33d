"""Shared machinery of the dataset adapters: writing an input bundle + truth.csv, tokens, groups.

Every adapter turns a public dataset folder into the input bundle of DESIGN.md §4 (``accounts.csv``,
``links.csv``, optionally ``ip_ranges.csv``) plus ``truth.csv`` (``account_id, ring_id,
organization, cohort``). Output is deterministic: rows are sorted, duplicate links are merged
(earliest ``first_seen``, latest ``last_seen``, summed ``count``) and tokens are keyed hashes of
fixed namespaces, so importing the same source twice gives byte-identical files.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, TextIO

from graph.ingest.card_numbers import contains_card_number
from graph.ingest.normalise import normalise_email, normalise_ip, normalise_phone

__all__ = [
    "ACCOUNT_COLUMNS",
    "LINK_COLUMNS",
    "TRUTH_COLUMNS",
    "Adapter",
    "BundleBuilder",
    "ImportSummary",
    "connected_groups",
    "find_source_file",
    "iso_utc",
    "open_text",
    "read_csv",
    "ring_ids",
    "token",
]

ACCOUNT_COLUMNS: Final[tuple[str, ...]] = ("account_id", "created_at", "email", "country", "status")
LINK_COLUMNS: Final[tuple[str, ...]] = ("account_id", "kind", "value", "first_seen", "last_seen", "count")
TRUTH_COLUMNS: Final[tuple[str, ...]] = ("account_id", "ring_id", "organization", "cohort")
_MIN_TOKEN_HEX: Final = 20


@dataclass(frozen=True)
class ImportSummary:
    """What one import wrote."""

    dataset: str
    out: Path
    files: tuple[str, ...]
    accounts: int = 0
    links: int = 0
    true_rings: int = 0
    ring_accounts: int = 0
    ip_ranges: int = 0
    skipped: Mapping[str, int] = field(default_factory=dict)  # reason -> rows or values left out

    def describe(self) -> str:
        parts = [f"{self.dataset}: {', '.join(self.files)} in {self.out}"]
        if self.accounts:
            parts.append(
                f"{self.accounts} accounts, {self.links} links, {self.true_rings} true rings "
                f"({self.ring_accounts} accounts)"
            )
        if self.ip_ranges:
            parts.append(f"{self.ip_ranges} ip ranges")
        if self.skipped:
            parts.append("skipped: " + ", ".join(f"{k}={v}" for k, v in sorted(self.skipped.items())))
        return "; ".join(parts)


@dataclass(frozen=True)
class Adapter:
    """One public dataset: its name, where it comes from, its licence and the import function."""

    name: str
    source: str
    licence: str
    run: Callable[[Path, Path], ImportSummary]


def iso_utc(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ``; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def token(namespace: str, value: str, length: int = 24) -> str:
    """A stable opaque token ``<namespace>_<hex>`` for a value that must not be stored raw.

    The hex part has at least 20 characters: the loader's card-number guard does not search a
    hexadecimal word that long (graph/ingest/card_numbers.py), while a shorter one can hold a
    Luhn-valid run of 13+ digits by chance. An unsalted hash of a small value space (a 9-digit SSN,
    a 16-digit PAN with known BIN) can be reversed by enumeration: tokens are for linking, not for
    secrecy.
    """
    if length < _MIN_TOKEN_HEX:
        raise ValueError(f"a token has at least {_MIN_TOKEN_HEX} hex characters, not {length}")
    digest = hashlib.sha256(f"ringtrace:{namespace}:{value}".encode()).hexdigest()
    return f"{namespace}_{digest[:length]}"


def find_source_file(source: Path, *names: str) -> Path:
    """The first of `names` present in `source` (each tried as is and with ``.gz``)."""
    for name in names:
        for candidate in (source / name, source / f"{name}.gz"):
            if candidate.exists():
                return candidate
    raise FileNotFoundError(f"{source}: none of {', '.join(names)} (.gz) found")


def open_text(path: Path) -> TextIO:
    """Text handle on a CSV or CSV.GZ file; a UTF-8 byte-order mark is dropped."""
    if path.name.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def read_csv(path: Path, delimiter: str = ",") -> Iterator[dict[str, str]]:
    with open_text(path) as handle:
        for row in csv.DictReader(handle, delimiter=delimiter):
            yield {(k or "").strip(): (v or "").strip() for k, v in row.items()}


def connected_groups(pairs: Iterable[tuple[str, str]], min_size: int = 2) -> list[list[str]]:
    """Connected components of accounts linked through shared keys, as sorted lists.

    `pairs` are (account_id, key); two accounts are connected when they share a key, transitively.
    Components smaller than `min_size` are dropped; the result is ordered by first member.
    """
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    owner: dict[str, str] = {}
    for account, key in pairs:
        parent.setdefault(account, account)
        if key in owner:
            a, b = find(account), find(owner[key])
            if a != b:
                parent[max(a, b)] = min(a, b)
        else:
            owner[key] = account
    groups: dict[str, list[str]] = {}
    for account in parent:
        groups.setdefault(find(account), []).append(account)
    return sorted((sorted(g) for g in groups.values() if len(g) >= min_size), key=lambda g: g[0])


class BundleBuilder:
    """Collects accounts, links and truth rows, normalises identifiers and writes the bundle.

    Nothing it writes holds a card number (the loader would refuse the row): a value or property
    that looks like one is dropped and counted, and an account id that does is a mistake of the
    adapter (ValueError: derive such ids with `token`).
    """

    def __init__(self, dataset: str, extra_account_columns: Sequence[str] = ()) -> None:
        self.dataset = dataset
        self.account_columns: tuple[str, ...] = ACCOUNT_COLUMNS + tuple(extra_account_columns)
        self.accounts: dict[str, dict[str, str]] = {}
        self.links: dict[tuple[str, str, str], list[str | int]] = {}
        self.truth: dict[str, tuple[str, str, str]] = {}
        self.skipped: dict[str, int] = {}

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + n

    def _check_id(self, account_id: str) -> None:
        if contains_card_number(account_id):
            raise ValueError(f"{self.dataset}: an account id looks like a card number; derive ids with token()")

    def account(self, account_id: str, **fields: str) -> None:
        """Add (or complete) an account; `email` is normalised, a malformed one is dropped and counted."""
        self._check_id(account_id)
        row = self.accounts.setdefault(account_id, {"account_id": account_id})
        for name, value in fields.items():
            if name not in self.account_columns:
                raise KeyError(f"{self.dataset}: account column {name!r} not declared")
            if not value:
                continue
            if name == "email":
                try:
                    value = normalise_email(value)
                except ValueError:
                    self.skip("malformed email")
                    continue
            if contains_card_number(value):
                self.skip(f"{name} that looks like a card number")
                continue
            row.setdefault(name, value)

    def link(self, account_id: str, kind: str, value: str, seen: str = "") -> str | None:
        """Add one observation; ip/email/phone are normalised. The stored value, None if malformed."""
        if not value:
            return None
        try:
            if kind == "ip":
                value = normalise_ip(value)
            elif kind == "email":
                value = normalise_email(value)
            elif kind == "phone":
                value = normalise_phone(value)
            elif kind not in ("device", "payment"):
                raise KeyError(kind)
        except ValueError:
            self.skip(f"malformed {kind}")
            return None
        self._check_id(account_id)
        if contains_card_number(value):  # e.g. one 14-digit phone number in ten passes the Luhn check
            self.skip(f"{kind} that looks like a card number")
            return None
        key = (account_id, kind, value)
        current = self.links.get(key)
        if current is None:
            self.links[key] = [seen, seen, 1]
            return value
        first, last, count = current
        if seen:
            current[0] = min(str(first), seen) if first else seen
            current[1] = max(str(last), seen) if last else seen
        current[2] = int(count) + 1
        return value

    def label(self, account_id: str, ring_id: str, cohort: str, organization: str = "") -> None:
        self._check_id(account_id)
        self.truth[account_id] = (ring_id, organization, cohort)

    def write(self, out: Path) -> ImportSummary:
        """Write accounts.csv, links.csv and truth.csv into `out` (created if missing).

        accounts.csv has ``account_id`` and, in declared order, those declared columns that hold a
        value for at least one account: an all-empty column says nothing, and readers that infer
        column types (pyarrow) would read it as nulls.
        """
        out.mkdir(parents=True, exist_ok=True)
        columns = ["account_id"] + [
            c for c in self.account_columns[1:] if any(row.get(c) for row in self.accounts.values())
        ]
        with open(out / "accounts.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            for account_id in sorted(self.accounts):
                row = self.accounts[account_id]
                writer.writerow([row.get(c, "") for c in columns])
        with open(out / "links.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(LINK_COLUMNS)
            for (account_id, kind, value), (first, last, count) in sorted(self.links.items()):
                writer.writerow([account_id, kind, value, first, last, count])
        rings: set[str] = set()
        in_ring = 0
        with open(out / "truth.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(TRUTH_COLUMNS)
            for account_id in sorted(self.accounts):
                ring_id, organization, cohort = self.truth.get(account_id, ("", "", "unlabeled"))
                writer.writerow([account_id, ring_id, organization, cohort])
                if ring_id:
                    rings.add(ring_id)
                    in_ring += 1
        return ImportSummary(
            dataset=self.dataset,
            out=out,
            files=("accounts.csv", "links.csv", "truth.csv"),
            accounts=len(self.accounts),
            links=len(self.links),
            true_rings=len(rings),
            ring_accounts=in_ring,
            skipped=dict(sorted(self.skipped.items())),
        )


def ring_ids(groups: Sequence[Sequence[str]], prefix: str) -> dict[str, str]:
    """account -> ``<prefix>-NNN`` for each group, numbered in the (deterministic) group order."""
    width = max(3, len(str(len(groups))))
    return {a: f"{prefix}-{i:0{width}d}" for i, group in enumerate(groups, 1) for a in group}
