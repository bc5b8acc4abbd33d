"""A bundle's usage log as the Spark job reads it: the loader's rejects, IP observations, no prompt text."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from graph.store.usage import UNSHARED

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_EVENTS = """account_id,ts,prompt,prompt_fingerprint,model,ip
a1,2025-01-01T00:00:05Z,Summarise the report on topic 17 in three bullet points,,m1,203.0.113.9
a2,2025-01-01T00:01:00Z,Summarise the report on topic 18 in three bullet points,,m1,203.0.113.9
a1,2025-01-01T09:00:00Z,,vendor-42,m2,
a2,2025-01-02T09:00:00Z,,vendor-42,m2,203.0.113.9
a3,2025-01-02T10:00:00Z,a prompt only one account sent,,m2,
a3,not a time,whatever,,m2,
,2025-01-02T10:00:00Z,whatever,,m2,
"""


def test_the_usage_log_is_read_with_the_loaders_rules(spark: SparkSession, tmp_path: Path) -> None:
    from graph.spark.bundle import read_bundle

    (tmp_path / "links.csv").write_text("account_id,kind,value\na1,device,d1\na2,device,d1\n")
    (tmp_path / "events.csv").write_text(_EVENTS)
    bundle = read_bundle(spark, tmp_path)
    assert bundle.rejected == {"events": 2}
    usage = bundle.usage
    assert usage is not None and usage.n_requests == 5
    assert "prompt" not in usage.requests.columns
    templates = {r["template"]: r["senders"] for r in usage.templates.collect()}
    # The two near-duplicate prompts are one family; the provider's id is its own; a3's prompt is no template.
    assert len(templates) == 2 and templates["p:vendor-42"] == 2
    assert {r["template"] for r in usage.requests.where("account_id = 'a3'").collect()} == {UNSHARED}
    assert usage.releases == {"m1": 1735689605, "m2": 1735722000}
    # Each request's IP is an `ip` observation of its account, one per UTC day.
    ips = {(r["account_id"], r["value"], r["count"]) for r in bundle.links.where("value = '203.0.113.9'").collect()}
    assert ips == {("a1", "203.0.113.9", 1), ("a2", "203.0.113.9", 2)}
