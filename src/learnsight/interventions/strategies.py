"""Strategy rules (SPEC §4): which strategy answers which target factors, when, how, and what to say.

The rules live in a declarative file — TOML or YAML, chosen by the suffix — validated by the
pydantic models below (unknown keys are errors).  learnsight ships a documented default
(``interventions/rules/default.toml``, :func:`load_rules` with no argument); users copy and edit it.
A bad file raises :class:`StrategyRulesError` whose one-line message names the file, the rule (its
``name``, or ``rule[3]`` when it has none) and the field path of **every** problem, e.g.
``rules.toml: rule 'irregular-life': method.depth: Input should be 'shallow' or 'deep'``.

Matching (:func:`match`)
    A rule applies to a student-course whose predicted class is in ``classes`` and that has at least
    one target factor (:mod:`~learnsight.interventions.factors`) whose indicator matches one of the
    rule's ``factors`` globs (``fnmatch``, e.g. ``meal_entropy_*``) with a severity of at least
    ``min_severity`` (and above 0: a factor that does not fall short is never targeted).  A rule with
    ``timing = "course_start"`` applies only while the cut-off week is below ``start_weeks``;
    ``"during"`` and ``"auto"`` apply at any time, ``"auto"`` resolving to ``course_start`` before
    ``start_weeks`` and ``during`` from then on.  Matches are ordered by ``priority`` (higher first),
    then by the severity of their most severe factor, then by rule name.

Messages
    ``message`` is a :meth:`str.format` template over the fixed set :data:`PLACEHOLDERS`; anything
    else (an unknown name, ``{}``, attribute access, a format spec) is rejected when the file loads.

Escalation (:func:`escalate`, SPEC §4 "when a student does not improve, change strategy, timing or
method")
    After failed attempt ``n`` the next plan changes the first thing, from ``ladder[n − 1]`` on, that
    can still change: ``depth`` shallow → deep, ``channel`` online → offline, ``mode`` individual →
    group, ``timing`` course_start → during, ``strategy`` the highest-priority rule of another
    strategy not yet tried that targets one of the plan's factors.  A rung that cannot change (depth
    already deep …) is passed over; past the end of the ladder its last rung repeats.  The new plan
    has ``attempt + 1``, ``previous`` = the old id and the ``reason``; after ``max_attempts``, or when
    nothing can change, there is none.  A plan knows only its own strategy: pass the strategies of
    the whole chain (from the intervention log) as ``tried`` so an earlier one is not tried again.
    Ids are :func:`plan_id` of (student, course, strategy, as-of, attempt, previous id).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import string
import tomllib
from collections.abc import Collection, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Annotated, Final, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from learnsight.errors import LearnsightError
from learnsight.interventions.factors import directional_indicators
from learnsight.interventions.types import (
    Channel,
    Depth,
    Factor,
    Method,
    Mode,
    PlannedIntervention,
    Strategy,
    Timing,
)
from learnsight.xapi.ids import deterministic_id
from learnsight.xapi.vocab import SOURCE_INTERVENTION

Rung = Literal["depth", "channel", "mode", "timing", "strategy"]
"""What one escalation step changes."""
RUNGS: Final[tuple[Rung, ...]] = ("depth", "channel", "mode", "timing", "strategy")
RuleTiming = Literal["course_start", "during", "auto"]
OutcomeClass = Literal["at-risk", "normal", "excellent"]

PLACEHOLDERS: Final[dict[str, str]] = {
    "student": "the student's name (the actor key after its last '|')",
    "course": "the course's title (its code when it has none)",
    "factors": "the targeted indicators, most severe first, comma-separated",
    "evidence": "the targeted factors' evidence sentences, joined by '; '",
    "top_factor": "the most severe targeted indicator",
    "value": "the student's value of the top factor",
    "cohort_median": "the course cohort's median of the top factor",
    "peer_median": "the successful peers' median of the top factor",
    "percentile": "the student's percentile rank on the top factor in the course (e.g. '8th')",
    "rank": "the student's rank on the top factor in the course, best first (e.g. '41st')",
    "cohort_size": "the number of students in the course with a value of the top factor",
    "resources": "up to three course resources the student has not used yet, easier first",
    "partner": "a successful peer in the same course (the cooperative-learning partner)",
}
"""The placeholders a message template may use, and what each is replaced by."""
PLAN_PLACEHOLDERS: Final = frozenset({"student", "course", "factors", "evidence", "top_factor"})
"""Placeholders a plan carries itself: an escalation can always fill them."""
TOP_FACTOR_PLACEHOLDERS: Final = frozenset(
    {"value", "cohort_median", "peer_median", "percentile", "rank", "cohort_size"}
)
"""Placeholders that describe the top factor: they hold only while the top factor stays the same."""

DEFAULT_RULES: Final = "rules/default.toml"
"""The shipped rule file, relative to the ``learnsight.interventions`` package."""


class StrategyRulesError(LearnsightError):
    """A strategy rule file is invalid; the message names the file, the rule and the field."""

    def __init__(self, file: str, problems: Sequence[str]) -> None:
        self.file = file
        self.problems = tuple(problems)
        super().__init__(f"{file}: " + "; ".join(self.problems))


# -- schema ---------------------------------------------------------------------------------------


def _check_glob(pattern: str) -> str:
    names = [i.name for i in directional_indicators()]
    if not fnmatch.filter(names, pattern):
        raise ValueError(
            f"{pattern!r} matches no indicator with a direction (better = higher/lower) in the catalogue"
        )
    return pattern


def template_fields(template: str) -> frozenset[str]:
    """The placeholder names of ``template``; a ``ValueError`` for anything outside :data:`PLACEHOLDERS`.

    >>> sorted(template_fields("Hi {student}, see {resources}."))
    ['resources', 'student']
    >>> template_fields("{grade}")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown placeholder {grade}; use one of {student}, {course}, ..., {partner}
    """
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"not a valid template: {exc}") from None
    found: set[str] = set()
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            shown = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            raise ValueError(f"unknown placeholder {{{name}}}; use one of {shown}")
        if spec or conversion:
            raise ValueError(f"placeholder {{{name}}}: no format spec or conversion (values come formatted)")
        found.add(name)
    return frozenset(found)


def _check_template(template: str) -> str:
    template_fields(template)
    return template


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MethodSpec(_Strict):
    """How: individual or group, online or offline, shallow or deep (SPEC §4)."""

    mode: Mode = "individual"
    channel: Channel = "online"
    depth: Depth = "shallow"

    def method(self) -> Method:
        return Method(mode=self.mode, channel=self.channel, depth=self.depth)


class Escalation(_Strict):
    """What changes, in order, when a student does not improve, and how many attempts at most."""

    ladder: tuple[Rung, ...] = Field(default=RUNGS, min_length=1)
    max_attempts: int = Field(default=6, ge=1, le=50)

    @field_validator("ladder")
    @classmethod
    def _unique(cls, ladder: tuple[Rung, ...]) -> tuple[Rung, ...]:
        repeated = sorted({r for r in ladder if ladder.count(r) > 1})
        if repeated:
            raise ValueError(f"{', '.join(repeated)} listed more than once")
        return ladder


class StrategyRule(_Strict):
    """One rule: which strategy answers which factors, for which classes, when, how, what to say."""

    name: str = Field(min_length=1)
    strategy: Strategy
    factors: tuple[Annotated[str, AfterValidator(_check_glob)], ...] = Field(min_length=1)
    """Globs on indicator names (``fnmatch``)."""
    min_severity: float = Field(default=0.5, ge=0)
    classes: tuple[OutcomeClass, ...] = Field(default=("at-risk",), min_length=1)
    timing: RuleTiming = "auto"
    method: MethodSpec = MethodSpec()
    priority: int = 0
    max_factors: int = Field(default=3, ge=1)
    """How many matching factors (most severe first) the plan targets and quotes."""
    message: Annotated[str, AfterValidator(_check_template)] = Field(min_length=1)

    def targets(self, indicator: str) -> bool:
        """Whether ``indicator`` matches one of the rule's globs."""
        return any(fnmatch.fnmatchcase(indicator, g) for g in self.factors)

    @property
    def placeholders(self) -> frozenset[str]:
        return template_fields(self.message)


