"""Slot vocabularies: what fills the variable parts of prompts (sentences, problems, tasks, tickets, ...).

Built once from word lists with a fixed seed, so they are the same in every population (public
templates and public benchmarks are public). Numbers in them stay small: no slot value carries a
long digit run. Each vocabulary is a list of strings; templates name them as `{name}`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import cache
from typing import Final

__all__ = ["vocabularies"]

_W: Final = {
    "lang": "French German Spanish Japanese Portuguese Italian Korean Hindi Arabic Turkish Polish Dutch "
    "Vietnamese Indonesian Swahili Russian Ukrainian Greek Swedish Thai Hebrew Czech Romanian Tagalog",
    "subj": "my manager|the landlord|our team|the committee|my neighbour|the supplier|this company|the city council|"
    "my teacher|the airline|our client|the new intern|my sister|the hotel|the museum|the clinic|our school",
    "verb": "has postponed|will announce|did not approve|is reviewing|wants to discuss|forgot to send|has changed|"
    "is asking about|agreed to cover|cannot confirm|would like to extend|has rejected|needs to update",
    "obj": "the quarterly budget|the delivery schedule|our holiday plans|the rental contract|the safety report|"
    "the opening hours|the project timeline|the refund request|the new policy|the team dinner|the invoice|"
    "the training session|the parking rules|the product launch|the exam dates|the menu|the travel booking",
    "when": "until next week|before Friday|after the meeting|this morning|by the end of the month|for now|"
    "without telling anyone|again|at short notice|for the third time|as planned",
    "adj": "practical|sustainable|affordable|quick|beginner-friendly|advanced|modern|traditional|healthy|"
    "surprising|historical|hidden|common|efficient|creative|ethical|remote|local|digital|seasonal|cheap|"
    "safe|fun|minimal|scientific|legal|emotional|financial|visual|cultural|urban|rural|family|weekly|"
    "long-term|short|gentle|competitive|collaborative|portable",
    "noun": "gardening|budgeting|photosynthesis|inflation|volcanoes|blockchain|sourdough|marathon training|"
    "journaling|composting|negotiation|jazz|chess|origami|cybersecurity|tax returns|solar panels|"
    "meditation|microservices|podcasting|bird watching|coffee brewing|home insurance|urban planning|"
    "vaccines|black holes|resumes|public speaking|dog training|knitting|wine tasting|climate policy|"
    "sleep hygiene|language learning|retirement savings|electric cars|houseplants|board games|"
    "meal prep|time management|stand-up comedy|ancient Rome|machine learning|3D printing|beekeeping|"
    "car maintenance|first aid|interior design|salary negotiation|bread baking|running shoes|"
    "remote work|music theory|stargazing|camping|credit scores|video editing|calligraphy|birdsong|"
    "fermentation|tiny houses|cold showers|fountain pens|rock climbing|spreadsheets|tea ceremonies|"
    "volunteering|wildfires|sign language|mushroom foraging|kombucha|cycling|opera|sculpture",
    "ctx": "for my kids|for a school project|for my small business|for a job interview|for a blog post|"
    "for my grandmother|for a beginner|for a presentation tomorrow|for my thesis|for a newsletter|"
    "for a road trip|for my book club|for a team meeting|for a wedding speech|for a podcast episode",
    "open": "Can you explain|Help me understand|I need a short guide to|Tell me about|What should I know about|"
    "Give me an overview of|Write a few paragraphs on|Make a checklist for|I'm curious about|Summarize the basics of|"
    "Quick question about|Teach me|Draft an outline about|Could you compare options for|List pros and cons of|"
    "I keep hearing about|Is it worth getting into|My friend swears by|Recommend resources on|"
    "What are common mistakes in|How do I start with|Write a short poem about|Brainstorm names for|"
    "Explain the history of|Debunk myths about|Plan a weekend around|How much does it cost to try",
    "tail": "in simple words|with examples|in bullet points|in under 200 words|step by step|with a table|"
    "in a friendly tone|like a teacher would|and keep it short|with sources if possible|please|thanks|",
    "thing": "apples|pencils|books|tickets|boxes|marbles|cookies|stamps|bottles|chairs|coins|shirts",
    "who": "Ana|Ravi|Tom|Mei|Kofi|Lena|Omar|Yuki|Sara|Diego|Priya|Ivan|Nora|Felix",
    "code_lang": "Python|TypeScript|Rust|Go|Java|C++|Kotlin|SQL|Ruby|C#|Swift|Haskell",
    "ds": "a linked list|a binary heap|a trie|an LRU cache|a rate limiter|a job queue|a B-tree index|"
    "a bloom filter|an interval tree|a ring buffer|a JSON parser|a regex engine|a diff tool|a tokenizer",
    "feat": "supports concurrent access|handles errors gracefully|streams its input|is fully tested|"
    "uses no external libraries|exposes a small API|persists to disk|logs every operation|runs in constant memory",
    "dim": "factual accuracy|helpfulness|harmlessness|coherence|instruction following|conciseness|tone|"
    "reasoning quality|code correctness|completeness|citation quality|creativity",
    "tool": "web_search|calculator|python_exec|file_read|file_write|http_get|sql_query|calendar|email_send|"
    "browser_click|shell|vector_lookup",
    "goal": "book a table for four in Lisbon|find the cheapest flight to Nairobi|reconcile two spreadsheets|"
    "fix a failing unit test|migrate a database schema|summarise a folder of reports|plan a three-day trip|"
    "file an expense claim|debug a memory leak|compare three laptops|set up a CI pipeline|clean a CSV export",
    "topic": "immigration policy|minimum wage|nuclear energy|gun control|a disputed election|tax reform|"
    "police funding|rent control|school vouchers|a border dispute|carbon taxes|social media regulation",
    "course": "Biology|Macroeconomics|Organic Chemistry|World History|Statistics|Philosophy|Data Structures|"
    "Linear Algebra|Marketing|Psychology|Civil Law|Thermodynamics",
    "item": "order|parcel|subscription|invoice|account|booking|warranty claim|refund|device|router",
    "issue": "arrived damaged|was charged twice|never arrived|stopped working|cannot log in|was cancelled|"
    "shows the wrong address|is missing a part|is very slow|keeps disconnecting",
}


@cache
def _split(key: str) -> list[str]:
    text = _W[key]
    return text.split("|") if "|" in text else text.split()


def _combos(rng: random.Random, count: int, build: Callable[[random.Random], str]) -> list[str]:
    seen: dict[str, None] = {}
    attempts = 0
    while len(seen) < count and attempts < count * 4:
        seen[build(rng)] = None
        attempts += 1
    return list(seen)


def _pick(rng: random.Random, key: str) -> str:
    return rng.choice(_split(key))


@cache
def vocabularies() -> dict[str, list[str]]:
    rng = random.Random(20_250_106)
    p = _pick
    v: dict[str, list[str]] = {"": [""], "language": _split("lang"), "code_lang": _split("code_lang")}
    v["sentence"] = _combos(rng, 6000, lambda r: f"{p(r, 'subj')} {p(r, 'verb')} {p(r, 'obj')} {p(r, 'when')}.")
    v["subject"] = _combos(rng, 40_000, lambda r: f"{p(r, 'adj')} {p(r, 'noun')} and {p(r, 'noun')}")
    v["context"] = _split("ctx")
    v["opener"] = _split("open")
    v["tail"] = _split("tail")
    v["article"] = _combos(rng, 3000, lambda r: f"'The {p(r, 'adj')} side of {p(r, 'noun')}' ({p(r, 'subj')} edition)")
    v["concept"] = _combos(rng, 600, lambda r: f"{p(r, 'noun')} {p(r, 'ctx')}")
    v["problem"] = _combos(rng, 30_000, _problem)
    v["code_task"] = _combos(
        rng, 3000, lambda r: f"{p(r, 'ds')} in {p(r, 'code_lang')} that {p(r, 'feat')} and {p(r, 'feat')}"
    )
    v["rubric"] = _combos(rng, 400, lambda r: " and ".join(r.sample(_split("dim"), 2)))
    v["response"] = _combos(rng, 8000, lambda r: f"'{p(r, 'subj').capitalize()} {p(r, 'verb')} {p(r, 'obj')}.'")
    v["tools"] = _combos(rng, 1500, lambda r: ", ".join(sorted({p(r, "tool") for _ in range(4)})))
    v["goal"] = _split("goal")
    v["passage"] = _combos(rng, 2000, lambda r: f"an op-ed claiming that {p(r, 'topic')} {p(r, 'verb')} {p(r, 'obj')}")
    v["screen"] = _combos(rng, 2000, lambda r: f"a window titled '{p(r, 'noun')}' with a form about {p(r, 'obj')}")
    v["ticket"] = _combos(
        rng, 5000, lambda r: f"My {p(r, 'item')} {p(r, 'issue')} and {p(r, 'subj')} {p(r, 'verb')} it."
    )
    v["review"] = _combos(
        rng, 5000, lambda r: f"The {p(r, 'item')} {p(r, 'issue')}, but {p(r, 'subj')} {p(r, 'verb')} it"
    )
    v["invoice"] = _combos(
        rng, 5000, lambda r: f"Invoice from {p(r, 'who')} for {r.randrange(2, 90)} {p(r, 'thing')}, due {p(r, 'when')}"
    )
    v["homework"] = _combos(rng, 800, lambda r: f"{p(r, 'adj')} {p(r, 'noun')} versus {p(r, 'noun')}")
    v["course"] = _split("course")
    for name in ("bench_logic", "bench_science", "bench_law"):
        v[name] = [_bench_item(rng, name, i) for i in range(400)]
    return v


def _problem(r: random.Random) -> str:
    a, b, c = r.randrange(2, 97), r.randrange(2, 97), r.randrange(2, 97)
    who, thing = _pick(r, "who"), _pick(r, "thing")
    shape = r.randrange(6)
    return (
        f"{who} has {a} {thing} and buys {b} boxes of {c}. How many {thing} are there now?",
        f"A train covers {a * 10} km in {b % 9 + 1} hours. How far does it go in {c % 12 + 1} hours?",
        f"Find all integers x with {a}x + {b} < {c * 3} and x > -{c}.",
        f"Prove that the sum of the first {a} odd numbers is a perfect square.",
        f"{who} shares {a * c} {thing} equally among {b % 11 + 2} friends. What is left over?",
        f"A rectangle has perimeter {2 * (a + b)} and one side {a}. What is its area?",
    )[shape]


def _bench_item(r: random.Random, name: str, index: int) -> str:
    stem = {
        "bench_logic": f"If every {_pick(r, 'thing')} is blue and {_pick(r, 'who')} holds a red one, what follows",
        "bench_science": f"Which process best explains {_pick(r, 'noun')} in case {index + 1}",
        "bench_law": f"Under the facts of scenario {index + 1}, may {_pick(r, 'subj')} terminate {_pick(r, 'obj')}",
    }[name]
    options = "; ".join(f"{letter}) {_pick(r, 'adj')} {_pick(r, 'noun')}" for letter in "ABCD")
    return f"{stem}? {options}"
