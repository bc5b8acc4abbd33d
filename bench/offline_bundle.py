"""A bundle directory read straight into :class:`~graph.store.observation_reads.Observations`, no Neo4j.

The offline benches (offline_eval.py, offline_scoring.py, datasets.py) all read bundles through
:func:`read_offline_bundle`. It parses every row with the loader's own readers and row parsers
(:mod:`graph.ingest.readers`, :mod:`graph.ingest.rows`, hence :mod:`graph.ingest.normalise`), drops
the rows the loader would reject, enriches IPs with :class:`graph.ingest.ip_enrichment.RangeTable`
and then keeps what ``graph.store.observation_reads.read_observations`` would read back after
``ringtrace load``:

- one link per (account, entity): earliest ``first_seen``, latest ``last_seen``, summed ``count``
  (the loader's MERGE), times in whole epoch seconds; an account's ``email`` is a link to that
  Email first seen at the account's ``created_at``;
- only entities used by two or more accounts, and IPs on a corporate or hosting range of a named
  organisation;
- accounts: those linked to a kept entity, and known members; organisations: every organisation
  named by ``ip_ranges`` or ``known``.
"""

from __future__ import annotations

import pickle
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

if TYPE_CHECKING:  # mypy checks bench as a package; run as a script, bench/ is on sys.path
    from bench.offline_usage import read_offline_usage
else:
    from offline_usage import read_offline_usage

from graph.detection import DetectionParams
from graph.evaluation.truth import Truth, read_truth
from graph.ingest.ip_enrichment import IPRange, RangeTable
from graph.ingest.readers import BundleFile, find_bundle_files, read_rows
from graph.ingest.rows import PARSERS, RowError
from graph.links import Incidence, LinkIndex, index_links
from graph.pipeline.behaviour import DetectedRings, UsageLog, build_behaviour, detect_with_usage
from graph.scoring import OrgIndicators, ScoringModel, domains_named_after, own_hosting, prepare, score_rings
from graph.scoring.results import RingScore
from graph.scoring.scorer import ScoringInput
from graph.store.observation_reads import Observations
from graph.vocabulary import KIND_ORDER, NETWORK_CLASSES

__all__ = ["OfflineBundle", "OfflineRun", "cached_offline_bundle", "offline_run", "parsed_rows", "range_table",
           "read_offline_bundle"]

_MAX_COUNT: Final = 2**31 - 1
_ACTOR_NETWORKS: Final = ("corporate", "hosting")
_NAN: Final = float("nan")
_DAY: Final = 86_400


@dataclass(frozen=True)
class OfflineBundle:
    """What the pipeline would read from Neo4j after loading `path`, and the bundle's truth.csv."""

    path: Path
    observations: Observations
    truth: Truth | None
    accounts: int  # distinct accounts in the bundle (before keeping only linked ones)
    links: int  # distinct (account, entity) links in the bundle, the accounts' emails included
    rejected: dict[str, int]  # rows the loader would reject, per bundle file
    usage: UsageLog | None = None  # the usage log, if the bundle has one (and it was asked for)


def parsed_rows(bundle_file: BundleFile, rejected: Counter[str]) -> Iterator[dict[str, Any]]:
    """The file's rows as the loader parses them; rows it would reject are counted and skipped."""
    parse = PARSERS[bundle_file.name]
    for numbered in read_rows(bundle_file):
        try:
            yield parse(numbered.fields)
        except RowError:
            rejected[bundle_file.name] += 1


def _ranges(bundle_file: BundleFile, rejected: Counter[str]) -> dict[str, IPRange]:
    # The loader MERGEs ranges by CIDR: the last row of a CIDR wins.
    return {
        row["cidr"]: IPRange(row["cidr"], row["asn"], row["organization"], row["network"])
        for row in parsed_rows(bundle_file, rejected)
    }


def range_table(path: Path) -> RangeTable:
    """The ranges of one ``ip_ranges`` file (CSV, CSV.GZ, Parquet or JSONL), as the loader stores them."""
    return RangeTable(_ranges(BundleFile("ip_ranges", path), Counter()).values())


def _epoch(moment: datetime | None) -> float:
    # The loader stores whole seconds (graph.store.ingest); Neo4j hands back epochSeconds.
    return _NAN if moment is None else float(int(moment.timestamp()))


