"""A detection run end to end: read, project, detect, carry ring ids over, write back under an audit record."""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

import graph
import neo4j
from graph.detection import (
    DEFAULT_MERGE_WEIGHT,
    DEFAULT_METHOD,
    DEFAULT_MIN_SIZE,
    DEFAULT_RESOLUTION,
    detect_rings,
    membership_stability,
    ring_labels,
)
from graph.evidence_paths import PathBuilder, prior_llr
from graph.lookups import forget_latest_run
from graph.model_store import active_model
from graph.observations import Observations, read_observations
from graph.projection import AccountGraph, ProjectionParams, project
from graph.ring_ids import assign_ring_ids
from graph.run_store import (
    finish_run,
    latest_run_id,
    read_ring_members,
    start_run,
    write_account_attributions,
    write_memberships,
    write_ring_attributions,
    write_rings,
)
from graph.scoring import AccountAttribution, RingScore, attribute_accounts, prepare, score_rings
from graph.settings import PROJECT_ROOT

__all__ = ["DetectionParams", "RunSummary", "code_version", "new_run_id", "run_detection"]

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class DetectionParams:
    seed: int = 42
    method: str = DEFAULT_METHOD
    resolution: float = DEFAULT_RESOLUTION
    min_size: int = DEFAULT_MIN_SIZE
    merge_weight: float | None = DEFAULT_MERGE_WEIGHT
    stability_seeds: int = 2
    projection: ProjectionParams = field(default_factory=ProjectionParams)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    previous_run_id: str | None
    counts: dict[str, int]
    timings: dict[str, float]
    ring_ids: tuple[str, ...]
    ring_sizes: tuple[int, ...]
    carried_over: int
    lineage: list[dict[str, Any]]


def code_version() -> str:
    """The package version, plus the git commit when running from a checkout."""
    try:
        done = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "describe", "--always", "--dirty"],
            capture_output=True, text=True, check=False, timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return graph.__version__
    commit = done.stdout.strip()
    return f"{graph.__version__}+{commit}" if done.returncode == 0 and commit else graph.__version__


def new_run_id(params: DetectionParams, started: datetime | None = None) -> str:
    """A fresh run id: the start time (UTC, to the microsecond) and a digest of the parameters."""
    started = started or datetime.now(UTC)
    digest = hashlib.sha1(json.dumps(params.as_dict(), sort_keys=True).encode(), usedforsecurity=False)
    return f"run-{started:%Y%m%dT%H%M%S%f}Z-{digest.hexdigest()[:6]}"


@contextmanager
def _stage(timings: dict[str, float], name: str, progress: Progress | None) -> Iterator[None]:
    if progress is not None:
        progress(name, 0.0)
    started = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - started, 3)
    if progress is not None:
        progress(name, 1.0)


def _ring_confidence(stability: list[npt.NDArray[np.float64]]) -> list[npt.NDArray[np.float64]]:
    # A member found in the ring by the main run and every rerun is as sure as detection can make it;
    # the floor keeps a member the main run placed from reading as "certainly not a member".
    return [np.round(0.5 + 0.5 * s, 4) for s in stability]


