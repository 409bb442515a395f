"""Dempster–Shafer evidence over a finite frame of discernment (SPEC §5: identity fusion).

A *mass function* (basic probability assignment) gives each subset ``A`` of the frame ``Θ`` a mass
``m(A) ≥ 0`` with ``m(∅) = 0`` and ``Σ m(A) = 1``; here it is a ``dict[frozenset[str], float]`` of its
focal elements (the subsets with positive mass).  Mass on ``Θ`` itself is ignorance: the *vacuous*
mass ``{Θ: 1}`` says nothing and is the neutral element of :func:`combine`.

Dempster's rule of combination (Shafer, *A Mathematical Theory of Evidence*, 1976, ch. 3) fuses two
independent bodies of evidence::

    K        = Σ_{B ∩ C = ∅} m1(B) · m2(C)                  (the conflict)
    m12(A)   = Σ_{B ∩ C = A} m1(B) · m2(C) / (1 − K)        for A ≠ ∅

The rule is commutative and associative, so a whole track of frames × features is fused in any
order (:func:`combine_all`).  ``K`` is always reported: a high conflict means the sources disagree
and the normalisation hides it (Zadeh's well-known example, see ``tests/vision/test_evidence.py``).
``K = 1`` (no common ground at all) makes the rule undefined and raises :class:`TotalConflictError`.

Decisions use the pignistic transform ``BetP`` (Smets & Kennes, "The transferable belief model",
*Artificial Intelligence* 66, 1994), which shares each focal element's mass equally among its
members.  Sources are weakened by Shafer's *discounting* (:func:`discount`) by their reliability.

>>> theta = frozenset({"ann", "bob", "unknown"})
>>> eyes = {frozenset({"ann"}): 0.6, theta: 0.4}
>>> face = {frozenset({"bob"}): 0.7, theta: 0.3}
>>> fused, conflict = combine(eyes, face)
>>> round(conflict, 2)
0.42
>>> [round(fused[a], 4) for a in (frozenset({"ann"}), frozenset({"bob"}), theta)]
[0.3103, 0.4828, 0.2069]
>>> {h: round(p, 4) for h, p in pignistic(fused).items()}
{'ann': 0.3793, 'bob': 0.5517, 'unknown': 0.069}
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from learnsight.errors import LearnsightError

Mass = dict[frozenset[str], float]
"""A mass function: focal element → mass; the masses sum to 1 and the empty set has none."""

TOLERANCE = 1e-9
"""How far from 1 the total mass of a valid mass function may be (rounding)."""


class EvidenceError(LearnsightError):
    """A mass function is invalid (negative mass, mass on ∅, masses not summing to 1)."""


class TotalConflictError(EvidenceError):
    """Two bodies of evidence are in total conflict (K = 1): Dempster's rule is undefined."""


def validate(m: Mapping[frozenset[str], float], *, name: str = "mass") -> None:
    """Raise :class:`EvidenceError` unless ``m`` is a mass function.

    >>> validate({frozenset({"a"}): 0.5, frozenset({"a", "b"}): 0.5})
    >>> validate({frozenset(): 1.0})
    Traceback (most recent call last):
    ...
    learnsight.vision.evidence.EvidenceError: mass: the empty set has mass 1 (must be 0)
    """
    if not m:
        raise EvidenceError(f"{name}: no focal element (an empty mass function)")
    total = 0.0
    for focal, value in m.items():
        if not isinstance(focal, frozenset):
            raise EvidenceError(f"{name}: focal element {focal!r} is not a frozenset")
        if not math.isfinite(value) or value < -TOLERANCE:
            raise EvidenceError(f"{name}: mass of {sorted(focal)} is {value} (must be >= 0)")
        if not focal and value > TOLERANCE:
            raise EvidenceError(f"{name}: the empty set has mass {value:g} (must be 0)")
        total += value
    if abs(total - 1.0) > 1e-6:
        raise EvidenceError(f"{name}: masses sum to {total:.9g} (must be 1)")


def frame_of(m: Mapping[frozenset[str], float]) -> frozenset[str]:
    """The union of the focal elements of ``m`` (the smallest frame it is defined on).

    >>> sorted(frame_of({frozenset({"a"}): 0.5, frozenset({"b", "c"}): 0.5}))
    ['a', 'b', 'c']
    """
    return frozenset().union(*m.keys())


def vacuous(frame: Iterable[str]) -> Mass:
    """Total ignorance on ``frame``: all the mass on Θ (the neutral element of :func:`combine`).

    >>> vacuous(["a", "b"]) == {frozenset({"a", "b"}): 1.0}
    True
    """
    theta = frozenset(frame)
    if not theta:
        raise EvidenceError("vacuous mass: the frame of discernment is empty")
    return {theta: 1.0}


