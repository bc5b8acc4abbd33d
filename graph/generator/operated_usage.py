"""Automated usage: the rings' extraction jobs, and API pipelines (the benign look-alike).

A ring's operator runs **jobs**: a batch of requests on one of its templates, spread over one to sixty
minutes and handed round robin to a subset of the members (careful operators touch only a few per
job), around the clock or on a cron schedule, for the weeks the campaign lasts. It moves to a new
model hours after its release, paraphrases some requests, and mixes in ordinary-looking sessions as
cover. Each member's requests leave through its own proxy exits, per request or per job. Bought
accounts first show their seller's light, ordinary use.

A pipeline sends thousands of templated requests from one account, day and night (busier in office
hours), many in a nightly batch; several companies' pipelines use the same template shape, so
always-on accounts co-occur in every window without acting together.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from graph.generator.draft import Draft
from graph.generator.events import Events
from graph.generator.habits import FLAGSHIPS, RELEASES, SMALL_MODELS, Habits, newest_flagship
from graph.generator.hard_negatives import HardNegatives
from graph.generator.human_usage import FrameSets, ordinary_frames, sessions
from graph.generator.rings import RingWorld
from graph.generator.slot_values import SlotValues
from graph.generator.templates import CatalogBuilder, extraction_frames
from graph.generator.timeline import DAY, HOUR, MINUTE

__all__ = ["Operated"]

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
_FOCUS = ("reasoning", "grading", "agentic", "coding")
_FOCUS_P = np.array([0.45, 0.2, 0.15, 0.2])
_ACTIVE = 0.7  # share of a job's requests whose member is active at the time (members come and go)


class Operated:
    """Ring jobs, their cover and warm-up sessions, and pipelines."""

    def __init__(
        self,
        rng: np.random.Generator,
        builder: CatalogBuilder,
        habits: Habits,
        sets: FrameSets,
        vocabulary: SlotValues,
        draft: Draft,
        world: RingWorld,
        negatives: HardNegatives,
        budgets: dict[str, float],
    ) -> None:
        self.habits, self.sets, self.vocabulary = habits, sets, vocabulary
        self.op_from = draft.operated_from
        self.op_until = np.minimum(draft.operated_until, habits.end)
        self._plan_rings(rng, builder, draft, world, budgets["rings"])
        self._plan_pipelines(rng, negatives, budgets["pipelines"])

    def events(self, rng: np.random.Generator, t0: int, t1: int) -> list[Events]:
        h = self.habits
        window = (self.op_from[self.covered], self.op_until[self.covered])
        slot, ts, first = sessions(rng, h, self.covered, self.cover_rate, t0, t1, window=window)
        frame, fill = ordinary_frames(rng, self.sets, self.vocabulary, np.full(len(slot), 0.1), first)
        cover = Events.of(slot, ts, frame, fill=fill)
        seller = (h.start[self.aged], self.op_from[self.aged] - 1)
        slot, ts, first = sessions(rng, h, self.aged, self.warm_rate, t0, t1, window=seller)
        frame, fill = ordinary_frames(rng, self.sets, self.vocabulary, np.full(len(slot), 0.2), first)
        warm = Events.of(slot, ts, frame, fill=fill)
        return [self._jobs(rng, t0, t1), cover, warm, self._pipelines(rng, t0, t1)]

    def _plan_rings(
        self, rng: np.random.Generator, builder: CatalogBuilder, draft: Draft, world: RingWorld, budget: float
    ) -> None:
        plans = world.plans
        members = [np.flatnonzero(draft.ring == r) for r in range(len(plans))]
        wording: dict[int, tuple[Ints, Ints, dict[str, float], bool]] = {}
        jobs: list[tuple[Ints, ...]] = []
        weight = np.zeros(len(plans))
        self.ring_first = np.array([int(m[0]) for m in members], dtype=np.int64)
        r_count = len(plans)
        self.ring_para = np.where(rng.random(r_count) < 0.6, 0.0, rng.uniform(0.05, 0.35, r_count))
        self.ring_lag = rng.uniform(1 * HOUR, 12 * HOUR, r_count)
        self.ring_sticky = rng.random(r_count) < 0.5
        cover = rng.uniform(0.0, 0.25, r_count)
        for r, plan in enumerate(plans):
            m = members[r]
            self.habits.hidden[m] = rng.random() < 0.1  # the provider keeps this ring's text to itself
            frames, variants = self._wording(rng, builder, wording, plan.operation)
            start, end = int(self.op_from[m].min()), int(max(self.op_until[m].max(), self.op_from[m].min() + DAY))
            days = (end - start) / DAY
            per_day = float(np.clip(np.exp(rng.normal(np.log(5.0), 0.8)), 0.5, 48.0))
            t = self._schedule(rng, start, end, per_day, int(self.habits.tz[m[0]]))
            n = len(t)
            pick = rng.choice(len(frames), n, p=_decay(len(frames)))
            cells = np.maximum(draft.cell[m], 0)
            local = (plan.cells > 1) & (rng.random(n) < 0.6)
            cell = rng.integers(0, plan.cells, n)
            cell_start = np.searchsorted(cells, np.arange(plan.cells))
            cell_size = np.bincount(cells, minlength=plan.cells)
            base = np.where(local, cell_start[cell], 0)
            span = np.where(local, cell_size[cell], plan.size)
            phi = rng.uniform(0.15, 1.0)
            take = np.clip(rng.binomial(span, phi), np.minimum(span, 2), span)
            spread = float(np.clip(np.exp(rng.normal(np.log(8 * MINUTE), 1.0)), MINUTE, 60 * MINUTE))
            jobs.append(
                (
                    np.full(n, r),
                    t,
                    frames[pick],
                    variants[pick],
                    base,
                    span,
                    take,
                    rng.integers(0, 1 << 30, n) % span,
                    np.full(n, int(spread)),
                )
            )
            weight[r] = plan.size * days * np.exp(rng.normal(0.0, 0.6))
        volume = budget * weight / max(weight.sum(), 1.0)
        columns = [np.concatenate(c) for c in zip(*jobs, strict=True)]
        ring, t, frame, variant, base, span, take, offset, spreads = columns
        per_job = volume[ring] * (1 - cover[ring]) / _ACTIVE / np.maximum(np.bincount(ring, minlength=r_count)[ring], 1)
        mean_take = np.bincount(ring, weights=take, minlength=r_count) / np.maximum(
            np.bincount(ring, minlength=r_count), 1
        )
        size = 1 + rng.poisson(np.maximum(per_job * take / np.maximum(mean_take[ring], 1.0) - 1.0, 0.0))
        order = np.argsort(t, kind="stable")
        self.job = {
            "ring": ring,
            "t": t,
            "frame": frame,
            "variant": variant,
            "base": base,
            "span": span,
            "take": take,
            "offset": offset,
            "spread": spreads,
            "size": size,
        }
        self.job = {k: v[order] for k, v in self.job.items()}
        ring_members = np.concatenate(members)
        self.covered = ring_members
        active = np.maximum(self.op_until[ring_members] - self.op_from[ring_members], 1).astype(np.float64)
        of = draft.ring[ring_members]
        total = np.bincount(of, weights=active, minlength=r_count)
        self.cover_rate = volume[of] * cover[of] / np.maximum(total[of], 1.0)
        aged = np.array([p.aged for p in plans])
        self.aged = ring_members[aged[of]]
        self.warm_rate = np.full(len(self.aged), 3.0 / (30 * DAY))  # a few requests a month

    def _wording(
        self,
        rng: np.random.Generator,
        builder: CatalogBuilder,
        wording: dict[int, tuple[Ints, Ints, dict[str, float], bool]],
        operation: int,
    ) -> tuple[Ints, Ints]:
        """An operation's templates; each later campaign may add one more in the same wording."""
        if operation in wording:
            frames, variants, focus, items = wording[operation]
            if focus and rng.random() < 0.4:
                more = extraction_frames(rng, builder, focus, 1, items)
                frames, variants = np.r_[frames, more[0]], np.r_[variants, more[1]]
            return frames, variants
        if rng.random() < 0.15:  # a public prompt pasted verbatim, and never paraphrased
            frames = rng.choice(self.sets.verbatim, int(rng.integers(1, len(self.sets.verbatim) + 1)), replace=False)
            wording[operation] = (frames, frames, {}, False)
            return frames, frames
        k = int(rng.integers(1, 4))
        chosen = rng.choice(len(_FOCUS), k, replace=False, p=_FOCUS_P)
        focus = {_FOCUS[int(c)]: float(w) for c, w in zip(chosen, rng.dirichlet(np.ones(k)), strict=True)}
        items = rng.random() < 0.3  # public benchmark items as inputs
        frames, variants = extraction_frames(rng, builder, focus, int(rng.integers(max(2, k), 7)), items)
        wording[operation] = (frames, variants, focus, items)
        return frames, variants

    @staticmethod
    def _schedule(rng: np.random.Generator, start: int, end: int, per_day: float, tz: int) -> Ints:
        """Job start times: a cron schedule, round the clock at random, or an operator's shift."""
        kind = rng.choice(3, p=[0.4, 0.45, 0.15])
        if kind == 0:
            hours = np.sort(rng.integers(0, DAY, max(1, round(per_day))))
            days = np.arange(start // DAY, end // DAY + 1)
            t = (days[:, None] * DAY + hours[None, :]).ravel() + rng.normal(
                0, 3 * MINUTE, len(days) * len(hours)
            ).astype(np.int64)
        else:
            t = start + (rng.random(rng.poisson(per_day * (end - start) / DAY)) * (end - start)).astype(np.int64)
            if kind == 2:
                t = (t + tz) // DAY * DAY + rng.integers(8 * HOUR, 20 * HOUR, len(t)) - tz
        kept: Ints = np.sort(t[(t >= start) & (t <= end)])
        return kept

    def _jobs(self, rng: np.random.Generator, t0: int, t1: int) -> Events:
        job = self.job
        pick = np.arange(*np.searchsorted(job["t"], [t0, t1]))
        size = job["size"][pick]
        j = np.repeat(pick, size)
        i = np.arange(len(j)) - np.repeat(np.cumsum(size) - size, size)
        p = i % job["take"][j]  # round robin over the job's members
        ring = job["ring"][j]
        slot = self.ring_first[ring] + job["base"][j] + (job["offset"][j] + p) % job["span"][j]
        step = np.repeat(job["spread"][pick] / np.maximum(size, 1), size)
        ts = job["t"][j] + (i * step + rng.random(len(j)) * step).astype(np.int64)
        frame = np.where(rng.random(len(j)) < self.ring_para[ring], job["variant"][j], job["frame"][j])
        key = np.where(self.ring_sticky[ring], j * 4096 + p % 4096, -1)
        events = Events.of(slot, ts, frame, model=newest_flagship(ts, self.ring_lag[ring]), key=key)
        return events.take((ts >= self.op_from[slot]) & (ts <= self.op_until[slot]))

    def _plan_pipelines(self, rng: np.random.Generator, negatives: HardNegatives, budget: float) -> None:
        h = self.habits
        companies = negatives.pipelines
        self.pipe = np.concatenate(companies) if companies else np.zeros(0, dtype=np.int64)
        n = len(self.pipe)
        shapes = _decay(len(self.sets.pipeline), 1.2)
        frames = self.sets.pipeline[rng.choice(len(shapes), (len(companies), 2), p=shapes)]
        company = np.repeat(np.arange(len(companies)), [len(c) for c in companies])
        self.pipe_frames = frames[company] if n else np.zeros((0, 2), dtype=np.int64)
        for members in companies:
            h.hidden[members] = rng.random() < 0.4  # enterprise customers share no text
        span = np.maximum(h.end[self.pipe] - h.start[self.pipe], 0).astype(np.float64)
        weight = np.exp(rng.normal(0.0, 1.0, n))
        self.pipe_rate = budget * weight / max(float((weight * span).sum()), 1.0)
        self.pipe_batch = np.where(rng.random(n) < 0.3, 0.4, 0.0)  # share of volume in a nightly batch
        self.pipe_hour = rng.integers(1 * HOUR, 4 * HOUR, n)
        self.pipe_small = rng.random(n) < 0.6
        self.pipe_upgrade = rng.uniform(30, 200, (n, len(RELEASES))) * DAY

    def _pipelines(self, rng: np.random.Generator, t0: int, t1: int) -> Events:
        h = self.habits
        a = np.arange(len(self.pipe))
        lo, hi = np.maximum(h.start[self.pipe], t0), np.minimum(h.end[self.pipe] + 1, t1)
        dur = np.maximum(hi - lo, 0)
        n = rng.poisson(self.pipe_rate * dur * (1 - self.pipe_batch) / 0.8)
        who = np.repeat(a, n)
        ts = lo[who] + (rng.random(len(who)) * dur[who]).astype(np.int64)
        hour = (ts + h.tz[self.pipe[who]]) % DAY // HOUR
        keep = rng.random(len(who)) < np.where((hour >= 8) & (hour < 19), 1.0, 0.6)
        who, ts = who[keep], ts[keep]
        days = np.arange(t0 // DAY - 1, t1 // DAY + 1)
        nightly = np.repeat(a[self.pipe_batch > 0], len(days))
        night = (
            np.tile(days, int((self.pipe_batch > 0).sum())) * DAY + self.pipe_hour[nightly] - h.tz[self.pipe[nightly]]
        )
        inside = (night >= lo[nightly]) & (night < hi[nightly])
        nightly, night = nightly[inside], night[inside]
        batch = rng.poisson(self.pipe_rate[nightly] * DAY * self.pipe_batch[nightly])
        nightly, night, batch = nightly[batch > 0], night[batch > 0], batch[batch > 0]
        b_who = np.repeat(nightly, batch)
        steps = np.cumsum(rng.uniform(0.5, 3.0, len(b_who)))
        steps -= np.repeat(steps[np.cumsum(batch) - batch], batch) if len(b_who) else 0.0
        who = np.r_[who, b_who]
        ts = np.r_[ts, np.repeat(night, batch) + steps.astype(np.int64)]
        frame = self.pipe_frames[who, (rng.random(len(who)) < 0.25).astype(np.int64)]
        gen = sum((ts >= t + self.pipe_upgrade[who, k]).astype(np.int64) for k, (t, _, _) in enumerate(RELEASES))
        model = np.where(self.pipe_small[who], SMALL_MODELS[gen], FLAGSHIPS[gen])
        count = np.where(rng.random(len(who)) < 0.08, rng.integers(2, 21, len(who)), 1)
        return Events.of(self.pipe[who], ts, frame, model=model, count=count)


def _decay(n: int, skew: float = 0.7) -> Floats:
    weights = 1.0 / (np.arange(n) + 1.0) ** skew
    p: Floats = weights / weights.sum()
    return p
