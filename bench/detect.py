"""Benchmark of the whole pipeline on generated populations, against a plain baseline.

For each population size: generate (cached), load into a fresh Neo4j of its own (port 7690, data in
.neo4j-bench/), then run `ringtrace detect` in a child process (so its peak memory is its own) and
report the time of each stage, peak RSS and the quality figures; then, in this process, the baselines:

- python-louvain `best_partition` on *the same* projected graph (the detection-stage speed-up);
- the plain pipeline: a networkx graph built by Python loops over every shared entity, unweighted,
  and python-louvain on it (skipped above --baseline-max accounts: it needs hours and tens of GB).

    python bench/detect.py                      # 100k and 1M accounts
    python bench/detect.py --accounts 20000     # quicker
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import time
from multiprocessing import Queue
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_ENV = {
    "NEO4J_URI": "bolt://127.0.0.1:7690",
    "RINGTRACE_NEO4J_BOLT_PORT": "7690",
    "RINGTRACE_NEO4J_HTTP_PORT": "7477",
    "RINGTRACE_NEO4J_HOME": str(ROOT / ".neo4j-bench"),
    "RINGTRACE_NEO4J_PAGECACHE": "2g",
}
os.environ.update(BENCH_ENV)

import networkx as nx  # noqa: E402
from community import best_partition  # noqa: E402

from graph import local_server  # noqa: E402
from graph.detection import DetectionParams, detect_rings  # noqa: E402
from graph.evaluation.rings import evaluate_rings  # noqa: E402
from graph.evaluation.truth import Truth, read_truth  # noqa: E402
from graph.generator import generate_population  # noqa: E402
from graph.ingest.loader import load_bundle  # noqa: E402
from graph.links import Incidence, index_links  # noqa: E402
from graph.projection import project  # noqa: E402
from graph.settings import Settings  # noqa: E402
from graph.store.driver import create_driver  # noqa: E402
from graph.store.observation_reads import read_observations  # noqa: E402
from graph.store.results import read_scored_rings  # noqa: E402
from graph.store.runs import latest_run_id, read_run  # noqa: E402
from graph.store.schema import apply_schema  # noqa: E402


def _fresh_server(settings: Settings) -> None:
    local_server.stop(settings)
    data = settings.neo4j_home / "data"
    if data.exists():
        subprocess.run(["rm", "-rf", str(data)], check=True)
    local_server.start(settings, timeout=300)


def _detect_in_child(seed: int) -> tuple[float, float]:
    """Wall seconds and peak RSS (GiB) of `ringtrace detect` in its own process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "graph", "detect", "--seed", str(seed)], check=True,
                   env={**os.environ, **BENCH_ENV}, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024 / 1024


def _plain_baseline(inc: Incidence, truth: Truth, seed: int, out: Queue[dict[str, object]]) -> None:
    """The plain pipeline: every shared entity links every pair of its accounts, unweighted,
    in a networkx graph built by Python loops; then python-louvain."""
    started = time.perf_counter()
    by_entity: dict[int, list[int]] = {}
    for a, e in zip(inc.link_account.tolist(), inc.link_entity.tolist(), strict=True):
        by_entity.setdefault(e, []).append(a)
    plain = nx.Graph()
    for accounts in by_entity.values():
        for i, a in enumerate(accounts):
            for b in accounts[i + 1 :]:
                plain.add_edge(a, b)
    build = time.perf_counter() - started
    started = time.perf_counter()
    partition = best_partition(plain, random_state=seed)
    seconds = time.perf_counter() - started
    groups: dict[int, set[str]] = {}
    for node, label in partition.items():
        groups.setdefault(label, set()).add(str(inc.account_ids[node]))
    quality = evaluate_rings([g for g in groups.values() if len(g) >= 3], truth.ring, truth.cohort,
                             actors_outside_rings=truth.actors_outside_rings)
    out.put({"plain_edges": plain.number_of_edges(), "plain_build_s": round(build, 1),
             "plain_louvain_s": round(seconds, 1), "plain_ring_recall": round(quality.ring_recall, 3),
             "plain_ari": round(quality.ari, 3)})


