"""Detection as an Apache Spark job, for data beyond one machine (the optional extra ``spark``).

Nothing here imports pyspark at import time: :func:`graph.spark.session.require_pyspark` does, when a
command needs it, and says which extra to install when it is missing. Every other command runs
without the extra.
"""
