"""Prompt templates: frames with slots, the public ones everybody uses, and per-ring paraphrases.

A frame is literal text with up to four `{vocabulary}` slots. The bank holds every frame of a
population; an event names its frame and slot values by integer, and `render` turns whole arrays of
them into text with Arrow's vectorised string kernels (no Python loop per request).

Extraction frames are not fixed strings: each intent is a sequence of segments with several
wordings each, and every ring draws its own wording (a paraphrase), so two rings rarely send the
same frame; a minority copies the intent's public wording verbatim (the one circulating online,
which benign power users also send). Requests may carry small per-request noise (a greeting
prefix, a courtesy suffix): near-duplicates, not exact copies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .tokens import opaque
from .vocabulary import vocabularies
from .world import CATEGORIES

__all__ = ["INTENTS", "NOISE_CODES", "PUBLIC", "TemplateBank"]

SLOTS: Final = 4
_SLOT: Final = re.compile(r"\{([a-z_]+)\}")
_PREFIXES: Final = ("", "Please ", "Hi, ", "OK. ", "Hello! ", "pls ")
_SUFFIXES: Final = ("", " Thanks.", " Thank you!", " Be concise.", " Answer in English.", " :)")
NOISE_CODES: Final = len(_PREFIXES) * len(_SUFFIXES)

#: Public templates (text, category, median output tokens, median extra input tokens), most popular
#: first: their popularity is Zipf over this order.
PUBLIC: Final = (
    ("Translate the following text into {language}: {sentence}", "translation", 60, 0),
    ("Summarise this article: {article}", "summarization", 180, 900),
    ("Fix the grammar: {sentence}", "rewrite", 40, 0),
    ("Explain {concept} like I'm five.", "qa", 250, 0),
    ("Write a professional email about this: {sentence}", "writing", 220, 0),
    ("What is the difference between {subject} and {concept}?", "qa", 300, 0),
    ("Rewrite this to sound more formal: {sentence}", "rewrite", 50, 0),
    ("Write a {code_lang} function for {code_task}.", "coding", 500, 0),
    ("Give me five ideas {context} about {subject}.", "writing", 280, 0),
    ("Let's think step by step. {problem}", "math", 400, 0),
    ("Summarize the key points of {article} in three bullets.", "summarization", 120, 700),
    ("Make a study plan for {course} covering {homework}.", "education", 450, 0),
    ("Proofread and shorten: {sentence}", "rewrite", 35, 0),
    ("Reply politely to this customer message: {ticket}", "writing", 150, 0),
    ("Solve the following problem and show your full reasoning before the final answer: {problem}", "math", 700, 0),
    (
        "You are a strict grader. Score the response below from 1 to 10 on {rubric}. Response: {response}",
        "grading",
        150,
        0,
    ),
    ("Write a haiku about {subject}.", "writing", 30, 0),
    ("Explain this {code_lang} error and how to fix it: {code_task}", "coding", 350, 300),
)

#: Extraction intents: category, output tokens, segments (each a tuple of alternative wordings).
#: The first alternative of every segment is the intent's public wording.
INTENTS: Final = {
    "reasoning_trace": (
        "reasoning",
        2600,
        (
            (
                "Solve the following problem.",
                "Work through this problem carefully.",
                "Consider the problem below.",
                "Here is a problem for you.",
                "Tackle the task below.",
                "Attempt this exercise.",
            ),
            (
                " Show every intermediate step of your reasoning",
                " Write out your full chain of thought",
                " Reason step by step without skipping anything",
                " Explain each step of your thinking in detail",
                " Lay out your complete reasoning process",
                " Think aloud through every step",
            ),
            (
                " before giving the final answer.",
                " and only then state the answer.",
                " and put the answer on its own line.",
                " and box the final result.",
                " and end with 'Final answer:'.",
            ),
            ("", " Be exhaustive.", " Check your work at the end.", " Consider alternative approaches too."),
            (" Problem: {problem}", " Task: {problem}", " Question: {problem}", " Input: {problem}"),
        ),
    ),
    "rubric_grading": (
        "grading",
        420,
        (
            (
                "You are an expert evaluator.",
                "Act as a meticulous judge.",
                "You are grading model outputs.",
                "Play the role of a senior reviewer.",
                "You are a fair but demanding grader.",
            ),
            (
                " Rate the answer below on {rubric}",
                " Score this response for {rubric}",
                " Assess the reply on {rubric}",
                " Evaluate the following output against {rubric}",
            ),
            (" using a 1-10 scale", " from 1 to 5", " with a score out of 100", " on a 7-point scale"),
            (
                ", explain your rationale first.",
                " and justify every point.",
                ", then list the flaws.",
                " and write the critique before the score.",
            ),
            (" Answer: {response}", " Response: {response}", " Output to grade: {response}", " Candidate: {response}"),
        ),
    ),
    "agentic_tool_use": (
        "agentic",
        1800,
        (
            (
                "You can call these tools: {tools}.",
                "Available tools: {tools}.",
                "You have access to {tools}.",
                "Tools you may use: {tools}.",
            ),
            (" Your goal is to {goal}.", " Task: {goal}.", " The user wants you to {goal}.", " Objective: {goal}."),
            (
                " Plan first, then show each tool call with its arguments and result",
                " Think step by step and emit a JSON tool call per step",
                " Narrate your reasoning between calls",
                " List the calls you would make in order",
            ),
            (" until the task is done.", ", and recover from errors.", ", then summarise the outcome.", "."),
        ),
    ),
    "code_generation": (
        "coding",
        2200,
        (
            ("Implement {code_task}.", "Write {code_task}.", "Build {code_task}.", "Create {code_task}."),
            (
                " Explain your design decisions step by step",
                " Walk through your reasoning before coding",
                " Describe the algorithm and its complexity first",
                " Think about edge cases out loud",
            ),
            (
                ", then give the complete code with tests.",
                " and provide the full implementation.",
                ", then output a single file.",
                " and include unit tests.",
            ),
            ("", " Use idiomatic {code_lang}.", " Target {code_lang}.", " Prefer {code_lang} if possible."),
        ),
    ),
    "safe_rewrite": (
        "rewrite",
        600,
        (
            (
                "Rewrite the following passage so that it is neutral and balanced:",
                "Make this text politically neutral:",
                "Produce a balanced version of",
                "Rephrase without taking sides:",
            ),
            (" {passage}.", " {passage}, keeping the facts.", " {passage}; cite both sides."),
        ),
    ),
    "computer_use": (
        "agentic",
        1500,
        (
            ("You are operating a desktop computer.", "You control a browser.", "You are a computer-use agent."),
            (" The screen shows {screen}.", " Current view: {screen}.", " You see {screen}."),
            (
                " Describe each action to {goal}",
                " List the clicks and keystrokes needed to {goal}",
                " Reason about the next action to {goal}",
            ),
            (", one per line.", " and explain why.", ", verifying the screen after each step."),
        ),
    ),
}


@dataclass
class TemplateBank:
    """Every frame of a population and what rendering it needs."""

    salt: int
    parts: list[list[str]] = field(default_factory=list)
    slot_vocab: list[list[str]] = field(default_factory=list)
    category: list[int] = field(default_factory=list)
    out_median: list[float] = field(default_factory=list)
    in_extra: list[float] = field(default_factory=list)
    unique: list[bool] = field(default_factory=list)  # free-form: every fill its own near-duplicate id
    _texts: dict[str, int] = field(default_factory=dict)

    def add(self, text: str, category: str, out_median: float, in_extra: float = 0.0, unique: bool = False) -> int:
        """The frame of `text` (registered once: the same wording twice is the same frame)."""
        if text in self._texts:
            return self._texts[text]
        pieces = _SLOT.split(text)
        literals, slots = pieces[0::2], pieces[1::2]
        if len(slots) > SLOTS:
            raise ValueError(f"a frame has at most {SLOTS} slots: {text!r}")
        vocab = vocabularies()
        for name in slots:
            if name not in vocab:
                raise KeyError(f"no vocabulary {name!r} in {text!r}")
        self.parts.append(literals + [""] * (SLOTS + 1 - len(literals)))
        self.slot_vocab.append(slots + [""] * (SLOTS - len(slots)))
        self.category.append(CATEGORIES.index(category))
        self.out_median.append(out_median)
        self.in_extra.append(in_extra)
        self.unique.append(unique)
        self._texts[text] = len(self.parts) - 1
        return len(self.parts) - 1

    def paraphrase(self, rng: np.random.Generator, intent: str, verbatim: bool = False) -> int:
        category, out_median, segments = INTENTS[intent]
        words = [seg[0] if verbatim else seg[int(rng.integers(len(seg)))] for seg in segments]
        return self.add("".join(words), category, out_median)

    def slot_sizes(self) -> np.ndarray:
        vocab = vocabularies()
        return np.array([[len(vocab[name]) for name in row] for row in self.slot_vocab], dtype=np.int64)

    def draw_slots(self, rng: np.random.Generator, frames: np.ndarray) -> np.ndarray:
        """Uniform slot values for each event's frame: an int32 array of shape (events, 4)."""
        sizes = self.slot_sizes()[frames]
        slots: np.ndarray = (rng.random((frames.size, SLOTS)) * sizes).astype(np.int32)
        return slots

    def fingerprints(self) -> np.ndarray:
        return opaque("tpl_", np.arange(len(self.parts)), self.salt, 16)

    def renderer(self) -> Renderer:
        return Renderer(self)