class StrategyRules(_Strict):
    """A whole rule file."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    version: Literal[1]
    start_weeks: int = Field(default=3, ge=0)
    """Timing ``auto`` means ``course_start`` while the cut-off week is below this."""
    escalation: Escalation = Escalation()
    rules: tuple[StrategyRule, ...] = Field(alias="rule", min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> StrategyRules:
        problems = _duplicates([r.name for r in self.rules])
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def rule(self, name: str) -> StrategyRule | None:
        return next((r for r in self.rules if r.name == name), None)

    def strategies(self) -> frozenset[str]:
        """The strategies some rule uses."""
        return frozenset(r.strategy for r in self.rules)

    def timing_for(self, rule: StrategyRule, week: int | None) -> Timing | None:
        """The timing of ``rule`` at cut-off week ``week`` (``None``: unknown, treated as during);
        ``None`` when the rule does not apply then (a course-start rule after the start)."""
        early = week is not None and week < self.start_weeks
        if rule.timing == "course_start":
            return "course_start" if early else None
        if rule.timing == "during":
            return "during"
        return "course_start" if early else "during"


# -- loading --------------------------------------------------------------------------------------


def default_rules_path() -> Path:
    """The shipped default rule file."""
    return Path(str(resources.files("learnsight.interventions").joinpath(DEFAULT_RULES)))


def load_rules(path: Path | str | None = None) -> StrategyRules:
    """Parse and validate a rule file (``.toml``, ``.yaml`` or ``.yml``); the default without one.

    Raises :class:`StrategyRulesError` listing every problem with its rule and field path.

    >>> sorted(load_rules().strategies())[:2]
    ['competitive_strategy', 'cooperative_learning_prompt']
    """
    file = Path(path) if path is not None else default_rules_path()
    shown = file.name
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StrategyRulesError(shown, [f"cannot read: {exc}"]) from None
    suffix = file.suffix.lower()
    data: object
    try:
        if suffix == ".toml":
            data = tomllib.loads(text)
        elif suffix in {".yaml", ".yml"}:
            data = yaml.safe_load(text)
        else:
            raise StrategyRulesError(shown, ["unknown format (use .toml, .yaml or .yml)"])
    except tomllib.TOMLDecodeError as exc:
        raise StrategyRulesError(shown, [f"not valid TOML: {exc}"]) from None
    except yaml.YAMLError as exc:
        lines = str(exc).strip().splitlines()
        first = str(getattr(exc, "problem", None) or (lines[0] if lines else type(exc).__name__))
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise StrategyRulesError(shown, [f"not valid YAML{where}: {first}"]) from None
    return rules_from_data(data, shown)


def rules_from_data(data: object, file: str = "<rules>") -> StrategyRules:
    """Validate already-parsed rule data (a dict as the file holds it); errors name ``file``."""
    if not isinstance(data, dict):
        raise StrategyRulesError(file, ["expected a table of settings at the top level"])
    raw_rules = data.get("rule")
    labels = _rule_labels(raw_rules)
    problems = _raw_duplicates(raw_rules, labels)
    try:
        return StrategyRules.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
    for e in errors:
        loc = tuple(e["loc"])
        message = str(e["msg"]).removeprefix("Value error, ")
        if not loc and problems:
            continue  # the duplicate names, already reported with their rules
        problems.append(_where(loc, labels) + message)
    # Raised outside the handler: pydantic's error keeps frames alive if chained.
    raise StrategyRulesError(file, problems)


def _rule_labels(raw_rules: object) -> dict[int, str]:
    if not isinstance(raw_rules, list):
        return {}
    labels: dict[int, str] = {}
    for i, r in enumerate(raw_rules):
        name = r.get("name") if isinstance(r, dict) else None
        labels[i] = f"rule {name!r}" if isinstance(name, str) and name else f"rule[{i}]"
    return labels


def _duplicates(names: Sequence[object]) -> list[str]:
    seen: dict[object, int] = {}
    problems = []
    for i, name in enumerate(names):
        if name in seen:
            problems.append(f"rule {name!r}: name: duplicate rule name (rule[{seen[name]}] and rule[{i}])")
        else:
            seen[name] = i
    return problems


def _raw_duplicates(raw_rules: object, labels: Mapping[int, str]) -> list[str]:
    if not isinstance(raw_rules, list):
        return []
    names = [r.get("name") if isinstance(r, dict) else None for r in raw_rules]
    present = [n for n in names if isinstance(n, str) and n]
    return _duplicates(present) if len(set(present)) < len(present) else []


def _where(loc: tuple[int | str, ...], labels: Mapping[int, str]) -> str:
    """``rule 'x': method.depth: `` from a pydantic location."""
    if not loc:
        return ""
    head: str
    rest: tuple[int | str, ...]
    if loc[0] == "rule" and len(loc) > 1 and isinstance(loc[1], int):
        head, rest = labels.get(loc[1], f"rule[{loc[1]}]"), loc[2:]
    else:
        head, rest = "", loc
    path = ""
    for part in rest:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    if head and path:
        return f"{head}: {path}: "
    return f"{head or path}: "


# -- matching and messages ------------------------------------------------------------------------


def match(
    factors: Sequence[Factor], rules: StrategyRules, predicted_class: str, week: int | None
) -> list[tuple[StrategyRule, list[Factor]]]:
    """The rules that apply to one student-course and the factors each targets (module docstring).

    ``factors`` are the student's ranked target factors; each match keeps at most the rule's
    ``max_factors`` of them, most severe first.
    """
    found: list[tuple[StrategyRule, list[Factor]]] = []
    for rule in rules.rules:
        if predicted_class not in rule.classes or rules.timing_for(rule, week) is None:
            continue
        targeted = [
            f
            for f in factors
            if f.severity > 0 and f.severity >= rule.min_severity and rule.targets(f.indicator)
        ]
        targeted.sort(key=lambda f: -f.severity)
        if targeted:
            found.append((rule, targeted[: rule.max_factors]))
    found.sort(key=lambda m: (-m[0].priority, -m[1][0].severity, m[0].name))
    return found


def render(template: str, context: Mapping[str, str]) -> str:
    """``template`` with its placeholders replaced from ``context``; every one must be there.

    >>> render("Hi {student}", {"student": "S0001"})
    'Hi S0001'
    """
    missing = sorted(template_fields(template) - set(context))
    if missing:
        raise LearnsightError(
            f"message: no value for placeholder(s) {', '.join('{' + m + '}' for m in missing)}"
        )
    return template.format_map(context)


def short_actor(actor_key: str) -> str:
    """A student's display name: the actor key after its last ``|`` (``mailto:`` dropped).

    >>> short_actor("account:https://campus.example.edu|S0001"), short_actor("mailto:ana@x.org")
    ('S0001', 'ana@x.org')
    """
    return actor_key.rsplit("|", 1)[-1].removeprefix("mailto:")


def short_course(course: str) -> str:
    """A course IRI's last path segment (``…/course/C01`` → ``C01``)."""
    return course.rstrip("/").rsplit("/", 1)[-1] or course


