"""`--backend gds` through a real Neo4j with the Graph Data Science plugin: communities inside
components, close to the in-process path's, reproducible with a seed, nothing left in the GDS catalog;
and the clear refusal on a server without the plugin.

The GDS server is this module's own (started and stopped here, GDS fetched with Maven on first use),
on ports 7710-7719 and a home under the temporary directory, never the suite's server.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from scipy import sparse
from scipy.sparse import csgraph
from typer.testing import CliRunner

import neo4j
from graph import local_server
from graph.cli import app
from graph.detection import GDS_METHODS, NATURAL_RESOLUTION, DetectionParams
from graph.detection.rings import in_process
from graph.errors import GdsUnavailableError, LocalServerError
from graph.evaluation.rings import adjusted_rand_index
from graph.generator import generate_population
from graph.ingest.loader import load_bundle
from graph.pipeline.detect import claim_detection, run_detection
from graph.pipeline.gds_communities import gds_communities
from graph.projection import AccountGraph
from graph.settings import Settings
from graph.store.driver import create_driver
from graph.store.gds import gds_version
from graph.store.runs import read_ring_members, read_run
from graph.store.schema import apply_schema
from tests.unit.test_detection import graph_from_edges

_PORTS = range(7710, 7720)
_CATALOG = "CALL gds.graph.list() YIELD graphName RETURN collect(graphName) AS names"
# Measured (ARI of GDS's communities or rings against the in-process ones, same seed): planted graphs
# of seeds 7-9, seeds 11 and 12, both methods: 1.000 each (three digits); rings of a generated 2,000
# accounts (seed 5, 100 events per account), detection seeds 4 and 5: 0.986 and 0.987.
_MIN_AGREEMENT = 0.9


def _free_ports(count: int) -> list[int]:
    free = []
    for port in _PORTS:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                free.append(port)
        if len(free) == count:
            return free
    pytest.fail(f"no {count} free ports in {_PORTS.start}-{_PORTS.stop - 1} for the GDS test server")


@pytest.fixture(scope="module")
def gds_settings(settings: Settings) -> Iterator[Settings]:
    bolt, http = _free_ports(2)
    home = Path(tempfile.mkdtemp(prefix="gds-test-"))
    own = Settings(NEO4J_URI=f"bolt://127.0.0.1:{bolt}", RINGTRACE_NEO4J_BOLT_PORT=bolt,
                   RINGTRACE_NEO4J_HTTP_PORT=http, RINGTRACE_NEO4J_HOME=home, RINGTRACE_NEO4J_GDS="1",
                   NEO4J_PASSWORD=settings.neo4j_password.get_secret_value())
    try:
        local_server.start(own, timeout=300)
        yield own
    finally:
        local_server.stop(own)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def gds_driver(gds_settings: Settings) -> Iterator[neo4j.Driver]:
    with create_driver(gds_settings) as driver:
        yield driver


@pytest.fixture(scope="module")
def gds_loaded(gds_driver: neo4j.Driver, gds_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A generated population (with a usage log) loaded into the GDS server; its database name."""
    bundle = tmp_path_factory.mktemp("gds-population")
    generate_population(bundle, 2000, seed=31, events_per_account=10)
    database = gds_settings.neo4j_database
    apply_schema(gds_driver, database)
    report = load_bundle(gds_driver, database, bundle, rejects_path=bundle / "rejects.csv")
    assert report.ok
    return database


def _planted(seed: int) -> AccountGraph:
    """Groups of 3-25 accounts, dense inside, chained by weak edges into a few large components, and
    isolated pairs (too small for a ring)."""
    rng = np.random.default_rng(seed)
    edges: list[tuple[int, int, float]] = []
    start = 0
    for group in range(60):
        size = int(rng.integers(3, 26))
        nodes = range(start, start + size)
        edges += [(i, j, float(rng.uniform(0.3, 2.0))) for i in nodes for j in nodes if i < j and rng.random() < 0.6]
        edges += [(i, i + 1, 0.3) for i in nodes[:-1]]
        if group % 10:  # ten components of six groups each
            edges.append((start - 1, start, 0.15))
        start += size
    edges += [(start + 2 * k, start + 2 * k + 1, 1.0) for k in range(5)]
    unique = {(s, d): w for s, d, w in edges}
    return graph_from_edges(start + 10, [(s, d, w) for (s, d), w in unique.items()])


def _components(graph: AccountGraph) -> npt.NDArray[np.int32]:
    n = graph.n_accounts
    adjacency = sparse.coo_matrix((graph.weight, (graph.src, graph.dst)), shape=(n, n))
    return csgraph.connected_components(adjacency, directed=False)[1]


