"""Co-action: two accounts sending the same rare template in the same minutes, on many distinct days.

Following SynchroTrap (Cao et al., "Uncovering Large Groups of Active Malicious Accounts in Online
Social Networks", CCS 2014) and CooRTweet (Righetti & Balluff, 2023), an action is (template, time
window): two accounts co-act when both sent template t in window w or in adjacent windows (each
account's windows are widened by one, so a pair a minute apart across a window boundary still meets).
What a pair's co-action proves is weighed against what independent activity would produce:

- observed ``O``: the widened windows in which both sent the same template, over all templates;
- expected ``E``: the matches two accounts would have if each sent at independent times following its
  own habit of hours (:func:`_expected`). Always-on pipelines meet in every window, colleagues in
  office hours and a class in its weekly lab session meet often, and their habits predict it; an
  operator's members meet within minutes at hours no habit explains;
- ``llr = O ln(O / E) - (O - E)`` (Poisson), counted only when the pair co-acted on at least
  ``min_days`` distinct days: one shared burst is not repeated co-action.

A template sent by more than ``max_senders`` accounts is public ("Translate the following text into
French: ...") and links nobody, as a carrier-NAT address links nobody. The pairs a window can produce
are bounded too, so a template's burst cannot flood the graph: in a window with more than
``max_window_senders`` senders each sender is paired with its ``max_window_senders // 2`` successors
in account order (cyclically), not with everyone. Such a window is the strongest sign of coordination
there is (an operator's job sent round-robin over 200 accounts within minutes), so it must not be
dropped; the same crowd in window after window keeps pairing the same neighbours, so their co-action
still repeats day after day.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from graph.behaviour.usage import UsageIndex
from graph.projection import AccountGraph, Coacting, ragged_indices, with_pairs

__all__ = ["Coaction", "CoactionParams", "coaction", "coaction_rows", "coaction_weight", "expected_matches",
           "join_coaction", "likelihood_ratio"]

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
_MINUTES_PER_DAY = 1440
_MIN_EXPECTED = 0.1  # matches by chance are never taken as less than this: llr stays finite


@dataclass(frozen=True)
class CoactionParams:
    """Knobs of :func:`coaction`, recorded with every run (graph/detection/params.py)."""

    window_minutes: int = 10
    min_days: int = 3
    # Measured (bench/independent 20k seed 2, where ordinary users' public templates have 400-1,227
    # senders and an operated ring's own templates 499): at 200 the ring's templates counted as public
    # and the ring was invisible (ARI 0.515); at 1,000 and 5,000 the same rings and ARI 0.975 with
    # the windows' bound below; the expected matches discount what public templates share by chance.
    max_senders: int = 1000
    max_window_senders: int = 64  # above it, a window pairs each sender with the 32 after it (cyclically)
    strong_llr: float = 20.0  # a pair's llr at which its co-action weighs `weight` in the projection
    weight: float = 1.0  # in the projection's units: a device shared by two accounts weighs 1.0


@dataclass(frozen=True)
class Coaction:
    """Co-acting pairs (``src < dst``, account indices of the run), each with its figures."""

    src: npt.NDArray[np.int32]
    dst: npt.NDArray[np.int32]
    observed: Ints  # widened windows in which both sent one template
    expected: Floats
    days: Ints  # distinct days with co-action
    templates: Ints  # distinct templates co-acted on
    top_template: npt.NDArray[np.int32]  # the template with most co-action (index into the usage's templates)
    top_days: Ints  # distinct days of co-action on the top template
    llr: Floats
    hours: npt.NDArray[np.int32]  # (pairs, 24): the pair's co-action windows per UTC hour of day
    # Pair i's distinct days of co-action are pair_days[day_offsets[i]:day_offsets[i + 1]] (epoch days).
    pair_days: Ints
    day_offsets: Ints

    def edge_weight(self, params: CoactionParams) -> Floats:
        """The pairs' projection weights (:func:`coaction_weight`)."""
        return coaction_weight(self.llr, params)

    @property
    def n_pairs(self) -> int:
        return int(self.src.shape[0])


