"""Held-out interactions (learnsight.interventions.recommend.split)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from learnsight.interventions.recommend import Interactions, from_triples, holdout_split

Planted = Callable[..., Interactions]


def test_time_split_holds_out_the_latest_items_and_none_is_in_training(make_planted: Planted) -> None:
    x = make_planted(n_users=50)
    s = holdout_split(x, fraction=0.2, min_items=5)
    train = s.train.toarray()
    test = s.test.toarray()
    full = x.counts.toarray() > 0
    assert not np.any((train > 0) & (test > 0))  # no held-out item in training
    assert np.array_equal((train > 0) | (test > 0), full)  # nothing lost
    first = x.first_use_matrix().toarray()
    for u in s.users:
        held = np.flatnonzero(test[u])
        kept = np.flatnonzero(train[u])
        assert held.size == int(np.ceil(0.2 * full[u].sum()))
        assert first[u, held].min() >= first[u, kept].max()  # the latest by first use


def test_small_users_are_not_evaluated_and_keep_everything() -> None:
    x = from_triples("books", ["a"] * 4 + ["b"] * 5, list("pqrs") + list("pqrst"), [1] * 9, range(9))
    s = holdout_split(x, min_items=5)
    assert s.users.tolist() == [1]
    assert s.test[0].nnz == 0 and s.train[0].nnz == 4
    assert s.test[1].nnz == 1 and s.train[1].nnz == 4


def test_ties_in_time_are_broken_by_the_seed_and_random_split_differs(make_planted: Planted) -> None:
    x = from_triples("resources", ["a"] * 10, [f"i{j}" for j in range(10)], [1] * 10, [0.0] * 10)
    a = holdout_split(x, random_state=1).test.toarray()
    assert np.array_equal(a, holdout_split(x, random_state=1).test.toarray())
    assert any(not np.array_equal(a, holdout_split(x, random_state=s).test.toarray()) for s in range(2, 8))
    y = make_planted(n_users=30)
    r = holdout_split(y, strategy="random", random_state=0)
    t = holdout_split(y, strategy="time", random_state=0)
    assert r.test.nnz == t.test.nnz and (r.test != t.test).nnz > 0


def test_bad_parameters(make_planted: Planted) -> None:
    x = make_planted(n_users=5)
    with pytest.raises(ValueError, match="fraction"):
        holdout_split(x, fraction=1.0)
    with pytest.raises(ValueError, match="min_items"):
        holdout_split(x, min_items=1)
