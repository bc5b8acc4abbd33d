"""Adapters that turn public fraud / identity datasets into ringtrace input bundles with ground truth.

Each adapter reads one dataset folder in its source schema (see ``/work/shared/datasets/*/NOTES.md``
for where the data comes from) and writes an input bundle (DESIGN.md §4: ``accounts.csv``,
``links.csv``; ``ip_ranges.csv`` for ``ip_asn``) plus ``truth.csv`` (``account_id, ring_id,
organization, cohort``) into an output directory. No dataset data ships with ringtrace; several
sources have no licence and are for private evaluation only.

    from graph.datasets import import_dataset
    summary = import_dataset("paysim", Path("/data/paysim_neo4j_apac"), Path("/tmp/paysim"))

Common rules: identifiers are normalised the way the loader does (``graph.ingest.normalise``), payment
values are always ``pm_<sha256>`` tokens (never a card or bank-account number), timestamps are
ISO 8601 UTC (``...Z``), rows are sorted and repeated links merged so output is deterministic.
No dataset names an actor, so ``organization`` is empty everywhere and no ``known.csv`` is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from graph.datasets import aws_fraud, datastax, fraud_ecommerce, ip_asn, neo4j_demo, neo4j_er, paysim
from graph.datasets._bundle import Adapter, ImportSummary

__all__ = ["ADAPTERS", "Adapter", "ImportSummary", "import_dataset"]

ADAPTERS: Final[dict[str, Adapter]] = {
    a.name: a
    for a in (
        paysim.ADAPTER,
        fraud_ecommerce.ADAPTER,
        aws_fraud.ADAPTER,
        datastax.ADAPTER,
        neo4j_demo.ADAPTER,
        neo4j_er.ADAPTER,
        ip_asn.ADAPTER,
    )
}


def import_dataset(name: str, source: Path, out: Path) -> ImportSummary:
    """Import dataset `name` (a key of :data:`ADAPTERS`) from folder `source` into directory `out`.

    Writes the input bundle and ``truth.csv`` (``ip_asn``: ``ip_ranges.csv`` and ``ATTRIBUTION.txt``)
    and returns what was written. ValueError for an unknown name; FileNotFoundError if `source` lacks
    the dataset's files.
    """
    adapter = ADAPTERS.get(name)
    if adapter is None:
        raise ValueError(f"unknown dataset {name!r}; expected one of {', '.join(sorted(ADAPTERS))}")
    if not source.is_dir():
        raise FileNotFoundError(f"{source}: not a directory")
    return adapter.run(Path(source), Path(out))
