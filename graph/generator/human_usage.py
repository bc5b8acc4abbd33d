"""People's usage: everyday sessions, and the benign groups that look coordinated without being so.

- everyone (but API pipelines and operated accounts) has sessions: a few requests minutes apart, at
  the hours and on the weekdays of their habits, with heavy-tailed volume (most people send little,
  a few send a lot); most prompts are their own, some are popular public templates;
- classes send their assignment template in the same two-hour lab session each week of term, from
  the campus network, and keep at it at home afterwards;
- researchers run public benchmarks: every item verbatim, scripted seconds apart, at their own times,
  and many within a day of a new model's release, on that model;
- teams use their internal assistant's templates in office hours, some all at once in a daily routine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from graph.generator.events import Events
from graph.generator.frames import class_frames, team_frames
from graph.generator.habits import RELEASES, WORKER, Habits, newest_flagship
from graph.generator.hard_negatives import HardNegatives
from graph.generator.slot_values import BENCHMARK_SUITES, SlotValues
from graph.generator.templates import MAX_SLOTS, CatalogBuilder
from graph.generator.timeline import DAY, HOUR, MINUTE

__all__ = ["FrameSets", "People", "ordinary_frames", "sessions"]

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
MEAN_SESSION = 2.5  # requests


@dataclass(frozen=True)
class FrameSets:
    """The shared frames of the catalogue and how popular each is."""

    personal: Ints
    personal_p: Floats
    popular: Ints
    popular_p: Floats
    verbatim: Ints
    benchmark: Ints  # one per suite
    pipeline: Ints


_SUITE_SIZES = np.array([size for _, size in BENCHMARK_SUITES], dtype=np.int64)
_SUITE_OFFSETS = np.r_[0, np.cumsum(_SUITE_SIZES)[:-1]].astype(np.int64)


def _items(vocabulary: SlotValues, suite: Ints, k: Ints) -> Ints:
    """SlotValues index of item k (mod the suite's size) of each suite."""
    return vocabulary.item(0, _SUITE_OFFSETS[suite] + k % _SUITE_SIZES[suite])


def sessions(
    rng: np.random.Generator,
    habits: Habits,
    accounts: Ints,
    rate: Floats,
    t0: int,
    t1: int,
    *,
    window: tuple[Ints, Ints] | None = None,
    profile: Ints | None = None,
    mean: float = MEAN_SESSION,
) -> tuple[Ints, Ints, Ints]:
    """Requests of sessions in [t0, t1): (slot, ts, index of the session's first request).

    `rate` is each account's requests per second while active; its window defaults to its habits'.
    """
    start, end = window if window is not None else (habits.start[accounts], habits.end[accounts])
    lo, hi = np.maximum(start, t0), np.minimum(end + 1, t1)
    lam = rate * np.maximum(hi - lo, 0) / mean * rng.gamma(0.7, 1 / 0.7, len(accounts)) / 0.8
    n = rng.poisson(lam)
    who = np.repeat(np.arange(len(accounts)), n)
    ts = habits.local_times(rng, accounts[who], lo[who], hi[who], None if profile is None else profile[who])
    who, ts = who[ts >= 0], ts[ts >= 0]
    size = rng.geometric(1.0 / mean, len(who))
    slot = np.repeat(accounts[who], size)
    first = np.repeat(np.cumsum(size) - size, size)
    gaps = rng.exponential(habits.gap[slot])
    gaps[first == np.arange(len(slot))] = 0.0
    elapsed = np.cumsum(gaps)
    times = np.repeat(ts, size) + (elapsed - elapsed[first]).astype(np.int64)
    return slot, times, first


def ordinary_frames(
    rng: np.random.Generator, sets: FrameSets, vocabulary: SlotValues, popular: Floats, first: Ints
) -> tuple[Ints, Ints]:
    """Frames (and benchmark items) of everyday requests; follow-ups often repeat the first frame."""
    n = len(first)
    u = rng.random(n)
    frame = sets.personal[rng.choice(len(sets.personal), n, p=sets.personal_p)]
    use_popular = u < popular
    frame[use_popular] = sets.popular[rng.choice(len(sets.popular), int(use_popular.sum()), p=sets.popular_p)]
    verbatim = u > 0.998
    frame[verbatim] = sets.verbatim[rng.integers(0, len(sets.verbatim), int(verbatim.sum()))]
    suite = rng.integers(0, len(BENCHMARK_SUITES), n)
    bench = (u > 0.995) & ~verbatim
    frame[bench] = sets.benchmark[suite[bench]]
    follow = (first != np.arange(n)) & (rng.random(n) < 0.5)
    frame[follow] = frame[first[follow]]
    fill = np.full((n, MAX_SLOTS), -1, dtype=np.int64)
    item = np.isin(frame, sets.benchmark)
    which = np.searchsorted(sets.benchmark, frame[item])
    fill[item, 0] = _items(vocabulary, which, rng.integers(0, 1 << 30, int(item.sum())))
    return frame, fill


class People:
    """Everyday sessions of all people, plus classes, researchers and teams."""

    def __init__(
        self,
        rng: np.random.Generator,
        builder: CatalogBuilder,
        habits: Habits,
        sets: FrameSets,
        vocabulary: SlotValues,
        people: Bools,
        negatives: HardNegatives,
        budgets: dict[str, float],
    ) -> None:
        self.habits, self.sets, self.vocabulary = habits, sets, vocabulary
        n = len(people)
        weight = np.exp(rng.normal(0.0, 1.6, n)) * np.where(rng.random(n) < 0.2, 0.05, 1.0) * people
        span = np.maximum(habits.end - habits.start, 0).astype(np.float64)
        self.accounts = np.flatnonzero(people & (span > 0))
        self.rate = budgets["people"] * weight[self.accounts] / max(float((weight * span).sum()), 1.0)
        self.popular = rng.beta(0.6, 5.0, n)
        self._plan_classes(rng, builder, negatives, budgets["classes"])
        self._plan_benchmarks(rng, negatives.researchers, budgets["benchmarks"])
        self._plan_teams(rng, builder, negatives, budgets["teams"])

    def events(self, rng: np.random.Generator, t0: int, t1: int) -> list[Events]:
        slot, ts, first = sessions(rng, self.habits, self.accounts, self.rate, t0, t1)
        frame, fill = ordinary_frames(rng, self.sets, self.vocabulary, self.popular[slot], first)
        return [
            Events.of(slot, ts, frame, fill=fill),
            self._classes(rng, t0, t1),
            self._benchmarks(rng, t0, t1),
            *self._teams(rng, t0, t1),
        ]

    # Classes: one lab session a week per term, two hours, on campus.
    def _plan_classes(
        self, rng: np.random.Generator, builder: CatalogBuilder, hn: HardNegatives, budget: float
    ) -> None:
        starts: list[int] = []
        of: list[int] = []
        self.class_frames = np.zeros((len(hn.classes), 2), dtype=np.int64)
        for c, group in enumerate(hn.classes):
            main, lab = class_frames(rng, c)
            first = builder.add(main, "analysis", 600)
            self.class_frames[c] = first, builder.add(lab, "analysis", 700, family=first)
            tz = int(self.habits.tz[group.slots[0]])
            weekday, hour = int(rng.integers(0, 5)), int(rng.integers(9, 17))
            for term_start, term_end in group.terms:
                day = (term_start + tz) // DAY
                day += (weekday - (day + 3) % 7) % 7
                week = np.arange(0, (term_end - term_start) // (7 * DAY))
                starts += list((day + 7 * week) * DAY + hour * HOUR - tz)
                of += [c] * len(week)
        order = np.argsort(np.array(starts, dtype=np.int64), kind="stable")
        self.session_t = np.array(starts, dtype=np.int64)[order]
        self.session_class = np.array(of, dtype=np.int64)[order]
        members = [g.slots for g in hn.classes]
        self.class_slots = np.concatenate(members) if members else np.zeros(0, dtype=np.int64)
        self.class_ip = np.concatenate([g.campus_ip for g in hn.classes]) if members else self.class_slots
        self.class_ptr = np.r_[0, np.cumsum([len(m) for m in members])].astype(np.int64)
        seats = float(np.diff(self.class_ptr)[self.session_class].sum()) if len(of) else 1.0
        self.class_lam = max(budget / max(seats * 0.8 * 1.6, 1.0) - 1.0, 0.2)

    def _classes(self, rng: np.random.Generator, t0: int, t1: int) -> Events:
        pick = slice(*np.searchsorted(self.session_t, [t0, t1]))
        cls = self.session_class[pick]
        size = np.diff(self.class_ptr)[cls]
        session = np.repeat(np.arange(len(cls)), size)
        seat = self.class_ptr[cls][session] + np.arange(len(session)) - np.repeat(np.cumsum(size) - size, size)
        attend = rng.random(len(seat)) < 0.8
        seat, session = seat[attend], session[attend]
        n = 1 + rng.poisson(self.class_lam, len(seat))
        at, who = np.repeat(self.session_t[pick][session], n), np.repeat(seat, n)
        lab = rng.random(len(at)) < 0.15
        frame = self.class_frames[np.repeat(cls[session], n), lab.astype(np.int64)]
        in_lab = Events.of(self.class_slots[who], at + rng.integers(0, 2 * HOUR, len(at)), frame, ip=self.class_ip[who])
        later = rng.random(len(at)) < 0.6  # homework: the same template at home over the next days
        home = at[later] + rng.integers(3 * HOUR, 6 * DAY, int(later.sum()))
        events = Events.concat([in_lab, Events.of(self.class_slots[who[later]], home, frame[later])])
        h = self.habits
        return events.take((events.ts >= h.start[events.slot]) & (events.ts <= h.end[events.slot]))

    # Researchers: scripted benchmark runs, at their own times and after releases.
    def _plan_benchmarks(self, rng: np.random.Generator, researchers: Ints, budget: float) -> None:
        h = self.habits
        runs: list[tuple[Ints, Ints, Ints]] = []  # (slot, start, model or -1)
        for release, flagship, _ in RELEASES:
            on = researchers[(h.start[researchers] < release) & (h.end[researchers] > release + DAY)]
            on = on[rng.random(len(on)) < 0.6]
            delay = np.minimum(np.exp(rng.normal(np.log(5 * HOUR), 0.8, len(on))), 36 * HOUR).astype(np.int64)
            runs.append((on, release + delay, np.full(len(on), flagship, dtype=np.int64)))
        mean_items = 0.65 * float(_SUITE_SIZES.mean())
        released = sum(len(r[0]) for r in runs)
        own = max(budget / mean_items - released, 0.0)
        span = np.maximum(h.end[researchers] - h.start[researchers], 0).astype(np.float64)
        count = rng.poisson(own * span / max(span.sum(), 1.0))
        who = np.repeat(researchers, count)
        start = h.start[who] + (rng.random(len(who)) * np.maximum(h.end[who] - h.start[who], 1)).astype(np.int64)
        start = (start + h.tz[who]) // DAY * DAY + rng.integers(9 * HOUR, 23 * HOUR, len(who)) - h.tz[who]
        runs.append((who, start, np.full(len(who), -1, dtype=np.int64)))
        slot, t, model = (np.concatenate(parts) for parts in zip(*runs, strict=True))
        order = np.argsort(t, kind="stable")
        self.run_slot, self.run_t, self.run_model = slot[order], t[order], model[order]
        n = len(order)
        self.run_suite = rng.integers(0, len(BENCHMARK_SUITES), n)
        sizes = _SUITE_SIZES[self.run_suite]
        self.run_items = np.where(rng.random(n) < 0.4, sizes, (sizes * rng.uniform(0.3, 1.0, n)).astype(np.int64))
        self.run_first = rng.integers(0, 10**6, n) % sizes
        self.run_gap = rng.uniform(1.0, 8.0, n)

    def _benchmarks(self, rng: np.random.Generator, t0: int, t1: int) -> Events:
        pick = np.arange(*np.searchsorted(self.run_t, [t0, t1]))
        items = self.run_items[pick]
        run = np.repeat(pick, items)
        k = np.arange(len(run)) - np.repeat(np.cumsum(items) - items, items)
        elapsed = np.cumsum(rng.exponential(self.run_gap[run]))
        elapsed -= np.repeat(elapsed[np.cumsum(items) - items], items) if len(run) else 0.0
        suite = self.run_suite[run]
        fill = np.full((len(run), MAX_SLOTS), -1, dtype=np.int64)
        fill[:, 0] = _items(self.vocabulary, suite, self.run_first[run] + k)
        ts = self.run_t[run] + elapsed.astype(np.int64)
        model = self.run_model[run]
        latest = rng.random(len(run)) < 0.5  # researchers mostly test the newest model
        model = np.where((model < 0) & latest, newest_flagship(ts, np.zeros(len(ts))), model)
        return Events.of(self.run_slot[run], ts, self.sets.benchmark[suite], fill=fill, model=model)

    # Teams: an internal assistant in office hours, and a daily stand-up routine for some.
    def _plan_teams(self, rng: np.random.Generator, builder: CatalogBuilder, hn: HardNegatives, budget: float) -> None:
        self.team_of = np.full(len(self.habits.tz), -1, dtype=np.int64)
        self.team_tasks = np.zeros((len(hn.teams), 3), dtype=np.int64)
        self.team_routine = np.full(len(hn.teams), -1, dtype=np.int64)
        self.routine_at = rng.integers(8 * HOUR + 30 * MINUTE, 10 * HOUR + 30 * MINUTE, len(hn.teams))
        for t, (members, name) in enumerate(zip(hn.teams, hn.team_names, strict=True)):
            self.team_of[members] = t
            tasks, routine = team_frames(rng, name)
            ids = [builder.add(text, "writing", 350) for text in tasks]
            self.team_tasks[t] = (ids * 3)[:3]
            if rng.random() < 0.4:
                self.team_routine[t] = builder.add(routine, "summarization", 250)
        self.team_slots = np.concatenate(hn.teams) if hn.teams else np.zeros(0, dtype=np.int64)
        h = self.habits
        span = np.maximum(h.end[self.team_slots] - h.start[self.team_slots], 0).astype(np.float64)
        self.team_rate = np.full(len(self.team_slots), 0.75 * budget / max(span.sum(), 1.0))

    def _teams(self, rng: np.random.Generator, t0: int, t1: int) -> list[Events]:
        worker = np.full(len(self.team_slots), WORKER, dtype=np.int64)
        slot, ts, first = sessions(rng, self.habits, self.team_slots, self.team_rate, t0, t1, profile=worker, mean=2.0)
        frame = self.team_tasks[self.team_of[slot], rng.integers(0, 3, len(slot))]
        frame = frame[first]  # one task per session
        routine = self.team_routine[self.team_of[self.team_slots]] >= 0
        members = self.team_slots[routine]
        h = self.habits
        days = np.arange(t0 // DAY - 1, t1 // DAY + 1)
        who = np.repeat(members, len(days))
        day = np.tile(days, len(members))
        at = (
            day * DAY
            + self.routine_at[self.team_of[who]]
            - h.tz[who]
            + rng.normal(0, 8 * MINUTE, len(who)).astype(np.int64)
        )
        keep = ((day + 3) % 7 < 5) & (at >= t0) & (at < t1) & (at >= h.start[who]) & (at <= h.end[who])
        keep &= rng.random(len(who)) < 0.7
        who, at = who[keep], at[keep]
        return [Events.of(slot, ts, frame), Events.of(who, at, self.team_routine[self.team_of[who]])]
