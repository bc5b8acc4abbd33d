"""The usage aggregates a run reads (graph/store/usage_reads.py), as flat arrays over its accounts."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["UsageIndex", "usage_index"]


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
