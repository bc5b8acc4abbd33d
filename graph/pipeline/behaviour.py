"""The usage log in a detection run: co-action joined to the projection, and what scoring reads.

The same steps serve a run on Neo4j (:func:`read_behaviour` reads the rings' members' usage after
detection) and a run on a bundle read offline (bench/offline_usage.py builds a :class:`UsageLog` with
the loader's own aggregation), so calibration and the benches score rings exactly as `detect` does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

import neo4j
from graph.behaviour.activity import AccountActivity, account_activity
from graph.behaviour.coaction import Coaction, CoactionParams
from graph.behaviour.usage import UsageIndex, usage_index
from graph.detection import DetectionParams, detect_rings
from graph.links import LinkIndex
from graph.pipeline.graph import joined_graph
from graph.projection import AccountGraph
from graph.scoring.behaviour import Behaviour
from graph.store.usage_reads import read_activity, read_model_releases

__all__ = ["DetectedRings", "Template", "UsageLog", "build_behaviour", "detect_with_usage", "read_behaviour"]

# (fingerprint, senders, skeleton, [(account_id, minutes), ...]): a template as co-action reads it
Template = tuple[str, int, str | None, list[tuple[str, list[int]]]]
# (account_id, template fingerprint) -> (first seen, last seen, count) of that SENT relationship
Figures = Mapping[tuple[str, str], tuple[int | None, int | None, int]]


@dataclass(frozen=True)
class UsageLog:
    """A bundle's usage as the store would hold it after `ringtrace load` (offline runs)."""

    templates: list[Template]  # every kept template
    activity: Mapping[str, AccountActivity]
    sent: Figures
    releases: Mapping[str, int]

    def coaction_templates(self, max_senders: int) -> list[Template]:
        """What graph.store.usage_reads.read_coaction_templates would read."""
        return [t for t in self.templates if 2 <= t[1] <= max_senders]


def build_behaviour(
    usage: UsageIndex,
    pairs: Coaction,
    params: CoactionParams,
    account_ids: npt.NDArray[np.str_],
    activity: Mapping[str, AccountActivity],
    sent: Figures,
    releases: Mapping[str, int],
) -> Behaviour | None:
    """Scoring's view of the usage log over the run's accounts; None without any usage."""
    if usage.n_sent == 0 and not activity and not releases:
        return None
    position = {str(a): i for i, a in enumerate(account_ids.tolist())}
    return Behaviour(
        pairs, params, usage.template_keys, usage.template_skeleton,
        {position[a]: found for a, found in activity.items() if a in position},
        {(position[a], t): figures for (a, t), figures in sent.items() if a in position},
        releases,
    )


def read_behaviour(
    driver: neo4j.Driver,
    database: str,
    usage: UsageIndex,
    pairs: Coaction,
    params: CoactionParams,
    account_ids: npt.NDArray[np.str_],
    rings: Sequence[npt.NDArray[np.int32]],
) -> Behaviour | None:
    """:func:`build_behaviour` with the usage of `rings`' members read from the database."""
    members = {str(account_ids[a]) for ring in rings for a in ring.tolist()}
    activity: dict[str, AccountActivity] = {}
    sent: dict[tuple[str, str], tuple[int | None, int | None, int]] = {}
    for account_id, rows in read_activity(driver, database, members).items():
        activity[account_id] = account_activity(rows)
        for row in rows:
            sent[(account_id, str(row["template"]))] = (row.get("first_seen"), row.get("last_seen"),
                                                        int(row.get("count") or 0))
    return build_behaviour(usage, pairs, params, account_ids, activity, sent, read_model_releases(driver, database))


@dataclass(frozen=True)
class DetectedRings:
    graph: AccountGraph
    usage: UsageIndex
    coaction: Coaction
    rings: list[npt.NDArray[np.int32]]


def detect_with_usage(links: LinkIndex, templates: list[Template], params: DetectionParams) -> DetectedRings:
    """Projection, co-action and community detection, as a run does them."""
    usage = usage_index(templates, links.incidence.account_ids)
    pairs, graph = joined_graph(links, usage, params)
    return DetectedRings(graph, usage, pairs, detect_rings(graph, params))
