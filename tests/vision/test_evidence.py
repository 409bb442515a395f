"""Dempster's rule of combination: textbook examples, the doctests and its algebraic properties."""

from __future__ import annotations

import doctest
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from learnsight.vision import evidence
from learnsight.vision.evidence import (
    EvidenceError,
    TotalConflictError,
    bayesian,
    belief,
    combine,
    combine_all,
    discount,
    pignistic,
    plausibility,
    vacuous,
)

FRAME = ("a", "b", "c")
SUBSETS = [frozenset(s) for r in range(1, 4) for s in itertools.combinations(FRAME, r)]
THETA = frozenset(FRAME)


def fs(*items: str) -> frozenset[str]:
    return frozenset(items)


def close(m1: dict[frozenset[str], float], m2: dict[frozenset[str], float], tol: float = 1e-9) -> bool:
    keys = set(m1) | set(m2)
    return all(abs(m1.get(k, 0.0) - m2.get(k, 0.0)) <= tol for k in keys)


def test_doctests_pass() -> None:
    result = doctest.testmod(evidence, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 10
    assert result.failed == 0


def test_zadeh_example_gives_the_known_counter_intuitive_result() -> None:
    # Zadeh (1984): two doctors, meningitis (M), concussion (C), tumour (T).
    doctor1 = {fs("M"): 0.99, fs("C"): 0.01}
    doctor2 = {fs("T"): 0.99, fs("C"): 0.01}
    fused, conflict = combine(doctor1, doctor2)
    assert conflict == pytest.approx(0.9999)
    # Both doctors found concussion very unlikely; normalisation makes it certain.
    assert fused == {fs("C"): pytest.approx(1.0)}
    assert belief(fused, {"C"}) == pytest.approx(1.0)


def test_worked_example_with_conflict() -> None:
    # m1: 0.6 on {a}, 0.4 on Θ; m2: 0.7 on {b}, 0.3 on Θ (Θ = {a, b}).
    theta = fs("a", "b")
    fused, conflict = combine({fs("a"): 0.6, theta: 0.4}, {fs("b"): 0.7, theta: 0.3})
    assert conflict == pytest.approx(0.42)  # 0.6 × 0.7 fell on ∅
    assert fused[fs("a")] == pytest.approx(0.18 / 0.58)
    assert fused[fs("b")] == pytest.approx(0.28 / 0.58)
    assert fused[theta] == pytest.approx(0.12 / 0.58)
    assert belief(fused, {"a"}) == pytest.approx(0.18 / 0.58)
    assert plausibility(fused, {"a"}) == pytest.approx(0.30 / 0.58)
    assert pignistic(fused) == {"a": pytest.approx(0.24 / 0.58), "b": pytest.approx(0.34 / 0.58)}


def test_agreeing_sources_reinforce() -> None:
    theta = fs("a", "b", "c")
    fused, conflict = combine({fs("a", "b"): 0.8, theta: 0.2}, {fs("b", "c"): 0.6, theta: 0.4})
    assert conflict == 0.0
    assert fused == {
        fs("b"): pytest.approx(0.48),
        fs("a", "b"): pytest.approx(0.32),
        fs("b", "c"): pytest.approx(0.12),
        theta: pytest.approx(0.08),
    }
    assert belief(fused, {"b"}) == pytest.approx(0.48)
    assert plausibility(fused, {"b"}) == pytest.approx(1.0)
    assert plausibility(fused, {"c"}) == pytest.approx(0.2)


def test_total_conflict_raises() -> None:
    with pytest.raises(TotalConflictError, match="total conflict"):
        combine({fs("a"): 1.0}, {fs("b"): 1.0})
    with pytest.raises(TotalConflictError, match=r"masses\[2\]"):
        combine_all([{fs("a", "b"): 1.0}, {fs("a"): 1.0}, {fs("b"): 1.0}])


@pytest.mark.parametrize(
    ("mass", "message"),
    [
        ({fs("a"): 0.5}, "sum to 0.5"),
        ({fs("a"): 1.2, fs("b"): -0.2}, "must be >= 0"),
        ({frozenset(): 0.5, fs("a"): 0.5}, "empty set"),
        ({}, "empty mass function"),
        ({"a": 1.0}, "not a frozenset"),
    ],
)
def test_invalid_mass_functions_are_refused(mass: dict[frozenset[str], float], message: str) -> None:
    with pytest.raises(EvidenceError, match=message):
        combine(mass, vacuous(FRAME))


def test_discount_moves_mass_to_theta_and_prevents_total_conflict() -> None:
    m = discount({fs("a"): 1.0}, 0.9, FRAME)
    assert m == {fs("a"): pytest.approx(0.9), THETA: pytest.approx(0.1)}
    fused, conflict = combine(m, discount({fs("b"): 1.0}, 0.9, FRAME))
    assert conflict == pytest.approx(0.81)
    assert fused[fs("a")] == pytest.approx(fused[fs("b")])
    with pytest.raises(EvidenceError, match="reliability"):
        discount(m, 1.5, FRAME)
    with pytest.raises(EvidenceError, match="outside the frame"):
        discount({fs("z"): 1.0}, 0.5, FRAME)


def test_bayesian_masses_combine_like_bayes_with_a_uniform_prior() -> None:
    p = {"a": 0.2, "b": 0.3, "c": 0.5}
    q = {"a": 0.5, "b": 0.25, "c": 0.25}
    fused, conflict = combine(bayesian(p), bayesian(q))
    norm = sum(p[h] * q[h] for h in FRAME)
    assert conflict == pytest.approx(1 - norm)
    assert pignistic(fused) == {h: pytest.approx(p[h] * q[h] / norm) for h in FRAME}


# -- properties ---------------------------------------------------------------------------------------
@st.composite
def masses(draw: st.DrawFn) -> dict[frozenset[str], float]:
    """A mass function on {a, b, c} with positive mass on Θ (so no two ever totally conflict)."""
    focal = draw(st.lists(st.sampled_from(SUBSETS), min_size=0, max_size=4, unique=True))
    weights = draw(st.lists(st.floats(0.01, 1.0), min_size=len(focal) + 1, max_size=len(focal) + 1))
    total = sum(weights)
    m: dict[frozenset[str], float] = {}
    for subset, w in zip([*focal, THETA], weights, strict=True):
        m[subset] = m.get(subset, 0.0) + w / total
    return m


@settings(max_examples=150, deadline=None)
@given(masses(), masses())
def test_commutative(m1: dict[frozenset[str], float], m2: dict[frozenset[str], float]) -> None:
    a, ka = combine(m1, m2)
    b, kb = combine(m2, m1)
    assert close(a, b)
    assert ka == pytest.approx(kb)


@settings(max_examples=150, deadline=None)
@given(masses(), masses(), masses())
def test_associative(
    m1: dict[frozenset[str], float], m2: dict[frozenset[str], float], m3: dict[frozenset[str], float]
) -> None:
    left, _ = combine(combine(m1, m2)[0], m3)
    right, _ = combine(m1, combine(m2, m3)[0])
    assert close(left, right, 1e-9)
    _, k_left = combine_all([m1, m2, m3])
    _, k_right = combine_all([m3, m1, m2])
    assert k_left == pytest.approx(k_right)


@settings(max_examples=150, deadline=None)
@given(masses())
def test_vacuous_mass_is_neutral(m: dict[frozenset[str], float]) -> None:
    fused, conflict = combine(m, vacuous(FRAME))
    assert conflict == 0.0
    assert close(fused, m)


@settings(max_examples=150, deadline=None)
@given(masses(), masses())
def test_results_are_mass_functions(m1: dict[frozenset[str], float], m2: dict[frozenset[str], float]) -> None:
    fused, conflict = combine(m1, m2)
    assert 0.0 <= conflict < 1.0
    assert sum(fused.values()) == pytest.approx(1.0)
    assert all(v >= 0 and k for k, v in fused.items())
    bet = pignistic(fused)
    assert sum(bet.values()) == pytest.approx(1.0)
    for subset in SUBSETS:
        assert belief(fused, subset) <= plausibility(fused, subset) + 1e-12
        # Bel ≤ BetP ≤ Pl on every subset
        assert (
            belief(fused, subset) - 1e-12
            <= sum(bet[h] for h in subset)
            <= plausibility(fused, subset) + 1e-12
        )
