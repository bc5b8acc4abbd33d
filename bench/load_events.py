"""Speed of loading a usage log: accounts.csv and events.csv of a bundle into an empty Neo4j.

Loads through `graph.ingest.loader.load_bundle` (a bundle of only those two files) and prints, for
the events file: requests, distinct prompt texts, templates kept, SENT relationships, each pass's
wall seconds (fingerprint and spool, write, then skeletons with the bundle's IP enrichment) with the
CPU seconds this process and the local Neo4j server spent in it (on a shared machine, CPU is what
others' load does not inflate), requests per second over the events file and the peak RSS of this
process. The database is the one the environment names (NEO4J_URI, NEO4J_DATABASE); it must be
empty, or `--wipe` empties it first.

    python bench/load_events.py --accounts 10000 --seed 4 --wipe
    python bench/load_events.py --bundle /tmp/le10k --wipe --snapshot /tmp/after.jsonl

`--snapshot FILE` writes what the load stored (SENT aggregates, templates, ledgers, IP links) as
sorted JSON lines, so two loads of one bundle can be compared with `cmp`; `--profile FILE` runs the
load under cProfile and writes its statistics there.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

import neo4j
from graph import local_server
from graph.ingest.loader import LoadReport, load_bundle
from graph.settings import Settings
from graph.store.driver import create_driver
from graph.store.schema import apply_schema

_EVENTS_STAGES = ("events: templates", "events: write")
_SNAPSHOT_QUERIES = {
    "sent": """
        MATCH (a:Account)-[r:SENT]->(t:PromptTemplate)
        RETURN a.account_id AS account_id, t.fingerprint AS fingerprint, r.count AS count,
               r.input_tokens AS input_tokens, r.output_tokens AS output_tokens,
               r.first_seen.epochSeconds AS first_seen, r.last_seen.epochSeconds AS last_seen,
               r.minutes AS minutes, r.hours AS hours, r.models AS models, r.model_counts AS model_counts,
               r.model_first_seen AS model_first_seen, r.categories AS categories,
               r.category_counts AS category_counts
    """,
    "template": """
        MATCH (t:PromptTemplate)
        RETURN t.fingerprint AS fingerprint, t.accounts AS accounts, t.requests AS requests,
               t.skeleton AS skeleton, t.source AS source, t.signature AS signature
    """,
    "ledger": """
        MATCH (a:Account) WHERE a.request_digests IS NOT NULL
        RETURN a.account_id AS account_id, a.request_digests AS request_digests
    """,
    "ip": """
        MATCH (a:Account)-[r:USED_IP]->(i:IP)
        RETURN a.account_id AS account_id, i.address AS address, r.count AS count,
               r.first_seen.epochSeconds AS first_seen, r.last_seen.epochSeconds AS last_seen,
               r.observation_digests AS observation_digests
    """,
    "model": "MATCH (m:Model) RETURN m.name AS name, m.first_seen AS first_seen",
}


def _neo4j_cpu(pid: int | None) -> float:
    """CPU seconds the local Neo4j server has used (0 if it is not local)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Passes:
    """Times the passes of the events file from the loader's progress calls: the first pass ends
    with its last `events: templates` call, the write pass with its last `events: write` call. With
    each mark, the CPU seconds of this process and of the local Neo4j server so far."""

    def __init__(self, neo4j_pid: int | None) -> None:
        self.marks: dict[str, tuple[float, float, float]] = {}
        self._pid = neo4j_pid

    def mark(self, stage: str) -> None:
        self.marks[stage] = (time.perf_counter(), time.process_time(), _neo4j_cpu(self._pid))

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if stage == "accounts" or stage in _EVENTS_STAGES:
            self.mark(stage)


def _wipe(driver: neo4j.Driver, database: str) -> None:
    # In small transactions: deleting an account with all its SENT lists at once exceeds the
    # transaction memory limit.
    with driver.session(database=database) as session:
        session.run("MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 2000 ROWS").consume()
        session.run("MATCH (n) CALL (n) { DELETE n } IN TRANSACTIONS OF 2000 ROWS").consume()


def _count(driver: neo4j.Driver, database: str, query: str) -> int:
    records, _, _ = driver.execute_query(query, database_=database, routing_=neo4j.RoutingControl.READ)
    return int(records[0][0])


def _distinct_prompts(events: Path) -> int:
    """Distinct prompt texts of the log (read after the load: its memory is not the loader's)."""
    options = pacsv.ParseOptions(newlines_in_values=True)
    convert = pacsv.ConvertOptions(include_columns=["prompt"], column_types={"prompt": pa.string()},
                                   strings_can_be_null=True)
    prompts = pacsv.read_csv(events, parse_options=options, convert_options=convert).column("prompt")
    return int(pc.count_distinct(prompts, mode="only_valid").as_py())


