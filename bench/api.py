"""Benchmark GET /v1/accounts/{id}/attribution at fixed request rates on loopback, next to a hello-world
FastAPI route served the same way (not a test).

Usage (a Neo4j holding a loaded and detected population, e.g. 100k accounts; NEO4J_URI names it):

    ringtrace neo4j start && ringtrace schema apply
    ringtrace generate --out demo/100k --accounts 100000 --seed 7 --events-per-account 0
    ringtrace load demo/100k && ringtrace detect
    python bench/api.py --rates 200 500 --duration 20 --workers 2

For each scenario it starts a server of its own on a free port with `--workers` uvicorn workers:

- hello-world: a FastAPI app with one sync route returning {"hello": "world"} (`hello_world_app`),
  the framework's own ceiling on this machine: no key check, no Neo4j;
- attribution, cache off: `ringtrace serve` with RINGTRACE_API_RESPONSE_CACHE_BYTES=0, every request
  read from Neo4j (what the route cost before the response cache);
- attribution, cold: the cache on, every request an account not asked before (a miss: read from
  Neo4j, rendered, kept);
- attribution, warm: the cache on, requests drawn from a working set of accounts that was asked until
  both workers held it (hits).

Requests are sent open-loop: request i leaves at t0 + i/rate whether or not earlier ones returned, so
a slow server shows up as latency, not as a lower send rate. Latency is measured from each request's
scheduled time (coordinated omission included) and, separately, from when it was sent. The client is
a few lines of HTTP/1.1 over asyncio streams with keep-alive connections: a general-purpose client
(httpx) spent more CPU per request than the hello-world server and, on two cores shared with the
server and Neo4j, measured itself. With --url it measures an API already running (then --key is its
read key) at the given rates.
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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI

from graph.settings import Settings
from graph.store.driver import create_driver

_BENCH_KEY = "bench-read-key"
_REPO = Path(__file__).resolve().parent.parent


def hello_world_app() -> FastAPI:
    """The hello-world route measured next to the API: FastAPI and uvicorn alone."""
    app = FastAPI()

    @app.get("/hello")
    def hello() -> dict[str, str]:  # sync, like the API's routes: it runs in the same thread pool
        return {"hello": "world"}

    return app


@dataclass
class _Results:
    scheduled_ms: list[float] = field(default_factory=list)
    service_ms: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    hits: int = 0
    elapsed: float = 0.0


class _Connection:
    """One keep-alive HTTP/1.1 connection: GET, read the status, the Cache-Status and the body."""

    def __init__(self, host: str, port: int, headers: bytes) -> None:
        self._host, self._port, self._headers = host, port, headers
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bool]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        assert self._reader is not None
        try:
            self._writer.write(b"GET " + path.encode() + b" HTTP/1.1\r\n" + self._headers)
            head = await self._reader.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            status, length, hit = int(lines[0].split()[1]), 0, False
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name = name.lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"cache-status":
                    hit = value.strip().endswith(b"; hit")
                elif name == b"transfer-encoding":
                    raise RuntimeError("chunked responses are not expected from these routes")
            await self._reader.readexactly(length)
            return status, hit
        except (OSError, asyncio.IncompleteReadError):
            self.close()  # the next request opens a new one
            raise

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


async def _pool(url: str, key: str | None, size: int) -> asyncio.Queue[_Connection]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    headers = f"Host: {host}:{port}\r\n".encode()
    if key:
        headers += f"Authorization: Bearer {key}\r\n".encode()
    headers += b"\r\n"
    pool: asyncio.Queue[_Connection] = asyncio.Queue()
    for _ in range(size):
        connection = _Connection(host, port, headers)
        await connection.get("/healthz")  # connect now, one at a time, so the workers share them
        pool.put_nowait(connection)
    return pool


async def _closed_loop(pool: asyncio.Queue[_Connection], paths: Sequence[str]) -> int:
    """Send `paths` as fast as the pool allows; how many were hits."""
    hits = 0

    async def one(path: str) -> None:
        nonlocal hits
        connection = await pool.get()
        try:
            status, hit = await connection.get(path)
            hits += hit and status == 200
        except (OSError, asyncio.IncompleteReadError):
            pass  # not measured: the connection is reopened by its next request
        finally:
            pool.put_nowait(connection)

    await asyncio.gather(*(one(p) for p in paths))
    return hits


async def _open_loop(pool: asyncio.Queue[_Connection], paths: Sequence[str], rate: float) -> _Results:
    results = _Results()

    async def one(path: str, scheduled: float) -> None:
        connection = await pool.get()
        sent = time.perf_counter()
        try:
            status, hit = await connection.get(path)
            label = str(status)
            results.hits += hit
        except (OSError, asyncio.IncompleteReadError) as error:
            label = type(error).__name__
        finally:
            pool.put_nowait(connection)
        done = time.perf_counter()
        results.statuses[label] = results.statuses.get(label, 0) + 1
        results.scheduled_ms.append((done - scheduled) * 1000)
        results.service_ms.append((done - sent) * 1000)

    tasks = []
    start = time.perf_counter()
    for i, path in enumerate(paths):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(path, scheduled)))
    await asyncio.gather(*tasks)
    results.elapsed = time.perf_counter() - start
    return results


@dataclass(frozen=True)
class _Scenario:
    name: str
    warm_up: list[str]  # sent closed-loop first, not measured
    measured: dict[float, list[str]]  # rate -> the paths sent at that rate
    working_set: list[str] = field(default_factory=list)  # asked until both workers hold it (warm)


async def _measure(url: str, key: str | None, scenario: _Scenario, concurrency: int) -> dict[float, _Results]:
    pool = await _pool(url, key, concurrency)
    await _closed_loop(pool, scenario.warm_up)
    if scenario.working_set:
        # Each connection is served by one worker, and each worker has its own cache: ask the set
        # again until nearly every request of a pass is a hit.
        for _ in range(20):
            shuffled = random.Random(len(scenario.working_set)).sample(scenario.working_set, len(scenario.working_set))
            if await _closed_loop(pool, shuffled) >= 0.995 * len(shuffled):
                break
    out = {rate: await _open_loop(pool, paths, rate) for rate, paths in scenario.measured.items()}
    while not pool.empty():
        pool.get_nowait().close()
    return out


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_api(port: int, workers: int, cache_bytes: int | None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RINGTRACE_API_KEYS": f"{_BENCH_KEY}:read", "RINGTRACE_API_ACCESS_LOG": "false"}
    if cache_bytes is not None:
        env["RINGTRACE_API_RESPONSE_CACHE_BYTES"] = str(cache_bytes)
    ringtrace = shutil.which("ringtrace")
    command = ([ringtrace] if ringtrace else [sys.executable, "-m", "graph.cli"]) + [
        "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _start_hello(port: int, workers: int) -> subprocess.Popen[bytes]:
    # The same uvicorn as `ringtrace serve` runs, with its defaults (uvloop, httptools) and no access log.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(_REPO), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "uvicorn", "bench.api:hello_world_app", "--factory", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers), "--no-access-log"]
    return subprocess.Popen(command, env=env, cwd=_REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_ready(url: str, path: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}{path}", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    sys.exit(f"the server at {url} did not become ready in {timeout:.0f} s")


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _accounts(settings: Settings) -> list[str]:
    with create_driver(settings) as driver:
        records, _, _ = driver.execute_query("MATCH (a:Account) RETURN a.account_id AS id ORDER BY id",
                                             database_=settings.neo4j_database)
    ids = [str(r["id"]) for r in records]
    if not ids:
        sys.exit("no accounts in Neo4j: load and detect a population first (see the module docstring)")
    print(f"population: {len(ids)} accounts in {settings.neo4j_uri}")
    return ids


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def _row(name: str, rate: float, results: _Results) -> str:
    n = len(results.scheduled_ms)
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(results.statuses.items()))
    s = results.scheduled_ms
    return (f"| {name} | {rate:.0f} | {n / results.elapsed:.1f} | {_percentile(s, 50):.2f} | "
            f"{_percentile(s, 95):.2f} | {_percentile(s, 99):.2f} | {_percentile(results.service_ms, 99):.2f} | "
            f"{max(s):.1f} | {results.hits / n:.0%} | {statuses} |")


def _scenarios(accounts: list[str], rates: list[float], duration: float, working_set: int,
               seed: int) -> list[tuple[_Scenario, str, int | None]]:
    """Each scenario with the server it runs against: 'hello' or 'api' and the cache budget (None: default)."""
    rng = random.Random(seed)
    counts = {rate: int(rate * duration) for rate in rates}
    shuffled = rng.sample(accounts, len(accounts))
    warm_up = [f"/v1/accounts/{a}/attribution" for a in shuffled[:300]]
    fresh = shuffled[300:]
    if sum(counts.values()) > len(fresh):
        sys.exit(f"cold needs {sum(counts.values())} accounts never asked before; the population has {len(fresh)}")
    cold: dict[float, list[str]] = {}
    for rate, count in counts.items():
        cold[rate], fresh = [f"/v1/accounts/{a}/attribution" for a in fresh[:count]], fresh[count:]
    hot = [f"/v1/accounts/{a}/attribution" for a in shuffled[300:300 + working_set]]
    return [
        (_Scenario("hello-world", ["/hello"] * 300, {r: ["/hello"] * c for r, c in counts.items()}), "hello", None),
        (_Scenario("attribution, cache off",
                   warm_up, {r: [rng.choice(cold[r]) for _ in range(c)] for r, c in counts.items()}), "api", 0),
        (_Scenario("attribution, cold (first touches)", warm_up, cold), "api", None),
        (_Scenario("attribution, warm (cached)", warm_up, {r: [rng.choice(hot) for _ in range(c)]
                                                            for r, c in counts.items()}, hot), "api", None),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="an API already running: measure only its attribution route")
    parser.add_argument("--key", default=_BENCH_KEY)
    parser.add_argument("--rates", type=float, nargs="+", default=[200.0, 500.0], help="requests per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds at each rate")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers of the servers started here")
    parser.add_argument("--concurrency", type=int, default=64, help="connections, the most requests in flight")
    parser.add_argument("--working-set", type=int, default=1000, help="accounts the warm scenario asks")
    parser.add_argument("--only", nargs="+", help="scenario names (or their first word) to run")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    accounts = _accounts(Settings())
    plan = _scenarios(accounts, args.rates, args.duration, args.working_set, args.seed)
    if args.url:
        plan = [(_Scenario(f"attribution at {args.url}", plan[1][0].warm_up, plan[1][0].measured), "url", None)]
    if args.only:
        plan = [p for p in plan if any(p[0].name.startswith(o) for o in args.only)]
    rows: list[str] = []
    for scenario, server_kind, cache_bytes in plan:
        server = None
        url = args.url
        if url is None:
            port = _free_port()
            url = f"http://127.0.0.1:{port}"
            hello = server_kind == "hello"
            server = _start_hello(port, args.workers) if hello else _start_api(port, args.workers, cache_bytes)
        try:
            _wait_ready(url, "/hello" if server_kind == "hello" else "/readyz")
            key = None if server_kind == "hello" else args.key
            timeout = len(args.rates) * (args.duration * 2 + 60) + 300
            measured = asyncio.run(asyncio.wait_for(_measure(url, key, scenario, args.concurrency), timeout))
        finally:
            if server is not None:
                _stop(server)
        for rate, results in measured.items():
            rows.append(_row(scenario.name, rate, results))
            print(rows[-1], flush=True)
    print(f"\n{args.workers} workers, {args.concurrency} connections, {args.duration:.0f} s per rate; latency in ms "
          "from each request's scheduled time (p99 from send beside it); hits: answered from the response cache")
    print("| scenario | rate | achieved | p50 | p95 | p99 | p99 from send | max | hits | statuses |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
