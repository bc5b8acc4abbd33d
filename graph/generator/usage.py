"""The usage log (`events.csv`): who sent what, when, from where, to which model.

The log is meant to be as hard as real traffic. Half of it is people's own sessions (diurnal,
weekday-shaped, heavy-tailed volume, some popular public templates); a quarter is the rings'
extraction jobs (`graph.generator.operated_usage`); the rest are the hard negatives that look
coordinated and are not: classes doing one assignment in the same two hours, researchers running the
same public benchmark (many on a release day), API pipelines sending one template shape around the
clock, and teams sharing an internal assistant (`graph.generator.human_usage`).

It is drawn from its own random stream, `SeedSequence([seed, USAGE_STREAM])`: one child for the
plan (habits, wording, schedules) and one per week of the window, so the log can be retuned without
reshuffling links.csv, and every week is drawn independently of the number of weeks before it.
Week by week, events are resolved (slot values, model, source IP among the account's IP links,
provider category, token counts), sorted by time and written: the file is in time order, and memory
holds about one week of events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from graph.generator.draft import COHORTS, Draft
from graph.generator.entities import Links
from graph.generator.events import EventLog, Events, ResolvedEvents
from graph.generator.frames import BENCHMARK, PERSONAL, PIPELINE, POPULAR, VERBATIM_EXTRACTION
from graph.generator.habits import Habits, IpChooser, draw_habits
from graph.generator.hard_negatives import HardNegatives
from graph.generator.human_usage import FrameSets, People
from graph.generator.operated_usage import Operated
from graph.generator.rings import RingWorld
from graph.generator.slot_values import build_slot_values
from graph.generator.templates import CATEGORIES, Catalog, CatalogBuilder
from graph.generator.text import prefixed_numbers
from graph.generator.timeline import DAY, WINDOW_END, WINDOW_START

__all__ = ["DEFAULT_EVENTS_PER_ACCOUNT", "USAGE_STREAM", "UsageInput", "write_usage_log"]

Ints = npt.NDArray[np.int64]
DEFAULT_EVENTS_PER_ACCOUNT = 100.0
USAGE_STREAM = 0x7573_6167  # "usag": the usage log's own stream, beside the population's
# Shares of the log's volume by source.
SHARES: dict[str, float] = {
    "people": 0.50,
    "rings": 0.25,
    "pipelines": 0.12,
    "classes": 0.035,
    "benchmarks": 0.045,
    "teams": 0.05,
}
_WEEK = 7 * DAY
_MISLABELLED = 0.06  # the provider's classifier gets this share of categories wrong


@dataclass(frozen=True)
class UsageInput:
    """What the usage log is drawn for: the finished population and its links."""

    seed: int
    draft: Draft
    world: RingWorld
    negatives: HardNegatives
    links: Links
    rank: Ints  # slot -> output rank (account id order)


def write_usage_log(
    out_dir: Path,
    usage: UsageInput,
    events_per_account: float,
    compress: bool,
    report: Callable[[str, float], None],
) -> dict[str, int]:
    """Write events.csv (or events.csv.gz) with about `events_per_account` rows per account."""
    for stale in ("events.csv", "events.csv.gz"):
        (out_dir / stale).unlink(missing_ok=True)
    if events_per_account == 0:
        return {}
    draft = usage.draft
    n = draft.accounts
    weeks = -(-(WINDOW_END + 1 - WINDOW_START) // _WEEK)
    plan_seed, *week_seeds = np.random.SeedSequence([usage.seed, USAGE_STREAM]).spawn(1 + weeks)
    rng = np.random.Generator(np.random.PCG64(plan_seed))
    chooser = IpChooser(usage.links, n)
    habits = draw_habits(rng, draft, chooser)
    vocabulary = build_slot_values(rng, n // 10)
    builder = CatalogBuilder()
    sets = _shared_frames(builder)
    budgets = {source: share * events_per_account * n for source, share in SHARES.items()}
    people = ~np.isin(draft.cohort, [COHORTS.index("ring"), COHORTS.index("pipeline")])
    sources = (
        People(rng, builder, habits, sets, vocabulary, people, usage.negatives, budgets),
        Operated(rng, builder, habits, sets, vocabulary, draft, usage.world, usage.negatives, budgets),
    )
    catalog = builder.build(vocabulary)
    width = max(7, len(str(n - 1)))
    ids = prefixed_numbers("acc_", np.arange(n, dtype=np.int64), width)
    ip_text = draft.registry.spellings("ip")[: draft.registry.size("ip")]
    name = "events.csv.gz" if compress else "events.csv"
    log = EventLog(out_dir / name, ids, usage.rank, catalog, ip_text)
    carry: ResolvedEvents | None = None
    try:
        for week, seed in enumerate(week_seeds):
            week_rng = np.random.Generator(np.random.PCG64(seed))
            t0 = WINDOW_START + week * _WEEK
            t1 = min(t0 + _WEEK, WINDOW_END + 1)
            batch = Events.concat([e for source in sources for e in source.events(week_rng, t0, t1)])
            # Nothing before the week (the order of the file), the window's end or the account's sign-up.
            batch = batch.take((batch.ts >= np.maximum(t0, draft.created[batch.slot])) & (batch.ts <= WINDOW_END))
            rows = _resolve(week_rng, batch, habits, chooser, catalog)
            if carry is not None:
                rows = ResolvedEvents.concat([carry, rows])
            rows = rows.take(np.lexsort((usage.rank[rows.slot], rows.ts)))
            cut = int(np.searchsorted(rows.ts, t1))
            log.write(rows.take(np.arange(cut)))
            carry = rows.take(np.arange(cut, len(rows)))
            report("usage log", 0.1 + 0.89 * (week + 1) / weeks)
        if carry is not None:
            log.write(carry)
    finally:
        log.close()
    return {name: log.rows}


def _shared_frames(builder: CatalogBuilder) -> FrameSets:
    personal = builder.add_all(PERSONAL)
    rest = 1.0 / (np.arange(len(personal) - 1) + 1.0) ** 0.9
    popular = builder.add_all(POPULAR)
    popular_p = 1.0 / (np.arange(len(popular)) + 1.0)
    return FrameSets(
        personal=personal,
        personal_p=np.r_[0.45, 0.55 * rest / rest.sum()],  # half of what people ask is their own question
        popular=popular,
        popular_p=popular_p / popular_p.sum(),
        verbatim=builder.add_all(VERBATIM_EXTRACTION),
        benchmark=builder.add_all(BENCHMARK),
        pipeline=np.array([builder.add(t, c, o, ctx) for c, t, o, ctx in PIPELINE], dtype=np.int64),
    )


def _resolve(
    rng: np.random.Generator, batch: Events, habits: Habits, chooser: IpChooser, catalog: Catalog
) -> ResolvedEvents:
    """Every choice the sources left open, plus what the provider records about each request."""
    n = len(batch)
    slot, ts, frame = batch.slot, batch.ts, batch.frame
    vocabulary = catalog.vocabulary
    types = catalog.types[frame]
    drawn = vocabulary.offset[types] + (rng.random(types.shape) * vocabulary.size[types]).astype(np.int64)
    fill = np.where(batch.fill < 0, drawn, batch.fill)
    model = batch.model.copy()
    open_model = model < 0
    model[open_model] = habits.model(rng, slot[open_model], ts[open_model])
    ip = batch.ip.copy()
    open_ip = ip < 0
    ip[open_ip] = chooser.pick(rng, slot[open_ip], ts[open_ip], batch.key[open_ip])
    category = catalog.category[frame].copy()
    wrong = rng.random(n) < _MISLABELLED
    category[wrong] = rng.integers(0, len(CATEGORIES), int(wrong.sum()))
    chars = catalog.chars[frame] + vocabulary.chars[fill].sum(axis=1)
    context = catalog.context[frame]
    extra = np.where(context > 0, np.exp(rng.normal(np.log(np.maximum(context, 1.0)), 0.5)), 0.0)
    output = np.exp(rng.normal(np.log(catalog.output[frame]), 0.55))
    return ResolvedEvents(
        slot=slot,
        ts=ts,
        frame=frame,
        fill=fill,
        model=model,
        input_tokens=(((chars + 3) // 4 + extra.astype(np.int64)) * batch.count).astype(np.int64),
        output_tokens=(np.maximum(output, 1.0).astype(np.int64) * batch.count).astype(np.int64),
        category=category,
        ip=ip,
        count=batch.count,
        hidden=habits.hidden[slot],
    )
