"""Scoring models kept in Neo4j, so every process scores with the team's calibrated parameters.

`ringtrace calibrate` stores a fitted model as `(:ScoringModel {version, fitted_on, created_at, json})`
and makes it the active one; detection runs use the active model (or the shipped default) and record
its version. Older models stay, so a run's scores can be traced to the parameters that made them.
"""

from __future__ import annotations

import neo4j
from graph.scoring import ScoringModel, default_model, model_from_json, model_to_json
from graph.store.usage import count_templates

__all__ = ["active_model", "store_model"]


def store_model(driver: neo4j.Driver, database: str, model: ScoringModel) -> None:
    """Store `model` and make it the active one (replacing a model of the same version)."""
    driver.execute_query(
        """
        OPTIONAL MATCH (old:ScoringModel {active: true})
        SET old.active = false
        WITH count(*) AS _
        MERGE (m:ScoringModel {version: $version})
        SET m.fitted_on = $fitted_on, m.json = $json, m.created_at = datetime(), m.active = true
        """,
        version=model.version,
        fitted_on=model.fitted_on,
        json=model_to_json(model),
        database_=database,
    )


def active_model(driver: neo4j.Driver, database: str) -> ScoringModel:
    """The active stored model, else the shipped default for a store with (or without) a usage log."""
    records, _, _ = driver.execute_query(
        "MATCH (m:ScoringModel {active: true}) RETURN m.json AS json, m.version AS version LIMIT 1",
        database_=database,
        routing_=neo4j.RoutingControl.READ,
    )
    if not records:
        return default_model(usage_log=count_templates(driver, database) > 0)
    return model_from_json(str(records[0]["json"]), f"ScoringModel {records[0]['version']}")
