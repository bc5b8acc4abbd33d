"""Stage times and shuffle sizes of the Spark job (graph/spark/job.py) on bundles of growing size.

Each bundle runs in a fresh SparkSession with Spark's event log on; the job names its Spark jobs after
its stages (setJobDescription), so the log gives, per stage of ours, the wall time the job measured
and, summed over its Spark stages, shuffle bytes written and read and the tasks' run time (CPU spent
in executors, over both cores). Prints a markdown table (docs/scale.md).

    python bench/spark_scale.py /tmp/spark-scale-1e5 /tmp/spark-scale-1e6 --out /tmp/spark-scale-results
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from graph.detection import DetectionParams
from graph.spark.job import run_job
from graph.spark.session import spark_session

_WRITE = "internal.metrics.shuffle.write.bytesWritten"
_READ = ("internal.metrics.shuffle.read.remoteBytesRead", "internal.metrics.shuffle.read.localBytesRead")
_RUN = "internal.metrics.executorRunTime"


def _stage_metrics(event_log: Path) -> dict[str, dict[str, float]]:
    """Per job description: shuffle bytes written and read, and executor run time (s), over its stages."""
    description_of_stage: dict[int, str] = {}
    totals: dict[str, dict[str, float]] = defaultdict(lambda: {"written": 0.0, "read": 0.0, "task_s": 0.0})
    for path in sorted(p for p in event_log.rglob("*") if p.is_file()):
        for line in path.read_text().splitlines():
            event = json.loads(line)
            kind = event.get("Event")
            if kind == "SparkListenerJobStart":
                description = (event.get("Properties") or {}).get("spark.job.description", "other")
                for stage in event.get("Stage IDs", []):
                    description_of_stage[int(stage)] = description
            elif kind == "SparkListenerStageCompleted":
                info = event["Stage Info"]
                values = {a["Name"]: float(a.get("Value", 0)) for a in info.get("Accumulables", []) if "Name" in a}
                name = description_of_stage.get(int(info["Stage ID"]), "other")
                totals[name]["written"] += values.get(_WRITE, 0.0)
                totals[name]["read"] += sum(values.get(k, 0.0) for k in _READ)
                totals[name]["task_s"] += values.get(_RUN, 0.0) / 1000.0
    return dict(totals)


def _run(bundle: Path, out: Path, master: str, partitions: int, memory: str) -> dict[str, Any]:
    events = Path(tempfile.mkdtemp(prefix="spark-events-"))
    spark = spark_session("ringtrace-scale", master, {
        "spark.sql.shuffle.partitions": str(partitions), "spark.driver.memory": memory,
        "spark.eventLog.enabled": "true", "spark.eventLog.dir": events.as_uri(),
        # Plain JSON lines, one file: what _stage_metrics reads (Spark 4 compresses by default).
        "spark.eventLog.compress": "false", "spark.eventLog.rolling.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
    })
    started = time.perf_counter()
    try:
        summary = run_job(spark, bundle, out, DetectionParams())
    finally:
        spark.stop()
    return {"bundle": str(bundle), "wall_s": round(time.perf_counter() - started, 1), "counts": summary.counts,
            "timings": summary.timings, "metrics": _stage_metrics(events)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundles", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="Directory for each bundle's results and a JSON log.")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--shuffle-partitions", type=int, default=8)
    parser.add_argument("--driver-memory", default="4g")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print("| bundle | bundle links | stage | seconds | shuffle written MB | shuffle read MB | task seconds |")
    print("|---|---|---|---|---|---|---|")
    for bundle in args.bundles:
        result = _run(bundle, args.out / bundle.name, args.master, args.shuffle_partitions, args.driver_memory)
        (args.out / f"{bundle.name}.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
        for stage, seconds in result["timings"].items():
            m = result["metrics"].get(stage, {"written": 0.0, "read": 0.0, "task_s": 0.0})
            print(f"| {bundle.name} | {result['counts']['bundle_links']:,} | {stage} | {seconds:.1f} | "
                  f"{m['written'] / 1e6:.1f} | {m['read'] / 1e6:.1f} | {m['task_s']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
