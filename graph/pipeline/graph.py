"""The account graph a run detects on, built from what it read: shared identifiers and co-action."""

from __future__ import annotations

from dataclasses import dataclass

from graph.behaviour.coaction import Coaction, coaction, join_coaction
from graph.behaviour.usage import UsageIndex, usage_index
from graph.detection import DetectionParams
from graph.links import LinkIndex, index_links
from graph.projection import AccountGraph, project
from graph.store.observation_reads import Observations

__all__ = ["AccountData", "Templates", "account_data"]

#: Co-action's templates as read: (fingerprint, senders, skeleton, [(account_id, minutes), ...]).
Templates = list[tuple[str, int, str | None, list[tuple[str, list[int]]]]]


@dataclass(frozen=True)
class AccountData:
    observations: Observations
    links: LinkIndex
    usage: UsageIndex
    pairs: Coaction
    graph: AccountGraph


def account_data(observations: Observations, templates: Templates, params: DetectionParams) -> AccountData:
    """The link index, usage index, co-action and weighted account graph of what a run read."""
    links = index_links(observations.incidence)
    usage = usage_index(templates, links.incidence.account_ids)
    pairs = coaction(usage, links.n_accounts, params.coaction)
    graph = join_coaction(project(links, params.projection), pairs, params.coaction, params.projection.min_weight)
    return AccountData(observations, links, usage, pairs, graph)
