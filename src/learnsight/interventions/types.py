"""The nouns of the intervention model (SPEC §4), shared by planning, the log and the review.

A **target factor** is one of a student's indicators that falls short of the cohort or of the
successful peers; a **strategy** answers it (the six strategies of SPEC §4); a **method** says how
(individual or group, online or offline, shallow or deep) and a **timing** when (at course start or
during the course).  A :class:`PlannedIntervention` is one strategy for one student in one course,
with its message; an escalation is a new :class:`PlannedIntervention` that points back at the one it
replaces (``previous``) and says why (``reason``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal, get_args

Strategy = Literal[
    "life_irregularity_reminder",
    "learning_progress_comparison",
    "learning_path_suggestion",
    "resource_recommendation",
    "cooperative_learning_prompt",
    "competitive_strategy",
]
"""The six active-intervention strategies of SPEC §4."""
STRATEGIES: Final[tuple[str, ...]] = get_args(Strategy)

Timing = Literal["course_start", "during"]
TIMINGS: Final[tuple[str, ...]] = get_args(Timing)
Mode = Literal["individual", "group"]
MODES: Final[tuple[str, ...]] = get_args(Mode)
Channel = Literal["online", "offline"]
CHANNELS: Final[tuple[str, ...]] = get_args(Channel)
Depth = Literal["shallow", "deep"]
DEPTHS: Final[tuple[str, ...]] = get_args(Depth)
Better = Literal["higher", "lower"]
"""Which direction of an indicator is the good one."""


@dataclass(frozen=True)
class Method:
    """How an intervention is delivered (SPEC §4)."""

    mode: Mode = "individual"
    channel: Channel = "online"
    depth: Depth = "shallow"

    def label(self) -> str:
        """``individual · online · shallow``."""
        return f"{self.mode} · {self.channel} · {self.depth}"


@dataclass(frozen=True)
class Factor:
    """One indicator of one student in one course, set against the cohort and the successful peers.

    ``percentile`` and ``z_cohort`` place the value in the course cohort (SPEC §2 cohort
    statistics), ``z_peers`` against the peers who did well; ``contribution`` is the model's signed
    contribution of this indicator to the predicted class (None when the model does not use it).
    ``severity`` orders the factors: how far the value falls short, in standard deviations, in the
    indicator's bad direction (0 when it does not fall short).
    """

    indicator: str
    family: str
    value: float | None
    better: Better
    cohort_median: float | None
    peer_median: float | None
    percentile: float | None
    z_cohort: float | None
    z_peers: float | None
    contribution: float | None
    severity: float
    evidence: str
    """One sentence a teacher can read: the value, the cohort's and the peers' medians, the rank."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PlannedIntervention:
    """One strategy for one student in one course: what to do, when, how, and what to say.

    ``id`` is deterministic (student, course, strategy, as-of, attempt) so planning twice adds
    nothing; ``attempt`` is 1 for a first plan and grows with each escalation, whose ``previous`` is
    the id it replaces and whose ``reason`` says why.
    """

    id: str
    actor_key: str
    course: str
    strategy: Strategy
    rule: str
    """Name of the rule (in the strategy file) that chose it."""
    timing: Timing
    method: Method
    message: str
    factors: tuple[str, ...]
    """The indicators it targets, most severe first."""
    as_of: str
    """The cut-off of the data it was planned from (``AsOf.label()``)."""
    attempt: int = 1
    previous: str | None = None
    reason: str | None = None
    evidence: tuple[str, ...] = field(default_factory=tuple)
    """The evidence sentences of the targeted factors."""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["method"] = asdict(self.method)
        d["factors"] = list(self.factors)
        d["evidence"] = list(self.evidence)
        return d


__all__ = [
    "CHANNELS",
    "DEPTHS",
    "MODES",
    "STRATEGIES",
    "TIMINGS",
    "Better",
    "Channel",
    "Depth",
    "Factor",
    "Method",
    "Mode",
    "PlannedIntervention",
    "Strategy",
    "Timing",
]
