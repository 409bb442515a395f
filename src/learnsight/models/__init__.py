"""Predictive models of academic outcome (SPEC §3)."""
