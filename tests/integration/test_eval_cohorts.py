"""`ringtrace eval` against the real test Neo4j: whether a true ring shares a device or card is read
from the observations, and every cohort outside the true rings is reported, whatever it is called."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

import neo4j
from graph.cli import app
from graph.ingest.loader import load_bundle
from graph.settings import Settings
from graph.store.truth_reads import read_devices_and_cards

runner = CliRunner()

_SHARED = [f"s{i}" for i in range(5)]  # one operator's ring on one device and one card
_HYDRA = [f"h{i}" for i in range(4)]  # one operator's ring, each member its own device and card
_HOUSEHOLD = ["f0", "f1"]
_COLLEAGUES = ["c0", "c1", "c2"]
_EARLIER_CASE = "x0"  # an operator's account from an earlier case, in no ring


def _links() -> list[tuple[str, str, str]]:
    links = [(a, kind, value) for a in _SHARED for kind, value in (("device", "dev-ring"), ("payment", "pm-ring"))]
    links += [(a, "device", f"dev-h{i}") for i, a in enumerate(_HYDRA)]
    links += [(a, "payment", f"pm-h{i}") for i, a in enumerate(_HYDRA)]
    links += [
        ("h1", "payment", "dev-h2"),  # a card whose token equals h2's device fingerprint: not one entity
        ("h0", "ip", "198.51.100.9"), ("h1", "ip", "198.51.100.9"),  # an IP, an email: not a device or card
        ("h2", "email", "ops@hydra.example"), ("h3", "email", "ops@hydra.example"),
        ("f0", "device", "dev-home"), ("f1", "device", "dev-home"),
        ("f0", "device", "dev-h0"),  # a household shares a device with a ring member: still no ring sharing
        (_EARLIER_CASE, "device", "dev-ring"),
    ]
    links += [(a, "device", f"dev-{a}") for a in _COLLEAGUES]
    return links


def _write_bundle(directory: Path) -> None:
    directory.mkdir()
    accounts = _SHARED + _HYDRA + _HOUSEHOLD + _COLLEAGUES + [_EARLIER_CASE]
    (directory / "accounts.csv").write_text(
        "account_id,created_at\n" + "".join(f"{a},2026-03-02T10:{i:02d}:00Z\n" for i, a in enumerate(accounts))
    )
    (directory / "links.csv").write_text(
        "account_id,kind,value,first_seen,last_seen,count\n"
        + "".join(f"{a},{kind},{value},2026-03-02T11:00:00Z,2026-03-09T11:00:00Z,4\n" for a, kind, value in _links())
    )


def _write_truth(path: Path) -> None:
    rows = [(a, "ring-shared", "Acme", "operated") for a in _SHARED]
    rows += [(a, "ring-hydra", "", "operated") for a in _HYDRA]
    rows += [(a, "", "", "household") for a in _HOUSEHOLD]
    rows += [(a, "", "", "colleague") for a in _COLLEAGUES]
    rows += [(_EARLIER_CASE, "", "Acme", "earlier_case")]
    # No operation_id column: it is optional.
    path.write_text("account_id,ring_id,organization,cohort\n" + "".join(",".join(r) + "\n" for r in rows))


def _loaded(driver: neo4j.Driver, settings: Settings, tmp_path: Path) -> Path:
    bundle = tmp_path / "bundle"
    _write_bundle(bundle)
    report = load_bundle(driver, settings.neo4j_database, bundle, rejects_path=tmp_path / "rejects.csv")
    assert report.ok and report.rejected == 0
    return bundle


def test_devices_and_cards_are_read_per_account_across_batches(
    empty_db: neo4j.Driver, settings: Settings, tmp_path: Path
) -> None:
    _loaded(empty_db, settings, tmp_path)
    asked = [*_HYDRA, "f0", "nobody"]
    used = read_devices_and_cards(empty_db, settings.neo4j_database, asked, batch=2)
    assert used == {
        "h0": {("device", "dev-h0"), ("payment", "pm-h0")},
        "h1": {("device", "dev-h1"), ("payment", "pm-h1"), ("payment", "dev-h2")},
        "h2": {("device", "dev-h2"), ("payment", "pm-h2")},
        "h3": {("device", "dev-h3"), ("payment", "pm-h3")},
        "f0": {("device", "dev-home"), ("device", "dev-h0")},
    }


def _table_rows(output: str, title: str) -> dict[str, list[str]]:
    """The body rows of the rich table titled `title`, by their first cell."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if title in line)
    rows: dict[str, list[str]] = {}
    for line in lines[start + 1:]:
        if line.startswith("└"):
            break
        cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
        if len(cells) > 1 and cells[0] and not line.startswith(("┏", "┃", "┡")):
            rows[cells[0]] = cells[1:]
    return rows


def test_eval_reports_rings_without_shared_device_or_card_and_every_cohort(
    empty_db: neo4j.Driver, settings: Settings, tmp_path: Path
) -> None:
    _loaded(empty_db, settings, tmp_path)
    truth = tmp_path / "truth.csv"
    _write_truth(truth)
    result = runner.invoke(app, ["detect", "--seed", "1"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["eval", "--truth", str(truth)])
    assert result.exit_code == 0, result.output

    classes = _table_rows(result.output, "recall of true rings")
    # The hydra ring shares a device with a household and a token string across kinds, yet no device
    # or card between two of its own members: it is in the second class. Two of its members share a
    # mailbox, a ring of two that is half the hydra (a match), so it is found there.
    assert classes == {
        "a device or card": ["1", "1", "1.000", "1", "1.000"],
        "no device or card": ["1", "1", "1.000", "1", "1.000"],
    }

    cohorts = _table_rows(result.output, "false positives per cohort")
    assert set(cohorts) == {"household", "colleague"}  # not the ring members', not the earlier case's
    assert cohorts["colleague"] == ["3", "0", "0.00%", "0", "0.00%"]
    records, _, _ = empty_db.execute_query(
        "MATCH (a:Account)-[m:MEMBER_OF]->(:Ring)-[found:FOUND_IN]->(run:DetectionRun {status: 'completed'}) "
        "WHERE a.account_id IN $household AND m.run_id = run.run_id "
        "RETURN count(DISTINCT a) AS placed, count(DISTINCT CASE WHEN found.score >= 0.5 THEN a END) AS scored",
        household=_HOUSEHOLD, database_=settings.neo4j_database,
    )
    placed, scored = records[0]["placed"], records[0]["scored"]
    assert cohorts["household"] == [
        "2", str(placed), f"{placed / 2:.2%}", str(scored), f"{scored / 2:.2%}"
    ]

    # Without rings of two nothing else ties its members, and the class reports it missed.
    result = runner.invoke(app, ["detect", "--seed", "1", "--min-size", "3"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["eval", "--truth", str(truth)])
    assert result.exit_code == 0, result.output
    assert _table_rows(result.output, "recall of true rings")["no device or card"] == ["1", "0", "0.000", "0", "0.000"]