def coaction_weight(llr: Floats, params: CoactionParams) -> Floats:
    """Projection weights of pairs of `llr`: repeated co-action beyond chance, capped at `params.weight`."""
    return params.weight * np.minimum(1.0, llr / params.strong_llr)


def _empty() -> Coaction:
    z = np.zeros(0, np.int64)
    return Coaction(np.zeros(0, np.int32), np.zeros(0, np.int32), z, np.zeros(0), z, z,
                    np.zeros(0, np.int32), z, np.zeros(0), np.zeros((0, 24), np.int32), z, np.zeros(1, np.int64))


def coaction_rows(usage: UsageIndex, params: CoactionParams) -> tuple[Ints, Ints, Ints, Ints]:
    """(template, account, widened window, day) rows, distinct, for templates of 2..max_senders
    senders; the day is that of the account's own (earliest) window the row stands for. Each
    account's rows depend on its own minutes alone (the Spark job, graph/spark/coaction.py, relies on it)."""
    senders = usage.template_senders[usage.sent_template]
    usable = (senders >= 2) & (senders <= params.max_senders) & (usage.sent_account >= 0)
    sent = np.flatnonzero(usable)
    lengths = usage.minute_offsets[sent + 1] - usage.minute_offsets[sent]
    rows = np.repeat(sent, lengths)
    starts = np.repeat(usage.minute_offsets[sent], lengths)
    position = np.arange(rows.shape[0]) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    window = usage.minutes[starts + position] // params.window_minutes
    template = usage.sent_template[rows].astype(np.int64)
    account = usage.sent_account[rows].astype(np.int64)
    own = np.concatenate([window, window])
    template = np.concatenate([template, template])
    account = np.concatenate([account, account])
    window = np.concatenate([window, window + 1])
    order = np.lexsort((own, account, window, template))
    template, account, window, own = template[order], account[order], window[order], own[order]
    keep = np.ones(template.shape[0], bool)
    keep[1:] = (np.diff(template) != 0) | (np.diff(window) != 0) | (np.diff(account) != 0)
    day = (own[keep] * params.window_minutes) // _MINUTES_PER_DAY
    return template[keep], account[keep], window[keep], day