def _snapshot_lines(driver: neo4j.Driver, database: str) -> Iterator[str]:
    for kind, query in _SNAPSHOT_QUERIES.items():
        with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS) as session:
            lines = []
            for record in session.run(query):
                row: dict[str, Any] = record.data()
                if kind == "ledger":
                    row["request_digests"] = sorted(row["request_digests"])
                if kind == "ip":
                    row["observation_digests"] = sorted(row["observation_digests"] or [])
                lines.append(json.dumps({"kind": kind, **row}, sort_keys=True))
        lines.sort()
        yield from lines


def _generate(accounts: int, seed: int, out: Path) -> None:
    # In a child process, so that the generator's memory is not counted as the loader's.
    subprocess.run([sys.executable, "-m", "graph", "generate", "--out", str(out), "--accounts", str(accounts),
                    "--seed", str(seed)], check=True, stdout=subprocess.DEVNULL)


def _load(driver: neo4j.Driver, database: str, bundle: Path, profile: Path | None,
          passes: _Passes) -> LoadReport:
    with tempfile.TemporaryDirectory(prefix="ringtrace-load-events-") as only:
        for name in ("accounts.csv", "events.csv"):
            (Path(only) / name).symlink_to((bundle / name).resolve())
        profiler = cProfile.Profile() if profile is not None else None
        if profiler is not None:
            profiler.enable()
        report = load_bundle(driver, database, Path(only), rejects_path=Path(only) / "rejects.csv",
                             progress=passes)
        if profiler is not None and profile is not None:
            profiler.disable()
            profiler.dump_stats(profile)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--bundle", type=Path, help="a bundle directory with accounts.csv and events.csv")
    source.add_argument("--accounts", type=int, help="generate a population of this many accounts")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--wipe", action="store_true", help="empty the database first")
    parser.add_argument("--snapshot", type=Path, help="write what was stored, as sorted JSON lines")
    parser.add_argument("--profile", type=Path, help="run the load under cProfile; statistics to this file")
    args = parser.parse_args()

    settings = Settings()
    database = settings.neo4j_database
    with tempfile.TemporaryDirectory(prefix="ringtrace-bench-bundle-") as generated, create_driver(settings) as driver:
        bundle = args.bundle
        if bundle is None:
            bundle = Path(generated)
            _generate(args.accounts, args.seed, bundle)
        if args.wipe:
            _wipe(driver, database)
        elif _count(driver, database, "MATCH (n) RETURN count(n)"):
            parser.error(f"database {database} at {settings.neo4j_uri} is not empty (--wipe empties it)")
        apply_schema(driver, database)

        passes = _Passes(local_server.status(settings).pid)
        passes.mark("start")
        report = _load(driver, database, bundle, args.profile, passes)
        passes.mark("end")
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        events = next(f for f in report.files if f.name == "events")
        if not report.ok or events.rejected:
            sys.exit(f"load failed or rejected rows: {[f.error for f in report.files]}, {report.rejected} rejected")

        templates = _count(driver, database, "MATCH (t:PromptTemplate) RETURN count(t)")
        pairs = _count(driver, database, "MATCH ()-[r:SENT]->() RETURN count(r)")
        print(f"{'events':<34}{events.read:>12,}")
        print(f"{'distinct prompts':<34}{_distinct_prompts(bundle / 'events.csv'):>12,}")
        print(f"{'templates kept':<34}{templates:>12,}")
        print(f"{'SENT pairs':<34}{pairs:>12,}")
        print(f"{'stage':<34}{'wall s':>12}{'python CPU s':>14}{'Neo4j CPU s':>13}")
        stages = [("accounts.csv", "start", "accounts"),
                  ("pass 1: fingerprint and spool", "accounts", "events: templates"),
                  ("pass 2: write", "events: templates", "events: write"),
                  ("skeletons, IP enrichment", "events: write", "end")]
        for name, begin, end in stages:
            (w0, p0, n0), (w1, p1, n1) = passes.marks[begin], passes.marks[end]
            print(f"{name:<34}{w1 - w0:>12.1f}{p1 - p0:>14.1f}{n1 - n0:>13.1f}")
        print(f"{'events.csv':<34}{events.seconds:>12.1f}")
        print(f"{'events/s (events.csv)':<34}{events.read / events.seconds:>12,.0f}")
        print(f"{'peak RSS MiB':<34}{peak_rss:>12,.0f}")
        if args.snapshot is not None:
            with open(args.snapshot, "w", encoding="utf-8") as out:
                for line in _snapshot_lines(driver, database):
                    out.write(line + "\n")


if __name__ == "__main__":
    main()
