"""Benchmark GET /v1/accounts/{id}/attribution at a fixed request rate on loopback (not a test).

Usage (the dev Neo4j on 7687 holding a loaded and detected population, 100k accounts for the target):

    ringtrace neo4j start && ringtrace schema apply
    ringtrace generate --out demo/100k --accounts 100000 --seed 7
    ringtrace load demo/100k && ringtrace detect
    python bench/api.py --rate 200 --duration 20

It starts `ringtrace serve` on a free port (or uses --url), samples account ids from Neo4j, then
sends requests open-loop: request i leaves at t0 + i/rate whether or not earlier ones returned, so a
slow server shows up as latency, not as a lower send rate. Latency is measured from each request's
scheduled time (coordinated omission included) and, separately, from when it was sent. Prints
throughput and p50/p95/p99. Target: p99 < 25 ms at 200 req/s with 100k accounts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field

import httpx

from graph.settings import Settings
from graph.store.driver import create_driver

_BENCH_KEY = "bench-read-key"


@dataclass
class _Results:
    scheduled_ms: list[float] = field(default_factory=list)
    service_ms: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _sample_accounts(settings: Settings, n: int, seed: int) -> list[str]:
    with create_driver(settings) as driver:
        records, _, _ = driver.execute_query(
            "MATCH (a:Account) RETURN a.account_id AS id ORDER BY id LIMIT $n", n=50_000,
            database_=settings.neo4j_database,
        )
        total, _, _ = driver.execute_query("MATCH (a:Account) RETURN count(a) AS n",
                                           database_=settings.neo4j_database)
    ids = [r["id"] for r in records]
    if not ids:
        sys.exit("no accounts in Neo4j: load and detect a population first (see the module docstring)")
    print(f"population: {total[0]['n']} accounts in {settings.neo4j_uri}")
    rng = random.Random(seed)
    return [rng.choice(ids) for _ in range(n)]


def _start_server(port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RINGTRACE_API_KEYS": f"{_BENCH_KEY}:read", "RINGTRACE_API_ACCESS_LOG": "false"}
    ringtrace = shutil.which("ringtrace")
    command = ([ringtrace] if ringtrace else [sys.executable, "-m", "graph.cli"]) + [
        "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_ready(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    sys.exit(f"the API at {url} did not become ready in {timeout:.0f} s")


async def _drive(url: str, key: str, accounts: list[str], rate: float, concurrency: int) -> tuple[_Results, float]:
    results = _Results()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {key}"}
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=5.0) as client:
        for account in accounts[: min(20, len(accounts))]:  # warm up connections and caches
            await client.get(f"/v1/accounts/{account}/attribution")

        async def one(account: str, scheduled: float) -> None:
            async with gate:
                sent = time.perf_counter()
                try:
                    response = await client.get(f"/v1/accounts/{account}/attribution")
                    status = str(response.status_code)
                except httpx.HTTPError as error:
                    status = type(error).__name__
                done = time.perf_counter()
            results.statuses[status] = results.statuses.get(status, 0) + 1
            results.scheduled_ms.append((done - scheduled) * 1000)
            results.service_ms.append((done - sent) * 1000)

        tasks = []
        start = time.perf_counter()
        for i, account in enumerate(accounts):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(account, scheduled)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    return results, elapsed


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="an API already running (then --key is its read key)")
    parser.add_argument("--key", default=_BENCH_KEY)
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers of the server started here")
    parser.add_argument("--concurrency", type=int, default=64, help="most requests in flight")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    settings = Settings()
    count = max(1, min(int(args.rate * args.duration), 100_000))
    accounts = _sample_accounts(settings, count, args.seed)
    server = None
    url = args.url
    if url is None:
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        server = _start_server(port, args.workers)
    try:
        _wait_ready(url)
        results, elapsed = asyncio.run(
            asyncio.wait_for(_drive(url, args.key, accounts, args.rate, args.concurrency),
                             timeout=args.duration * 2 + 60)
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    n = len(results.scheduled_ms)
    print(f"requests: {n} in {elapsed:.2f} s -> {n / elapsed:.1f} req/s (target rate {args.rate:.0f}/s)")
    print(f"statuses: {dict(sorted(results.statuses.items()))}")
    for name, values in (("from schedule", results.scheduled_ms), ("from send", results.service_ms)):
        print(f"latency {name:13s} ms: p50 {_percentile(values, 50):.2f}  p95 {_percentile(values, 95):.2f}  "
              f"p99 {_percentile(values, 99):.2f}  max {max(values):.2f}")


if __name__ == "__main__":
    main()
