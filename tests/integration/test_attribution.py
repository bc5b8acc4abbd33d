from __future__ import annotations

import math
from pathlib import Path

import pytest

import neo4j
from graph.detection import DetectionParams
from graph.generator import generate_population
from graph.ingest.loader import load_bundle
from graph.pipeline.detect import run_detection
from graph.records import AttributionRecord, Evidence, RingRecord
from graph.settings import Settings
from graph.store.results import account_attribution, list_rings, ring_detail
from tests.integration.graph_state import path_exists


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("population")
    generate_population(out, 3000, seed=8, events_per_account=0)
    return out


@pytest.fixture
def detected(empty_db: neo4j.Driver, settings: Settings, population: Path, tmp_path: Path) -> str:
    load_bundle(empty_db, settings.neo4j_database, population, rejects_path=tmp_path / "r.csv")
    return run_detection(empty_db, settings.neo4j_database, DetectionParams(seed=4)).run_id


def _all_evidence(driver: neo4j.Driver, database: str, run_id: str) -> list[Evidence]:
    rings, _ = list_rings(driver, database, run_id=run_id, limit=1000)
    items: list[Evidence] = []
    for summary in rings:
        detail = ring_detail(driver, database, summary.ring_id, run_id=run_id)
        items.extend(detail.coordination_evidence)
        for attribution in detail.attributions:
            items.extend(attribution.evidence)
        for member in detail.members[:3]:
            view = account_attribution(driver, database, member.account_id, run_id=run_id)
            for attribution in view.attributions:
                items.extend(attribution.evidence)
    return items


def test_every_evidence_path_exists_in_neo4j(empty_db: neo4j.Driver, settings: Settings, detected: str) -> None:
    items = _all_evidence(empty_db, settings.neo4j_database, detected)
    paths = [p for item in items for p in item.paths]
    kinds = {item.kind for item in items if item.paths}
    assert len(paths) > 100
    assert {"shared_device", "known_member_in_ring", "ring_membership"} <= kinds
    missing = [p for p in paths if not path_exists(empty_db, settings.neo4j_database, p)]
    assert missing == []


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def _explanations(driver: neo4j.Driver, database: str, run_id: str) -> list[tuple[str, float, float, list[float]]]:
    """(what, probability, prior log-odds, evidence LLRs) for every score the run stored with its evidence."""
    rings, _, _ = driver.execute_query(
        "MATCH (r:Ring)-[f:FOUND_IN]->(:DetectionRun {run_id: $run_id}) RETURN r.ring_id AS id, properties(f) AS p",
        run_id=run_id, database_=database,
    )
    attributions, _, _ = driver.execute_query(
        "MATCH (s)-[t:ATTRIBUTED_TO {run_id: $run_id}]->(o:Organization) "
        "RETURN coalesce(s.ring_id, s.account_id) AS subject, o.name AS organization, properties(t) AS p",
        run_id=run_id, database_=database,
    )
    out = []
    for r in rings:
        ring = RingRecord.from_properties(r["id"], r["p"])
        out.append((f"coordination of {ring.ring_id}", ring.score, ring.coordination_prior_llr,
                    [e.llr for e in ring.coordination_evidence]))
    for a in attributions:
        record = AttributionRecord.from_properties(a["subject"], a["organization"], a["p"])
        out.append((f"{record.subject} -> {record.organization}", record.confidence, record.prior_llr,
                    [e.llr for e in record.evidence]))
    return out


def test_contributions_add_up_to_every_stored_score(empty_db: neo4j.Driver, settings: Settings, detected: str) -> None:
    """Each stored probability is the logistic of its prior plus its evidence items' LLRs (DESIGN.md §3.4)."""
    explanations = _explanations(empty_db, settings.neo4j_database, detected)
    coordination = [e for e in explanations if e[0].startswith("coordination of ")]
    attributions = [e for e in explanations if not e[0].startswith("coordination of ")]
    assert len(coordination) >= 5 and len(attributions) >= 20, (len(coordination), len(attributions))
    assert any(len(llrs) >= 2 for *_, llrs in attributions)  # sums of several items, not one term
    wrong = []
    for what, probability, prior, llrs in explanations:
        total = prior + math.fsum(llrs)
        if probability in (0.0, 1.0):
            # float64 holds sigmoid(x) as exactly 0 or 1 only beyond |x| ~ 36.7 (1 - 2**-53 has logit 36.7):
            # the sum must be at least that far out, on the right side.
            if (total < 36.0) if probability == 1.0 else (total > -36.0):
                wrong.append((what, probability, prior, llrs))
            continue
        # 1e-6, or what a float64 probability can resolve: near 1 one ulp of p moves the logit by ulp/(p(1-p))
        # (5e-6 at p = 1 - 2e-11), so the check is as tight as the stored number allows, never looser.
        tolerance = 1e-6 + 2 * math.ulp(probability) / (probability * (1.0 - probability))
        if abs(total - _logit(probability)) > tolerance:
            wrong.append((what, probability, prior, llrs))
    assert wrong == []


