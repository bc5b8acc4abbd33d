"""A detection run end to end, as named stages: read, project, detect, stabilise, ids, score, explain,
operations, write.

Each stage is timed and reported to `progress`; the run's DetectionRun record holds every parameter
(:class:`~graph.detection.DetectionParams`), the scoring model's version, the code version, input
counts and stage timings, and ends ``completed`` or ``failed``.

A run first claims the database's one detection lock (:func:`claim_detection`; refused with
`DetectionRunningError` while another run is alive, in any process) and keeps a lease on it while it
works (:class:`~graph.pipeline.lease.RunLease`). Everything after the claim is inside the failure
path, and the write stage's results become what analysts see only in the transaction that marks the
run completed (`graph.store.runs.complete_run`).

With ``params.backend == "gds"`` the detect and stabilise stages label accounts in Neo4j's Graph Data
Science library (:mod:`graph.pipeline.gds_communities`); the run's timings then also hold the seconds
GDS took (``gds_project``, ``gds_wcc``, ``gds_leiden``), inside those two stages' own.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

import neo4j
from graph.detection import DetectionParams, detect_rings, membership_stability
from graph.detection.ring_ids import assign_ring_ids
from graph.detection.rings import ring_order
from graph.detection.stability import membership_confidence
from graph.evidence.paths import domain_accounts
from graph.pipeline.behaviour import read_behaviour
from graph.pipeline.explain import explain_run, explanations
from graph.pipeline.gds_communities import GdsCommunities, gds_communities
from graph.pipeline.graph import AccountData, Templates, account_data
from graph.pipeline.incremental import account_indices, base_run, carry_rings, redetect_touched
from graph.pipeline.lease import RunLease
from graph.pipeline.operations import explain_operations, group_operations
from graph.pipeline.stages import Progress, timed_stage
from graph.pipeline.version import code_version
from graph.scoring import ScoringModel, attribute_accounts, prepare, score_rings
from graph.scoring.operation_attribution import attribute_through_operations
from graph.settings import get_settings
from graph.store.change_reads import changed_accounts
from graph.store.gds import require_gds
from graph.store.observation_reads import Observations, read_account_emails, read_observations
from graph.store.runs import (
    claim_run,
    complete_run,
    latest_run_id,
    read_memberships,
    read_operation_rings,
    read_ring_members,
)
from graph.store.scoring_models import active_model
from graph.store.usage_reads import read_coaction_templates
from graph.store.write_back import write_results

__all__ = ["ClaimedRun", "RunSummary", "claim_detection", "new_run_id", "run_claimed", "run_detection"]

_log = logging.getLogger("ringtrace.detect")


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


def new_run_id(params: DetectionParams | dict[str, Any], started: datetime | None = None) -> str:
    """A fresh run id: the start time (UTC, to the microsecond) and a digest of the parameters (a
    DetectionParams, or its ``as_dict()`` as a Spark job records it)."""
    started = started or datetime.now(UTC)
    values = params.as_dict() if isinstance(params, DetectionParams) else params
    digest = hashlib.sha1(json.dumps(values, sort_keys=True).encode(), usedforsecurity=False)
    return f"run-{started:%Y%m%dT%H%M%S%f}Z-{digest.hexdigest()[:6]}"


@dataclass(frozen=True)
class ClaimedRun:
    """A run recorded ``running`` in Neo4j that holds the detection lock, its lease kept alive."""

    run_id: str
    params: DetectionParams
    model: ScoringModel
    lease: RunLease


def claim_detection(
    driver: neo4j.Driver,
    database: str,
    params: DetectionParams,
    *,
    run_id: str | None = None,
    lease_seconds: float | None = None,
) -> ClaimedRun:
    """Record a new run as running and take the database's detection lock; `DetectionRunningError` if taken.

    The lease defaults to `RINGTRACE_DETECTION_LEASE_SECONDS`. The caller must hand the claim to
    :func:`run_claimed` (or fail it): until then its heartbeat keeps the lock. The gds backend asked of
    a server without GDS is refused (GdsUnavailableError) before anything is recorded.
    """
    if params.backend == "gds":
        require_gds(driver, database)
    run_id = run_id or new_run_id(params)
    lease_seconds = lease_seconds or get_settings().detection_lease_seconds
    model = active_model(driver, database)
    claim_run(driver, database, run_id, {**params.as_dict(), "scoring_model": model.version}, code_version(),
              lease_seconds=lease_seconds)
    return ClaimedRun(run_id, params, model, RunLease(driver, database, run_id, lease_seconds).start())


@contextmanager
def _stage(timings: dict[str, float], name: str, progress: Progress | None, lease: RunLease) -> Iterator[None]:
    # A run that lost its lease is someone else's failure by now: stop before doing more work for it.
    lease.check()
    with timed_stage(timings, name, progress):
        yield


@contextmanager
def _communities(
    driver: neo4j.Driver, database: str, params: DetectionParams, run_id: str
) -> Iterator[GdsCommunities | None]:
    # None: detect_rings' own in-process default.
    if params.backend != "gds":
        yield None
        return
    with gds_communities(driver, database, params.method, run_id) as backend:
        yield backend


def run_detection(
    driver: neo4j.Driver,
    database: str,
    params: DetectionParams,
    progress: Progress | None = None,
    *,
    run_id: str | None = None,
    lease_seconds: float | None = None,
    incremental: bool = False,
) -> RunSummary:
    """Detect rings in everything the database holds and write them back under a new DetectionRun.

    `run_id` names the run (by default a new id); `DetectionRunningError` while another run is alive.
    `incremental` re-detects only the components changed since the latest completed run and carries
    that run's other rings over (:mod:`graph.pipeline.incremental`): the same rings as a whole run.
    """
    claimed = claim_detection(driver, database, params, run_id=run_id, lease_seconds=lease_seconds)
    return run_claimed(driver, database, claimed, progress, incremental=incremental)


def run_claimed(
    driver: neo4j.Driver,
    database: str,
    claimed: ClaimedRun,
    progress: Progress | None = None,
    *,
    incremental: bool = False,
) -> RunSummary:
    """Run the stages of a claimed run; it ends ``completed``, or ``failed`` with the error that stopped it."""
    params, lease = claimed.params, claimed.lease
    timings: dict[str, float] = {}
    previous_run_id: str | None = None
    try:
        previous_run_id = latest_run_id(driver, database)
        base, why_not = base_run(driver, database, params) if incremental else (None, "")
        if base is not None:
            data, rings, confidence, counts = _detect_incremental(driver, database, base, params, timings,
                                                                  progress, lease)
        else:
            data, rings, confidence, counts = _detect_all(driver, database, claimed.run_id, params, timings,
                                                          progress, lease)
            if incremental:
                _log.info("incremental run %s detects everything: %s", claimed.run_id, why_not)
                counts["incremental_refused"] = 1
        summary = _publish(driver, database, claimed, data, rings, confidence, counts, timings, progress,
                           previous_run_id)
    except BaseException as error:
        # Everything after the claim lands here, Ctrl-C and a lost Neo4j included. If the failure
        # cannot be recorded now, the stopped heartbeat lets the lease record it.
        lease.fail(f"{type(error).__name__}: {error}", timings, previous_run_id)
        raise
    lease.stop()
    return summary


Detected = tuple[AccountData, list[npt.NDArray[np.int32]], list[npt.NDArray[np.float64]], dict[str, int]]


def _read_all(
    driver: neo4j.Driver, database: str, params: DetectionParams
) -> tuple[Observations, Templates]:
    """Everything detection reads: the observations, and co-action's templates (whose senders it holds)."""
    templates = read_coaction_templates(driver, database, params.coaction.max_senders)
    return read_observations(driver, database, {a for t in templates for a, _ in t[3]}), templates