def plan_context(plan: PlannedIntervention) -> dict[str, str]:
    """The placeholders a plan fills by itself (:data:`PLAN_PLACEHOLDERS`)."""
    context = {
        "student": short_actor(plan.actor_key),
        "course": short_course(plan.course),
        "factors": ", ".join(plan.factors),
        "evidence": "; ".join(plan.evidence),
    }
    if plan.factors:
        context["top_factor"] = plan.factors[0]
    return context


def plan_id(
    actor_key: str, course: str, strategy: str, as_of: str, attempt: int = 1, previous: str | None = None
) -> str:
    """Deterministic plan id: (student, course, strategy, as-of, attempt, previous plan)."""
    return str(
        deterministic_id(SOURCE_INTERVENTION, "plan", actor_key, course, strategy, as_of, attempt, previous)
    )


# -- escalation -----------------------------------------------------------------------------------


def escalate(
    plan: PlannedIntervention,
    rules: StrategyRules,
    reason: str,
    *,
    context: Mapping[str, str] | None = None,
    tried: Collection[str] = (),
    as_of: str | None = None,
) -> PlannedIntervention | None:
    """The next attempt after ``plan`` did not help (module docstring), or ``None`` when there is none.

    Parameters
    ----------
    plan:
        The attempt that failed.
    rules:
        The rule file: the ladder, ``max_attempts`` and the rules a strategy change picks from.
    reason:
        Why (recorded on the new plan), e.g. ``"score 41 -> 43 after 2 weeks"``.
    context:
        Placeholder values beyond the plan's own (:func:`plan_context`) for a strategy change's
        message, e.g. from :func:`learnsight.interventions.plan.escalation_context`; without them a
        strategy change only picks rules whose message the plan alone can fill.
    tried:
        Strategies already tried for this student and course (the plan's own always counts).
    as_of:
        The cut-off of the new plan (default: the old plan's).

    A method or timing change keeps the message (what is said stays, how and when it is said
    changes); a strategy change keeps the method and timing and renders the new rule's message.
    """
    if not reason.strip():
        raise LearnsightError("escalate: give the reason the student did not improve")
    if plan.attempt >= rules.escalation.max_attempts:
        return None
    ladder = rules.escalation.ladder
    start = min(plan.attempt - 1, len(ladder) - 1)
    for rung in ladder[start:]:
        changed = _change(
            rung, plan, rules, {**plan_context(plan), **(context or {})}, {*tried, plan.strategy}
        )
        if changed is not None:
            new_as_of = as_of or plan.as_of
            return dataclasses.replace(
                changed,
                id=plan_id(
                    plan.actor_key, plan.course, changed.strategy, new_as_of, plan.attempt + 1, plan.id
                ),
                as_of=new_as_of,
                attempt=plan.attempt + 1,
                previous=plan.id,
                reason=reason,
            )
    return None


