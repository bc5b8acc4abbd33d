"""An incremental run's detection: re-detect the components what changed touches, carry the rest.

Rings are found per connected component of the account graph, each partitioned on its own with the
run's seed (graph/detection/rings.py), and a pair's weight depends only on what the two accounts
share (graph/store/change_reads.py). So after new observations only the components holding a *seed*
(an account whose pairs a change can move) can have other rings. Every other component is one the
base run partitioned, with the same edges: the component of the base run that held a ring either
touched a seed, and then every piece of it holds one (an edge a change removed has seeds at both
ends), or it is unchanged. Its rings are the base run's, membership confidence included. Co-action
as a group joins communities of one component only, on pairs whose figures a change can move only
through a seed (change_reads.py), so it needs nothing more.

The run still reads and projects everything: scores, evidence and operations weigh each ring
against the whole population (free-mail domains, an organisation's network, the users of a shared
address), and every ring gets them afresh. What it saves is community detection and its stability
reruns outside the touched components.

An incremental run needs a base: the latest completed run, made with the same detection parameters
and code (another run would have found other rings everywhere) and the in-process backend. Without
one, a run detects everything, and says why.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse import csgraph

import neo4j
from graph.detection import DetectionParams, detect_rings, membership_stability
from graph.pipeline.version import code_version
from graph.projection import AccountGraph
from graph.store.change_reads import changes_since
from graph.store.runs import latest_run_id, read_run

__all__ = ["Touched", "account_indices", "base_run", "carry_rings", "redetect_touched"]

Membership = Callable[[list[npt.NDArray[np.float64]]], list[npt.NDArray[np.float64]]]


@dataclass(frozen=True)
class Touched:
    """The rings of the components that hold a seed, and those components' accounts."""

    region: npt.NDArray[np.bool_]  # per account index
    rings: list[npt.NDArray[np.int32]]
    confidence: list[npt.NDArray[np.float64]]


def base_run(driver: neo4j.Driver, database: str, params: DetectionParams) -> tuple[tuple[str, int] | None, str]:
    """The run an incremental run can carry rings from with its `changes_since`, or None and why not."""
    if params.backend != "in-process":
        return None, f"the {params.backend} backend detects everything in the database"
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
        return None, f"run {run_id} recorded no change watermark (the Spark job's, or older than watermarks)"
    return (run_id, since), ""


def redetect_touched(
    graph: AccountGraph, seeds: npt.NDArray[np.int64], params: DetectionParams, membership: Membership
) -> Touched:
    """Rings and membership confidence of the components of `graph` that hold one of `seeds` (account
    indices), found on those components alone exactly as on the whole graph."""
    n = graph.n_accounts
    adjacency = sparse.coo_matrix((np.ones(graph.n_edges), (graph.src, graph.dst)), shape=(n, n))
    _, component = csgraph.connected_components(adjacency, directed=False)
    region = np.isin(component, component[seeds]) if seeds.shape[0] else np.zeros(n, bool)
    keep = region[graph.src]  # an edge's two ends share a component
    within = replace(graph, src=graph.src[keep], dst=graph.dst[keep], weight=graph.weight[keep],
                     shared=graph.shared[keep])
    rings = detect_rings(within, params)
    return Touched(region=region, rings=rings, confidence=membership(membership_stability(within, rings, params)))


def account_indices(
    account_ids: npt.NDArray[np.str_], wanted: Collection[str]
) -> tuple[npt.NDArray[np.int64], bool]:
    """The indices in `account_ids` (sorted) of those of `wanted` it holds, ascending, and whether it
    holds them all."""
    asked = np.array(sorted(wanted), dtype=np.str_)
    at = np.searchsorted(account_ids, asked)
    held = at < account_ids.shape[0]
    held[held] = account_ids[at[held]] == asked[held]
    return at[held].astype(np.int64), bool(held.all())


def carry_rings(
    base: Mapping[str, Mapping[str, float]], account_ids: npt.NDArray[np.str_], region: npt.NDArray[np.bool_]
) -> tuple[list[npt.NDArray[np.int32]], list[npt.NDArray[np.float64]]]:
    """The base run's rings (ring -> member -> confidence) that have no member in `region`, as account
    indices of `account_ids` (sorted) with their confidence."""
    rings, confidence = [], []
    for members in base.values():
        ids = sorted(members)
        at, all_read = account_indices(account_ids, ids)
        if not all_read:
            # A ring member shares an identifier, and degrees only grow: the read holds every one.
            raise LookupError("a ring of the base run holds accounts this run did not read")
        if region[at].any():
            continue
        rings.append(at.astype(np.int32))
        confidence.append(np.array([members[a] for a in ids], np.float64))
    return rings, confidence
