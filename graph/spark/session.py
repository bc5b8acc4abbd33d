"""The SparkSession the job runs in, and the check that pyspark is installed at all."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING

from graph.errors import MissingExtraError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["DEFAULT_CONFIG", "require_pyspark", "spark_session"]

#: Settings for a run on one machine; on a cluster `spark-submit` passes its own and these only fill gaps.
DEFAULT_CONFIG: dict[str, str] = {
    # The job's shuffles are a few hundred MB on one machine; 200 partitions would be mostly empty tasks.
    "spark.sql.shuffle.partitions": "8",
    "spark.ui.enabled": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # Dates reach the job as epoch seconds; keep Spark from shifting them into the machine's zone.
    "spark.sql.session.timeZone": "UTC",
    # A driver out of memory must end the run: pyspark's Arrow collect waits forever for a serving
    # thread that an OutOfMemoryError killed (Spark 4.0), so without this the job hangs silently.
    "spark.driver.extraJavaOptions": "-XX:+ExitOnOutOfMemoryError",
}


def require_pyspark(what: str = "ringtrace spark") -> ModuleType:
    """The pyspark module, or MissingExtraError telling to install the ``spark`` extra."""
    try:
        # The SQL half too: fail here, not mid-run.
        import pyspark
        import pyspark.sql
    except ImportError as error:
        raise MissingExtraError(what, "spark", error.name or "pyspark") from None
    return pyspark


def spark_session(
    app_name: str = "ringtrace", master: str | None = None, config: Mapping[str, str] | None = None
) -> SparkSession:
    """The active session, else a new one: on `master` when given, else where spark-submit says, else
    on ``local[2]``."""
    require_pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    # spark-submit starts the JVM first and hands its gateway to Python in this variable (pyspark's
    # java_gateway reads it); its --master is then in force and must not be overridden.
    if master is None and "PYSPARK_GATEWAY_PORT" not in os.environ:
        master = "local[2]"
    builder = SparkSession.builder.appName(app_name)
    if master is not None:
        builder = builder.master(master)
        if master.startswith("local"):
            # Python tasks run in this interpreter's environment, where ringtrace is installed (pyspark
            # reads only this variable, default `python3`); on a cluster the executors' Python must have
            # it installed too.
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    for key, value in {**DEFAULT_CONFIG, **(config or {})}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
