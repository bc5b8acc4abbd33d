"""The commands a user types, against the real test Neo4j (typer's runner, same process)."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

import neo4j
from graph.cli import app
from graph.settings import Settings

runner = CliRunner()


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_generate_load_detect_rings_explain_export_eval(empty_db: neo4j.Driver, settings: Settings,
                                                       tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    out = _ok("generate", "--out", str(bundle), "--accounts", "2000", "--seed", "3")
    assert "2,000 accounts" in out
    out = _ok("load", str(bundle))
    assert "load summary" in out
    out = _ok("detect", "--seed", "2")
    assert "run run-" in out and "rings holding" in out
    out = _ok("rings", "--top", "3")
    assert "#1 ring-" in out and "coordination" in out and "path:" in out
    ring_id = out.split("#1 ", 1)[1].split()[0]
    records, _, _ = empty_db.execute_query(
        "MATCH (a:Account)-[:MEMBER_OF]->(:Ring {ring_id: $ring_id}) RETURN a.account_id AS id ORDER BY id LIMIT 1",
        ring_id=ring_id, database_=settings.neo4j_database,
    )
    out = _ok("explain", records[0]["id"])
    assert f"member of {ring_id}" in out
    exported = tmp_path / "export"
    _ok("export", "--out", str(exported))
    with open(exported / "memberships.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and set(rows[0]) == {"account_id", "ring_id", "membership_confidence"}
    with open(exported / "rings.csv", newline="") as handle:
        assert set(next(csv.DictReader(handle))) == {"ring_id", "size", "score"}
    with open(exported / "attributions.csv", newline="") as handle:
        assert next(handle).strip() == "ring_id,organization,confidence"
    out = _ok("eval", "--truth", str(bundle / "truth.csv"))
    assert "ARI" in out and "attribution top-1 accuracy" in out and "coordination ECE" in out


def test_calibrate_stores_an_active_model_that_detection_records(
    empty_db: neo4j.Driver, settings: Settings, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle"
    _ok("generate", "--out", str(bundle), "--accounts", "4000", "--seed", "12")
    _ok("load", str(bundle))
    out = _ok("calibrate", "--truth", str(bundle / "truth.csv"), "--version", "team-1",
              "--out", str(tmp_path / "model.json"))
    assert "team-1" in out and (tmp_path / "model.json").exists()
    _ok("detect")
    records, _, _ = empty_db.execute_query(
        "MATCH (run:DetectionRun {status: 'completed'}) RETURN run.params AS params", database_=settings.neo4j_database
    )
    assert '"scoring_model": "team-1"' in records[0]["params"]


def test_load_reports_rejects_with_exit_code_3(empty_db: neo4j.Driver, tmp_path: Path) -> None:
    bundle = tmp_path / "b"
    bundle.mkdir()
    (bundle / "links.csv").write_text("account_id,kind,value\nx,ip,10.0.0.1\ny,ip,999.1.1.1\n")
    result = runner.invoke(app, ["load", str(bundle), "--rejects", str(tmp_path / "rej.csv")])
    assert result.exit_code == 3
    assert "links.csv:3: value" in result.output.replace("\n", "")
