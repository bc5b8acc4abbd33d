"""The usage log: events as fixed-width records while generating, text only when written.

Generators hand `EventLog.add` numeric records (who, when, which frame and slot values, model,
address, ...). Records are spilled to one scratch file per week; `EventLog.write` then loads one
week at a time, sorts it by time, renders the prompt text with Arrow's string kernels and appends
CSV bytes (gzip-compressed with a fixed header, so output is byte-identical per seed). Memory is
bounded by a week of the log, not by the log.
"""

from __future__ import annotations

import gzip
import shutil
from io import BufferedWriter
from pathlib import Path
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .population import Population
from .templates import Renderer
from .world import CATEGORIES, COHORTS, END, EPOCH, MODELS, WEEK

__all__ = ["EVENT", "HEADER", "EventLog", "records"]

EVENT: Final = np.dtype(
    [
        ("account", np.int32),
        ("ts", np.int64),
        ("frame", np.int32),
        ("slots", np.int32, (4,)),
        ("noise", np.uint8),
        ("model", np.int8),
        ("category", np.int8),
        ("in_extra", np.int32),
        ("out", np.int32),
        ("ip", np.int32),
        ("count", np.int16),
    ]
)
HEADER: Final = (
    "account_id",
    "ts",
    "prompt",
    "prompt_fingerprint",
    "model",
    "input_tokens",
    "output_tokens",
    "category",
    "ip",
    "count",
)


def records(
    pop: Population,
    rng: np.random.Generator,
    account: np.ndarray,
    ts: np.ndarray,
    frame: np.ndarray,
    model: np.ndarray,
    ip: np.ndarray,
    noise: np.ndarray | None = None,
    slots: np.ndarray | None = None,
    count: np.ndarray | None = None,
) -> np.ndarray:
    """Event records: slot values, category label (the provider's classifier, ~90% right), tokens."""
    n = account.size
    out = np.empty(n, EVENT)
    out["account"], out["ts"], out["frame"], out["model"], out["ip"] = account, ts, frame, model, ip
    out["slots"] = pop.bank.draw_slots(rng, frame) if slots is None else slots
    out["noise"] = 0 if noise is None else noise
    out["count"] = 1 if count is None else count
    bank = pop.bank
    category = np.asarray(bank.category, np.int8)[frame]
    wrong = rng.random(n) < 0.1
    category[wrong] = rng.integers(len(CATEGORIES), size=int(wrong.sum()))
    out["category"] = category
    out["out"] = np.maximum(1, np.asarray(bank.out_median)[frame] * rng.lognormal(0, 0.6, n)).astype(np.int32)
    extra = np.asarray(bank.in_extra)[frame] * rng.lognormal(0, 0.5, n) + rng.integers(0, 60, n)
    out["in_extra"] = extra.astype(np.int32)
    return out


class EventLog:
    """Collects event records per week on disk, then writes events.csv[.gz] in time order."""

    def __init__(self, pop: Population, directory: Path) -> None:
        self.pop = pop
        self.scratch = directory / ".events-scratch"
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.scratch.mkdir(parents=True)
        self._files: dict[int, BufferedWriter] = {}
        self.rows = np.zeros(len(COHORTS), np.int64)
        self.requests = np.zeros(len(COHORTS), np.int64)

    def add(self, batch: np.ndarray) -> None:
        pop = self.pop
        account, ts = batch["account"], batch["ts"]
        keep = (ts >= np.maximum(pop.created[account], EPOCH)) & (ts < np.minimum(pop.until[account], END))
        batch = batch[keep]
        if not batch.size:
            return
        cohort = pop.cohort[batch["account"]]
        self.rows += np.bincount(cohort, minlength=len(COHORTS))
        self.requests += np.bincount(cohort, weights=batch["count"], minlength=len(COHORTS)).astype(np.int64)
        week = (batch["ts"] - EPOCH) // WEEK
        order = np.argsort(week, kind="stable")
        batch, week = batch[order], week[order]
        bounds = np.flatnonzero(np.diff(week)) + 1
        for part in np.split(batch, bounds):
            w = int((part["ts"][0] - EPOCH) // WEEK)
            handle = self._files.get(w)
            if handle is None:
                handle = self._files[w] = open(self.scratch / f"week-{w:03d}.bin", "ab")  # noqa: SIM115
            part.tofile(handle)

    def write(self, path: Path, account_ids: pa.Array) -> int:
        """Render every week in time order into `path` (gzip if it ends in .gz); the number of rows."""
        for handle in self._files.values():
            handle.close()
        renderer = self.pop.bank.renderer()
        addresses = self.pop.networks.registry.strings()
        channel = self.pop.channel.astype(bool)
        written = 0
        raw = open(path, "wb")  # noqa: SIM115
        sink = (
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=3, mtime=0)
            if path.suffix == ".gz"
            else raw
        )
        try:
            sink.write((",".join(HEADER) + "\n").encode())
            for w in sorted(self._files):
                scratch = self.scratch / f"week-{w:03d}.bin"
                week = np.fromfile(scratch, dtype=EVENT)
                week = week[np.lexsort((week["account"], week["ts"]))]
                sink.write(_render(week, renderer, addresses, account_ids, channel))
                written += week.size
                scratch.unlink()
        finally:
            sink.close()
            if sink is not raw:
                raw.close()
        shutil.rmtree(self.scratch, ignore_errors=True)
        return written


_QUOTE: Final = r'[",\n\r]'
_MODELS: Final = pa.array(MODELS, pa.string())
_CATEGORIES: Final = pa.array(CATEGORIES, pa.string())


def _render(
    week: np.ndarray, renderer: Renderer, addresses: pa.Array, account_ids: pa.Array, channel: np.ndarray
) -> memoryview:
    account = week["account"]
    text = renderer.text(week["frame"], week["slots"], week["noise"].astype(np.int64))
    hidden = channel[account]
    length = pc.utf8_length(text).to_numpy()
    input_tokens = (length + 3) // 4 + week["in_extra"]
    if hidden.any():
        mask = pa.array(hidden)
        fingerprint = pc.if_else(mask, renderer.fingerprint(week["frame"], week["slots"]), "")
        text = pc.if_else(mask, "", text)
    else:
        fingerprint = pa.nulls(week.size, pa.string()).fill_null("")
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    prompt = pc.if_else(pc.match_substring_regex(text, _QUOTE), quoted, text)
    ts = pc.strftime(pa.array(week["ts"], pa.timestamp("s", tz="UTC")), format="%Y-%m-%dT%H:%M:%SZ")
    columns = [
        account_ids.take(pa.array(account)),
        ts,
        prompt,
        fingerprint,
        _MODELS.take(pa.array(week["model"].astype(np.int64))),
        pc.cast(pa.array(input_tokens), pa.string()),
        pc.cast(pa.array(week["out"]), pa.string()),
        _CATEGORIES.take(pa.array(week["category"].astype(np.int64))),
        addresses.take(pa.array(week["ip"])),
        pc.cast(pa.array(week["count"]), pa.string()),
    ]
    lines = pc.binary_join_element_wise(pc.binary_join_element_wise(*columns, ","), "", "\n")
    lines = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset : lines.offset + len(lines) + 1]
    return memoryview(lines.buffers()[2])[offsets[0] : offsets[-1]]