def _detect_all(
    driver: neo4j.Driver, database: str, run_id: str, params: DetectionParams, timings: dict[str, float],
    progress: Progress | None, lease: RunLease,
) -> Detected:
    with _stage(timings, "read", progress, lease):
        observations, templates = _read_all(driver, database, params)
    with _stage(timings, "project", progress, lease):
        data = account_data(observations, templates, params)
        del templates
    with _communities(driver, database, params, run_id) as communities:
        with _stage(timings, "detect", progress, lease):
            rings = detect_rings(data.graph, params, communities)
        with _stage(timings, "stabilise", progress, lease):
            confidence = membership_confidence(membership_stability(data.graph, rings, params, communities))
    if communities is not None:
        timings.update(communities.timings)
    counts = {
        "accounts": int(observations.incidence.account_ids.shape[0]),
        "links": observations.n_links,
        "entities": int(observations.incidence.entity_keys.shape[0]),
        "edges": data.graph.n_edges,
        "templates": int(data.usage.template_keys.shape[0]),
        "coaction_pairs": int(np.count_nonzero(data.pairs.llr > 0)),
        "weak_entities": int(data.graph.weak_entities.entity.shape[0]),
    }
    return data, rings, confidence, counts


def _detect_incremental(
    driver: neo4j.Driver, database: str, base: tuple[str, int], params: DetectionParams,
    timings: dict[str, float], progress: Progress | None, lease: RunLease,
) -> Detected:
    base_run_id, since = base
    with _stage(timings, "read", progress, lease):
        observations, templates = _read_all(driver, database, params)
        changed = changed_accounts(driver, database, since, params.projection, params.coaction)
        base_rings = read_memberships(driver, database, base_run_id)
    with _stage(timings, "project", progress, lease):
        data = account_data(observations, templates, params)
        del templates
    ids = observations.incidence.account_ids
    with _stage(timings, "detect", progress, lease):
        # A changed account that shares nothing is not read: it links nobody.
        seeds, _ = account_indices(ids, changed)
        touched = redetect_touched(data.graph, seeds, params, membership_confidence)
        carried, carried_confidence = carry_rings(base_rings, ids, touched.region)
    found, found_confidence = touched.rings + carried, touched.confidence + carried_confidence
    order = ring_order(found)
    rings, confidence = [found[i] for i in order], [found_confidence[i] for i in order]
    counts = {
        "accounts": int(ids.shape[0]),
        "links": observations.n_links,
        "edges": data.graph.n_edges,
        "incremental": 1,
        "changed_accounts": len(changed),
        "region_accounts": int(touched.region.sum()),
        "redetected_rings": len(touched.rings),
        "carried_rings": len(carried),
    }
    return data, rings, confidence, counts


