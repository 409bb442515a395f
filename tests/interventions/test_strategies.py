"""Strategy rules: the default file, every kind of bad file, matching, messages and escalation."""

from __future__ import annotations

import dataclasses
import itertools
import tomllib
from pathlib import Path

import pytest
import yaml

from learnsight.errors import LearnsightError
from learnsight.interventions.strategies import (
    StrategyRules,
    StrategyRulesError,
    default_rules_path,
    escalate,
    load_rules,
    match,
    plan_id,
    render,
    rules_from_data,
    template_fields,
)
from learnsight.interventions.types import STRATEGIES, Factor, Method, PlannedIntervention

BASE = """\
version = 1
start_weeks = 3

[escalation]
ladder = ["depth", "channel", "mode", "timing", "strategy"]
max_attempts = 7

[[rule]]
name = "irregular-life"
strategy = "life_irregularity_reminder"
factors = ["rest_regularity_z", "meal_entropy_*"]
min_severity = 0.5
timing = "auto"
method = { mode = "individual", channel = "online", depth = "shallow" }
priority = 10
message = "{student}: {evidence}"

[[rule]]
name = "compare"
strategy = "learning_progress_comparison"
factors = ["*"]
min_severity = 0.0
priority = 0
message = "{student} in {course}: {evidence}"

[[rule]]
name = "rank"
strategy = "competitive_strategy"
factors = ["attendance_rate"]
timing = "course_start"
priority = 5
message = "{student}, you rank {rank} of {cohort_size} on {top_factor}"
"""


