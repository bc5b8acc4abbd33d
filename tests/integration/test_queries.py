"""The analyst query library (cypher/queries/): every file is documented, plans, runs and returns its shape."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import neo4j
from graph.analyst.queries import QUERY_DIR, bind_parameters, conforms, load_queries, parse_value
from graph.generator import generate_population
from graph.ingest.loader import load_bundle
from graph.pipeline.detect import DetectionParams, run_detection
from graph.settings import Settings
from graph.store.library import run_query, sample_parameters
from graph.store.schema import apply_schema
from graph.store.usage import UNSHARED
from tests.suite_database import wipe_database

QUERIES = load_queries()
# Besides text separators, the only literals are names the model fixes: the status of a finished run,
# the bucket template of prompts no other account sent, and the network classes whose addresses can
# tie an operation's campaigns.
_SEPARATORS = {"completed", "unshared", "hosting", "corporate",
               ":", " (", " members)", "(:", " ", ")", "-[:", "]-", '"', " via "}


def load_two_runs(driver: neo4j.Driver, database: str, tmp: Path) -> tuple[str, str]:
    """A generated population detected twice: on two thirds of its links, then on all of them.

    Rings grow between the runs, so every query (joiners, growth) has rows to return; a small usage
    log gives the template queries templates that ring members sent in common.
    """
    wipe_database(driver, database)
    apply_schema(driver, database)
    full, partial = tmp / "full", tmp / "partial"
    generate_population(full, 3000, seed=8, events_per_account=5)
    shutil.copytree(full, partial)
    lines = (full / "links.csv").read_text().splitlines(keepends=True)
    (partial / "links.csv").write_text("".join([lines[0], *(line for i, line in enumerate(lines[1:]) if i % 3)]))
    load_bundle(driver, database, partial, rejects_path=tmp / "rejects-partial.csv")
    first = run_detection(driver, database, DetectionParams(seed=4)).run_id
    load_bundle(driver, database, full, rejects_path=tmp / "rejects-full.csv")
    second = run_detection(driver, database, DetectionParams(seed=4)).run_id
    return first, second


@pytest.fixture(scope="module")
def two_runs(driver: neo4j.Driver, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    return load_two_runs(driver, settings.neo4j_database, tmp_path_factory.mktemp("queries"))


@pytest.fixture(scope="module")
def samples(driver: neo4j.Driver, settings: Settings, two_runs: tuple[str, str]) -> dict[str, Any]:
    return sample_parameters(driver, settings.neo4j_database)


def test_every_query_file_has_a_header_and_a_readme_entry() -> None:
    readme = (QUERY_DIR.parent / "README.md").read_text()
    assert len(QUERIES) >= 8
    for query in QUERIES.values():
        assert query.purpose and query.description and query.columns
        for parameter in query.parameters:
            assert (parameter.description and parameter.example is not None) or parameter.nullable
        assert f"`{query.name}`" in readme, f"cypher/README.md does not list {query.name}"
        # values only as $parameters: the only literals are the run status and text separators
        body = "\n".join(line for line in query.text.splitlines() if not line.lstrip().startswith("//"))
        literals = set(re.findall(r"'([^']*)'", body))
        assert literals <= _SEPARATORS, f"{query.name} has literal values {literals - _SEPARATORS}"


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_query_plans_runs_and_returns_its_documented_shape(
    name: str, driver: neo4j.Driver, settings: Settings, samples: dict[str, Any]
) -> None:
    query = QUERIES[name]
    parameters = {p.name: samples[p.name] for p in query.parameters}
    _, summary, keys = driver.execute_query("EXPLAIN " + query.cypher, parameters, database_=settings.neo4j_database)
    assert summary.plan is not None
    assert list(keys) == [c.name for c in query.columns]

    columns, rows = run_query(driver, settings.neo4j_database, query.cypher, parameters)
    assert columns == [c.name for c in query.columns]
    assert rows, f"{name} returned no rows on a detected population with {parameters}"
    for row in rows:
        for column in query.columns:
            assert conforms(row[column.name], column), f"{name}.{column.name} = {row[column.name]!r}"


def test_defaults_select_the_latest_run_and_its_predecessor(
    driver: neo4j.Driver, settings: Settings, two_runs: tuple[str, str]
) -> None:
    first, second = two_runs
    growth = QUERIES["ring_growth"]
    _, by_default = run_query(driver, settings.neo4j_database, growth.cypher, bind_parameters(growth, {}))
    _, explicit = run_query(driver, settings.neo4j_database, growth.cypher,
                            bind_parameters(growth, {"from_run_id": first, "to_run_id": second}))
    assert by_default == explicit and by_default
    assert all(row["size_after"] - row["size_before"] == row["growth"] <= len(row["joined"]) for row in by_default)


def test_joiners_since_a_date_after_every_run_is_empty_and_before_is_everyone(
    driver: neo4j.Driver, settings: Settings, two_runs: tuple[str, str]
) -> None:
    joiners = QUERIES["ring_joiners"]
    database = settings.neo4j_database
    _, since_2000 = run_query(driver, database, joiners.cypher, bind_parameters(joiners, {"since": "2000-01-01"}))
    records, _, _ = driver.execute_query(
        "MATCH (:Account)-[m:MEMBER_OF {run_id: $run}]->(:Ring) RETURN count(m) AS n", run=two_runs[1],
        database_=database)
    assert len(since_2000) == records[0]["n"]  # no run started before 2000: every member joined since
    _, since_first = run_query(
        driver, database, joiners.cypher, bind_parameters(joiners, {"since_run_id": two_runs[0]})
    )
    _, by_default = run_query(driver, database, joiners.cypher, bind_parameters(joiners, {}))
    assert since_first == by_default and 0 < len(since_first) < len(since_2000)


def test_ring_templates_are_what_two_or_more_members_sent_never_the_unshared_bucket(
    driver: neo4j.Driver, settings: Settings, samples: dict[str, Any]
) -> None:
    database, query = settings.neo4j_database, QUERIES["ring_templates"]
    records, _, _ = driver.execute_query(
        "MATCH (:Ring {ring_id: $ring})<-[:MEMBER_OF {run_id: $run}]-(a:Account) "
        "RETURN collect(a.account_id) AS members, "
        "       count(CASE WHEN EXISTS { (a)-[:SENT]->(:PromptTemplate {fingerprint: $unshared}) } THEN a END) "
        "       AS unshared_senders",
        ring=samples["ring_id"], run=samples["run_id"], unshared=UNSHARED, database_=database)
    members = set(records[0]["members"])
    # Ring members did send prompts nobody else sent, so leaving the bucket out is what keeps it out.
    assert records[0]["unshared_senders"] >= 2
    _, rows = run_query(driver, database, query.cypher,
                        bind_parameters(query, {"ring_id": samples["ring_id"], "limit": "1000"}))
    assert rows
    assert UNSHARED not in {row["fingerprint"] for row in rows}
    for row in rows:
        assert 2 <= row["members"] == len(row["member_accounts"]) <= row["accounts"]
        assert set(row["member_accounts"]) <= members and row["member_accounts"] == sorted(row["member_accounts"])
        assert row["requests"] >= row["members"] and row["first_seen"] <= row["last_seen"]
    order = [(-row["members"], row["accounts"], row["fingerprint"]) for row in rows]
    assert order == sorted(order)
    _, first = run_query(driver, database, query.cypher,
                         bind_parameters(query, {"ring_id": samples["ring_id"], "limit": "1"}))
    assert first == rows[:1]


def test_operation_campaigns_are_its_rings_in_the_order_they_ran_with_their_ties(
    driver: neo4j.Driver, settings: Settings, samples: dict[str, Any]
) -> None:
    database, query = settings.neo4j_database, QUERIES["operation_campaigns"]
    records, _, _ = driver.execute_query(
        "MATCH (:Operation {operation_id: $op})-[found:FOUND_IN]->(:DetectionRun {run_id: $run}) "
        "MATCH (ring:Ring)-[:PART_OF {run_id: $run}]->(:Operation {operation_id: $op}) "
        "MATCH (ring)-[campaign:FOUND_IN]->(:DetectionRun {run_id: $run}) "
        "RETURN found.ring_ids AS ring_ids, found.size AS size, collect([ring.ring_id, campaign.size]) AS rings",
        op=samples["operation_id"], run=samples["run_id"], database_=database)
    ring_ids, sizes = records[0]["ring_ids"], dict(records[0]["rings"])
    assert len(ring_ids) >= 2, "the sampled operation (the one of most campaigns) groups two or more"
    _, rows = run_query(driver, database, query.cypher,
                        bind_parameters(query, {"operation_id": samples["operation_id"]}))
    assert [row["ring_id"] for row in rows] == ring_ids  # in the order they ran
    assert [row["position"] for row in rows] == list(range(1, len(ring_ids) + 1))
    assert {row["ring_id"]: row["size"] for row in rows} == sizes and sum(sizes.values()) == records[0]["size"]
    assert rows[0]["gap_days"] is None
    tied = {row["ring_id"]: row["tied_to"] for row in rows}
    for row in rows:
        assert row["run_id"] == samples["run_id"]
        assert row["active_from"] is None or row["active_to"] is None or row["active_from"] <= row["active_to"]
        # An operation is the campaigns its ties connect: each is tied to another, both ways, in time order.
        assert row["tied_to"] and row["ring_id"] not in row["tied_to"]
        assert row["tied_to"] == [r for r in ring_ids if r in row["tied_to"]]
        assert all(row["ring_id"] in tied[other] for other in row["tied_to"])
        # and the graph shows what ties it to each of them
        assert {tie.split(" via ")[0] for tie in row["ties"]} == set(row["tied_to"]), row["ties"]
    _, unknown = run_query(driver, database, query.cypher, bind_parameters(query, {"operation_id": "op-none"}))
    assert unknown == []


def test_parameters_are_typed_from_the_header() -> None:
    assert parse_value("4", "INTEGER") == 4
    assert parse_value("0.75", "FLOAT") == 0.75
    assert parse_value("null", "STRING") is None
    moment = parse_value("2025-03-01", "DATETIME")
    assert moment.isoformat() == "2025-03-01T00:00:00+00:00"
    assert parse_value("2025-03-01T12:00:00Z", "DATETIME").hour == 12
    with pytest.raises(ValueError, match="needs --param ring_id"):
        bind_parameters(QUERIES["ring_members"], {})
    with pytest.raises(ValueError, match="no parameter"):
        bind_parameters(QUERIES["ring_members"], {"ring_id": "r", "bogus": "1"})


def test_cli_runs_a_query_and_lists_them(samples: dict[str, Any]) -> None:
    from graph.cli import app

    runner = CliRunner()
    listed = runner.invoke(app, ["query", "--list"])
    assert listed.exit_code == 0, listed.output
    assert "ring_timeline" in listed.output
    result = runner.invoke(app, ["query", "ring_members", "--param", f"ring_id={samples['ring_id']}"],
                           env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert samples["account_a"] in result.output
    assert "row" in result.output
    missing = runner.invoke(app, ["query", "ring_members"])
    assert missing.exit_code == 1 and "needs --param ring_id" in missing.output