def run_detection(
    driver: neo4j.Driver,
    database: str,
    params: DetectionParams,
    progress: Progress | None = None,
    *,
    run_id: str | None = None,
) -> RunSummary:
    """Detect rings in everything the database holds and write them back under a new DetectionRun.

    `run_id` lets a caller (the API) announce the id before the run starts; by default a new one.
    """
    run_id = run_id or new_run_id(params)
    timings: dict[str, float] = {}
    model = active_model(driver, database)
    start_run(driver, database, run_id, {**params.as_dict(), "scoring_model": model.version}, code_version())
    previous_run_id = latest_run_id(driver, database)
    try:
        with _stage(timings, "read", progress):
            observations = read_observations(driver, database)
        with _stage(timings, "project", progress):
            account_graph = project(observations.incidence, params.projection)
        with _stage(timings, "detect", progress):
            rings = detect_rings(
                account_graph, method=params.method, resolution=params.resolution,
                min_size=params.min_size, merge_weight=params.merge_weight, seed=params.seed,
            )
        with _stage(timings, "stability", progress):
            stability = membership_stability(
                account_graph, rings, method=params.method, resolution=params.resolution,
                min_size=params.min_size, merge_weight=params.merge_weight, seed=params.seed,
                n_seeds=params.stability_seeds,
                resolution_factors=(0.8, 1.25),
            )
        with _stage(timings, "ids", progress):
            account_ids = observations.incidence.account_ids
            members = [frozenset(account_ids[ring].tolist()) for ring in rings]
            previous = read_ring_members(driver, database, previous_run_id) if previous_run_id else {}
            assignment = assign_ring_ids(previous, members)
        confidence = _ring_confidence(stability)
        with _stage(timings, "score", progress):
            scoring_input = prepare(observations.incidence, observations.org_evidence, observations.account_created)
            ring_scores = score_rings(scoring_input, rings, model)
            account_scores = attribute_accounts(scoring_input, rings, ring_scores, membership=confidence, model=model)
        with _stage(timings, "write", progress):
            scored = _Scored(ring_scores, account_scores)
            _write_back(driver, database, run_id, observations, account_graph, rings, assignment.ids, confidence,
                        scored)
    except BaseException as error:
        finish_run(driver, database, run_id, status="failed", counts={}, timings=timings, lineage=[],
                   previous_run_id=previous_run_id, error=f"{type(error).__name__}: {error}")
        raise
    counts = {
        "accounts": int(account_ids.shape[0]),
        "links": observations.n_links,
        "entities": int(observations.incidence.entity_keys.shape[0]),
        "edges": account_graph.n_edges,
        "weak_entities": int(account_graph.weak_entities.entity.shape[0]),
        "rings": len(rings),
        "ring_accounts": int(sum(r.shape[0] for r in rings)),
        "coordinated_rings": sum(1 for r in ring_scores if r.score >= 0.5),
        "attributed_rings": sum(1 for r in ring_scores if r.top is not None and r.top.confidence >= 0.5),
        "attributed_accounts": sum(
            1 for a in account_scores.values() if a.attributions and a.attributions[0].confidence >= 0.5
        ),
    }
    lineage = [
        {"kind": e.kind, "new_id": e.new_id, "old_ids": list(e.old_ids), "jaccard": round(e.jaccard, 4)}
        for e in assignment.events
    ]
    finish_run(driver, database, run_id, status="completed", counts=counts, timings=timings, lineage=lineage,
               previous_run_id=previous_run_id)
    forget_latest_run()
    return RunSummary(
        run_id=run_id,
        previous_run_id=previous_run_id,
        counts=counts,
        timings=timings,
        ring_ids=assignment.ids,
        ring_sizes=tuple(int(r.shape[0]) for r in rings),
        carried_over=len(assignment.matched),
        lineage=lineage,
    )


def _ring_edges(graph: AccountGraph, rings: list[npt.NDArray[np.int32]]) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.float64]
]:
    """Per ring: the number of edges inside it and their summed weight."""
    labels = ring_labels(rings, graph.n_accounts)
    src_label = labels[graph.src]
    inside = (src_label >= 0) & (src_label == labels[graph.dst])
    edges = np.bincount(src_label[inside], minlength=len(rings))
    weight = np.bincount(src_label[inside], weights=graph.weight[inside], minlength=len(rings))
    return edges.astype(np.int64), weight.astype(np.float64)


@dataclass(frozen=True)
class _Scored:
    rings: list[RingScore]
    accounts: dict[int, AccountAttribution]


_ACCOUNT_ATTRIBUTION_FLOOR = 0.05


