"""Shared test configuration.

Tests that touch Cypher run against a real Neo4j. Unless NEO4J_URI is set, they use a local test
server of their own (port 7688, data in .neo4j-test/), started here if it is not running, so a
developer's demo data on 7687 is never wiped. `make test` stops it afterwards.
"""

from __future__ import annotations

import os

TEST_BOLT_PORT = "7688"

if "NEO4J_URI" not in os.environ:
    os.environ["NEO4J_URI"] = f"bolt://127.0.0.1:{TEST_BOLT_PORT}"
    os.environ.setdefault("RINGTRACE_NEO4J_BOLT_PORT", TEST_BOLT_PORT)
    os.environ.setdefault("RINGTRACE_NEO4J_HTTP_PORT", "7475")
    os.environ.setdefault("RINGTRACE_NEO4J_HOME", os.path.join(os.path.dirname(__file__), "..", ".neo4j-test"))
