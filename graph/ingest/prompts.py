"""Prompt templates: near-duplicate prompts (one frame, varying slots) fall into one family.

A prompt is reduced to the word bigrams of its normalised text (NFKC, lower case, every number the
token `0`) and the bigram set to a 64-permutation MinHash signature; families are found through MinHash
LSH. `datasketch` provides both: its banded `MinHashLSH` index, and the permutations of its
`MinHash` (affine32 scheme), which `signatures` applies to a whole batch of prompts in one numpy
pass, giving exactly the signatures `MinHash.update_batch` gives (tests/unit/test_prompts.py pins
that), 5x faster than one `MinHash` per prompt: per-prompt overhead, not arithmetic, was the cost.
Bigrams are hashed from a per-process cache of word hashes (CRC-32) combined in numpy, so Python
touches each word once. A repeated text skips all of it through an exact-text cache.

A prompt joins the family that agrees with it on the most signature positions, if at least
`JACCARD` of them, else it founds a family. The candidates are first the families last placed with
the same four opening words (a frame's prompts open alike; this spares most LSH queries), then, if
none agrees enough, the LSH index's candidates in fingerprint order (ties: the first).

The text itself is never kept: a family holds its MinHash signature (stored on the
`PromptTemplate` node so later loads find it), a content digest of each text seen in this process,
and, for its skeleton, the words of its first prompt with a mask of those that every later distinct
prompt of the family also contains. The skeleton may be written only once at least `k` distinct
accounts sent the family (DESIGN.md §2): then every word it shows was written by all of them.

Families are assigned in the order prompts arrive, so which prompt founds a family (and so its
fingerprint) depends on that order; near-duplicates end up together whatever the order.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt
from datasketch import LeanMinHash, MinHash, MinHashLSH

__all__ = [
    "JACCARD",
    "NUM_PERM",
    "Family",
    "TemplateIndex",
    "bigram_hashes",
    "content_digest",
    "prompt_words",
    "provider_fingerprint",
    "signatures",
]

NUM_PERM: Final = 64
#: Estimated Jaccard similarity of bigram sets at which two prompts are one template. One slot in a
#: ten-word frame leaves ~0.6 of the bigrams shared; two unrelated prompts of common words share < 0.2.
JACCARD: Final = 0.5
_SEED: Final = 1
_SCHEME: Final = "affine32"
_SKELETON_WORDS: Final = 48
_SKELETON_TEXTS: Final = 32  # distinct prompts that narrow a skeleton: enough to mask every slot
_OPENING_WORDS: Final = 4
_OPENING_FAMILIES: Final = 4  # families tried by a prompt's opening words before the LSH index
_CACHE_LIMIT: Final = 1_000_000  # texts remembered by content digest; cleared whole when full
_WORD: Final = re.compile(r"\w+")
_NUMBER: Final = re.compile(r"\d+")
_TEXT_PREFIX: Final = "t"
_PROVIDER_PREFIX: Final = "p:"


def prompt_words(text: str) -> list[str]:
    """The words a prompt is compared by: NFKC, lower case, each number the token `0`."""
    return _WORD.findall(_NUMBER.sub("0", unicodedata.normalize("NFKC", text).lower()))


def content_digest(text: str) -> int:
    """A signed 64-bit digest of a prompt's exact text: what identifies it in an event, never the text."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True)


def provider_fingerprint(value: str) -> str:
    """The template fingerprint of a provider's own template id (namespaced apart from text families)."""
    return _PROVIDER_PREFIX + value


_PERMUTATIONS: Final = MinHash(num_perm=NUM_PERM, seed=_SEED, scheme=_SCHEME).permutations.astype(np.uint32)
_BIGRAM: Final = np.uint32(0x9E3779B1)  # odd: (h1 * K + h2) mod 2^32 keeps word order
_SIGNATURE_ROWS: Final = 200_000  # bigrams per numpy pass: 51 MB of permuted values


class _WordHashes:
    """CRC-32 of each word, computed once per process (prompts reuse a small vocabulary)."""

    def __init__(self) -> None:
        self._known: dict[str, int] = {}

    def of(self, words: Sequence[str]) -> list[int]:
        known = self._known
        if len(known) > _CACHE_LIMIT:
            known.clear()
        result = []
        for word in words:
            value = known.get(word)
            if value is None:
                value = known[word] = zlib.crc32(word.encode())
            result.append(value)
        return result


