"""The usage aggregates a run reads (graph/store/usage_reads.py), as flat arrays over its accounts."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from graph.projection import ragged_indices

__all__ = ["UsageIndex", "sent_active_at", "usage_index"]


@dataclass(frozen=True)
class UsageIndex:
    """SENT relationships of the templates co-action can use, one row each, with their minutes.

    ``sent_account`` indexes the run's account ids (-1 for an account outside the run);
    ``minutes[minute_offsets[i]:minute_offsets[i + 1]]`` are row i's distinct epoch minutes.
    """

    template_keys: npt.NDArray[np.str_]
    template_senders: npt.NDArray[np.int64]  # distinct accounts that sent each template (all of them)
    template_skeleton: tuple[str | None, ...]
    sent_template: npt.NDArray[np.int32]
    sent_account: npt.NDArray[np.int32]
    minutes: npt.NDArray[np.int64]
    minute_offsets: npt.NDArray[np.int64]

    @property
    def n_sent(self) -> int:
        return int(self.sent_template.shape[0])


def usage_index(
    templates: list[tuple[str, int, str | None, list[tuple[str, list[int]]]]], account_ids: npt.NDArray[np.str_]
) -> UsageIndex:
    """From (fingerprint, senders, skeleton, [(account_id, minutes), ...]) per template, in any order;
    rows come out in (template key, account) order, so the result does not depend on the read's order."""
    templates = sorted(templates, key=lambda t: t[0])
    position = {str(a): i for i, a in enumerate(account_ids.tolist())}
    sent_template: list[int] = []
    sent_account: list[int] = []
    chunks: list[list[int]] = []
    for index, (_, _, _, sent) in enumerate(templates):
        for account_id, minutes in sorted(sent, key=lambda s: s[0]):
            sent_template.append(index)
            sent_account.append(position.get(account_id, -1))
            chunks.append(minutes or [])
    # Each row's distinct minutes, ascending: one sort over all rows rather than one per row.
    row = np.repeat(np.arange(len(chunks), dtype=np.int64), [len(c) for c in chunks])
    minute = np.fromiter(itertools.chain.from_iterable(chunks), dtype=np.int64, count=row.shape[0])
    order = np.lexsort((minute, row))
    row, minute = row[order], minute[order]
    distinct = np.ones(row.shape[0], bool)
    distinct[1:] = (np.diff(row) != 0) | (np.diff(minute) != 0)
    lengths = np.bincount(row[distinct], minlength=len(chunks)).astype(np.int64)
    return UsageIndex(
        template_keys=np.array([t[0] for t in templates], dtype=np.str_),
        template_senders=np.array([t[1] for t in templates], dtype=np.int64),
        template_skeleton=tuple(t[2] for t in templates),
        sent_template=np.array(sent_template, dtype=np.int32),
        sent_account=np.array(sent_account, dtype=np.int32),
        minutes=minute[distinct],
        minute_offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
    )


def sent_active_at(usage: UsageIndex, n_accounts: int) -> npt.NDArray[np.float64]:
    """Per account of the run, when it began acting by what it sent: the first quartile of the
    minutes in which it sent a template of `usage` of 2 or more senders (each template's minutes
    counted, as epoch seconds); NaN for an account that sent none. A run's usage holds the templates
    co-action reads (2 to max_senders senders), so a public template does not count.

    The campaign cut (graph/detection/rings.py) asks when an account served its ring. Its links
    cannot always say: a bought account's seller left months of home, device and address history,
    and the median of its links falls there, so a ring of bought accounts was cut in two. What an
    account sends serves its operator; the first quartile, not the first minute, because a seller
    may have used the account lightly before the sale, and not the median, which lies mid-campaign
    where the links' median marks its start (the gap the cut measures was set on starts).
    """
    result = np.full(n_accounts, np.nan, np.float64)
    usable = (usage.template_senders[usage.sent_template] >= 2) & (usage.sent_account >= 0)
    rows = np.flatnonzero(usable)
    lengths = usage.minute_offsets[rows + 1] - usage.minute_offsets[rows]
    if int(lengths.sum()) == 0:
        return result
    account = np.repeat(usage.sent_account[rows].astype(np.int64), lengths)
    minute = usage.minutes[ragged_indices(usage.minute_offsets, rows)]
    order = np.lexsort((minute, account))
    account, minute = account[order], minute[order]
    starts = np.flatnonzero(np.r_[True, account[1:] != account[:-1]])
    counts = np.diff(np.r_[starts, account.shape[0]])
    result[account[starts]] = minute[starts + (counts - 1) // 4].astype(np.float64) * 60.0
    return result
