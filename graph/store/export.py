"""`ringtrace export`: a run's memberships, rings and attributions as CSV files (DESIGN.md §4).

Organisation names and account ids come from data: a cell a spreadsheet would evaluate as a
formula is written with a leading single quote (graph/spreadsheet.py); everything else is exact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import neo4j
from graph.spreadsheet import write_csv

__all__ = ["export_run"]

_FILES: Final = {
    "memberships.csv": (
        ("account_id", "ring_id", "membership_confidence"),
        "MATCH (a:Account)-[m:MEMBER_OF {run_id: $run_id}]->(ring:Ring) "
        "RETURN a.account_id, ring.ring_id, m.confidence ORDER BY ring.ring_id, a.account_id",
    ),
    "rings.csv": (
        ("ring_id", "size", "score"),
        "MATCH (ring:Ring)-[f:FOUND_IN]->(:DetectionRun {run_id: $run_id}) "
        "RETURN ring.ring_id, f.size, f.score ORDER BY coalesce(f.score, 0.0) DESC, f.size DESC, ring.ring_id",
    ),
    "attributions.csv": (
        ("ring_id", "organization", "confidence"),
        "MATCH (ring:Ring)-[t:ATTRIBUTED_TO {run_id: $run_id}]->(o:Organization) "
        "RETURN ring.ring_id, o.name, t.confidence ORDER BY ring.ring_id, t.confidence DESC, o.name",
    ),
}


def export_run(driver: neo4j.Driver, database: str, run_id: str, out: Path) -> dict[str, int]:
    """Write the three files for `run_id` into `out`; returns rows written per file."""
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS, fetch_size=10000) as session:
        for name, (header, query) in _FILES.items():
            rows = (record.values() for record in session.run(query, run_id=run_id))
            written[name] = write_csv(out / name, header, rows)
    return written
