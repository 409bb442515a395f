"""Activities: events grouped into runs per learner and device type (SPEC §1)."""

from learnsight.activities.build import ActivitySummary, build_activities

__all__ = ["ActivitySummary", "build_activities"]
