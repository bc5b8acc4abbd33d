"""The values prompt slots are filled with: questions, paragraphs, problems, code, tool specs, ...

Everything is synthetic, built by combining short word lists, so prompts vary the way people's do
without any real text. Numbers stay small (at most three digits, always between words), so no prompt
ever holds anything like a card number. The public benchmark items are drawn from a fixed seed: the
same in every population, as a published benchmark is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from graph.generator.prompt_words import (
    ACTIVITIES,
    CITIES,
    COMPLAINTS,
    CONDITIONS,
    EXPRS,
    GOALS,
    LANGUAGES,
    NAMES_CODE,
    OBJECTS,
    OCCASIONS,
    OPENERS,
    PRODUCTS,
    RELATIONS,
    RUBRIC,
    SUBJECTS,
    TAILS,
    THINGS,
    TONES,
    TOOLS,
    TOPICS,
    VERBS,
    WHEN,
)
from graph.generator.wordlists import FIRST_NAMES

__all__ = ["BENCHMARK_SUITES", "SLOT_TYPES", "SlotValues", "build_slot_values"]

Ints = npt.NDArray[np.int64]
SLOT_TYPES: tuple[str, ...] = (
    "",
    "opener",
    "topic",
    "question",
    "text",
    "problem",
    "item",
    "code",
    "task",
    "tool",
    "goal",
    "language",
    "tone",
    "relation",
    "product",
    "review",
    "number",
    "city",
    "rubric",
)
BENCHMARK_SUITES: tuple[tuple[str, int], ...] = (("arith", 160), ("choice", 160), ("funcs", 100), ("logic", 100))
_PUBLIC_SEED = 20_250_101


@dataclass(frozen=True)
class SlotValues:
    """All slot values in one array; type t owns values[offset[t] : offset[t] + size[t]]."""

    values: pa.Array
    chars: Ints
    offset: Ints
    size: Ints

    def item(self, suite: int, index: Ints) -> Ints:
        """Global value index of benchmark item `index` of `suite`."""
        start = self.offset[SLOT_TYPES.index("item")] + sum(n for _, n in BENCHMARK_SUITES[:suite])
        picked: Ints = start + np.asarray(index, dtype=np.int64)
        return picked


def _pick(rng: np.random.Generator, words: tuple[str, ...], n: int) -> list[str]:
    return [words[i] for i in rng.integers(0, len(words), n)]


def _questions(rng: np.random.Generator, n: int) -> list[str]:
    forms = (
        "why does {t} stop working {w}?",
        "what is the best way to {a} {w}?",
        "how do I {a} without spending much?",
        "is it normal that {t} makes a noise {w}?",
        "what should I bring to {o}?",
        "any tips to {a}?",
        "can you explain {p} in simple terms?",
        "how long does it take to {a}?",
        "ideas for {o}?",
        "what are common mistakes when people {a}?",
        "is {p} worth learning about?",
        "why is {t} so slow {w}?",
    )
    parts = [_pick(rng, x, n) for x in (THINGS, ACTIVITIES, WHEN, OCCASIONS, TOPICS)]
    form = rng.integers(0, len(forms), n)
    return [forms[f].format(t=t, a=a, w=w, o=o, p=p) for f, t, a, w, o, p in zip(form, *parts, strict=True)]


def _paragraphs(rng: np.random.Generator, n: int) -> list[str]:
    sentences = rng.integers(2, 5, n)
    out = []
    for k in sentences:
        s, v, o, t = (_pick(rng, x, int(k)) for x in (SUBJECTS, VERBS, OBJECTS, TAILS))
        out.append(" ".join(f"{a} {b} {c} {d}" for a, b, c, d in zip(s, v, o, t, strict=True)))
    return out


def _problems(rng: np.random.Generator, n: int) -> list[str]:
    forms = (
        "A train travels {a} km in {b} hours. At the same speed, how far does it go in {c} hours?",
        "{n} has {a} stickers, gives away {b} and then buys {c} more. How many stickers does {n} have now?",
        "A rectangle has a perimeter of {a} cm and a width of {b} cm. What is its area?",
        "If {b} workers build a wall in {c} days, how many days would {a} workers need?",
        "What is the smallest positive integer divisible by {b}, {c} and {d}?",
        "A bag holds {b} red and {c} blue marbles. Two are drawn without replacement. What is the chance both are red?",
        "Find all real x such that x squared minus {s} times x plus {p} equals zero.",
        "{n} is older than Sam, and Sam is older than Kim, who is {b}. Who is the youngest, and how old is {n}?",
        "A shop sells pens at {b} for {c} dollars. How much do {a} pens cost?",
        "The sum of {b} consecutive integers is {a}. What is the largest of them?",
    )
    out = []
    for _ in range(n):
        a, b, c, d = (int(x) for x in rng.integers(2, 400, 4))
        b, c, d = b % 12 + 2, c % 20 + 2, d % 9 + 2
        r1, r2 = int(rng.integers(1, 12)), int(rng.integers(1, 12))
        name = FIRST_NAMES[int(rng.integers(0, len(FIRST_NAMES)))].title()
        form = forms[int(rng.integers(0, len(forms)))]
        out.append(form.format(a=a, b=b, c=c, d=d, n=name, s=r1 + r2, p=r1 * r2))
    return out


def _code(rng: np.random.Generator, n: int) -> list[str]:
    out = []
    for _ in range(n):
        name, cond, expr = _pick(rng, NAMES_CODE, 1)[0], _pick(rng, CONDITIONS, 1)[0], _pick(rng, EXPRS, 1)[0]
        if rng.random() < 0.6:
            out.append(
                f"def clean_{name}({name}):\n    out = []\n    for x in {name}:\n        if {cond}:\n"
                f"            out.append({expr})\n    return out"
            )
        else:
            limit = int(rng.integers(1, 999))  # text for a prompt, never a query anyone runs
            out.append(f"SELECT id, total FROM {name} WHERE total > {limit} ORDER BY total DESC;")  # noqa: S608
    return out


def _tasks(rng: np.random.Generator, n: int) -> list[str]:
    verbs = ("sorts", "deduplicates", "groups", "validates", "merges", "paginates", "caches", "parses")
    keys = ("date", "name", "price", "status", "country", "size")
    return [
        f"a function that {v} a list of {o} by {k}"
        for v, o, k in zip(_pick(rng, verbs, n), _pick(rng, NAMES_CODE, n), _pick(rng, keys, n), strict=True)
    ]


def _tools(rng: np.random.Generator, n: int) -> list[str]:
    out = []
    for _ in range(n):
        chosen = rng.choice(len(TOOLS), int(rng.integers(1, 4)), replace=False)
        specs = [f'{{"name": "{TOOLS[i][0]}", "parameters": {{{TOOLS[i][1]}}}}}' for i in chosen]
        out.append("[" + ", ".join(specs) + "]")
    return out


def _reviews(rng: np.random.Generator, n: int) -> list[str]:
    when = ("last week", "yesterday", "a month ago", "on Monday", "for my brother")
    parts = zip(_pick(rng, PRODUCTS, n), _pick(rng, when, n), _pick(rng, COMPLAINTS, n), strict=True)
    return [f"I ordered {p} {w} and {c}." for p, w, c in parts]


def _benchmark() -> list[str]:
    """The public items: arithmetic word problems, multiple choice, functions to complete, logic."""
    rng = np.random.Generator(np.random.PCG64(_PUBLIC_SEED))
    items = _problems(rng, BENCHMARK_SUITES[0][1])
    for k in range(BENCHMARK_SUITES[1][1]):
        topic = TOPICS[k % len(TOPICS)]
        options = rng.permutation(4)
        items.append(
            f"Q{k + 1}. Which statement about {topic} is correct?\n"
            + "\n".join(f"{'ABCD'[i]}) statement {int(o) + 1} about {topic}" for i, o in enumerate(options))
        )
    for k in range(BENCHMARK_SUITES[2][1]):
        name = NAMES_CODE[k % len(NAMES_CODE)]
        items.append(
            f'def task_{k + 1}({name}):\n    """Return the {name} that satisfy: {CONDITIONS[k % len(CONDITIONS)]}."""'
        )
    for k in range(BENCHMARK_SUITES[3][1]):
        a, b, c = (FIRST_NAMES[int(i)].title() for i in rng.choice(len(FIRST_NAMES), 3, replace=False))
        items.append(f"Puzzle {k + 1}: {a} sits left of {b}, {c} does not sit at an end. Who sits in the middle?")
    return items


def build_slot_values(rng: np.random.Generator, scale: int) -> SlotValues:
    """Slot values for a population; the pools grow with `scale` (more people, more distinct text)."""
    pool = int(np.clip(scale, 500, 20_000))
    values: dict[str, list[str]] = {
        "": [""],
        "opener": list(OPENERS),
        "topic": list(TOPICS),
        "question": _questions(rng, 2 * pool),
        "text": _paragraphs(rng, pool),
        "problem": _problems(rng, pool),
        "item": _benchmark(),
        "code": _code(rng, pool // 4),
        "task": _tasks(rng, pool // 4),
        "tool": _tools(rng, 300),
        "goal": [
            g.format(c=c, d=d, p=p)
            for g, c, d, p in zip(
                _pick(rng, GOALS, pool // 2),
                _pick(rng, CITIES, pool // 2),
                _pick(rng, CITIES, pool // 2),
                _pick(rng, ("pet food", "bicycle", "coffee", "furniture"), pool // 2),
                strict=True,
            )
        ],
        "language": list(LANGUAGES),
        "tone": list(TONES),
        "relation": list(RELATIONS),
        "product": list(PRODUCTS),
        "review": _reviews(rng, pool),
        "number": [str(k) for k in range(3, 13)],
        "city": list(CITIES),
        "rubric": list(RUBRIC),
    }
    ordered = [values[t] for t in SLOT_TYPES]
    sizes = np.array([len(v) for v in ordered], dtype=np.int64)
    array = pa.array([v for group in ordered for v in group], pa.string())
    chars = pc.utf8_length(array).to_numpy(zero_copy_only=False).astype(np.int64)
    return SlotValues(array, chars, np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64), sizes)