class _Links:
    """(account, kind, value) -> [first_seen, last_seen, count], merged as the loader's MERGE does."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str], list[float]] = {}

    def create(self, key: tuple[str, str, str], first: float, last: float, count: int) -> None:
        self.rows.setdefault(key, [first, last, float(count)])

    def merge(self, key: tuple[str, str, str], first: float, last: float, count: int) -> None:
        row = self.rows.get(key)
        if row is None:
            self.rows[key] = [first, last, float(count)]
            return
        row[0] = np.fmin(row[0], first)
        row[1] = np.fmax(row[1], last)
        row[2] += count


def read_offline_bundle(directory: Path, *, usage: bool = True) -> OfflineBundle:
    """Read the bundle in `directory` (and its truth.csv, if any); see the module docstring. With
    `usage`, its events file too (bench/offline_usage.py): its requests' IPs become links, and the
    accounts co-action can link are kept."""
    rejected: Counter[str] = Counter()
    ranges: dict[str, IPRange] = {}
    created: dict[str, float] = {}
    domain: dict[str, str] = {}
    known: set[tuple[str, str]] = set()
    accounts: set[str] = set()
    links = _Links()
    usage_log: UsageLog | None = None
    for bundle_file in find_bundle_files(directory):
        rows = parsed_rows(bundle_file, rejected)  # a generator: nothing is read until iterated
        if bundle_file.name == "ip_ranges":
            ranges = _ranges(bundle_file, rejected)
        elif bundle_file.name == "accounts":
            for row in rows:
                account = row["account_id"]
                accounts.add(account)
                moment = _epoch(row["created_at"])
                if not np.isnan(moment):
                    created[account] = moment
                if row["email_domain"] is not None:
                    domain[account] = row["email_domain"]
                if row["email"] is not None:
                    links.create((account, "email", row["email"]), moment, moment, 1)
        elif bundle_file.name == "events":
            if not usage:
                continue
            found = read_offline_usage(bundle_file)
            usage_log = found.log
            rejected["events"] += found.rejected
            for account, address, day in sorted(found.ip_days):
                accounts.add(account)
                links.merge((account, "ip", address), float(day * _DAY), float(day * _DAY + _DAY - 1), 1)
        elif bundle_file.name == "links":
            for row in rows:
                accounts.add(row["account_id"])
                key = (row["account_id"], row["kind"], row["value"])
                links.merge(key, _epoch(row["first_seen"]), _epoch(row["last_seen"]), row["count"])
        else:
            for row in rows:
                accounts.add(row["account_id"])
                known.add((row["account_id"], row["organization"]))

    table = RangeTable(ranges.values())
    organizations = tuple(sorted({r.organization for r in ranges.values() if r.organization} | {o for _, o in known}))
    coacting = set() if usage_log is None else {a for t in usage_log.templates for a, _ in t[3]}
    observations = _observations(links, table, created, domain, sorted(known), organizations, coacting)
    truth_path = directory / "truth.csv"
    return OfflineBundle(
        path=directory,
        observations=observations,
        truth=read_truth(truth_path) if truth_path.exists() else None,
        accounts=len(accounts),
        links=len(links.rows),
        rejected=dict(rejected),
        usage=usage_log,
    )


def cached_offline_bundle(directory: Path, cache: Path | None) -> OfflineBundle:
    """:func:`read_offline_bundle` of `directory`, kept in `cache` (a folder; None: no cache) as a
    pickle, for re-runs on an unchanged bundle and unchanged reading code."""
    if cache is None:
        return read_offline_bundle(directory)
    cache.mkdir(parents=True, exist_ok=True)
    pickled = cache / f"{directory.resolve().as_posix().strip('/').replace('/', '_')}.pickle"
    if pickled.exists():
        with pickled.open("rb") as f:
            bundle: OfflineBundle = pickle.load(f)  # our own cache, written below
        return bundle
    bundle = read_offline_bundle(directory)
    partial = pickled.with_suffix(".partial")
    with partial.open("wb") as f:
        pickle.dump(bundle, f)
    partial.replace(pickled)  # another run reading the cache never sees half a pickle
    return bundle


@dataclass(frozen=True)
class OfflineRun:
    """What `ringtrace detect` computes for a bundle with a usage log, short of writing it."""

    links: LinkIndex
    found: DetectedRings
    data: ScoringInput
    scores: list[RingScore]
    rings: list[list[str]]  # the found rings' account ids


def offline_run(bundle: OfflineBundle, params: DetectionParams, model: ScoringModel) -> OfflineRun:
    """Detection with co-action, behaviour and scoring of `bundle` (which needs its usage log)."""
    if bundle.usage is None:
        raise ValueError(f"{bundle.path}: no events file")
    links = index_links(bundle.observations.incidence)
    ids = bundle.observations.incidence.account_ids
    found = detect_with_usage(links, bundle.usage.coaction_templates(params.coaction.max_senders), params)
    behaviour = build_behaviour(found.usage, found.coaction, params.coaction, ids, bundle.usage.activity,
                                bundle.usage.sent, bundle.usage.releases)
    data = prepare(links, bundle.observations.org_indicators, bundle.observations.account_created, behaviour)
    return OfflineRun(links, found, data, score_rings(data, found.rings, model), [ids[r].tolist() for r in found.rings])


def _observations(
    links: _Links,
    table: RangeTable,
    created: dict[str, float],
    domain: dict[str, str],
    known: list[tuple[str, str]],
    organizations: tuple[str, ...],
    coacting: set[str],
) -> Observations:
    by_entity: dict[tuple[str, str], list[tuple[str, float, float, int]]] = {}
    for (account, kind, value), (first, last, count) in links.rows.items():
        by_entity.setdefault((kind, value), []).append((account, first, last, min(int(count), _MAX_COUNT)))
    ips = sorted(value for kind, value in by_entity if kind == "ip")
    enrichment = dict(zip(ips, table.lookup(ips), strict=True))

    org_index = {name: i for i, name in enumerate(organizations)}
    kind_code = {kind: code for code, kind in enumerate(KIND_ORDER)}
    unknown = NETWORK_CLASSES.index("unknown")
    keys: list[str] = []
    kinds: list[int] = []
    networks: list[int] = []
    entity_org: list[int] = []
    rows: list[tuple[str, int, float, float, int]] = []
    # Entity order: kind as KIND_ORDER, then key; links of an entity by account id.
    for kind, value in sorted(by_entity, key=lambda e: (kind_code[e[0]], e[1])):
        found = enrichment.get(value) if kind == "ip" else None
        actor_ip = found is not None and found.organization is not None and found.network in _ACTOR_NETWORKS
        entity_links = by_entity[(kind, value)]
        if len(entity_links) < 2 and not actor_ip:
            continue
        index = len(keys)
        keys.append(value)
        kinds.append(kind_code[kind])
        networks.append(NETWORK_CLASSES.index(found.network) if found is not None else unknown)
        entity_org.append(org_index[found.organization] if found is not None and found.organization else -1)
        rows.extend((a, index, f, la, c) for a, f, la, c in sorted(entity_links))

    account_ids = sorted({r[0] for r in rows} | {a for a, _ in known} | coacting)
    position = {a: i for i, a in enumerate(account_ids)}
    incidence = Incidence(
        account_ids=np.array(account_ids, dtype=np.str_),
        entity_keys=np.array(keys, dtype=np.str_),
        entity_kind=np.array(kinds, dtype=np.int8),
        entity_network=np.array(networks, dtype=np.int8),
        link_account=np.array([position[r[0]] for r in rows], dtype=np.int32),
        link_entity=np.array([r[1] for r in rows], dtype=np.int32),
        link_first_seen=np.array([r[2] for r in rows], dtype=np.float64),
        link_last_seen=np.array([r[3] for r in rows], dtype=np.float64),
        link_count=np.array([r[4] for r in rows], dtype=np.int32),
    )
    incidence.check()
    org_indicators = OrgIndicators(
        organizations=organizations,
        known_account=np.array([position[a] for a, _ in known], dtype=np.int32),
        known_org=np.array([org_index[o] for _, o in known], dtype=np.int32),
        entity_org=np.array(entity_org, dtype=np.int32),
        account_email_domain=np.array([domain.get(a, "") for a in account_ids], dtype=np.str_),
        domain_org=domains_named_after(organizations, sorted({domain[a] for a in account_ids if a in domain})),
        own_hosting=frozenset(org_index[o] for o in own_hosting((r.organization, r.cidr, r.network)
                                                                for r in table.ranges)),
    )
    return Observations(
        incidence=incidence,
        account_created=np.array([created.get(a, _NAN) for a in account_ids], dtype=np.float64),
        org_indicators=org_indicators,
    )
