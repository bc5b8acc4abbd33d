"""Prompt templates: near-duplicate prompts (one frame, varying slots) fall into one family.

A prompt is reduced to the word bigrams of its normalised text (NFKC, lower case, every number the
token `0`) and the bigram set to a 64-permutation MinHash signature; families are found through
banded MinHash LSH. `datasketch` provides the permutations of its `MinHash` (affine32 scheme) and
the band layout of its `MinHashLSH` (14 bands of 4 positions at the threshold below). `signatures`
applies the permutations to a whole batch of prompts in one numpy pass, giving exactly the
signatures `MinHash.update_batch` gives (tests/unit/test_prompts.py pins that); one `MinHash` per
prompt was 5x slower, and the permuted values laid out permutation by permutation, so that each
prompt's minimum is over contiguous memory, 20x faster again. The index itself is a dictionary per
band from the band's values to the families holding them: the candidates `MinHashLSH.query` gives
(the test pins that too), without building a `LeanMinHash` and hashing each band per query. Word
hashes (CRC-32) come from a per-process cache and bigrams are combined in numpy, so Python touches
each word once. A repeated text skips all of it through an exact-text cache.

A prompt joins the family that agrees with it on the most signature positions, if at least
`JACCARD` of them, else it founds a family. The candidates are first the families last placed with
the same four opening words (a frame's prompts open alike; this spares most LSH queries; ties: the
most recent), then, if none agrees enough, the LSH index's candidates (ties: the lowest
fingerprint). Every family's signature is a row of one matrix, so a candidate costs one row of a
vectorised comparison.

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
import itertools
import re
import unicodedata
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt
from datasketch import MinHash, MinHashLSH

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
_AGREEING: Final = JACCARD * NUM_PERM  # signature positions a family must share with a prompt
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


# ASCII's word characters are letters, digits and `_`: lower case, each digit `0`, the rest a space.
_ASCII_WORDS: Final = bytes.maketrans(
    bytes(range(256)),
    bytes(c + 32 if 65 <= c <= 90 else 48 if 48 <= c <= 57 else c if 97 <= c <= 122 or c == 95 else 32
          for c in range(256)),
)


def _words(text: str) -> list[bytes]:
    """`prompt_words(text)`, each word UTF-8. ASCII text without a regular expression: translated,
    its runs of zeros (numbers) made one, split; Python's `re` cost five times as much."""
    if not text.isascii():
        return [word.encode() for word in prompt_words(text)]
    folded = text.encode().translate(_ASCII_WORDS)
    while b"00" in folded:
        folded = folded.replace(b"00", b"0")
    return folded.split()


def content_digest(text: str) -> int:
    """A signed 64-bit digest of a prompt's exact text: what identifies it in an event, never the text."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True)


def provider_fingerprint(value: str) -> str:
    """The template fingerprint of a provider's own template id (namespaced apart from text families)."""
    return _PROVIDER_PREFIX + value


_PERMUTATIONS: Final = MinHash(num_perm=NUM_PERM, seed=_SEED, scheme=_SCHEME).permutations.astype(np.uint32)
_BANDS: Final = MinHashLSH(threshold=JACCARD, num_perm=NUM_PERM).hashranges
_BAND_WIDTH: Final = _BANDS[0][1] - _BANDS[0][0]
_BANDED: Final = _BANDS[-1][1]  # signature positions the bands cover (the rest are never compared by LSH)
_BIGRAM: Final = np.uint32(0x9E3779B1)  # odd: (h1 * K + h2) mod 2^32 keeps word order
_SIGNATURE_VALUES: Final = 8192  # hashes per numpy pass: 2 MB of permuted values, in cache


class _WordHashes:
    """CRC-32 of each word, computed once per process (prompts reuse a small vocabulary)."""

    def __init__(self) -> None:
        self._known: dict[bytes, int] = {}

    def of(self, words: list[bytes]) -> npt.NDArray[np.uint32]:
        known = self._known
        if len(known) > _CACHE_LIMIT:
            known.clear()
        for word in set(words).difference(known):
            known[word] = zlib.crc32(word)
        return np.fromiter(map(known.__getitem__, words), dtype=np.uint32, count=len(words))


