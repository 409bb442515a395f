"""Real entropy (SPEC §2.2): hand-computed Λ_i, the end convention, brute-force agreement, limits."""

from __future__ import annotations

import itertools
import math
import random
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from learnsight.indicators.formulas import IndicatorInputError
from learnsight.indicators.formulas.real_entropy import (
    MISSED_MEAL,
    match_lengths,
    match_lengths_bruteforce,
    meal_slot,
    meal_symbol_sequence,
    real_entropy,
    real_entropy_bruteforce,
)

# Hand-computed Λ_i (0-based i; prefix = s[:i]; Λ_i = remaining + 1 when even s[i:] was seen).
HAND_CASES = [
    # "ABCD": every symbol is new, Λ = 1 everywhere; E = 4 ln 4 / 4 = ln 4.
    ("ABCD", [1, 1, 1, 1]),
    # "ABAB": i=0 1 (empty prefix); i=1 "B" not in "A" -> 1;
    # i=2 "A","AB" both in "AB" and nothing is left -> 2 + 1 = 3; i=3 "B" in "ABA", end -> 1 + 1 = 2.
    ("ABAB", [1, 1, 3, 2]),
    # "AAAA": i=1 "A" in "A", "AA" not in "A" -> 2; i=2 "AA" in "AA", end -> 3; i=3 "A", end -> 2.
    ("AAAA", [1, 2, 3, 2]),
    # "AAAAA": as above, i=3 "AA" in "AAA", end -> 3; i=4 -> 2.  An occurrence may not overlap
    # position i: at i=1 "AA" is new in "A" although s[0:2] == s[1:3].
    ("AAAAA", [1, 2, 3, 3, 2]),
    # "ABCABC": i=3 "ABC" in "ABC", end -> 4; i=4 "BC" in "ABCA", end -> 3; i=5 "C", end -> 2.
    ("ABCABC", [1, 1, 1, 4, 3, 2]),
    # "ABBA": i=2 "B" in "AB", "BA" not in "AB" -> 2; i=3 "A" in "ABB", end -> 2.
    ("ABBA", [1, 1, 2, 2]),
]


@pytest.mark.parametrize(("sequence", "lambdas"), HAND_CASES)
def test_hand_computed_match_lengths(sequence: str, lambdas: list[int]) -> None:
    assert match_lengths(sequence) == lambdas
    assert match_lengths_bruteforce(sequence) == lambdas


def test_hand_computed_entropies() -> None:
    assert real_entropy("ABCD") == pytest.approx(math.log(4))
    assert real_entropy("ABAB") == pytest.approx(4 * math.log(4) / 7)
    assert real_entropy("AAAA") == pytest.approx(math.log(4) / 2)
    assert real_entropy("ABCABC") == pytest.approx(6 * math.log(6) / 12)


def test_degenerate_lengths() -> None:
    assert real_entropy([]) is None  # missing, not perfectly regular
    assert real_entropy_bruteforce([]) is None
    assert real_entropy([7]) == 0.0  # ln 1 = 0
    assert match_lengths([]) == []


def test_any_hashable_symbols() -> None:
    assert match_lengths([("a", 1), None, ("a", 1), None]) == [1, 1, 3, 2]


def test_periodic_sequence_has_low_entropy() -> None:
    # Once a period is seen the match runs as far as it can: to the end of the sequence, but no
    # longer than the prefix it must fit in, so Λ_i ≈ min(i, n - i) + 1, Σ Λ ≈ n²/4 and
    # E ≈ 4 ln n / n ≈ 0.076 for n = 300 (an i.i.d. shuffle of the same symbols is near ln 3).
    periodic = [14, 24, 36] * 100
    shuffled = periodic[:]
    random.Random(0).shuffle(shuffled)
    entropy = real_entropy(periodic)
    assert entropy is not None and entropy < 0.1
    shuffled_entropy = real_entropy(shuffled)
    assert shuffled_entropy is not None and shuffled_entropy > 10 * entropy


