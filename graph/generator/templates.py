"""Prompt templates: fixed frames in someone's wording with up to four slots, and who uses which.

A frame such as `Translate the following text into {language}: {text}` becomes a prompt by filling
its slots from the vocabulary. Frames of one **family** are near-duplicates: a ring's paraphrase of
its own frame, or the same frame with another closing sentence. The catalogue holds

- personal frames everyone uses, and popular public templates copied from the web (they link nobody);
- public extraction prompts circulated verbatim, used by some rings and a few curious people;
- public benchmark instructions (researchers run their items verbatim);
- API pipeline prompts of a few common shapes, shared by unrelated companies;
- per class an assignment frame, per team its internal assistant's frames;
- per operation its own wording of extraction templates: reasoning-trace elicitation, grading,
  agentic tool use and code, assembled from openers, bodies and closings so that no two operations
  word them alike (campaigns of one operation keep their tooling).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from graph.generator.slot_values import SLOT_TYPES, SlotValues

__all__ = ["CATEGORIES", "Catalog", "CatalogBuilder", "extraction_frames"]

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
CATEGORIES: tuple[str, ...] = (
    "chat",
    "writing",
    "coding",
    "translation",
    "summarization",
    "analysis",
    "reasoning",
    "grading",
    "agentic",
    "classification",
)
_SLOT = re.compile(r"\{(\w*)\}")
_DIGIT_RUN = re.compile(r"\d{13}")
MAX_SLOTS = 4

# Extraction wording, per category: (openers, bodies, closings).
_EXTRACTION: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "reasoning": (
        (
            "Reconstruct, step by step, how you would solve the problem below.",
            "Work through this problem slowly and write down every intermediate thought.",
            "Before answering, lay out your complete reasoning as a numbered list.",
            "Think aloud: narrate each inference you make while solving the task.",
            "Explain your full chain of reasoning for the following question.",
            "Solve the problem and document every deduction along the way.",
            "Walk through the solution as an expert would, justifying each step.",
            "Produce a detailed worked solution for the following.",
            "Derive the answer from first principles, showing each step.",
            "Carefully reason about the question below and show all of your thinking.",
            "Generate a rigorous step-by-step derivation for this problem.",
            "Break the problem into sub-problems and solve each one explicitly.",
        ),
        ("Problem: {problem}", "Question: {problem}", "Task: {problem}", "{problem}", "Input: {item}"),
        (
            "Number each step.",
            "Finish with 'Final answer:' on its own line.",
            "Wrap your reasoning in <trace> tags and the answer in <answer> tags.",
            "Do not skip any step, however obvious.",
            "Respond in JSON with the keys reasoning and answer.",
            "State every assumption you make.",
            "Check your result at the end.",
            "Keep going until every step is justified.",
            "List the other approaches you considered.",
            "Rate your confidence at the end.",
            "Use plain text, no markdown.",
            "Write at least ten steps.",
        ),
    ),
    "grading": (
        (
            "You are grading answers for a dataset.",
            "Act as a strict examiner.",
            "Evaluate the response below as an impartial judge.",
            "Score the following answer.",
            "You are a reward model.",
            "Assess the quality of this solution.",
            "Review the answer like a senior teaching assistant.",
            "Compare the response with an ideal answer.",
        ),
        (
            "Question: {problem} Response: {text}",
            "Prompt: {problem} Answer to grade: {text}",
            "Task: {problem} Candidate answer: {text}",
        ),
        (
            "Give a score out of ten and one sentence of justification.",
            "Output only the integer score.",
            "Score {rubric} and overall quality separately.",
            "Reply with PASS or FAIL and the main reason.",
            "Return JSON with the fields score and rationale.",
            "List every error, then give a score out of five.",
            "Say which parts are correct and which are not, then score it.",
            "Give a score between zero and one.",
        ),
    ),
    "agentic": (
        (
            "You are an autonomous agent with access to the tools below.",
            "You can call these functions:",
            "Tools available to you:",
            "You operate a browser and a terminal through these tools:",
            "Act as a planning agent. Your tools:",
            "You are a tool-using assistant. Tool definitions:",
        ),
        ("{tool} Goal: {goal}", "{tool} User request: {goal}", "{tool} Objective: {goal}"),
        (
            "Think about which tool to call first, then output the call as JSON.",
            "Plan all the steps, then give the first tool call.",
            "Respond with a sequence of tool calls and the reasoning behind each.",
            "After each call, explain what you learned and what you will do next.",
            "Write your plan inside <plan> tags before calling any tool.",
            "If a tool fails, explain why and try another approach.",
        ),
    ),
    "coding": (
        (
            "Write production-quality code for the task below.",
            "Implement the following and explain each part.",
            "Solve this programming task and explain its complexity.",
            "Find the bug and explain the fix step by step.",
            "Refactor the code below and justify every change.",
            "Write the code, then a set of unit tests.",
        ),
        ("Task: {task}", "Specification: {task}", "Code:\n{code}", "Here is the code:\n{code}"),
        (
            "Use Python 3 with type hints.",
            "Explain your design choices before the code.",
            "Think through the edge cases first.",
            "Show your reasoning, then the final code.",
            "Keep the explanation detailed.",
            "Comment every line.",
        ),
    ),
}


@dataclass(frozen=True)
class Catalog:
    """Every frame: its pieces around the slots, slot types, category, family and output size."""

    pieces: tuple[pa.Array, ...]  # MAX_SLOTS + 1 arrays of text around the slots
    types: Ints  # (frames, MAX_SLOTS) slot type per position, 0 = none
    category: Ints
    family: Ints
    output: Floats  # median output tokens
    context: Floats  # median extra input tokens (history, few-shot examples, documents)
    chars: Ints  # characters of the fixed text
    fingerprint: pa.Array  # the provider's own template id, for events without text
    vocabulary: SlotValues

    def __len__(self) -> int:
        return len(self.category)


@dataclass
class CatalogBuilder:
    """Collects frames; `add` returns the frame's index."""

    texts: list[str] = field(default_factory=list)
    categories: list[int] = field(default_factory=list)
    families: list[int] = field(default_factory=list)
    outputs: list[float] = field(default_factory=list)
    contexts: list[float] = field(default_factory=list)

    def add(self, text: str, category: str, output: float, context: float = 0.0, family: int = -1) -> int:
        if len(_SLOT.findall(text)) > MAX_SLOTS:
            raise ValueError(f"a frame takes at most {MAX_SLOTS} slots: {text!r}")
        self.texts.append(text)
        self.categories.append(CATEGORIES.index(category))
        self.families.append(len(self.texts) - 1 if family < 0 else family)
        self.outputs.append(output)
        self.contexts.append(context)
        return len(self.texts) - 1

    def add_all(self, frames: tuple[tuple[str, str, float], ...], context: float = 0.0) -> Ints:
        return np.array([self.add(t, c, o, context) for c, t, o in frames], dtype=np.int64)

    def build(self, vocabulary: SlotValues) -> Catalog:
        pieces: list[list[str]] = [[] for _ in range(MAX_SLOTS + 1)]
        types = np.zeros((len(self.texts), MAX_SLOTS), dtype=np.int64)
        for i, text in enumerate(self.texts):
            parts = _SLOT.split(text)
            fixed, names = parts[0::2], parts[1::2]
            fixed += [""] * (MAX_SLOTS + 1 - len(fixed))
            for j in range(MAX_SLOTS + 1):
                pieces[j].append(fixed[j])
            types[i, : len(names)] = [SLOT_TYPES.index(name) for name in names]
        arrays = tuple(pa.array(p, pa.string()) for p in pieces)
        digests = [_fingerprint(t) for t in self.texts]
        return Catalog(
            pieces=arrays,
            types=types,
            category=np.array(self.categories, dtype=np.int64),
            family=np.array(self.families, dtype=np.int64),
            output=np.array(self.outputs, dtype=np.float64),
            context=np.array(self.contexts, dtype=np.float64),
            chars=np.array([sum(len(p[i]) for p in pieces) for i in range(len(self.texts))], dtype=np.int64),
            fingerprint=pa.array(digests, pa.string()),
            vocabulary=vocabulary,
        )


