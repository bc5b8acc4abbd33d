"""What the Spark job refuses to read rather than quietly detect differently from `ringtrace detect`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from graph.errors import BundleError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def test_a_bundle_with_a_usage_log_is_refused(spark: SparkSession, tmp_path: Path) -> None:
    from graph.spark.bundle import read_bundle

    (tmp_path / "links.csv").write_text("account_id,kind,value\na1,device,d1\n")
    (tmp_path / "events.csv").write_text("account_id,ts\na1,2025-01-01T00:00:00Z\n")
    with pytest.raises(BundleError, match="usage log"):
        read_bundle(spark, tmp_path)
