"""Behaviour indicators per student and course (SPEC §2)."""
