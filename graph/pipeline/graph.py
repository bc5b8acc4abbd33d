"""The account graph a run detects on, built from what it read: shared identifiers and co-action."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from graph.behaviour.coaction import Coaction, coaction, join_coaction
from graph.behaviour.usage import UsageIndex, sent_active_at, usage_index
from graph.detection import DetectionParams
from graph.links import LinkIndex, index_links
from graph.projection import AccountGraph, project
from graph.store.observation_reads import Observations

__all__ = ["AccountData", "Templates", "account_data", "joined_graph"]

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
    pairs, graph = joined_graph(links, usage, params)
    return AccountData(observations, links, usage, pairs, graph)


def joined_graph(links: LinkIndex, usage: UsageIndex, params: DetectionParams) -> tuple[Coaction, AccountGraph]:
    """Co-action and the account graph of shared identifiers with it joined; an account that sent
    templates is active from when it sent them (:func:`graph.behaviour.usage.sent_active_at`), one
    that sent none from its links' median ``first_seen``."""
    pairs = coaction(usage, links.n_accounts, params.coaction)
    graph = join_coaction(project(links, params.projection), pairs, params.coaction, params.projection.min_weight)
    sent = sent_active_at(usage, links.n_accounts)
    return pairs, replace(graph, active_at=np.where(np.isnan(sent), graph.active_at, sent))
