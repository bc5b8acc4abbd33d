"""Behaviour: what accounts send and when (the usage log's aggregates), as detection and scoring use it."""
