"""Same input + same parameters => the same rings, ids and scores, across processes (DESIGN.md §3 step 3).

Two runs in one process share whatever a process holds (hash seeds, caches, import-time state), and a
second run inherits ids from the first by overlap, so neither proves determinism. Here each run is its
own `ringtrace detect` process, with a different PYTHONHASHSEED, on a database loaded afresh with the
same bundle: no earlier run to inherit ids from. Everything the run stored is compared exactly.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import neo4j
from graph.generator import generate_population
from graph.ingest.loader import load_bundle
from graph.settings import Settings
from graph.store.schema import apply_schema
from tests.integration.graph_state import stored_run
from tests.suite_database import wipe_database

_RINGTRACE = Path(sys.executable).parent / "ringtrace"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("determinism")
    generate_population(out, 3000, seed=13, events_per_account=20)
    return out


def _stored_run(driver: neo4j.Driver, database: str) -> dict[str, Any]:
    """Everything the only run in the database wrote, all values exact."""
    runs, _, _ = driver.execute_query("MATCH (run:DetectionRun) RETURN run.run_id AS id, run.status AS status",
                                      database_=database)
    assert [r["status"] for r in runs] == ["completed"]
    return stored_run(driver, database, runs[0]["id"])


def _detect_in_a_new_process(hash_seed: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run([str(_RINGTRACE), "detect", "--seed", "4"], env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_two_processes_find_identical_rings_ids_and_scores(
    empty_db: neo4j.Driver, settings: Settings, bundle: Path, tmp_path: Path
) -> None:
    db = settings.neo4j_database
    assert _RINGTRACE.is_file(), f"the ringtrace command is not installed next to {sys.executable}"
    runs = []
    for hash_seed in ("1", "2"):
        wipe_database(empty_db, db)
        apply_schema(empty_db, db)
        report = load_bundle(empty_db, db, bundle, rejects_path=tmp_path / f"rejects-{hash_seed}.csv")
        assert report.ok
        _detect_in_a_new_process(hash_seed)
        runs.append(_stored_run(empty_db, db))
    first, second = runs
    assert len(first["rings"]) >= 5 and len(first["members"]) >= 30 and len(first["attributions"]) >= 10
    assert sorted(first["rings"]) == sorted(second["rings"])  # the same ids, content-derived in both
    assert first["rings"] == second["rings"]  # sizes, scores, evidence (LLRs, sentences, paths), exactly
    assert first["members"] == second["members"]
    assert first["attributions"] == second["attributions"]