def _change(
    rung: Rung,
    plan: PlannedIntervention,
    rules: StrategyRules,
    context: Mapping[str, str],
    tried: Collection[str],
) -> PlannedIntervention | None:
    m = plan.method
    if rung == "depth":
        return (
            dataclasses.replace(plan, method=dataclasses.replace(m, depth="deep"))
            if m.depth == "shallow"
            else None
        )
    if rung == "channel":
        return (
            dataclasses.replace(plan, method=dataclasses.replace(m, channel="offline"))
            if m.channel == "online"
            else None
        )
    if rung == "mode":
        return (
            dataclasses.replace(plan, method=dataclasses.replace(m, mode="group"))
            if m.mode == "individual"
            else None
        )
    if rung == "timing":
        return dataclasses.replace(plan, timing="during") if plan.timing == "course_start" else None
    return _change_strategy(plan, rules, context, tried)


def _change_strategy(
    plan: PlannedIntervention, rules: StrategyRules, context: Mapping[str, str], tried: Collection[str]
) -> PlannedIntervention | None:
    evidence = dict(zip(plan.factors, plan.evidence, strict=False))
    candidates = sorted(
        (r for r in rules.rules if r.strategy not in tried and any(r.targets(f) for f in plan.factors)),
        key=lambda r: (-r.priority, r.name),
    )
    for rule in candidates:
        targeted = tuple(f for f in plan.factors if rule.targets(f))[: rule.max_factors]
        quoted = tuple(evidence[f] for f in targeted if f in evidence)
        values = dict(context)
        if targeted[0] != plan.factors[0]:
            for key in TOP_FACTOR_PLACEHOLDERS:
                values.pop(key, None)
        own = plan_context(dataclasses.replace(plan, factors=targeted, evidence=quoted))
        values.update({k: own[k] for k in ("factors", "evidence", "top_factor")})
        if not rule.placeholders <= set(values):
            continue
        return dataclasses.replace(
            plan,
            strategy=rule.strategy,
            rule=rule.name,
            factors=targeted,
            evidence=quoted,
            message=render(rule.message, values),
        )
    return None


__all__ = [
    "PLACEHOLDERS",
    "PLAN_PLACEHOLDERS",
    "RUNGS",
    "TOP_FACTOR_PLACEHOLDERS",
    "Escalation",
    "MethodSpec",
    "OutcomeClass",
    "RuleTiming",
    "Rung",
    "StrategyRule",
    "StrategyRules",
    "StrategyRulesError",
    "default_rules_path",
    "escalate",
    "load_rules",
    "match",
    "plan_context",
    "plan_id",
    "render",
    "rules_from_data",
    "short_actor",
    "short_course",
    "template_fields",
]
