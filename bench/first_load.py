"""The first load of a generated population: `ringtrace import` (the offline importer) against
`ringtrace load` (online MERGE), each into a fresh Neo4j of its own. Not a test; prints a table.

    python bench/first_load.py --accounts 100000              # both ways
    python bench/first_load.py --accounts 1000000 --no-online # the import only (online: about 7 minutes)

The population is generated without a usage log (`--events-per-account`, default 0: the usage log
is loaded online either way, bench/load_events.py measures it) into --cache (reused). The servers
run on port 7697 with data in a temporary directory, heap and page cache 2 GiB each. The table gives
each way's wall seconds, links rows per second and this process's CPU seconds (parsing, on a shared
machine the part others' load does not inflate), and the import's stages.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from graph import local_server
from graph.generator import generate_population
from graph.ingest.first_load import import_bundle
from graph.ingest.loader import load_bundle
from graph.settings import Settings
from graph.store.driver import create_driver
from graph.store.schema import apply_schema

_PORT = 7697


def _server(home: Path) -> Settings:
    return Settings(NEO4J_URI=f"bolt://127.0.0.1:{_PORT}", RINGTRACE_NEO4J_BOLT_PORT=_PORT,
                    RINGTRACE_NEO4J_HTTP_PORT=_PORT + 100, RINGTRACE_NEO4J_HOME=home,
                    RINGTRACE_NEO4J_HEAP="2g", RINGTRACE_NEO4J_PAGECACHE="2g")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _links(bundle: Path) -> int:
    with (bundle / "links.csv").open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")) - 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--events-per-account", type=float, default=0.0)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "ringtrace-bench")
    ap.add_argument("--online", action=argparse.BooleanOptionalAction, default=True)
    args = ap.parse_args()
    bundle = args.cache / f"pop-{args.accounts}-{args.seed}-{args.events_per_account:g}"
    if not (bundle / "links.csv").exists():
        generate_population(bundle, args.accounts, args.seed, events_per_account=args.events_per_account)
    links = _links(bundle)
    rows = []
    with tempfile.TemporaryDirectory(prefix="ringtrace-first-load-") as scratch:
        settings = _server(Path(scratch) / "import")
        started, cpu = time.perf_counter(), _cpu()
        try:
            imported = import_bundle(settings, bundle)
        finally:
            local_server.stop(settings)
        seconds = time.perf_counter() - started
        stages = ", ".join(f"{name} {value:.1f}" for name, value in imported.seconds.items())
        rows.append(("import", seconds, _cpu() - cpu, stages))
        if args.online:
            settings = _server(Path(scratch) / "online")
            local_server.start(settings)
            try:
                with create_driver(settings) as driver:
                    apply_schema(driver, settings.neo4j_database)
                    started, cpu = time.perf_counter(), _cpu()
                    load_bundle(driver, settings.neo4j_database, bundle, rejects_path=Path(scratch) / "rejects.csv")
                    rows.append(("load", time.perf_counter() - started, _cpu() - cpu, ""))
            finally:
                local_server.stop(settings)
    print(f"\n{args.accounts:,} accounts, {links:,} links rows (seed {args.seed}); {os.cpu_count()} cores")
    print("| way | wall s | links/s | CPU s of this process | stages (s) |\n|---|---|---|---|---|")
    for way, wall, cpu_seconds, detail in rows:
        print(f"| {way} | {wall:.1f} | {links / wall:,.0f} | {cpu_seconds:.1f} | {detail} |")


if __name__ == "__main__":
    main()
