"""A detection run end to end, as named stages: read, project, detect, stabilise, ids, score, explain, write.

Each stage is timed and reported to `progress`; the run's DetectionRun record holds every parameter
(:class:`~graph.detection.DetectionParams`), the scoring model's version, the code version, input
counts and stage timings, and ends ``completed`` or ``failed``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

import neo4j
from graph.detection import DetectionParams, detect_rings, membership_stability
from graph.detection.ring_ids import assign_ring_ids
from graph.evidence.paths import domain_accounts
from graph.links import index_links
from graph.pipeline.explain import explain_run, explanations
from graph.pipeline.version import code_version
from graph.projection import project
from graph.scoring import attribute_accounts, prepare, score_rings
from graph.store.observation_reads import read_account_emails, read_observations
from graph.store.runs import finish_run, latest_run_id, read_ring_members, start_run
from graph.store.scoring_models import active_model
from graph.store.write_back import write_results

__all__ = ["RunSummary", "new_run_id", "run_detection"]

Progress = Callable[[str, float], None]


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


def _membership_confidence(stability: list[npt.NDArray[np.float64]]) -> list[npt.NDArray[np.float64]]:
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
            links = index_links(observations.incidence)
            account_graph = project(links, params.projection)
        with _stage(timings, "detect", progress):
            rings = detect_rings(account_graph, params)
        with _stage(timings, "stabilise", progress):
            confidence = _membership_confidence(membership_stability(account_graph, rings, params))
        with _stage(timings, "ids", progress):
            account_ids = observations.incidence.account_ids
            members = [frozenset(account_ids[ring].tolist()) for ring in rings]
            previous = read_ring_members(driver, database, previous_run_id) if previous_run_id else {}
            assignment = assign_ring_ids(previous, members)
        with _stage(timings, "score", progress):
            scoring_input = prepare(links, observations.org_indicators, observations.account_created)
            ring_scores = score_rings(scoring_input, rings, model)
            account_scores = attribute_accounts(scoring_input, rings, ring_scores, membership=confidence, model=model)
        with _stage(timings, "explain", progress):
            needed = domain_accounts(links, explanations(ring_scores, account_scores))
            explained = explain_run(
                links, observations.org_indicators, read_account_emails(driver, database, needed),
                account_graph, rings, assignment.ids, confidence, ring_scores, account_scores,
            )
        with _stage(timings, "write", progress):
            write_results(
                driver, database, run_id, rings=explained.rings, memberships=explained.memberships,
                ring_attributions=explained.ring_attributions, account_attributions=explained.account_attributions,
            )
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
