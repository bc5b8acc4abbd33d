"""A bundle file's rows as Spark reads them, and each row's fields as the loader's parsers take them.

CSV and CSV.GZ are read as text fields, Parquet as its columns, JSONL as lines decoded in the task
(graph/ingest/readers.py ``_json_row``); values become text by the reader's own conversion, so the
parsers (graph/ingest/rows.py) see what a load gives them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Final

import pyarrow as pa

from graph.errors import BundleError
from graph.ingest.readers import REQUIRED_COLUMNS, BundleFile, _json_row, _text

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["ORDINAL", "ddl", "fields_of", "raw_rows"]

ORDINAL: Final = "__ringtrace_ordinal__"  # a column the job may add: the row's place in its file
_SUPPORTED: Final = (".csv", ".csv.gz", ".parquet", ".jsonl", ".jsonl.gz")


def _suffix(path: Path) -> str:
    return "".join(path.suffixes[-2:]) if path.name.endswith(".gz") else path.suffix


def raw_rows(spark: SparkSession, bundle_file: BundleFile) -> tuple[DataFrame, bool]:
    """The file's rows as Spark reads them, and whether each is a JSON line still to decode."""
    from pyspark.sql import functions as F  # noqa: N812

    path = str(bundle_file.path)
    suffix = _suffix(bundle_file.path)
    if suffix in (".jsonl", ".jsonl.gz"):
        return spark.read.text(path).where(F.trim("value") != ""), True
    if suffix == ".parquet":
        frame = spark.read.parquet(path)
    elif suffix in (".csv", ".csv.gz"):
        # Every field as text (the parser decides what it means); quotes doubled inside quoted fields.
        frame = (spark.read.option("header", True).option("escape", '"').option("multiLine", True)
                 .option("inferSchema", False).csv(path))
        frame = frame.toDF(*[c.strip() for c in frame.columns])
    else:
        raise BundleError(f"{path}: the Spark job reads {', '.join(_SUPPORTED)} files")
    missing = [c for c in REQUIRED_COLUMNS[bundle_file.name] if c not in frame.columns]
    if missing:
        raise BundleError(f"{path}: header lacks required field(s) {', '.join(missing)}")
    return frame, False


def fields_of(batch: pa.RecordBatch, json_lines: bool) -> Iterator[dict[str, str]]:
    """Each row of a batch of :func:`raw_rows` as field name -> text (without :data:`ORDINAL`)."""
    if json_lines:
        for text in batch.column(0).to_pylist():
            yield _json_row(text)
        return
    columns = {name: batch.column(i).to_pylist() for i, name in enumerate(batch.schema.names) if name != ORDINAL}
    for index in range(batch.num_rows):
        yield {name: _text(values[index]) for name, values in columns.items()}


def ddl(schema: pa.Schema) -> str:
    """The Spark DDL of an Arrow schema of strings and 64-bit integers."""
    names = {pa.string(): "string", pa.int64(): "long"}
    return ", ".join(f"{f.name} {names[f.type]}" for f in schema)
