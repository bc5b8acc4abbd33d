"""An incremental run's detection: re-detect the components what changed touches, carry the rest.

Rings are found per connected component of the account graph, each partitioned on its own
(graph/detection/rings.py), and a pair's weight depends only on what the two accounts share
(graph/store/change_reads.py). So after new observations only the components holding a *seed* (an
account whose pairs a change can move) can have other rings; every other component is the one the
base run partitioned, with the same edges, and its rings are the base run's, membership confidence
included. The touched components are read around the seeds: grow the read a frontier at a time
until no edge leaves it, build the account graph with the code a whole run uses, and detect on it.
Every edge with one end in the region is exact (its entities and templates were read whole), so the
region's components, and therefore its rings, are what a whole run finds there.

An incremental run needs a base: the latest completed run, with the same detection parameters and
code version (a run with other parameters or code would have found other rings everywhere).
Without one, a run detects everything, and says why.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

import neo4j
from graph.detection import DetectionParams, detect_rings, membership_stability
from graph.pipeline.graph import AccountData, account_data
from graph.pipeline.version import code_version
from graph.projection import AccountGraph
from graph.store.change_reads import changed_accounts, changes_since
from graph.store.observation_reads import Neighbourhood
from graph.store.runs import latest_run_id, read_memberships, read_run
from graph.store.usage_reads import read_templates_around

__all__ = ["FoundRing", "Region", "base_run", "carried_rings", "detect_region"]

Templates = list[tuple[str, int, str | None, list[tuple[str, list[int]]]]]


@dataclass(frozen=True)
class FoundRing:
    """A ring as account ids (sorted) with each member's membership confidence, in that order."""

    members: tuple[str, ...]
    confidence: npt.NDArray[np.float64]


@dataclass(frozen=True)
class Region:
    seeds: int
    accounts: frozenset[str]  # the components the seeds are in, whole
    rounds: int
    rings: list[FoundRing]


def base_run(driver: neo4j.Driver, database: str, params: DetectionParams) -> tuple[tuple[str, int] | None, str]:
    """The run an incremental run can carry rings from with its `changes_since`, or None and why not."""
    run_id = latest_run_id(driver, database)
    if run_id is None:
        return None, "no completed run to start from"
    run = read_run(driver, database, run_id)
    if run is None:
        return None, f"run {run_id} is gone"
    recorded = {k: v for k, v in run.params.items() if k in params.as_dict()}
    if json.dumps(recorded, sort_keys=True) != json.dumps(json.loads(json.dumps(params.as_dict())), sort_keys=True):
        return None, f"run {run_id} used other detection parameters"
    if run.version != code_version():
        return None, f"run {run_id} was made by other code ({run.version})"
    since = changes_since(driver, database, run_id)
    if since is None:
        return None, f"run {run_id} recorded no change watermark"
    return (run_id, since), ""


def detect_region(
    driver: neo4j.Driver,
    database: str,
    since: int,
    params: DetectionParams,
    membership: Callable[[list[npt.NDArray[np.float64]]], list[npt.NDArray[np.float64]]],
) -> Region:
    """The rings of the components touched by changes stamped from `since` on (a base run's
    `changes_since`), with their confidence (`membership` turns stability into confidence, as the
    whole run does)."""
    seeds = changed_accounts(driver, database, since, params.projection, params.coaction)
    around = Neighbourhood(driver, database)
    templates: Templates = []
    region, frontier, rounds = set(seeds), set(seeds), 0
    data: AccountData | None = None
    while frontier:
        rounds += 1
        around.grow(frontier)
        templates += read_templates_around(driver, database, frontier, params.coaction.max_senders,
                                           seen={t[0] for t in templates})
        data = account_data(around.observations({a for t in templates for a, _ in t[3]}), templates, params)
        ids = data.observations.incidence.account_ids
        inside = np.isin(ids, np.array(sorted(region), dtype=np.str_))
        graph = data.graph
        touching = inside[graph.src] | inside[graph.dst]
        reached = set(ids[graph.src[touching]].tolist()) | set(ids[graph.dst[touching]].tolist())
        frontier = reached - region
        region |= frontier
    if data is None:
        return Region(seeds=0, accounts=frozenset(), rounds=0, rings=[])
    graph = _within(data.graph, np.isin(data.observations.incidence.account_ids,
                                        np.array(sorted(region), dtype=np.str_)))
    rings = detect_rings(graph, params)
    confidence = membership(membership_stability(graph, rings, params))
    ids = data.observations.incidence.account_ids
    found = [FoundRing(tuple(ids[ring].tolist()), c) for ring, c in zip(rings, confidence, strict=True)]
    return Region(seeds=len(seeds), accounts=frozenset(region), rounds=rounds, rings=found)


def carried_rings(driver: neo4j.Driver, database: str, base_run_id: str, region: frozenset[str]) -> list[FoundRing]:
    """The base run's rings outside `region`, with the membership confidence it gave them."""
    carried = []
    for members in read_memberships(driver, database, base_run_id).values():
        if region.isdisjoint(members):
            ids = sorted(members)
            carried.append(FoundRing(tuple(ids), np.array([members[a] for a in ids], np.float64)))
    return carried


def _within(graph: AccountGraph, inside: npt.NDArray[np.bool_]) -> AccountGraph:
    """`graph` with only the edges between accounts `inside` (the rest of what was read is partial)."""
    keep = inside[graph.src] & inside[graph.dst]
    return replace(graph, src=graph.src[keep], dst=graph.dst[keep], weight=graph.weight[keep],
                   shared=graph.shared[keep])
