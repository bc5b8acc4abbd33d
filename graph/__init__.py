"""ringtrace's domain: observations in Neo4j, rings of coordinated accounts, their attribution."""

__version__ = "0.2.0"