def combine(m1: Mapping[frozenset[str], float], m2: Mapping[frozenset[str], float]) -> tuple[Mass, float]:
    """Dempster's rule: the orthogonal sum ``m1 ⊕ m2`` and the conflict ``K``.

    Raises :class:`TotalConflictError` when ``K = 1`` (the focal elements never intersect).

    >>> m, k = combine({frozenset({"a"}): 0.5, frozenset({"a", "b"}): 0.5},
    ...                {frozenset({"b"}): 0.5, frozenset({"a", "b"}): 0.5})
    >>> k, m[frozenset({"a"})], m[frozenset({"b"})], m[frozenset({"a", "b"})]
    (0.25, 0.3333333333333333, 0.3333333333333333, 0.3333333333333333)
    """
    validate(m1, name="m1")
    validate(m2, name="m2")
    joint: Mass = {}
    conflict = 0.0
    for b, vb in m1.items():
        if vb <= 0.0:
            continue
        for c, vc in m2.items():
            if vc <= 0.0:
                continue
            a = b & c
            if a:
                joint[a] = joint.get(a, 0.0) + vb * vc
            else:
                conflict += vb * vc
    agreement = sum(joint.values())
    if agreement <= 1e-12:
        raise TotalConflictError(
            f"total conflict (K = {conflict:.6g}): the two bodies of evidence share no hypothesis"
        )
    fused = {a: v / agreement for a, v in joint.items()}
    # K relative to the total joint mass (exactly 0 without conflicting pairs, despite rounding)
    return fused, conflict / (conflict + agreement)


def combine_all(masses: Iterable[Mapping[frozenset[str], float]]) -> tuple[Mass, float]:
    """Fuse any number of mass functions with Dempster's rule, in order.

    Returns the fused mass and the total conflict ``K_total = 1 − Π (1 − K_i)``: the share of the
    unnormalised joint mass that fell on ∅ (independent of the order of combination).

    >>> m, k = combine_all([{frozenset({"a"}): 0.5, frozenset({"a", "b"}): 0.5}] * 2)
    >>> m[frozenset({"a"})], k
    (0.75, 0.0)
    """
    items = list(masses)
    if not items:
        raise EvidenceError("combine_all: no mass function given")
    validate(items[0], name="masses[0]")
    fused: Mass = dict(items[0])
    agreement = 1.0
    for i, m in enumerate(items[1:], start=1):
        try:
            fused, k = combine(fused, m)
        except TotalConflictError as exc:
            raise TotalConflictError(f"masses[{i}]: {exc}") from exc
        agreement *= 1.0 - k
    return fused, 1.0 - agreement


def belief(m: Mapping[frozenset[str], float], hypothesis: Iterable[str]) -> float:
    """``Bel(A) = Σ_{B ⊆ A} m(B)``: the mass that certainly supports ``A``.

    >>> belief({frozenset({"a"}): 0.3, frozenset({"a", "b"}): 0.7}, {"a"})
    0.3
    """
    a = frozenset(hypothesis)
    return sum(v for b, v in m.items() if b and b <= a)


def plausibility(m: Mapping[frozenset[str], float], hypothesis: Iterable[str]) -> float:
    """``Pl(A) = Σ_{B ∩ A ≠ ∅} m(B)``: the mass that does not contradict ``A`` (``Pl ≥ Bel``).

    >>> plausibility({frozenset({"a"}): 0.3, frozenset({"a", "b"}): 0.7}, {"b"})
    0.7
    """
    a = frozenset(hypothesis)
    return sum(v for b, v in m.items() if b & a)


def pignistic(m: Mapping[frozenset[str], float]) -> dict[str, float]:
    """The pignistic probability ``BetP(x) = Σ_{A ∋ x} m(A) / |A|`` (Smets & Kennes 1994).

    >>> pignistic({frozenset({"a"}): 0.4, frozenset({"a", "b"}): 0.6})
    {'a': 0.7, 'b': 0.3}
    """
    validate(m)
    bet: dict[str, float] = {}
    for focal, value in m.items():
        share = value / len(focal) if focal else 0.0
        for x in focal:
            bet[x] = bet.get(x, 0.0) + share
    return dict(sorted(bet.items()))


def discount(m: Mapping[frozenset[str], float], reliability: float, frame: Iterable[str]) -> Mass:
    """Shafer's discounting: keep ``reliability · m(A)`` and move the rest onto Θ.

    A source that is right only part of the time should not be able to veto the others: with
    ``reliability < 1`` its mass on Θ stays positive, so combining it never gives ``K = 1``.

    >>> discount({frozenset({"a"}): 1.0}, 0.8, {"a", "b"}) == {frozenset({"a"}): 0.8,
    ...                                                       frozenset({"a", "b"}): 0.19999999999999996}
    True
    """
    if not 0.0 <= reliability <= 1.0:
        raise EvidenceError(f"discount: reliability {reliability} is outside [0, 1]")
    validate(m)
    theta = frozenset(frame)
    if not frame_of(m) <= theta:
        raise EvidenceError(f"discount: focal elements outside the frame {sorted(theta)}")
    out: Mass = {}
    for focal, value in m.items():
        if value > 0.0:
            out[focal] = out.get(focal, 0.0) + reliability * value
    out[theta] = out.get(theta, 0.0) + (1.0 - reliability)
    return {a: v for a, v in out.items() if v > 0.0}


def bayesian(probabilities: Mapping[str, float]) -> Mass:
    """A Bayesian mass function (all focal elements singletons) from a probability distribution.

    >>> bayesian({"a": 0.25, "b": 0.75}) == {frozenset({"a"}): 0.25, frozenset({"b"}): 0.75}
    True
    """
    total = sum(probabilities.values())
    if total <= 0.0 or any(p < 0.0 or not math.isfinite(p) for p in probabilities.values()):
        raise EvidenceError(f"bayesian: not a probability distribution: {dict(probabilities)}")
    return {frozenset({h}): p / total for h, p in probabilities.items() if p > 0.0}
