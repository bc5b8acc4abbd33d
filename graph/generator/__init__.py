"""A synthetic population of accounts with ground truth: benign cohorts that share innocently, and
coordinated rings, some run for actor organisations (DESIGN.md §4, `ringtrace generate`)."""

from graph.generator.population import GenerationSummary, generate_population

__all__ = ["GenerationSummary", "generate_population"]