def _account_emails(driver: neo4j.Driver, database: str, account_ids: set[str]) -> dict[str, list[str]]:
    records, _, _ = driver.execute_query(
        "UNWIND $ids AS id MATCH (a:Account {account_id: id})-[:HAS_EMAIL]->(e:Email) "
        "RETURN a.account_id AS a, collect(e.address) AS emails",
        ids=sorted(account_ids),
        database_=database,
        routing_=neo4j.RoutingControl.READ,
    )
    return {str(r["a"]): sorted(r["emails"]) for r in records}


def _write_back(
    driver: neo4j.Driver,
    database: str,
    run_id: str,
    observations: Observations,
    account_graph: AccountGraph,
    rings: list[npt.NDArray[np.int32]],
    ring_ids: tuple[str, ...],
    confidence: list[npt.NDArray[np.float64]],
    scored: _Scored,
) -> None:
    account_ids = observations.incidence.account_ids
    explanations = [r.coordination.explanation for r in scored.rings]
    explanations += [a.explanation for r in scored.rings for a in r.attributions]
    explanations += [t.explanation for a in scored.accounts.values() for t in a.attributions]
    paths = PathBuilder(observations.incidence, observations.org_evidence)
    paths.account_emails = _account_emails(driver, database, paths.domain_accounts(explanations))

    ring_rows: list[dict[str, Any]] = []
    member_rows: list[dict[str, Any]] = []
    attribution_rows: list[dict[str, Any]] = []
    edges, weight = _ring_edges(account_graph, rings)
    for index, (ring, ring_id, member_confidence) in enumerate(zip(rings, ring_ids, confidence, strict=True)):
        score = scored.rings[index]
        pairs = ring.shape[0] * (ring.shape[0] - 1) / 2
        density = float(weight[index]) / pairs if pairs else 0.0
        top = score.top
        coordination = score.coordination.explanation
        ring_rows.append({
            "ring_id": ring_id,
            "size": int(ring.shape[0]),
            "props": {
                "score": round(score.score, 6),
                "organization": top.name if top is not None else None,
                "attribution_confidence": round(top.confidence, 6) if top is not None else None,
                "edges": int(edges[index]),
                "weighted_density": round(density, 6),
                "coordination_prior_llr": prior_llr(coordination),
                "coordination_evidence": json.dumps(
                    [e.as_dict() for e in paths.evidence(coordination, ring_id=ring_id)], sort_keys=True
                ),
            },
        })
        member_rows.extend(
            {"account_id": str(account_ids[a]), "ring_id": ring_id, "confidence": float(c)}
            for a, c in zip(ring.tolist(), member_confidence.tolist(), strict=True)
        )
        for attribution in score.attributions:
            explanation = attribution.explanation
            attribution_rows.append({
                "ring_id": ring_id,
                "organization": attribution.name,
                "confidence": round(attribution.confidence, 6),
                "props": {
                    "prior_llr": prior_llr(explanation),
                    "evidence": json.dumps(
                        [e.as_dict() for e in paths.evidence(explanation, ring_id=ring_id)], sort_keys=True
                    ),
                },
            })
    account_rows: list[dict[str, Any]] = []
    for account, result in sorted(scored.accounts.items()):
        account_ring = ring_ids[result.ring] if result.ring >= 0 else None
        for attribution in result.attributions:
            if attribution.confidence < _ACCOUNT_ATTRIBUTION_FLOOR:
                continue
            explanation = attribution.explanation
            account_rows.append({
                "account_id": str(account_ids[account]),
                "organization": attribution.name,
                "confidence": round(attribution.confidence, 6),
                "props": {
                    "ring_id": account_ring,
                    "prior_llr": prior_llr(explanation),
                    "evidence": json.dumps(
                        [e.as_dict() for e in paths.evidence(explanation, ring_id=account_ring)], sort_keys=True
                    ),
                },
            })
    write_rings(driver, database, run_id, ring_rows)
    write_memberships(driver, database, run_id, member_rows)
    write_ring_attributions(driver, database, run_id, attribution_rows)
    write_account_attributions(driver, database, run_id, account_rows)