def test_rerun_gives_identical_scores(empty_db: neo4j.Driver, settings: Settings, detected: str) -> None:
    db = settings.neo4j_database
    first, _ = list_rings(empty_db, db, run_id=detected, limit=1000)
    again = run_detection(empty_db, db, DetectionParams(seed=4)).run_id
    second, _ = list_rings(empty_db, db, run_id=again, limit=1000)
    assert first, "the generated population has rings"
    assert [(r.ring_id, r.score, r.organization, r.attribution_confidence) for r in first] == [
        (r.ring_id, r.score, r.organization, r.attribution_confidence) for r in second
    ]
    attributed = [r for r in first if r.organization and (r.attribution_confidence or 0) >= 0.5]
    assert attributed, "the generated population has rings of known organisations"
    detail = ring_detail(empty_db, db, attributed[0].ring_id, run_id=detected)
    assert detail.attributions[0].organization == attributed[0].organization


def test_an_unknown_account_is_not_found_and_a_quiet_one_has_no_ring(
    empty_db: neo4j.Driver, settings: Settings, detected: str
) -> None:
    from graph.errors import NotFoundError

    db = settings.neo4j_database
    with pytest.raises(NotFoundError):
        account_attribution(empty_db, db, "no-such-account")
    records, _, _ = empty_db.execute_query(
        "MATCH (a:Account) WHERE NOT (a)-[:MEMBER_OF]->() AND NOT (a)-[:ATTRIBUTED_TO]->() "
        "RETURN a.account_id AS id ORDER BY id LIMIT 1",
        database_=db,
    )
    view = account_attribution(empty_db, db, records[0]["id"])
    assert view.run_id == detected and view.ring is None and view.attributions == ()


def _hosted_rings(directory: Path) -> Path:
    """Two rings of four, each sharing a card and a device: one on a /26 that a hosting provider
    reassigned to Krill Labs, one on the provider's own /16 (Cloudy), among unrelated accounts."""
    directory.mkdir()
    accounts = ["account_id,created_at,email"]
    links = ["account_id,kind,value,first_seen,last_seen,count"]
    when = "2026-03-02T10:00:00Z,2026-03-20T10:00:00Z,5"
    for ring, address in (("k", "198.51.100.9"), ("c", "203.0.5.5")):
        for i in range(4):
            account = f"{ring}{i}"
            accounts.append(f"{account},2026-03-01T0{i}:00:00Z,{account}@mail.example")
            links += [f"{account},ip,{address},{when}", f"{account},device,dev-{ring},{when}",
                      f"{account},payment,tok-{ring},{when}"]
    for i in range(20):
        accounts.append(f"u{i:02d},2026-01-0{1 + i % 9}T00:00:00Z,u{i}@mail.example")
        links.append(f"u{i:02d},device,own-{i},{when}")
    (directory / "accounts.csv").write_text("\n".join(accounts) + "\n")
    (directory / "links.csv").write_text("\n".join(links) + "\n")
    (directory / "ip_ranges.csv").write_text(
        "cidr,asn,organization,network\n198.51.100.0/26,64501,Krill Labs,hosting\n"
        "203.0.0.0/16,64502,Cloudy,hosting\n198.51.0.0/16,64502,Cloudy,hosting\n")
    return directory


def test_a_hosting_block_reassigned_to_an_organisation_attributes_its_ring(
    empty_db: neo4j.Driver, settings: Settings, tmp_path: Path
) -> None:
    db = settings.neo4j_database
    bundle = _hosted_rings(tmp_path / "bundle")
    load_bundle(empty_db, db, bundle, rejects_path=tmp_path / "r.csv")
    run = run_detection(empty_db, db, DetectionParams(seed=4)).run_id
    rings, _ = list_rings(empty_db, db, run_id=run, limit=10)
    by_members = {tuple(sorted(m.account_id for m in ring_detail(empty_db, db, r.ring_id, run_id=run).members)): r
                  for r in rings}
    krill = ring_detail(empty_db, db, by_members[("k0", "k1", "k2", "k3")].ring_id, run_id=run)
    cloudy = ring_detail(empty_db, db, by_members[("c0", "c1", "c2", "c3")].ring_id, run_id=run)
    assert [a.organization for a in krill.attributions][:1] == ["Krill Labs"]
    assert krill.attributions[0].confidence >= 0.5
    network = [e for e in krill.attributions[0].evidence if e.kind == "org_network"]
    assert network and all(path_exists(empty_db, db, p) for e in network for p in e.paths)
    assert all(a.organization != "Cloudy" for a in krill.attributions + cloudy.attributions)