def _group_pairs(template: Ints, window: Ints, cap: int) -> tuple[Ints, Ints]:
    """Row index pairs (i < j) of rows in one (template, window) group: every pair of a group of at
    most `cap` rows; in a bigger group, each row with its ``cap // 2`` successors, cyclically (rows of
    a group are in account order). ``cap // 2 < size / 2`` there, so no pair comes twice."""
    n = template.shape[0]
    if n < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = np.flatnonzero(np.concatenate([[True], (np.diff(template) != 0) | (np.diff(window) != 0)]))
    sizes = np.diff(np.append(starts, n))
    row_size = np.repeat(sizes, sizes)
    group_start = np.repeat(starts, sizes)
    position = np.arange(n) - group_start
    small = (row_size >= 2) & (row_size <= cap)
    left, right = [], []
    for offset in range(1, int(row_size[small].max(initial=1))):
        i = np.flatnonzero(small & (position + offset < row_size))
        left.append(i)
        right.append(i + offset)
    crowded = np.flatnonzero(row_size > cap)
    for offset in range(1, cap // 2 + 1):
        j = group_start[crowded] + (position[crowded] + offset) % row_size[crowded]
        left.append(np.minimum(crowded, j))
        right.append(np.maximum(crowded, j))
    if not left:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(left), np.concatenate(right)


def _unique_counts(keys: Ints) -> tuple[Ints, Ints, Ints]:
    values, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    return values, inverse, counts


def coaction(usage: UsageIndex, n_accounts: int, params: CoactionParams) -> Coaction:
    """Every pair's co-action over the rare templates of `usage`, for accounts of a run with `n_accounts`."""
    template, account, window, row_day = coaction_rows(usage, params)
    left, right = _group_pairs(template, window, params.max_window_senders)
    if left.shape[0] == 0:
        return _empty()
    a = np.minimum(account[left], account[right])
    b = np.maximum(account[left], account[right])
    t = template[left]
    day = np.minimum(row_day[left], row_day[right])
    pair = a * n_accounts + b
    pairs, pair_of, observed = _unique_counts(pair)
    # Distinct days, and co-action per (pair, template) for the top template.
    n_days_all = int(day.max()) + 2
    pair_days, _, _ = _unique_counts(pair_of.astype(np.int64) * n_days_all + day)
    days = np.bincount(pair_days // n_days_all, minlength=pairs.shape[0]).astype(np.int64)
    day_offsets = np.concatenate([[0], np.cumsum(days)]).astype(np.int64)
    n_templates = int(usage.template_keys.shape[0])
    pair_template, pt_inverse, pt_observed = _unique_counts(pair_of.astype(np.int64) * n_templates + t)
    templates = np.bincount(pair_template // n_templates, minlength=pairs.shape[0]).astype(np.int64)
    # Top template per pair: most co-action, then the smaller template index (deterministic).
    order = np.lexsort((pair_template % n_templates, -pt_observed, pair_template // n_templates))
    first = np.ones(order.shape[0], bool)
    first[1:] = np.diff((pair_template // n_templates)[order]) != 0
    top_template = (pair_template[order][first] % n_templates).astype(np.int32)
    top_pt = pair_template[order][first]
    top_days = _days_on(pair_of, t, day, n_templates, n_days_all, top_pt)
    expected = expected_matches(template, account, window, row_day, a_of=pairs // n_accounts, b_of=pairs % n_accounts,
                                n_accounts=n_accounts, params=params)
    llr = likelihood_ratio(observed, expected, days, params)
    del pt_inverse
    hours = np.zeros((pairs.shape[0], 24), np.int32)
    np.add.at(hours, (pair_of, ((window[left] * params.window_minutes) % _MINUTES_PER_DAY) // 60), 1)
    return Coaction(
        src=(pairs // n_accounts).astype(np.int32), dst=(pairs % n_accounts).astype(np.int32),
        observed=observed.astype(np.int64), expected=expected, days=days, templates=templates,
        top_template=top_template, top_days=top_days, llr=llr, hours=hours,
        pair_days=(pair_days % n_days_all).astype(np.int64), day_offsets=day_offsets,
    )


def _days_on(pair_of: Ints, t: Ints, day: Ints, n_templates: int, n_days: int, top_pt: Ints) -> Ints:
    """Distinct co-action days of each pair on its top template."""
    pt = pair_of.astype(np.int64) * n_templates + t
    on_top = np.isin(pt, top_pt)
    keys = np.unique(pt[on_top] * n_days + day[on_top])
    per_pt, counts = np.unique(keys // n_days, return_counts=True)
    return counts[np.searchsorted(per_pt, top_pt)].astype(np.int64)


def likelihood_ratio(observed: Ints, expected: Floats, days: Ints, params: CoactionParams) -> Floats:
    """Each pair's Poisson llr of `observed` over `expected` matches, 0 below ``min_days`` distinct days."""
    llr = np.where(observed > expected, observed * np.log(observed / expected) - (observed - expected), 0.0)
    return np.where(days >= params.min_days, llr, 0.0)


def expected_matches(
    template: Ints, account: Ints, window: Ints, day: Ints, *, a_of: Ints, b_of: Ints, n_accounts: int,
    params: CoactionParams,
) -> Floats:
    """:func:`_expected`, never below ``_MIN_EXPECTED`` (so the llr stays finite). A pair's figure
    depends only on its two accounts' rows of :func:`coaction_rows` and on the templates' order."""
    return np.maximum(_expected(template, account, window, day, a_of=a_of, b_of=b_of, n_accounts=n_accounts,
                                params=params), _MIN_EXPECTED)


def _expected(
    template: Ints, account: Ints, window: Ints, day: Ints, *, a_of: Ints, b_of: Ints, n_accounts: int,
    params: CoactionParams,
) -> Floats:
    """Matches two accounts would have if each sent at independent times, following its own habits:
    for each pair (a_of[i], b_of[i]), Σ over templates t of

        Σ_d n_a,t,d · n_b,t,d  ×  Σ_h p_a,t(h) · p_b,t(h)  /  windows per hour

    with ``n`` an account's widened windows on t on day d and ``p(h)`` the share of its windows on t
    that fall in hour h of the day, over all days. Two accounts whose habits put them in the same
    hours (a class in its weekly lab, colleagues in office hours, pipelines always on) are expected
    to meet often; with no habit of hour (``p = 1/24``) this is ``n_a n_b`` over the day's windows."""
    from scipy import sparse

    per_hour = 60 / params.window_minutes
    hour = ((window * params.window_minutes) % _MINUTES_PER_DAY) // 60
    n_templates = int(template.max()) + 1
    n_days = int(day.max()) + 1
    day_keys, day_column = np.unique(template * n_days + day, return_inverse=True)
    per_day = sparse.csr_matrix((np.ones(account.shape[0]), (account, day_column)),
                                shape=(n_accounts, day_keys.shape[0]))
    per_day.sum_duplicates()
    hour_keys, hour_column = np.unique(template * 24 + hour, return_inverse=True)
    per_hour_count = sparse.csr_matrix((np.ones(account.shape[0]), (account, hour_column)),
                                       shape=(n_accounts, hour_keys.shape[0]))
    per_hour_count.sum_duplicates()
    # Each account's hour profile per template: its windows per hour over its windows on the template.
    totals = sparse.csr_matrix((np.ones(account.shape[0]), (account, template)), shape=(n_accounts, n_templates))
    totals.sum_duplicates()
    coo = per_hour_count.tocoo()
    share = coo.data / np.asarray(totals[coo.row, hour_keys[coo.col] // 24]).ravel()
    profile = sparse.csr_matrix((share, (coo.row, coo.col)), shape=per_hour_count.shape)
    day_template = sparse.csr_matrix((np.ones(day_keys.shape[0]), (np.arange(day_keys.shape[0]), day_keys // n_days)),
                                     shape=(day_keys.shape[0], n_templates))
    hour_template = sparse.csr_matrix((np.ones(hour_keys.shape[0]), (np.arange(hour_keys.shape[0]), hour_keys // 24)),
                                      shape=(hour_keys.shape[0], n_templates))
    together = per_day[a_of].multiply(per_day[b_of]) @ day_template  # pairs x templates: Σ_d n_a n_b
    alike = profile[a_of].multiply(profile[b_of]) @ hour_template  # pairs x templates: Σ_h p_a p_b
    return np.asarray(together.multiply(alike).sum(axis=1), dtype=np.float64).ravel() / per_hour


def join_coaction(graph: AccountGraph, pairs: Coaction, params: CoactionParams, min_weight: float) -> AccountGraph:
    """The projection with co-action added: rings come from infrastructure and behaviour together;
    with every pair that met more than chance explains as its :class:`Coacting`."""
    joined = with_pairs(graph, pairs.src, pairs.dst, pairs.edge_weight(params), min_weight)
    beyond = np.flatnonzero(pairs.observed > pairs.expected)
    lengths = pairs.day_offsets[beyond + 1] - pairs.day_offsets[beyond]
    return replace(joined, coacting=Coacting(
        src=pairs.src[beyond], dst=pairs.dst[beyond], observed=pairs.observed[beyond].astype(np.float64),
        expected=pairs.expected[beyond], days=pairs.pair_days[ragged_indices(pairs.day_offsets, beyond)],
        day_offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)))
