"""Interventions (SPEC §4): target factors, strategies, recommendations and measured experiments."""