def _uniform(n: int, k: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    return [rng.randrange(k) for _ in range(n)]


def test_iid_uniform_sequence_approaches_ln_k() -> None:
    # Measured (20 seeds, k = 4): mean E = 1.330 at n = 200, 1.344 at n = 2000, 1.350 at
    # n = 20000, 1.360 at n = 10^6 (ln 4 = 1.386).  The LZ estimator is consistent but biased
    # downward at finite n for k = 4, the bias shrinking roughly like 1/ln n (0.043 at n = 2000),
    # and the spread between seeds at n = 2000 is about 0.005.  A tolerance of 0.08 (5.8 % of
    # ln 4) is the measured bias plus more than six standard deviations.
    for seed in range(5):
        entropy = real_entropy(_uniform(2000, 4, seed))
        assert entropy is not None
        assert abs(entropy - math.log(4)) < 0.08


def test_bias_shrinks_as_n_grows() -> None:
    def mean_bias(n: int) -> float:
        estimates = [real_entropy(_uniform(n, 4, 100 + seed)) for seed in range(8)]
        return abs(math.log(4) - sum(e for e in estimates if e is not None) / len(estimates))

    assert mean_bias(20_000) < mean_bias(200)


@given(st.lists(st.integers(min_value=0, max_value=3), max_size=40))
def test_fast_agrees_with_bruteforce(sequence: list[int]) -> None:
    assert match_lengths(sequence) == match_lengths_bruteforce(sequence)
    assert real_entropy(sequence) == real_entropy_bruteforce(sequence)


@given(st.lists(st.integers(min_value=0, max_value=1), max_size=60))
def test_fast_agrees_with_bruteforce_binary(sequence: list[int]) -> None:
    # A binary alphabet produces many repeats, so automaton states get split (cloned) often.
    assert match_lengths(sequence) == match_lengths_bruteforce(sequence)


@given(st.lists(st.integers(min_value=-1, max_value=5), min_size=1, max_size=80))
def test_entropy_properties(sequence: list[int]) -> None:
    lambdas = match_lengths(sequence)
    n = len(sequence)
    assert all(1 <= lam <= n - i + 1 for i, lam in enumerate(lambdas))
    # the match only slides: Λ_{i+1} >= Λ_i - 1
    assert all(b >= a - 1 for a, b in itertools.pairwise(lambdas))
    entropy = real_entropy(sequence)
    assert entropy is not None and entropy >= 0
    # relabelling the symbols bijectively does not change anything
    assert real_entropy([f"s{x}" for x in sequence]) == entropy


def test_meal_slot() -> None:
    assert meal_slot(time(0, 0)) == 0
    assert meal_slot(time(0, 29, 59)) == 0
    assert meal_slot(time(0, 30)) == 1
    assert meal_slot(datetime(2024, 3, 1, 23, 59)) == 47
    assert meal_slot(time(12, 10), slot_minutes=15) == 48
    assert meal_slot(time(23, 0), slot_minutes=1440) == 0
    for bad in (0, -30, 1441, 30.0, True):
        with pytest.raises(IndicatorInputError, match="slot_minutes"):
            meal_slot(time(12, 0), slot_minutes=bad)  # type: ignore[arg-type]


def test_meal_symbol_sequence_fills_missing_days() -> None:
    monday = date(2024, 3, 4)
    swipes: dict[date, datetime | time | None] = {
        monday: time(7, 5),
        monday + timedelta(3): datetime(2024, 3, 7, 7, 40),
    }
    assert meal_symbol_sequence(swipes) == [14, MISSED_MEAL, MISSED_MEAL, 15]
    assert meal_symbol_sequence(swipes, slot_minutes=60) == [7, MISSED_MEAL, MISSED_MEAL, 7]
    # explicit days: only listed days are observed, in the given order
    assert meal_symbol_sequence(swipes, days=[monday + timedelta(3), monday]) == [15, 14]
    assert meal_symbol_sequence({}) == []
    assert meal_symbol_sequence({monday: None}) == [MISSED_MEAL]


def test_regular_eater_has_lower_entropy_than_irregular() -> None:
    start = date(2024, 3, 1)
    rng = random.Random(1)
    regular = {start + timedelta(d): time(7, 15) for d in range(60)}
    irregular = {
        start + timedelta(d): (time(rng.randrange(6, 10), rng.randrange(60)) if rng.random() < 0.8 else None)
        for d in range(60)
    }
    e_regular = real_entropy(meal_symbol_sequence(regular))
    e_irregular = real_entropy(meal_symbol_sequence(irregular))
    assert e_regular is not None and e_irregular is not None
    assert e_regular < e_irregular