def _fmix32(values: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    # MurmurHash3's finalizer, as datasketch pre-mixes every input of an affine scheme.
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


def bigram_hashes(word_hashes: Sequence[int]) -> npt.NDArray[np.uint32]:
    """The 32-bit hashes of a prompt's word bigrams (of its one word, or of nothing, if it is shorter)."""
    words = np.asarray(word_hashes, dtype=np.uint32)
    if len(words) < 2:
        return words if len(words) else np.zeros(1, dtype=np.uint32)
    return words[:-1] * _BIGRAM + words[1:]


def signatures(documents: Sequence[npt.NDArray[np.uint32]]) -> npt.NDArray[np.uint32]:
    """MinHash signatures (rows) of documents given as arrays of 32-bit hashes, each non-empty."""
    a, b = _PERMUTATIONS
    result = np.empty((len(documents), NUM_PERM), dtype=np.uint32)
    start = 0
    while start < len(documents):
        stop, rows = start, 0
        while stop < len(documents) and (rows == 0 or rows + len(documents[stop]) <= _SIGNATURE_ROWS):
            rows += len(documents[stop])
            stop += 1
        chunk = documents[start:stop]
        mixed = _fmix32(np.concatenate(chunk))
        permuted = mixed[:, None] * a[None, :] + b[None, :]
        offsets = np.cumsum([0] + [len(d) for d in chunk[:-1]])
        result[start:stop] = np.minimum.reduceat(permuted, offsets, axis=0)
        start = stop
    return result


def _signature_fingerprint(signature: npt.NDArray[np.uint32]) -> str:
    digest = hashlib.blake2b(signature.astype("<u4").tobytes(), digest_size=8).hexdigest()
    return _TEXT_PREFIX + digest


def _lean(signature: npt.NDArray[np.uint32]) -> LeanMinHash:
    return LeanMinHash(seed=_SEED, hashvalues=signature, scheme=_SCHEME)


@dataclass
class Family:
    """One template as far as this process has seen it."""

    fingerprint: str
    stored: bool  # a PromptTemplate node exists (read at start, or written since)
    signature: npt.NDArray[np.uint32] | None = None  # text families only
    words: tuple[str, ...] = ()
    common: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    refined: int = 0  # distinct prompts the skeleton's mask has been narrowed by

    def skeleton(self) -> str | None:
        """The shared words with every varying run masked as `…`; None for a provider's template."""
        if not self.words:
            return None
        parts: list[str] = []
        for word, kept in zip(self.words, self.common, strict=True):
            if kept and word != "0":
                parts.append(word)
            elif not parts or parts[-1] != "…":
                parts.append("…")
        return " ".join(parts)


class TemplateIndex:
    """Assigns prompts to template families; remembers the families this process has seen."""

    def __init__(self) -> None:
        self._lsh = MinHashLSH(threshold=JACCARD, num_perm=NUM_PERM)
        self._families: dict[str, Family] = {}
        self._by_text: dict[int, str] = {}  # content digest -> fingerprint
        self._word_hashes = _WordHashes()
        self._by_opening: dict[tuple[str, ...], list[str]] = {}  # most recently placed first

    def add_stored(self, fingerprint: str, signature: Sequence[int] | None) -> None:
        """A template already in the database (with its signature if it came from text)."""
        family = Family(fingerprint, stored=True)
        if signature is not None:
            family.signature = np.asarray(signature, dtype=np.uint64)
            self._lsh.insert(fingerprint, _lean(family.signature), check_duplication=False)
        self._families[fingerprint] = family

    def family(self, fingerprint: str) -> Family:
        return self._families[fingerprint]

    def families(self) -> Iterable[Family]:
        return self._families.values()

    def assign_provider(self, value: str) -> str:
        """The family of a provider's template id."""
        fingerprint = provider_fingerprint(value)
        if fingerprint not in self._families:
            self._families[fingerprint] = Family(fingerprint, stored=False)
        return fingerprint

    def mark_stored(self, fingerprints: Iterable[str]) -> None:
        for fingerprint in fingerprints:
            self._families[fingerprint].stored = True

    def assign_texts(self, texts: Sequence[str], digests: Sequence[int]) -> list[str]:
        """The family of each prompt (given with its `content_digest`), in order."""
        if len(self._by_text) > _CACHE_LIMIT:
            self._by_text.clear()
            self._by_opening.clear()
        pending: dict[int, tuple[str, list[str]]] = {}  # digest -> (text, words), first occurrence
        for text, digest in zip(texts, digests, strict=True):
            if digest not in self._by_text and digest not in pending:
                pending[digest] = (text, prompt_words(text))
        if pending:
            order = list(pending)
            found = signatures([bigram_hashes(self._word_hashes.of(pending[d][1])) for d in order])
            for digest, signature in zip(order, found, strict=True):
                self._by_text[digest] = self._place(signature, pending[digest][1])
        return [self._by_text[digest] for digest in digests]

    def _place(self, signature: npt.NDArray[np.uint32], words: list[str]) -> str:
        # A prompt usually opens like the last one of its frame: try that family before the LSH index.
        opening = tuple(words[:_OPENING_WORDS])
        recent = self._by_opening.setdefault(opening, [])
        fingerprint = self._best(recent, signature) if recent else None
        if fingerprint is None:
            fingerprint = self._best(sorted(self._lsh.query(_lean(signature))), signature) or self._found(
                signature, words)
        if fingerprint in recent:
            recent.remove(fingerprint)
        recent.insert(0, fingerprint)
        del recent[_OPENING_FAMILIES:]
        family = self._families[fingerprint]
        if family.words and family.refined < _SKELETON_TEXTS:
            family.refined += 1
            present = set(words)
            family.common &= np.fromiter((w in present for w in family.words), bool, len(family.words))
        return fingerprint

    def _best(self, candidates: list[str], signature: npt.NDArray[np.uint32]) -> str | None:
        """The candidate agreeing most with `signature` (the first of equals), if it agrees enough."""
        if not candidates:
            return None
        agree = np.count_nonzero(np.stack([self._signature(c) for c in candidates]) == signature, axis=1)
        best = int(np.argmax(agree))
        return candidates[best] if agree[best] >= JACCARD * NUM_PERM else None

    def _found(self, signature: npt.NDArray[np.uint32], words: list[str]) -> str:
        fingerprint = _signature_fingerprint(signature)
        if fingerprint not in self._families:  # else: the same bigrams as a stored family
            kept = tuple(words[:_SKELETON_WORDS])
            self._families[fingerprint] = Family(
                fingerprint, stored=False, signature=signature.copy(), words=kept,
                common=np.ones(len(kept), dtype=bool),
            )
            self._lsh.insert(fingerprint, _lean(signature), check_duplication=False)
        return fingerprint

    def _signature(self, fingerprint: str) -> npt.NDArray[np.uint32]:
        signature = self._families[fingerprint].signature
        assert signature is not None  # only text families are in the LSH index
        return signature
