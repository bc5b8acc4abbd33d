"""Segment reductions for scoring many rings at once, bit for bit what a per-ring loop computes.

Scoring works on flat, segment-major arrays (one segment per ring, per (ring, group) or per
(subject, organisation)), described by a pointer array ``ptr``: segment s is ``[ptr[s], ptr[s+1])``,
as a CSR matrix's ``indptr``. Counts, maxima and integer sums do not depend on the order of
summation; float sums do, so :func:`segment_sum` reproduces ``np.add.reduce`` of each segment
exactly: NumPy sums a contiguous float64 array pairwise (blocks of at most 128 values summed with 8
interleaved accumulators, split in halves above that; ``pairwise_sum`` in numpy/_core/src/umath/
loops_utils.h.src), and so does this, vectorised over segments, with one pass per 8 values of the
longest block rather than one per segment. :func:`exact_sum` is :func:`math.fsum` per segment (for
sums the old code took with fsum). :func:`unique_ints` is ``np.unique`` of an integer array by
sorting: NumPy 2.4's hash-based ``np.unique`` takes seconds on a few million distinct int64 keys.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = ["exact_sum", "expand", "group_ptr", "run_starts", "segment_ids", "segment_sum", "unique_ints"]

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

_BLOCK = 128  # NumPy's PW_BLOCKSIZE
_UNROLL = 8


def segment_ids(ptr: Ints) -> Ints:
    """Per element of the segmented array: its segment."""
    out: Ints = np.repeat(np.arange(ptr.shape[0] - 1, dtype=np.int64), np.diff(ptr))
    return out


def group_ptr(keys: Ints, n: int) -> Ints:
    """Pointer array of `n` segments over sorted integer `keys` in ``[0, n)`` (empty segments allowed)."""
    out: Ints = np.r_[0, np.cumsum(np.bincount(keys, minlength=n))].astype(np.int64)
    return out


def unique_ints(keys: npt.NDArray[np.integer]) -> Ints:
    """``np.unique(keys)`` for integers, by sorting (as fast as one sort, whatever the keys)."""
    s = np.sort(np.asarray(keys, np.int64).ravel())
    out: Ints = s[np.r_[True, s[1:] != s[:-1]]] if s.shape[0] else s
    return out


def run_starts(sorted_keys: npt.NDArray[np.integer]) -> Ints:
    """Positions where a run of equal values starts in `sorted_keys`."""
    if sorted_keys.shape[0] == 0:
        return np.zeros(0, np.int64)
    out: Ints = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]).astype(np.int64)
    return out


def expand(starts: Ints, lengths: Ints) -> Ints:
    """``concatenate([arange(s, s + k) for s, k in zip(starts, lengths)])`` without the loop."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    offsets = np.repeat(starts - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
    out: Ints = np.arange(total, dtype=np.int64) + offsets
    return out


def segment_sum(values: Floats, ptr: Ints) -> Floats:
    """Per segment: ``np.add.reduce(values[ptr[s]:ptr[s+1]])``, with NumPy's own summation order."""
    values = np.ascontiguousarray(values, np.float64)
    return _pairwise(values, ptr[:-1].astype(np.int64), np.diff(ptr).astype(np.int64))


def _pairwise(values: Floats, start: Ints, n: Ints) -> Floats:
    out = np.empty(start.shape[0], np.float64)
    small = n <= _BLOCK
    out[small] = _block(values, start[small], n[small])
    big = ~small
    if big.any():
        half = n[big] // 2
        half -= half % _UNROLL
        out[big] = _pairwise(values, start[big], half) + _pairwise(values, start[big] + half, n[big] - half)
    return out


def _block(values: Floats, start: Ints, n: Ints) -> Floats:
    out = np.zeros(start.shape[0], np.float64)
    short = n < _UNROLL
    s, k = start[short], n[short]
    acc = np.zeros(s.shape[0], np.float64)
    for i in range(_UNROLL - 1):  # sequential from 0.0
        on = k > i
        acc[on] += values[s[on] + i]
    out[short] = acc
    s, k = start[~short], n[~short]
    if s.shape[0]:
        lanes = np.arange(_UNROLL)
        r = values[s[:, None] + lanes]
        full = k - k % _UNROLL
        for b in range(1, _BLOCK // _UNROLL):  # eight interleaved accumulators
            on = full > _UNROLL * b
            if not on.any():
                break
            r[on] += values[s[on, None] + _UNROLL * b + lanes]
        res = ((r[:, 0] + r[:, 1]) + (r[:, 2] + r[:, 3])) + ((r[:, 4] + r[:, 5]) + (r[:, 6] + r[:, 7]))
        for i in range(_UNROLL - 1):  # the remainder, sequentially
            on = (k % _UNROLL) > i
            res[on] += values[s[on] + full[on] + i]
        out[~short] = res
    return out


def exact_sum(values: Floats, ptr: Ints) -> Floats:
    """Per segment: ``math.fsum`` (correctly rounded). One or two terms need no help; more are rare."""
    lengths = np.diff(ptr)
    out = np.zeros(lengths.shape[0], np.float64)
    one = lengths == 1
    out[one] = values[ptr[:-1][one]]
    two = lengths == 2
    out[two] = values[ptr[:-1][two]] + values[ptr[:-1][two] + 1]
    for s in np.flatnonzero(lengths > 2).tolist():  # segments of three or more terms only
        out[s] = math.fsum(values[ptr[s] : ptr[s + 1]].tolist())
    return out
