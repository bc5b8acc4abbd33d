"""The job's results as Parquet files, written from and read back into the typed records (graph/records.py).

Each record keeps its stored properties (``record.properties()``, JSON in a ``properties`` column), so
`ringtrace spark write-back` rebuilds exactly the records the job made (``from_properties``) and writes
them as the in-process run writes its own. The other columns are for people and for Spark: ids,
sizes, scores, organisations, and ``evidence.parquet``, one row per evidence item with its paths.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq

from graph.errors import RingtraceError
from graph.records import (
    AttributionRecord,
    Evidence,
    MembershipRecord,
    OperationRecord,
    PartOfRecord,
    RingRecord,
    ties_from_json,
    ties_to_json,
)

__all__ = ["RESULT_FILES", "RUN_FILE", "RunResults", "read_results", "write_results_files", "write_run_file"]

RUN_FILE: Final = "run.json"
RESULT_FILES: Final = ("memberships", "rings", "attributions", "evidence", "operations", "part_of")


@dataclass(frozen=True)
class RunResults:
    """What a job found, as the in-process run's write stage receives it; `run` is run.json."""

    rings: list[RingRecord]
    memberships: list[MembershipRecord]
    ring_attributions: list[AttributionRecord]
    account_attributions: list[AttributionRecord]
    operations: list[OperationRecord]
    part_of: list[PartOfRecord]
    run: dict[str, Any]


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True)


def _evidence_rows(
    label: str, subject: str, organization: str | None, items: Sequence[Evidence]
) -> list[dict[str, Any]]:
    return [{"subject_label": label, "subject": subject, "organization": organization, "kind": e.kind,
             "llr": e.llr, "share": e.share, "sentence": e.sentence,
             "paths": json.dumps([p.as_dict() for p in e.paths], sort_keys=True)} for e in items]


def write_results_files(out: Path, results: RunResults) -> None:
    """Write the records of `results` into `out` (created): one Parquet file per name in RESULT_FILES.
    An earlier job's run.json there goes first, so the directory holds no finished job's results until
    :func:`write_run_file` writes this one's."""
    out.mkdir(parents=True, exist_ok=True)
    (out / RUN_FILE).unlink(missing_ok=True)
    attributions = [("Ring", r) for r in results.ring_attributions] + [
        ("Account", r) for r in results.account_attributions]
    evidence = [row for r in results.rings for row in _evidence_rows("Ring", r.ring_id, None, r.coordination_evidence)]
    evidence += [row for label, r in attributions for row in _evidence_rows(label, r.subject, r.organization,
                                                                            r.evidence)]
    tables = {
        "memberships": pa.Table.from_pylist(
            [{"account_id": m.account_id, "ring_id": m.ring_id, "membership_confidence": m.confidence}
             for m in results.memberships],
            schema=pa.schema([("account_id", pa.string()), ("ring_id", pa.string()),
                              ("membership_confidence", pa.float64())])),
        "rings": pa.Table.from_pylist(
            [{"ring_id": r.ring_id, "size": r.size, "score": r.score, "organization": r.organization,
              "attribution_confidence": r.attribution_confidence, "operation_id": r.operation_id,
              "properties": _json(r.properties())} for r in results.rings],
            schema=pa.schema([("ring_id", pa.string()), ("size", pa.int32()), ("score", pa.float64()),
                              ("organization", pa.string()), ("attribution_confidence", pa.float64()),
                              ("operation_id", pa.string()), ("properties", pa.string())])),
        "attributions": pa.Table.from_pylist(
            [{"subject_label": label, "subject": r.subject, "organization": r.organization,
              "confidence": r.confidence, "ring_id": r.ring_id,
              "properties": _json(r.properties(with_ring=label == "Account"))} for label, r in attributions],
            schema=pa.schema([("subject_label", pa.string()), ("subject", pa.string()),
                              ("organization", pa.string()), ("confidence", pa.float64()), ("ring_id", pa.string()),
                              ("properties", pa.string())])),
        "evidence": pa.Table.from_pylist(evidence, schema=pa.schema([
            ("subject_label", pa.string()), ("subject", pa.string()), ("organization", pa.string()),
            ("kind", pa.string()), ("llr", pa.float64()), ("share", pa.float64()), ("sentence", pa.string()),
            ("paths", pa.string())])),
        "operations": pa.Table.from_pylist(
            [{"operation_id": o.operation_id, "campaigns": o.campaigns, "size": o.size, "score": o.score,
              "properties": _json(o.properties())} for o in results.operations],
            schema=pa.schema([("operation_id", pa.string()), ("campaigns", pa.int32()), ("size", pa.int32()),
                              ("score", pa.float64()), ("properties", pa.string())])),
        "part_of": pa.Table.from_pylist(
            [{"ring_id": p.ring_id, "operation_id": p.operation_id, "ties": ties_to_json(p.ties)}
             for p in results.part_of],
            schema=pa.schema([("ring_id", pa.string()), ("operation_id", pa.string()), ("ties", pa.string())])),
    }
    for name, table in tables.items():
        pq.write_table(table, out / f"{name}.parquet")


def write_run_file(out: Path, run: dict[str, Any]) -> None:
    """run.json: written last, so a directory without it holds no finished job's results."""
    (out / RUN_FILE).write_text(json.dumps(run, indent=2, sort_keys=True) + "\n")


def read_results(directory: Path) -> RunResults:
    """The records a job wrote into `directory`; RingtraceError when a file is missing."""
    missing = [f"{n}.parquet" for n in RESULT_FILES if not (directory / f"{n}.parquet").is_file()]
    if not (directory / RUN_FILE).is_file():
        missing.append(RUN_FILE)
    if missing:
        raise RingtraceError(f"{directory}: not the results of `ringtrace spark detect` (missing {', '.join(missing)})")

    def rows(name: str) -> list[dict[str, Any]]:
        return list(pq.read_table(directory / f"{name}.parquet").to_pylist())

    ring_attributions: list[AttributionRecord] = []
    account_attributions: list[AttributionRecord] = []
    for row in rows("attributions"):
        record = AttributionRecord.from_properties(
            row["subject"], row["organization"], {**json.loads(row["properties"]), "confidence": row["confidence"]})
        (ring_attributions if row["subject_label"] == "Ring" else account_attributions).append(record)
    return RunResults(
        rings=[RingRecord.from_properties(r["ring_id"], json.loads(r["properties"])) for r in rows("rings")],
        memberships=[MembershipRecord(r["account_id"], r["ring_id"], r["membership_confidence"])
                     for r in rows("memberships")],
        ring_attributions=ring_attributions,
        account_attributions=account_attributions,
        operations=[OperationRecord.from_properties(r["operation_id"], json.loads(r["properties"]))
                    for r in rows("operations")],
        part_of=[PartOfRecord(r["ring_id"], r["operation_id"], ties_from_json(r["ties"])) for r in rows("part_of")],
        run=json.loads((directory / RUN_FILE).read_text()),
    )
