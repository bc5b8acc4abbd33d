"""Template assignment: near-duplicates together, unrelated prompts apart, signatures as datasketch's."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHash, MinHashLSH

from graph.ingest.prompts import (
    JACCARD,
    NUM_PERM,
    TemplateIndex,
    _band_keys,
    _words,
    bigram_hashes,
    content_digest,
    prompt_words,
    signatures,
)

FRAME = "Reconstruct, step by step, the full reasoning behind the answer to: {q} Then grade it from 1 to 10."
QUESTIONS = [
    "why does ice float on water?",
    "how many primes are below 100?",
    "what causes the seasons on Earth?",
    "is 91 a prime number?",
    "why is the sky blue at noon?",
    "how does a lever multiply force?",
]


def _assign(index: TemplateIndex, texts: list[str]) -> list[str]:
    return index.assign_texts(texts, [content_digest(t) for t in texts])


def test_batch_signatures_are_datasketch_signatures() -> None:
    rng = np.random.default_rng(3)
    # Enough documents that the batch is cut into several numpy passes.
    documents = [rng.integers(0, 2**32, size=n, dtype=np.uint64).astype(np.uint32)
                 for n in [1, 2, 7, 40, 300, 9000] * 4]
    offsets = np.cumsum([0] + [len(d) for d in documents[:-1]])
    ours = signatures(np.concatenate(documents), offsets)
    for row, document in zip(ours, documents, strict=True):
        reference = MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32", hashfunc=int)
        reference.update_batch([int(v) for v in document])
        assert np.array_equal(row, reference.hashvalues)


def test_bigrams_of_a_batch_are_each_prompts_own() -> None:
    words = [0xFFFFFFF1, 22, 33, 44, 55, 66]
    values, offsets = bigram_hashes(np.array(words, dtype=np.uint32), np.array([3, 0, 1, 2], dtype=np.int64))

    def bigram(first: int, second: int) -> int:
        return (first * 0x9E3779B1 + second) % 2**32

    assert offsets.tolist() == [0, 2, 3, 4]
    assert values.tolist() == [bigram(words[0], words[1]), bigram(words[1], words[2]), 0, 44, bigram(55, 66)]


def test_band_candidates_are_datasketch_lsh_candidates() -> None:
    # Signatures drawn from few values, so that many share a band with many others.
    rng = np.random.default_rng(5)
    stored = rng.integers(0, 3, size=(300, NUM_PERM), dtype=np.uint64).astype(np.uint32)
    queries = rng.integers(0, 3, size=(50, NUM_PERM), dtype=np.uint64).astype(np.uint32)
    index = TemplateIndex()
    lsh = MinHashLSH(threshold=JACCARD, num_perm=NUM_PERM)
    for number, signature in enumerate(stored):
        index.add_stored(f"t{number:04d}", [int(v) for v in signature])
        lsh.insert(f"t{number:04d}", LeanMinHash(seed=1, hashvalues=signature, scheme="affine32"))
    for signature, keys in zip(queries, _band_keys(queries), strict=True):
        ours = {index._text_families[row].fingerprint for row in index._candidates(keys)}
        assert ours == set(lsh.query(LeanMinHash(seed=1, hashvalues=signature, scheme="affine32")))


def test_near_duplicates_share_a_template() -> None:
    index = TemplateIndex()
    families = _assign(index, [FRAME.format(q=q) for q in QUESTIONS])
    assert len(set(families)) == 1


def test_unrelated_prompts_do_not() -> None:
    index = TemplateIndex()
    texts = [
        "Translate the following text into French: the meeting moved to Tuesday.",
        "Write a haiku about autumn leaves falling in the park.",
        "What is the best way to negotiate a raise?",
        FRAME.format(q=QUESTIONS[0]),
        "Summarise this article in three bullet points: markets rose on Monday.",
    ]
    assert len(set(_assign(index, texts))) == len(texts)


def test_the_same_text_always_gets_the_same_template() -> None:
    index = TemplateIndex()
    first = _assign(index, [FRAME.format(q=QUESTIONS[0])])
    _assign(index, ["Write a haiku about autumn leaves falling in the park."])
    assert _assign(index, [FRAME.format(q=QUESTIONS[0])]) == first


def test_numbers_are_one_word_and_case_does_not_matter() -> None:
    assert prompt_words("Is 91 PRIME? Or 1,024?") == ["is", "0", "prime", "or", "0", "0"]
    assert prompt_words("Ｆｕｌｌ ＷＩＤＴＨ ①") == ["full", "width", "0"]  # NFKC


@pytest.mark.parametrize("text", [
    "Is 91 PRIME? Or 1,024?", "abc123def 00 007 a_b__c", "", "   ", "tab\tnew\nline\r\x7f~", "A1B2C3-x9",
    "ÄÖÜ 12 ß", "ΑΣ ΟΔΟΣ", "mixed 12 é 34", "0.5 and 1e10 and 1_000",
])
def test_the_ascii_shortcut_finds_the_words_prompt_words_finds(text: str) -> None:
    assert _words(text) == [word.encode() for word in prompt_words(text)]


def test_a_skeleton_keeps_the_frame_and_masks_the_slots() -> None:
    index = TemplateIndex()
    families = _assign(index, [FRAME.format(q=q) for q in QUESTIONS])
    skeleton = index.family(families[0]).skeleton()
    assert skeleton is not None
    assert skeleton.startswith("reconstruct step by step the full reasoning behind the answer to")
    assert "…" in skeleton and "ice" not in skeleton and "primes" not in skeleton


def test_a_stored_template_is_found_again_by_a_new_process() -> None:
    first = TemplateIndex()
    family = _assign(first, [FRAME.format(q=QUESTIONS[0])])[0]
    signature = first.family(family).signature
    assert signature is not None
    later = TemplateIndex()
    later.add_stored(family, [int(v) for v in signature])
    assert _assign(later, [FRAME.format(q=QUESTIONS[3])]) == [family]
    assert later.family(family).stored


def test_provider_fingerprints_are_their_own_templates() -> None:
    index = TemplateIndex()
    assert index.assign_provider("tpl-7") == index.assign_provider("tpl-7") != index.assign_provider("tpl-8")


@pytest.mark.parametrize("text", ["", "   ", "!!!"])
def test_prompts_without_words_still_get_a_template(text: str) -> None:
    assert len(_assign(TemplateIndex(), [text])) == 1