def _fingerprint(text: str) -> str:
    """The provider's template id: a digest of the frame, re-salted until no 13 digits run together
    (nothing in the bundle may look like a card number, even inside a hexadecimal token)."""
    salt = 0
    while True:
        digest = hashlib.blake2b(f"{salt}:{text}".encode(), digest_size=12).hexdigest()
        if not _DIGIT_RUN.search(digest):
            return "fp_" + digest
        salt += 1


_OUTPUT = {"reasoning": 2800.0, "grading": 90.0, "agentic": 700.0, "coding": 1100.0}


def extraction_frames(
    rng: np.random.Generator, builder: CatalogBuilder, focus: dict[str, float], count: int, items: bool
) -> tuple[Ints, Ints]:
    """An operation's own wording: `count` frames over the categories in `focus`, and a paraphrase
    (same family: another opener or closing) of each. `items` puts public benchmark items in the slot."""
    names = list(focus)
    p = np.array([focus[n] for n in names])
    frames, variants = [], []
    joiner = "\n" if rng.random() < 0.4 else " "
    for k in range(count):
        category = names[k] if k < len(names) else names[int(rng.choice(len(names), p=p / p.sum()))]
        openers, bodies, closings = _EXTRACTION[category]
        o, b, c = (int(rng.integers(0, len(x))) for x in (openers, bodies, closings))
        body = bodies[b].replace("{problem}", "{item}") if items else bodies[b]
        if category == "reasoning" and not items and "{item}" in body:
            body = "Problem: {problem}"
        text = joiner.join((openers[o], body, closings[c]))
        frame = builder.add(text, category, _OUTPUT[category])
        if rng.random() < 0.5:
            o = (o + 1 + int(rng.integers(0, len(openers) - 1))) % len(openers)
        else:
            c = (c + 1 + int(rng.integers(0, len(closings) - 1))) % len(closings)
        variant = builder.add(joiner.join((openers[o], body, closings[c])), category, _OUTPUT[category], family=frame)
        frames.append(frame)
        variants.append(variant)
    return np.array(frames, dtype=np.int64), np.array(variants, dtype=np.int64)