def _fmix32(values: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    # MurmurHash3's finalizer, as datasketch pre-mixes every input of an affine scheme.
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


def bigram_hashes(
    word_hashes: npt.NDArray[np.uint32], lengths: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]:
    """The 32-bit hashes of each prompt's word bigrams (of its one word, or of nothing, if it is
    shorter), for prompts given as consecutive runs of `lengths` word hashes: all of them, and the
    offset of each prompt's first."""
    counts = np.maximum(lengths - 1, 1)
    offsets = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(counts[:-1], out=offsets[1:])
    starts = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    # Each output position reads the word it starts at; a two-word window only where the prompt has two.
    first = np.repeat(starts - offsets, counts) + np.arange(int(counts.sum()), dtype=np.int64)
    padded = np.append(word_hashes, np.zeros(2, dtype=np.uint32))
    pairs = padded[first] * _BIGRAM + padded[first + 1]
    words = np.repeat(lengths, counts)
    return np.where(words >= 2, pairs, np.where(words == 1, padded[first], np.uint32(0))), offsets


def signatures(values: npt.NDArray[np.uint32], offsets: npt.NDArray[np.int64]) -> npt.NDArray[np.uint32]:
    """MinHash signatures (rows) of documents given as consecutive runs of 32-bit hashes starting at
    `offsets`, each run non-empty."""
    a, b = _PERMUTATIONS[0][:, None], _PERMUTATIONS[1][:, None]
    mixed = _fmix32(values)
    result = np.empty((NUM_PERM, len(offsets)), dtype=np.uint32)
    start = 0
    while start < len(offsets):
        low = int(offsets[start])
        stop = max(int(np.searchsorted(offsets, low + _SIGNATURE_VALUES, side="right")), start + 1)
        high = int(offsets[stop]) if stop < len(offsets) else len(mixed)
        permuted = mixed[None, low:high] * a + b
        result[:, start:stop] = np.minimum.reduceat(permuted, offsets[start:stop] - low, axis=1)
        start = stop
    return np.ascontiguousarray(result.T)


def _band_keys(signatures: npt.NDArray[np.uint32]) -> list[list[bytes]]:
    """Each signature's bands as bytes, the keys of the band dictionaries."""
    banded = np.ascontiguousarray(signatures[:, :_BANDED])
    keys: list[list[bytes]] = banded.view(f"V{4 * _BAND_WIDTH}").tolist()
    return keys


def _signature_fingerprint(signature: npt.NDArray[np.uint32]) -> str:
    digest = hashlib.blake2b(signature.astype("<u4").tobytes(), digest_size=8).hexdigest()
    return _TEXT_PREFIX + digest


@dataclass
class Family:
    """One template as far as this process has seen it."""

    fingerprint: str
    stored: bool  # a PromptTemplate node exists (read at start, or written since)
    signature: npt.NDArray[np.uint32] | None = None  # text families only
    words: tuple[bytes, ...] = ()  # of its first prompt, UTF-8
    common: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    refined: int = 0  # distinct prompts the skeleton's mask has been narrowed by

    def skeleton(self) -> str | None:
        """The shared words with every varying run masked as `…`; None for a provider's template."""
        if not self.words:
            return None
        parts: list[str] = []
        for word, kept in zip(self.words, self.common, strict=True):
            if kept and word != b"0":
                parts.append(word.decode())
            elif not parts or parts[-1] != "…":
                parts.append("…")
        return " ".join(parts)


class TemplateIndex:
    """Assigns prompts to template families; remembers the families this process has seen."""

    def __init__(self) -> None:
        self._families: dict[str, Family] = {}
        self._by_text: dict[int, str] = {}  # content digest -> fingerprint
        self._word_hashes = _WordHashes()
        self._by_opening: dict[tuple[bytes, ...], list[int]] = {}  # text families' rows, most recent first
        # Text families by row: signatures, fingerprints, and per band its values -> rows.
        self._matrix = np.empty((1024, NUM_PERM), dtype=np.uint32)
        self._text_families: list[Family] = []
        self._rows: dict[str, int] = {}  # fingerprint -> row
        self._bands: list[dict[bytes, list[int]]] = [{} for _ in _BANDS]

    def add_stored(self, fingerprint: str, signature: Sequence[int] | None) -> None:
        """A template already in the database (with its signature if it came from text)."""
        family = Family(fingerprint, stored=True)
        if signature is not None:
            family.signature = np.asarray(signature, dtype=np.uint32)
            self._index(family, _band_keys(family.signature[None, :])[0])
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
        pending: dict[int, list[bytes]] = {}  # digest -> words, in the order of first occurrence
        for text, digest in zip(texts, digests, strict=True):
            if digest not in self._by_text and digest not in pending:
                pending[digest] = _words(text)
        if pending:
            words = list(pending.values())
            lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
            hashes = self._word_hashes.of(list(itertools.chain.from_iterable(words)))
            found = signatures(*bigram_hashes(hashes, lengths))
            for digest, signature, prompt, keys in zip(pending, found, words, _band_keys(found), strict=True):
                self._by_text[digest] = self._place(signature, prompt, keys)
        return [self._by_text[digest] for digest in digests]

    def _place(self, signature: npt.NDArray[np.uint32], words: list[bytes], keys: list[bytes]) -> str:
        # A prompt usually opens like the last one of its frame: try that family before the LSH index.
        recent = self._by_opening.setdefault(tuple(words[:_OPENING_WORDS]), [])
        row = self._best(recent, signature, by_fingerprint=False) if recent else None
        if row is None:
            candidates = self._candidates(keys)
            row = self._best(candidates, signature, by_fingerprint=True) if candidates else None
        if row is None:
            row = self._found(signature, words, keys)
        if row in recent:
            recent.remove(row)
        recent.insert(0, row)
        del recent[_OPENING_FAMILIES:]
        family = self._text_families[row]
        if family.words and family.refined < _SKELETON_TEXTS:
            family.refined += 1
            present = set(words).__contains__
            family.common &= np.fromiter(map(present, family.words), bool, len(family.words))
        return family.fingerprint

    def _candidates(self, keys: list[bytes]) -> list[int]:
        """The rows of the families sharing a band with a signature (given by its band keys)."""
        candidates: set[int] = set()
        for table, key in zip(self._bands, keys, strict=True):
            found = table.get(key)
            if found is not None:
                candidates.update(found)
        return list(candidates)

    def _best(self, rows: list[int], signature: npt.NDArray[np.uint32], *, by_fingerprint: bool) -> int | None:
        """The row agreeing most with `signature`, if it agrees enough; among equals the first in
        `rows`, or the lowest fingerprint."""
        # The ufuncs themselves: np.count_nonzero's wrapper costs more than the comparison.
        agree = np.add.reduce(np.equal(self._matrix.take(rows, axis=0), signature), axis=1, dtype=np.intp)
        best = int(np.argmax(agree))
        if agree[best] < _AGREEING:
            return None
        if by_fingerprint:
            tied = np.flatnonzero(agree == agree[best])
            if len(tied) > 1:
                return min((rows[int(t)] for t in tied), key=lambda r: self._text_families[r].fingerprint)
        return rows[best]

    def _found(self, signature: npt.NDArray[np.uint32], words: list[bytes], keys: list[bytes]) -> int:
        """The row of a new family founded by this prompt (or of a stored one with its very bigrams)."""
        fingerprint = _signature_fingerprint(signature)
        if fingerprint not in self._rows:
            kept = tuple(words[:_SKELETON_WORDS])
            family = self._families[fingerprint] = Family(
                fingerprint, stored=False, signature=signature.copy(), words=kept,
                common=np.ones(len(kept), dtype=bool),
            )
            self._index(family, keys)
        return self._rows[fingerprint]

    def _index(self, family: Family, keys: list[bytes]) -> None:
        row = len(self._text_families)
        if row == len(self._matrix):
            self._matrix = np.concatenate([self._matrix, np.empty_like(self._matrix)])
        assert family.signature is not None
        self._matrix[row] = family.signature
        self._text_families.append(family)
        self._rows[family.fingerprint] = row
        for table, key in zip(self._bands, keys, strict=True):
            table.setdefault(key, []).append(row)
