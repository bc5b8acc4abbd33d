"""The response cache's LRU: bounded in bytes, least recently used out first, exact under threads."""

from __future__ import annotations

import threading

from api.cache import ResponseCache


def _key(run: str, n: int) -> tuple[str, str, tuple[int]]:
    return (run, "account_attribution", (n,))


def test_least_recently_used_goes_first_and_the_budget_holds() -> None:
    cache = ResponseCache(max_bytes=16 * 1024)  # room for 12 of these
    body = b"x" * 1000
    for n in range(10):
        assert cache.put(_key("run-a", n), body)
    assert cache.get(_key("run-a", 0)) == body  # now the most recently used
    for n in range(10, 15):
        assert cache.put(_key("run-a", n), body)
        assert cache.stats().bytes <= 16 * 1024
    assert cache.stats().entries == 12
    assert cache.get(_key("run-a", 0)) == body, "touched, so kept"
    assert [n for n in range(1, 4) if cache.get(_key("run-a", n)) is not None] == [], "the least recently used"
    assert cache.get(_key("run-a", 14)) == body
    assert cache.get(_key("run-b", 11)) is None, "another run's key is another entry"


def test_an_answer_too_large_for_its_share_is_not_kept() -> None:
    cache = ResponseCache(max_bytes=8 * 1024)
    for n in range(4):
        cache.put(_key("run-a", n), b"x" * 500)
    assert not cache.put(_key("run-a", 99), b"x" * 2048)  # over an eighth of the budget
    assert cache.get(_key("run-a", 99)) is None
    assert all(cache.get(_key("run-a", n)) is not None for n in range(4)), "and nothing was evicted for it"


def test_off_keeps_nothing() -> None:
    cache = ResponseCache(max_bytes=0)
    assert not cache.enabled
    assert not cache.put(_key("run-a", 1), b"{}")
    assert cache.get(_key("run-a", 1)) is None
    assert cache.stats().entries == 0


def test_counts_stay_exact_under_threads() -> None:
    cache = ResponseCache(max_bytes=64 * 1024)
    body = b"y" * 300

    def work(worker: int) -> None:
        for n in range(2000):
            key = _key(f"run-{n % 3}", (n * 7 + worker) % 400)
            if cache.get(key) is None:
                cache.put(key, body)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = cache.stats()
    assert stats.hits + stats.misses == 8 * 2000
    held = [(run, n) for run in range(3) for n in range(400) if cache.get(_key(f"run-{run}", n)) is not None]
    assert len(held) == stats.entries
    one = ResponseCache(max_bytes=64 * 1024)
    one.put(_key("run-0", 0), body)
    assert stats.bytes == stats.entries * one.stats().bytes <= 64 * 1024
    assert cache.runs() <= {"run-0", "run-1", "run-2"}
