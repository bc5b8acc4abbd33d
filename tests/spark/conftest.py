"""One SparkSession for every Spark test: local[2], few shuffle partitions, no UI, so each job is quick.

The tests here need the ``spark`` extra. Without pyspark they are skipped, except under CI=true, where
the extra is installed (`make install`) and a missing pyspark is a failure, not a quiet skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def _require_pyspark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("pyspark is not installed, and CI must run the Spark tests: install '.[spark]'")
        pytest.skip("needs the 'spark' extra (pip install 'ringtrace[spark]')")


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    _require_pyspark()
    from graph.spark.session import spark_session

    session = spark_session("ringtrace-tests", "local[2]", {
        "spark.sql.shuffle.partitions": "4",
        "spark.driver.memory": "2g",
        "spark.local.dir": str(tmp_path_factory.mktemp("spark-local")),
    })
    session.sparkContext.setCheckpointDir(str(tmp_path_factory.mktemp("spark-checkpoints")))
    yield session
    session.stop()