def _catalog(driver: neo4j.Driver, database: str) -> list[str]:
    records, _, _ = driver.execute_query(_CATALOG, database_=database)
    return list(records[0]["names"])


@pytest.mark.parametrize("method", GDS_METHODS)
def test_gds_communities_lie_in_components_agree_with_in_process_and_repeat(
    gds_driver: neo4j.Driver, gds_settings: Settings, method: str
) -> None:
    database = gds_settings.neo4j_database
    graph = _planted(7)
    component = _components(graph)
    resolution = NATURAL_RESOLUTION[method]
    local = in_process(method)(graph, resolution=resolution, min_size=3, seed=11)
    with gds_communities(gds_driver, database, method, "test") as backend:
        first = backend(graph, resolution=resolution, min_size=3, seed=11)
        again = backend(graph, resolution=resolution, min_size=3, seed=11)
        assert _catalog(gds_driver, database) == [f"{backend.prefix}-leiden"]  # WCC's graph already dropped
        assert set(backend.timings) == {"gds_project", "gds_wcc", "gds_leiden"}
    assert local_server.status(gds_settings).gds
    assert _catalog(gds_driver, database) == []
    np.testing.assert_array_equal(first, again)
    # The isolated pairs are in no community, as in process; every community within one component.
    np.testing.assert_array_equal(first < 0, local < 0)
    placed = first >= 0
    for label in np.unique(first[placed]).tolist():
        assert np.unique(component[first == label]).shape[0] == 1
    assert adjusted_rand_index(local[placed], first[placed]) >= _MIN_AGREEMENT


def _agreement(first: Sequence[Collection[str]], second: Sequence[Collection[str]]) -> float:
    accounts = sorted({a for ring in (*first, *second) for a in ring})
    index = {a: i for i, a in enumerate(accounts)}
    labels = []
    for rings in (first, second):
        label = -1 - np.arange(len(accounts))  # accounts in no ring: singletons
        for k, ring in enumerate(rings):
            label[[index[a] for a in ring]] = k
        labels.append(label)
    return adjusted_rand_index(labels[0], labels[1])


def test_detect_with_the_gds_backend_is_close_to_in_process_and_reproducible(
    gds_driver: neo4j.Driver, gds_loaded: str
) -> None:
    database = gds_loaded
    local = run_detection(gds_driver, database, DetectionParams(seed=4))
    first = run_detection(gds_driver, database, DetectionParams(seed=4, backend="gds"))
    second = run_detection(gds_driver, database, DetectionParams(seed=4, backend="gds"))
    assert first.counts["rings"] > 10
    members = {s.run_id: list(read_ring_members(gds_driver, database, s.run_id).values())
               for s in (local, first, second)}
    assert sorted(map(sorted, members[first.run_id])) == sorted(map(sorted, members[second.run_id]))
    assert _agreement(members[local.run_id], members[first.run_id]) >= _MIN_AGREEMENT
    record = read_run(gds_driver, database, first.run_id)
    assert record is not None and record.status == "completed" and record.params["backend"] == "gds"
    assert {"gds_project", "gds_wcc", "gds_leiden"} <= set(record.timings)
    assert _catalog(gds_driver, database) == []


def test_gds_backend_is_refused_by_a_server_without_gds_before_a_run_is_recorded(
    driver: neo4j.Driver, settings: Settings
) -> None:
    database = settings.neo4j_database
    if gds_version(driver, database) is not None:
        pytest.skip("the suite's server runs GDS")
    query = "MATCH (r:DetectionRun) RETURN count(r) AS n"
    before = driver.execute_query(query, database_=database).records[0]["n"]
    with pytest.raises(GdsUnavailableError, match="ringtrace neo4j start --with-gds"):
        claim_detection(driver, database, DetectionParams(backend="gds"))
    refused = CliRunner().invoke(app, ["detect", "--backend", "gds"])
    assert refused.exit_code == 1 and "no Graph Data Science procedures" in refused.output, refused.output
    wrong = CliRunner().invoke(app, ["detect", "--backend", "gds", "--method", "louvain"])
    assert wrong.exit_code == 1 and "gds backend runs leiden-cpm or leiden-modularity" in wrong.output, wrong.output
    assert driver.execute_query(query, database_=database).records[0]["n"] == before


def test_a_local_server_running_without_gds_is_not_taken_for_one_with_it(settings: Settings) -> None:
    if not local_server.status(settings).running:
        pytest.skip("the suite's server is not the local one")
    assert not local_server.status(settings).gds
    with pytest.raises(LocalServerError, match="runs without the GDS plugin"):
        local_server.start(settings.model_copy(update={"neo4j_gds": True}))
