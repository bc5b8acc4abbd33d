"""Neo4j entity-resolution mock identities (``neo4j_er_mock``): 804 records of 157 true profiles.

Source: GitHub ``neo4j-product-examples/snowflake-graph-analytics``
``entity-resolution/er_mock_data.csv`` (commit 08b62d2). Licence: Apache-2.0.

Not fraud: it tests "accounts -> one real entity" clustering against a true partition.

Mapping: ``identity_id`` -> account; ``email_address`` -> the account's ``email``; ``phone_number``
-> ``phone`` link; ``country`` -> ``country``. Street address, names, nickname and birth year are
left out (no address kind; names are soft attributes the projection does not use).

Label: the ring id is ``profile_id`` for profiles with >= 2 identity records; cohort ``identity``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from graph.datasets._bundle import Adapter, BundleBuilder, ImportSummary, find_source_file, read_csv

__all__ = ["ADAPTER", "import_neo4j_er"]


def import_neo4j_er(source: Path, out: Path) -> ImportSummary:
    """Write the bundle + truth.csv for the entity-resolution mock in `source` into `out`."""
    bundle = BundleBuilder("neo4j_er")
    rows = list(read_csv(find_source_file(source, "er_mock_data.csv")))
    sizes = Counter(r.get("profile_id", "") for r in rows)
    for row in rows:
        account = row.get("identity_id", "")
        if not account:
            bundle.skip("row without identity_id")
            continue
        bundle.account(account, email=row.get("email_address", ""), country=row.get("country", ""))
        bundle.link(account, "phone", row.get("phone_number", ""))
        profile = row.get("profile_id", "")
        bundle.label(account, profile if profile and sizes[profile] >= 2 else "", "identity")
    return bundle.write(out)


ADAPTER = Adapter(
    name="neo4j_er",
    source="github.com/neo4j-product-examples/snowflake-graph-analytics entity-resolution/er_mock_data.csv",
    licence="Apache-2.0",
    run=import_neo4j_er,
)
