"""Real entropy — the Lempel–Ziv estimator of a symbol sequence's entropy rate (SPEC §2.2).

.. math::

    E = \\Big( \\frac{1}{n} \\sum_{i=1}^{n} \\Lambda_i \\Big)^{-1} \\ln n

where ``n`` is the sequence length and ``Λ_i`` is the length of the shortest substring starting at
position ``i`` that does not appear as a contiguous substring of the first ``i − 1`` symbols
(Kontoyiannis, Algoet, Suhov & Wyner 1998; Song, Qu, Blumm & Barabási 2010; used for meal
regularity by Cao et al. 2018, *Orderliness predicts academic performance*, J. R. Soc. Interface).
Units: nats per symbol.  A regular (periodic) life gives long ``Λ_i`` and a small ``E``; for an
i.i.d. uniform sequence over ``k`` symbols ``E → ln k`` as ``n`` grows.

Precise reading (0-based ``i`` below, so "the first ``i − 1`` symbols" is ``s[:i]``):

* The earlier occurrence must lie **entirely** inside ``s[:i]``: it may not overlap position ``i``.
* **End of the sequence.**  When every substring starting at ``i`` (up to ``s[i:]`` itself) already
  occurs in ``s[:i]``, no such substring exists; then ``Λ_i = (n − i) + 1``, the remaining length
  plus one, the usual convention (Kontoyiannis et al. 1998; Song et al. 2010; Cao et al. 2018): the
  sequence is treated as if one unseen symbol followed it.  Equivalently, in every case
  ``Λ_i = 1 +`` (the longest prefix of ``s[i:]`` occurring in ``s[:i]``).
* ``Λ_1 = 1`` (nothing precedes the first symbol).  ``n = 1`` gives ``E = ln 1 = 0``; ``n = 0``
  gives ``None``: no observations is missing, not perfectly regular.

Two implementations of ``Λ``: :func:`match_lengths`, an online suffix automaton of the growing
prefix with a sliding match (amortised ``O(n)`` automaton steps, dictionary transitions, so any
alphabet), and :func:`match_lengths_bruteforce`, the definition taken literally (``O(n³)``), kept
as the reference the fast one is tested against.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from datetime import date, datetime, time, timedelta

from learnsight.indicators.formulas._checks import IndicatorInputError

#: The symbol of a day on which the meal was missed (no card swipe at a canteen).
MISSED_MEAL = -1


def match_lengths(symbols: Sequence[Hashable]) -> list[int]:
    """``Λ_i`` for every position of ``symbols`` (fast; see the module docstring for the definition).

    Keeps a suffix automaton of ``s[:i]`` and the automaton state of the current match
    ``s[i:i+L]``.  Because ``s[i+1:i+L]`` occurs in ``s[:i] ⊂ s[:i+1]``, the match at ``i + 1`` is
    at least ``L − 1`` long, so the match only slides right: its end advances at most ``n`` times
    in total.  When extending the automaton splits the state holding the current match, the match
    follows into the clone if it is short enough to belong there.

    >>> match_lengths("ABAB")
    [1, 1, 3, 2]
    """
    seq = list(symbols)
    n = len(seq)
    transitions: list[dict[Hashable, int]] = [{}]
    link = [-1]
    length = [0]
    last = 0
    state, matched = 0, 0
    lambdas: list[int] = []
    for i in range(n):
        while i + matched < n:
            target = transitions[state].get(seq[i + matched])
            if target is None:
                break
            state, matched = target, matched + 1
        lambdas.append(matched + 1)

        # Slide the window start to i + 1: drop the match's first symbol.
        if matched > 0:
            matched -= 1
            if matched == length[link[state]]:
                state = link[state]

        # Extend the automaton with seq[i] (standard online construction).
        symbol = seq[i]
        cur = len(length)
        length.append(length[last] + 1)
        link.append(0)
        transitions.append({})
        p = last
        while p != -1 and symbol not in transitions[p]:
            transitions[p][symbol] = cur
            p = link[p]
        if p != -1:
            q = transitions[p][symbol]
            if length[p] + 1 == length[q]:
                link[cur] = q
            else:
                clone = len(length)
                length.append(length[p] + 1)
                link.append(link[q])
                transitions.append(dict(transitions[q]))
                while p != -1 and transitions[p].get(symbol) == q:
                    transitions[p][symbol] = clone
                    p = link[p]
                link[q] = clone
                link[cur] = clone
                if state == q and matched <= length[clone]:
                    state = clone
        last = cur
    return lambdas


def _occurs_in(needle: Sequence[Hashable], haystack: Sequence[Hashable]) -> bool:
    k = len(needle)
    return any(list(haystack[j : j + k]) == list(needle) for j in range(len(haystack) - k + 1))


def match_lengths_bruteforce(symbols: Sequence[Hashable]) -> list[int]:
    """``Λ_i`` by the definition, literally: try ``k = 1, 2, …`` until ``s[i:i+k]`` is new in ``s[:i]``.

    Reference implementation for tests (``O(n³)``); use :func:`match_lengths`.

    >>> match_lengths_bruteforce("ABAB")
    [1, 1, 3, 2]
    """
    seq = list(symbols)
    n = len(seq)
    lambdas: list[int] = []
    for i in range(n):
        k = 1
        while i + k <= n and _occurs_in(seq[i : i + k], seq[:i]):
            k += 1
        lambdas.append(k)  # k == n - i + 1 when even s[i:] occurs: the end convention
    return lambdas


def _entropy_from(lambdas: list[int]) -> float | None:
    n = len(lambdas)
    if n == 0:
        return None
    return n * math.log(n) / sum(lambdas)


def real_entropy(symbols: Sequence[Hashable]) -> float | None:
    """Lempel–Ziv real entropy ``E = ((1/n) Σ Λ_i)^(-1) · ln n`` in nats per symbol (SPEC §2.2).

    Parameters
    ----------
    symbols
        The sequence, e.g. one meal's day-by-day slot symbols from :func:`meal_symbol_sequence`.
        Any hashable symbols; only equality matters.

    Returns
    -------
    float | None
        ``E >= 0`` (smaller is more regular); ``0.0`` for a single symbol; ``None`` for an empty
        sequence (missing, not zero).

    Examples
    --------
    ``ABAB``: ``Λ = 1, 1, 3, 2`` (at position 3, ``AB`` is all that is left and it has been seen, so
    ``Λ_3 = 2 + 1``), ``E = 4 · ln 4 / 7``.

    >>> round(real_entropy("ABAB"), 4)
    0.7922
    >>> real_entropy([]) is None
    True
    """
    return _entropy_from(match_lengths(symbols))


def real_entropy_bruteforce(symbols: Sequence[Hashable]) -> float | None:
    """:func:`real_entropy` computed with :func:`match_lengths_bruteforce` (reference for tests).

    >>> real_entropy_bruteforce("ABAB") == real_entropy("ABAB")
    True
    """
    return _entropy_from(match_lengths_bruteforce(symbols))


def meal_slot(moment: datetime | time, *, slot_minutes: int = 30) -> int:
    """The slot symbol of a first card swipe: minutes since midnight ``// slot_minutes``.

    With the default 30-minute slots 00:00–00:29 is slot 0 and 12:10 is slot 24.  The wall-clock
    time of ``moment`` is used as given (convert to campus local time first).

    >>> meal_slot(time(12, 10))
    24
    >>> meal_slot(time(7, 59), slot_minutes=60)
    7
    """
    if isinstance(slot_minutes, bool) or not isinstance(slot_minutes, int) or not 0 < slot_minutes <= 1440:
        raise IndicatorInputError(f"slot_minutes: expected an integer in 1..1440, got {slot_minutes!r}")
    clock = moment.time() if isinstance(moment, datetime) else moment
    return (clock.hour * 60 + clock.minute) // slot_minutes


def meal_symbol_sequence(
    first_swipes: Mapping[date, datetime | time | None],
    *,
    days: Sequence[date] | None = None,
    slot_minutes: int = 30,
) -> list[int]:
    """Day-by-day symbols of one meal (breakfast, lunch or dinner) for :func:`real_entropy` (SPEC §2.2).

    Parameters
    ----------
    first_swipes
        For each day, the time of the student's **first** canteen card swipe within this meal's
        window, or ``None`` when the meal was missed.  Days absent from the mapping are missed too.
    days
        The observation days, in order.  Default: every calendar day from the earliest to the latest
        key of ``first_swipes``.  Pass the term's teaching days to leave holidays out (a day not
        listed is not observed, unlike a listed day without a swipe, which is a missed meal).
    slot_minutes
        Slot length in minutes (default 30, SPEC §2.2).

    Returns
    -------
    list[int]
        One symbol per day: the slot index from :func:`meal_slot`, or :data:`MISSED_MEAL` (``-1``).
        Empty when there are no days.

    Examples
    --------
    >>> d = date(2024, 3, 4)
    >>> swipes = {d: time(7, 10), d + timedelta(2): time(7, 45), d + timedelta(3): None}
    >>> meal_symbol_sequence(swipes)
    [14, -1, 15, -1]
    """
    if days is None:
        if not first_swipes:
            return []
        first, final = min(first_swipes), max(first_swipes)
        days = [first + timedelta(offset) for offset in range((final - first).days + 1)]
    symbols: list[int] = []
    for day in days:
        swipe = first_swipes.get(day)
        symbols.append(MISSED_MEAL if swipe is None else meal_slot(swipe, slot_minutes=slot_minutes))
    return symbols