def _plain_baseline_bounded(inc: Incidence, truth: Truth, seed: int, timeout: float) -> dict[str, object]:
    """The plain baseline in a child process, given up after `timeout` seconds."""
    results: Queue[dict[str, object]] = multiprocessing.Queue()
    child = multiprocessing.Process(target=_plain_baseline, args=(inc, truth, seed, results))
    child.start()
    child.join(timeout)
    if child.is_alive():
        child.kill()
        child.join()
        return {"plain_louvain_s": f"> {timeout:.0f} (stopped)"}
    return results.get()


def run(accounts: int, seed: int, baseline_max: int, timeout: float) -> dict[str, object]:
    bundle = Path(f"/tmp/ringtrace-bench/pop-{accounts}-{seed}")
    if not (bundle / "truth.csv").exists():
        generate_population(bundle, accounts, seed)
    settings = Settings()
    _fresh_server(settings)
    row: dict[str, object] = {"accounts": accounts}
    with create_driver(settings) as driver:
        db = settings.neo4j_database
        apply_schema(driver, db)
        started = time.perf_counter()
        report = load_bundle(driver, db, bundle, rejects_path=bundle / "rejects.csv")
        load_seconds = time.perf_counter() - started
        links = next(f for f in report.files if f.name == "links")
        row["load_s"] = round(load_seconds, 1)
        row["links"] = links.read
        row["links_per_s"] = round(links.read / links.seconds)
        detect_seconds, peak_gib = _detect_in_child(seed)
        run_id = latest_run_id(driver, db)
        assert run_id is not None
        record = read_run(driver, db, run_id)
        assert record is not None
        row["detect_s"] = round(detect_seconds, 1)
        row["peak_rss_gib"] = round(peak_gib, 2)
        row["stages"] = record.timings
        truth = read_truth(bundle / "truth.csv")
        scored = read_scored_rings(driver, db, run_id)
        quality = evaluate_rings([r.members for r in scored], truth.ring, truth.cohort,
                                 actors_outside_rings=truth.actors_outside_rings)
        reported = evaluate_rings([r.members for r in scored if r.score >= 0.5], truth.ring, truth.cohort,
                                  actors_outside_rings=truth.actors_outside_rings)
        row["ring_recall"] = round(quality.ring_recall, 3)
        row["ari"] = round(quality.ari, 3)
        row["contamination"] = round(quality.contamination, 4)
        row["coordinated_ring_f1"] = round(reported.ring_f1, 3)
        observations = read_observations(driver, db)

    print(json.dumps(row), flush=True)  # the pipeline's own figures, before the slow baselines
    params = DetectionParams(seed=seed)
    graph = project(index_links(observations.incidence), params.projection)
    started = time.perf_counter()
    detect_rings(graph, params)
    ours = time.perf_counter() - started
    same = nx.Graph()
    same.add_nodes_from(range(graph.n_accounts))
    same.add_weighted_edges_from(zip(graph.src.tolist(), graph.dst.tolist(), graph.weight.tolist(), strict=True))
    started = time.perf_counter()
    best_partition(same, random_state=seed)
    louvain = time.perf_counter() - started
    row["detect_stage_s"] = round(ours, 2)
    row["louvain_same_graph_s"] = round(louvain, 1)
    row["speedup"] = round(louvain / ours, 1) if ours > 0 else None

    if accounts <= baseline_max:
        row.update(_plain_baseline_bounded(observations.incidence, truth, seed, timeout))
    local_server.stop(settings)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--baseline-max", type=int, default=100_000)
    parser.add_argument("--baseline-timeout", type=float, default=900.0)
    args = parser.parse_args()
    rows = [run(n, args.seed, args.baseline_max, args.baseline_timeout) for n in args.accounts]
    columns = ["accounts", "links", "load_s", "links_per_s", "detect_s", "peak_rss_gib", "ring_recall", "ari",
               "contamination", "coordinated_ring_f1", "detect_stage_s", "louvain_same_graph_s", "speedup",
               "plain_edges", "plain_build_s", "plain_louvain_s", "plain_ring_recall", "plain_ari"]
    print(" | ".join(columns))
    for row in rows:
        print(" | ".join(str(row.get(c, "-")) for c in columns))
    for row in rows:
        print(f"{row['accounts']} accounts, detect stages (s): {json.dumps(row['stages'])}")


if __name__ == "__main__":
    main()
