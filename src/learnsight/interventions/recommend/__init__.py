"""Adaptive recommendation for excellent students (SPEC §4)."""