class Renderer:
    """Arrow arrays of the bank's parts and vocabularies, ready for vectorised rendering."""

    def __init__(self, bank: TemplateBank) -> None:
        vocab = vocabularies()
        names = sorted(vocab)
        offsets: dict[str, int] = {}
        flat: list[str] = []
        for name in names:
            offsets[name] = len(flat)
            flat.extend(vocab[name])
        self._vocab = pa.array(flat, pa.string())
        self._parts = pa.array([p for row in bank.parts for p in row], pa.string())
        self._slot_offset = np.array([[offsets[n] for n in row] for row in bank.slot_vocab], dtype=np.int64)
        self._prefix = pa.array(_PREFIXES, pa.string())
        self._suffix = pa.array(_SUFFIXES, pa.string())
        self._fp = pa.array(bank.fingerprints(), pa.string())
        self._unique = np.array(bank.unique, dtype=bool)
        self._salt = bank.salt

    def text(self, frames: np.ndarray, slots: np.ndarray, noise: np.ndarray) -> pa.Array:
        frames = frames.astype(np.int64)
        columns = [self._prefix.take(pa.array(noise // len(_SUFFIXES)))]
        for j in range(SLOTS + 1):
            columns.append(self._parts.take(pa.array(frames * (SLOTS + 1) + j)))
            if j < SLOTS:
                columns.append(self._vocab.take(pa.array(self._slot_offset[frames, j] + slots[:, j])))
        columns.append(self._suffix.take(pa.array(noise % len(_SUFFIXES))))
        return pc.binary_join_element_wise(*columns, "")

    def fingerprint(self, frames: np.ndarray, slots: np.ndarray) -> pa.Array:
        """The provider's own near-duplicate id: per frame, or per fill for free-form prompts."""
        out = self._fp.take(pa.array(frames.astype(np.int64)))
        unique = self._unique[frames]
        if not unique.any():
            return out
        keys = frames.astype(np.uint64)
        with np.errstate(over="ignore"):
            for j in range(SLOTS):
                keys = keys * np.uint64(1_000_003) + slots[:, j].astype(np.uint64)
        own = pa.array(opaque("tpl_", keys, self._salt ^ 0x5F5F, 16), pa.string())
        return pc.if_else(pa.array(unique), own, out)