def _write(tmp_path: Path, text: str, name: str = "rules.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _factor(name: str, severity: float, family: str = "living") -> Factor:
    return Factor(
        indicator=name,
        family=family,
        value=1.0,
        better="lower",
        cohort_median=0.5,
        peer_median=0.4,
        percentile=90.0,
        z_cohort=severity,
        z_peers=None,
        contribution=None,
        severity=severity,
        evidence=f"{name} is off by {severity}",
    )


# -- loading --------------------------------------------------------------------------------------


def test_default_rules_load_and_cover_all_six_strategies() -> None:
    rules = load_rules()
    assert rules.strategies() == set(STRATEGIES)
    assert len({r.name for r in rules.rules}) == len(rules.rules)
    cooperative = [r for r in rules.rules if r.strategy == "cooperative_learning_prompt"]
    assert cooperative and all(r.method.mode == "group" for r in cooperative)
    assert all("partner" in r.placeholders for r in cooperative)
    assert any("resources" in r.placeholders for r in rules.rules if r.strategy == "resource_recommendation")
    assert any("rank" in r.placeholders for r in rules.rules if r.strategy == "competitive_strategy")


def test_yaml_equivalent_of_the_default_loads_to_the_same_rules(tmp_path: Path) -> None:
    data = tomllib.loads(default_rules_path().read_text(encoding="utf-8"))
    path = _write(tmp_path, yaml.safe_dump(data, sort_keys=False), "rules.yaml")
    assert load_rules(path) == load_rules()


def test_user_file_loads(tmp_path: Path) -> None:
    rules = load_rules(_write(tmp_path, BASE))
    assert [r.name for r in rules.rules] == ["irregular-life", "compare", "rank"]
    assert rules.rules[1].timing == "auto" and rules.rules[1].classes == ("at-risk",)


BAD = [
    pytest.param("[[rule]\nname = 'x'\n", "rules.toml: not valid TOML", id="syntax"),
    pytest.param(
        BASE.replace("priority = 10\n", 'priority = 10\ncolour = "red"\n'),
        "rules.toml: rule 'irregular-life': colour: Extra inputs are not permitted",
        id="unknown-key",
    ),
    pytest.param(
        BASE.replace('depth = "shallow" }', 'depth = "medium" }'),
        "rules.toml: rule 'irregular-life': method.depth: Input should be 'shallow' or 'deep'",
        id="wrong-enum",
    ),
    pytest.param(
        BASE.replace('"{student}: {evidence}"', '"{student}: {grade}"'),
        "rules.toml: rule 'irregular-life': message: unknown placeholder {grade}",
        id="unknown-placeholder",
    ),
    pytest.param(
        BASE.replace('"{student}: {evidence}"', '"{student:>10}"'),
        "rule 'irregular-life': message: placeholder {student}: no format spec",
        id="format-spec",
    ),
    pytest.param(
        BASE.replace('"life_irregularity_reminder"', '"nagging"'),
        "rules.toml: rule 'irregular-life': strategy: Input should be 'life_irregularity_reminder'",
        id="unknown-strategy",
    ),
    pytest.param(
        BASE.replace('"meal_entropy_*"', '"meal_entropyy_*"'),
        "rules.toml: rule 'irregular-life': factors[1]: 'meal_entropyy_*' matches no indicator",
        id="glob-matches-nothing",
    ),
    pytest.param(
        BASE.replace('"rest_regularity_z", ', '"scheduled_sessions", '),
        "rule 'irregular-life': factors[0]: 'scheduled_sessions' matches no indicator with a direction",
        id="indicator-without-direction",
    ),
    pytest.param(
        BASE.replace('name = "compare"', 'name = "irregular-life"'),
        "rules.toml: rule 'irregular-life': name: duplicate rule name (rule[0] and rule[1])",
        id="duplicate-name",
    ),
    pytest.param(
        BASE.replace("min_severity = 0.5", 'min_severity = "high"'),
        "rules.toml: rule 'irregular-life': min_severity: Input should be a valid number",
        id="wrong-type",
    ),
    pytest.param(
        BASE.replace('name = "compare"\n', ""),
        "rules.toml: rule[1]: name: Field required",
        id="unnamed-rule",
    ),
    pytest.param(
        BASE.replace("max_attempts = 7", "max_attempts = 0"),
        "rules.toml: escalation.max_attempts: Input should be greater than or equal to 1",
        id="escalation",
    ),
    pytest.param(
        BASE.replace('"timing", "strategy"]', '"timing", "timing"]'),
        "rules.toml: escalation.ladder: Value error, timing listed more than once".replace(
            "Value error, ", ""
        ),
        id="ladder-repeats",
    ),
    pytest.param(
        BASE.replace("version = 1", "version = 2"), "rules.toml: version: Input should be 1", id="version"
    ),
]


@pytest.mark.parametrize(("text", "expected"), BAD)
def test_bad_files_name_the_file_rule_and_field(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(StrategyRulesError) as info:
        load_rules(_write(tmp_path, text))
    assert expected in str(info.value)
    assert str(info.value).startswith("rules.toml: ")
    assert "\n" not in str(info.value)


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(StrategyRulesError, match=r"rules\.toml: not valid TOML: .*line 3"):
        load_rules(_write(tmp_path, "version = 1\n\n[[rule]\n"))


def test_yaml_syntax_error(tmp_path: Path) -> None:
    with pytest.raises(StrategyRulesError, match=r"rules\.yml: not valid YAML \(line 2\): mapping values"):
        load_rules(_write(tmp_path, "version: 1\nrule: x: y\n", "rules.yml"))


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = BASE.replace('depth = "shallow" }', 'depth = "medium" }').replace('"{student} in', '"{who} in')
    with pytest.raises(StrategyRulesError) as info:
        load_rules(_write(tmp_path, text))
    assert len(info.value.problems) == 2
    assert "rule 'irregular-life': method.depth" in str(info.value)
    assert "rule 'compare': message: unknown placeholder {who}" in str(info.value)


def test_other_formats_and_shapes_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(StrategyRulesError, match=r"rules\.json: unknown format"):
        load_rules(_write(tmp_path, "{}", "rules.json"))
    with pytest.raises(StrategyRulesError, match="expected a table"):
        rules_from_data(["not", "a", "table"])
    with pytest.raises(StrategyRulesError, match=r"missing\.toml: cannot read"):
        load_rules(tmp_path / "missing.toml")
    assert isinstance(StrategyRulesError("f", ["x"]), LearnsightError)


# -- templates ------------------------------------------------------------------------------------


def test_templates() -> None:
    assert template_fields("{student} {course} {student}") == {"student", "course"}
    for bad in ("{}", "{0}", "{student.name}", "{student!r}", "oops }", "{student"):
        with pytest.raises(ValueError):
            template_fields(bad)
    assert render("{student} / {course}", {"student": "S1", "course": "C1", "extra": "x"}) == "S1 / C1"
    with pytest.raises(LearnsightError, match=r"\{course\}"):
        render("{student} / {course}", {"student": "S1"})


# -- matching -------------------------------------------------------------------------------------


def test_match_orders_by_priority_then_severity_and_filters() -> None:
    rules = rules_from_data(tomllib.loads(BASE))
    factors = [
        _factor("attendance_rate", 2.0, "effort"),
        _factor("rest_regularity_z", 1.0),
        _factor("absences", 0),
    ]
    found = match(factors, rules, "at-risk", week=1)
    assert [r.name for r, _ in found] == ["irregular-life", "rank", "compare"]
    assert [f.indicator for f in found[0][1]] == ["rest_regularity_z"]
    # the catch-all never targets a factor that does not fall short
    assert [f.indicator for f in found[2][1]] == ["attendance_rate", "rest_regularity_z"]
    # a course-start rule is over after start_weeks
    assert [r.name for r, _ in match(factors, rules, "at-risk", week=6)] == ["irregular-life", "compare"]
    assert [r.name for r, _ in match(factors, rules, "at-risk", week=None)] == ["irregular-life", "compare"]
    # classes
    assert match(factors, rules, "normal", week=1) == []
    # min_severity
    weak = [_factor("rest_regularity_z", 0.4)]
    assert [r.name for r, _ in match(weak, rules, "at-risk", week=6)] == ["compare"]
    # timing
    assert rules.timing_for(rules.rules[0], 2) == "course_start"
    assert rules.timing_for(rules.rules[0], 3) == "during"
    assert rules.timing_for(rules.rules[2], 3) is None


def test_match_keeps_at_most_max_factors_most_severe_first() -> None:
    rules = load_rules()
    factors = [
        _factor(n, s) for n, s in [("meal_entropy_lunch", 1.0), ("late_returns", 3.0), ("absences", 2.0)]
    ]
    factors += [_factor("early_sessions", 1.5), _factor("rest_regularity_z", 0.9)]
    life = next(
        m for m in match(factors, rules, "at-risk", 6) if m[0].strategy == "life_irregularity_reminder"
    )
    assert [f.indicator for f in life[1]] == ["late_returns", "absences", "early_sessions"]


# -- escalation -----------------------------------------------------------------------------------


def _plan(**changes: object) -> PlannedIntervention:
    plan = PlannedIntervention(
        id=plan_id("account:x|S1", "https://x.edu/course/C1", "life_irregularity_reminder", "week:2"),
        actor_key="account:x|S1",
        course="https://x.edu/course/C1",
        strategy="life_irregularity_reminder",
        rule="irregular-life",
        timing="course_start",
        method=Method(),
        message="S1: late",
        factors=("rest_regularity_z", "attendance_rate"),
        as_of="week:2",
        evidence=("rest_regularity_z is high", "attendance_rate is low"),
    )
    return dataclasses.replace(plan, **changes)  # type: ignore[arg-type]


def test_escalation_follows_the_ladder_and_records_why() -> None:
    rules = rules_from_data(tomllib.loads(BASE))
    chain = [_plan()]
    while (
        nxt := escalate(
            chain[-1],
            rules,
            f"no change after attempt {chain[-1].attempt}",
            tried={p.strategy for p in chain},
        )
    ) is not None:
        chain.append(nxt)
    assert [p.attempt for p in chain] == [1, 2, 3, 4, 5, 6]
    assert chain[1].method == Method("individual", "online", "deep")
    assert chain[2].method == Method("individual", "offline", "deep")
    assert chain[3].method == Method("group", "offline", "deep")
    assert chain[4].timing == "during" and chain[3].timing == "course_start"
    # strategy: the best other rule targeting the plan's factors whose message the plan can fill
    # ('rank' needs {rank}; without context only 'compare' qualifies)
    assert chain[5].strategy == "learning_progress_comparison" and chain[5].rule == "compare"
    assert chain[5].message == "S1 in C1: rest_regularity_z is high; attendance_rate is low"
    assert chain[5].method == chain[4].method and chain[5].timing == chain[4].timing
    # the last rung repeats, but every strategy the plan's factors allow has been tried: the end,
    # before max_attempts (7)
    for before, after in itertools.pairwise(chain):
        assert after.previous == before.id and after.reason == f"no change after attempt {before.attempt}"
        assert after.id != before.id
    assert chain[1].message == chain[0].message  # method changes keep what is said
    assert len({p.id for p in chain}) == len(chain)


def test_escalation_stops_at_max_attempts() -> None:
    data = tomllib.loads(BASE)
    data["escalation"]["max_attempts"] = 3
    rules = rules_from_data(data)
    second = escalate(_plan(), rules, "no improvement")
    assert second is not None and second.attempt == 2
    third = escalate(second, rules, "no improvement")
    assert third is not None and third.attempt == 3
    assert escalate(third, rules, "no improvement") is None


def test_escalation_ids_are_deterministic() -> None:
    rules = load_rules()
    a = escalate(_plan(), rules, "no improvement")
    b = escalate(_plan(), rules, "no improvement")
    assert a is not None and b is not None and a.id == b.id
    c = escalate(_plan(), rules, "no improvement", as_of="week:5")
    assert c is not None and c.id != a.id and c.as_of == "week:5"


def test_escalation_passes_over_rungs_that_cannot_change() -> None:
    rules = rules_from_data(tomllib.loads(BASE))
    deep = _plan(method=Method("individual", "online", "deep"))
    nxt = escalate(deep, rules, "no improvement")
    assert nxt is not None and nxt.method == Method("individual", "offline", "deep")


def test_strategy_change_uses_context_and_tried() -> None:
    data = tomllib.loads(BASE)
    data["escalation"] = {"ladder": ["strategy"], "max_attempts": 5}
    rules = rules_from_data(data)
    plan = _plan(factors=("attendance_rate",), evidence=("attendance_rate is low",))
    ranked = escalate(plan, rules, "no improvement", context={"rank": "41st", "cohort_size": "60"})
    assert ranked is not None and ranked.rule == "rank"
    assert ranked.message == "S1, you rank 41st of 60 on attendance_rate"
    fallback = escalate(plan, rules, "no improvement")
    assert fallback is not None and fallback.rule == "compare"
    assert escalate(plan, rules, "x", tried=["learning_progress_comparison"]) is None


def test_escalation_needs_a_reason() -> None:
    with pytest.raises(LearnsightError, match="reason"):
        escalate(_plan(), load_rules(), "  ")


def test_rules_model_rejects_duplicates_when_built_in_python() -> None:
    data = tomllib.loads(BASE)
    rule = dict(data["rule"][0])
    with pytest.raises(ValueError, match="duplicate rule name"):
        StrategyRules.model_validate({**data, "rule": [rule, rule]})