def _publish(
    driver: neo4j.Driver,
    database: str,
    claimed: ClaimedRun,
    data: AccountData,
    rings: list[npt.NDArray[np.int32]],
    confidence: list[npt.NDArray[np.float64]],
    counts: dict[str, int],
    timings: dict[str, float],
    progress: Progress | None,
    previous_run_id: str | None,
) -> RunSummary:
    """Ids, scores, evidence and operations of the run's rings, written back and the run completed."""
    run_id, model, lease = claimed.run_id, claimed.model, claimed.lease
    observations, links = data.observations, data.links
    with _stage(timings, "ids", progress, lease):
        account_ids = observations.incidence.account_ids
        members = [frozenset(account_ids[ring].tolist()) for ring in rings]
        previous = read_ring_members(driver, database, previous_run_id) if previous_run_id else {}
        assignment = assign_ring_ids(previous, members)
    with _stage(timings, "score", progress, lease):
        behaviour = read_behaviour(driver, database, data.usage, data.pairs, claimed.params.coaction, account_ids,
                                   rings)
        scoring_input = prepare(links, observations.org_indicators, observations.account_created, behaviour)
        ring_scores = score_rings(scoring_input, rings, model)
        grouped = group_operations(links, rings, scoring_input.orgs)
        ring_scores = attribute_through_operations(ring_scores, grouped, assignment.ids,
                                                   observations.org_indicators.organizations)
        account_scores = attribute_accounts(scoring_input, rings, ring_scores, membership=confidence, model=model)
    with _stage(timings, "explain", progress, lease):
        needed = domain_accounts(links, explanations(ring_scores, account_scores))
        explained = explain_run(
            links, observations.org_indicators, read_account_emails(driver, database, needed),
            data.graph, rings, assignment.ids, confidence, ring_scores, account_scores,
            behaviour.sent if behaviour is not None else None,
        )
    with _stage(timings, "operations", progress, lease):
        previous_operations = read_operation_rings(driver, database, previous_run_id) if previous_run_id else {}
        operations = explain_operations(links, scoring_input.orgs, grouped, rings, explained.rings,
                                        previous_operations)
    with _stage(timings, "write", progress, lease):
        write_results(
            driver, database, run_id, rings=operations.rings, memberships=explained.memberships,
            ring_attributions=explained.ring_attributions, account_attributions=explained.account_attributions,
            operations=operations.operations, part_of=operations.part_of,
        )
    counts = {
        **counts,
        "rings": len(rings),
        "operations": len(operations.operations),
        "multi_campaign_operations": sum(1 for o in operations.operations if o.campaigns > 1),
        "ring_accounts": int(sum(r.shape[0] for r in rings)),
        "coordinated_rings": sum(1 for r in ring_scores if r.score >= 0.5),
        "attributed_rings": sum(1 for r in ring_scores if r.top is not None and r.top.confidence >= 0.5),
        "attributed_accounts": sum(
            1 for a in account_scores.values() if a.attributions and a.attributions[0].confidence >= 0.5
        ),
    }
    lineage = [
        {"of": of, "kind": e.kind, "new_id": e.new_id, "old_ids": list(e.old_ids), "jaccard": round(e.jaccard, 4)}
        for of, events in (("ring", assignment.events), ("operation", operations.assignment.events))
        for e in events
    ]
    lease.check()
    complete_run(driver, database, run_id, counts=counts, timings=timings, lineage=lineage,
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
