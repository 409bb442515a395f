"""Why a score is what it is: a linear surrogate of the model's scores, read per group.

The model's score of every row (its level value) is regressed on the standardised inputs by ridge
regression (``λ = 1``), the **surrogate** ``ŝ(x) = s̄ + Σ_j β_j z_j`` with ``z_j = (x_j − x̄_j) / σ_j``.
A group's mean surrogate score then splits exactly into the overall mean and one **contribution**
per input, ``β_j · z̄_j`` (score points): how far the group's mean of that input sits from the
overall mean, times the input's weight in the model's scores.  The inputs with the largest
``|contribution|`` are the behaviours or survey items that moved the score.  ``r2`` (the
surrogate's R² over every row) says how faithful the reading is; what it leaves unexplained is the
model's non-linear part.

>>> x = np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 0.0], [3.0, 0.0]])
>>> s = surrogate(x, np.array([1.0, 2.0, 3.0, 4.0]), ("a", "b"))
>>> [c.feature for c in s.contributions(np.array([True, True, False, False]))]
['a', 'b']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from learnsight.teaching.protocol import BoolArray, FloatArray


@dataclass(frozen=True)
class Contribution:
    """One input's share of a group's score (see the module docstring)."""

    feature: str
    label: str
    group_mean: float
    overall_mean: float
    points: float

    def to_dict(self) -> dict[str, str | float]:
        return {
            "feature": self.feature,
            "label": self.label,
            "group_mean": round(self.group_mean, 4),
            "overall_mean": round(self.overall_mean, 4),
            "points": round(self.points, 4),
        }

    def line(self) -> str:
        return f"{self.label} {self.group_mean:.2f} vs {self.overall_mean:.2f} ({self.points:+.2f})"


@dataclass(frozen=True)
class Surrogate:
    """A ridge surrogate of a model's scores; see :func:`surrogate`."""

    features: tuple[str, ...]
    labels: tuple[str, ...]
    x: FloatArray
    mean: FloatArray
    scale: FloatArray
    coef: FloatArray
    intercept: float
    r2: float

    def contributions(self, members: BoolArray, top: int | None = None) -> list[Contribution]:
        """The contributions of every input to the mean score of the ``members`` rows, largest
        ``|points|`` first (the first ``top`` only when given)."""
        group = self.x[members].mean(axis=0)
        z = (group - self.mean) / self.scale
        points = self.coef * z
        order = np.argsort(-np.abs(points), kind="stable")
        out = [
            Contribution(
                feature=self.features[j],
                label=self.labels[j],
                group_mean=float(group[j]),
                overall_mean=float(self.mean[j]),
                points=float(points[j]),
            )
            for j in order
        ]
        return out[:top] if top is not None else out

    def weights(self) -> dict[str, float]:
        """Score points per standard deviation of each input."""
        return {f: float(c) for f, c in zip(self.features, self.coef, strict=True)}


def surrogate(
    x: FloatArray,
    scores: FloatArray,
    features: Sequence[str],
    labels: Mapping[str, str] | None = None,
    *,
    ridge: float = 1.0,
) -> Surrogate:
    """Fit the ridge surrogate of ``scores`` (one per row of ``x``) on the standardised inputs."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    centred = scores - scores.mean()
    coef = np.linalg.solve(z.T @ z + ridge * np.eye(z.shape[1]), z.T @ centred)
    residual = centred - z @ coef
    total = float(centred @ centred)
    r2 = 1.0 - float(residual @ residual) / total if total > 0 else 1.0
    names = tuple(features)
    return Surrogate(
        features=names,
        labels=tuple((labels or {}).get(f, f) for f in names),
        x=x,
        mean=mean,
        scale=scale,
        coef=np.asarray(coef, dtype=np.float64),
        intercept=float(scores.mean()),
        r2=r2,
    )
