"""The named models that ``learnsight evaluate`` and ``learnsight train`` compare, built one way.

Every model takes ``fit(X, y, tasks)`` / ``predict(X, tasks)`` / ``predict_proba(X, tasks)`` so they
all run on identical splits (SPEC §3: multi-task against single-task on the same data):

==========================  ============  ==========================================================
name                        family        what
==========================  ============  ==========================================================
``rmtl``                    multi-task    RMTL (trace norm + column-group L1,2, FISTA), ρ1, ρ2 by CV
``logistic``                single-task   L2 logistic regression, one per course
``logistic_pooled``         pooled        the same on all courses, with course indicators
``random_forest``           single-task   200-tree random forest per course
``random_forest_pooled``    pooled
``gradient_boosting``       single-task   histogram gradient boosting per course
``gradient_boosting_pooled`` pooled
``majority``                reference     the most frequent class of each course
``seq_conv`` / ``seq_attention`` / ``seq_gru`` / ``seq_lstm``  sequence  weekly-tensor networks
                                          (``torch`` extra), course embedding, static features
==========================  ============  ==========================================================

Regression (the ``score`` target) uses ``rmtl`` (:class:`RMTLRegressorCV`), ``ridge``,
``random_forest``, ``gradient_boosting`` and their pooled versions.  Tabular models sit behind
:class:`~learnsight.models.preprocess.Prepared` (median imputation with missing indicators,
standardisation), fitted on training rows only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from sklearn.dummy import DummyClassifier  # type: ignore[import-untyped]

from learnsight.errors import LearnsightError
from learnsight.models.baselines import PerTask, baseline_models
from learnsight.models.preprocess import Prepared

Family = Literal["multi-task", "single-task", "pooled", "sequence", "reference"]
Kind = Literal["classification", "regression"]


@dataclass(frozen=True)
class ModelContext:
    """What a factory needs to know about the data."""

    kind: Kind
    seed: int
    feature_names: Sequence[str]
    n_weeks: int = 0
    """Length of the week axis of the sequences (0: no sequences)."""


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: Family
    kinds: tuple[Kind, ...]
    factory: Callable[[ModelContext], Any]
    sequences: bool = False
    """Takes ``Dataset.flat_sequences()`` instead of ``Dataset.X``."""


def _rmtl(ctx: ModelContext) -> Any:
    from learnsight.models import rmtl

    if ctx.kind == "regression":
        return Prepared(rmtl.RMTLRegressorCV(random_state=ctx.seed), feature_names=ctx.feature_names)
    cv = getattr(rmtl, "RMTLClassifierCV", None)
    inner = (
        cv(n_rhos=4, random_state=ctx.seed) if cv is not None else rmtl.RMTLClassifier(rho1=0.01, rho2=0.01)
    )
    return Prepared(inner, feature_names=ctx.feature_names)


def _baseline(name: str, *, impute: bool = True, scale: bool = True) -> Callable[[ModelContext], Any]:
    def make(ctx: ModelContext) -> Any:
        models = baseline_models(ctx.kind, ctx.seed)
        key = name
        if ctx.kind == "regression":
            key = name.replace("logistic", "ridge")
        return Prepared(models[key], impute=impute, scale=scale, feature_names=ctx.feature_names)

    return make


def _majority(ctx: ModelContext) -> Any:
    return Prepared(PerTask(DummyClassifier(strategy="most_frequent")), feature_names=ctx.feature_names)


def _sequence(arch: Literal["conv", "attention", "gru", "lstm"]) -> Callable[[ModelContext], Any]:
    def make(ctx: ModelContext) -> Any:
        try:
            from learnsight.models.sequence import SequenceClassifier
        except ImportError as exc:  # pragma: no cover - depends on the extra
            raise LearnsightError(
                "sequence models need PyTorch: pip install 'learnsight[torch]' (torch==2.13.0, CPU)"
            ) from exc
        if ctx.n_weeks <= 0:
            raise LearnsightError("sequence models need weekly data (courses with a calendar)")
        return SequenceClassifier(
            arch=arch, n_weeks=ctx.n_weeks, n_static=len(ctx.feature_names), random_state=ctx.seed
        )

    return make


_ARCHS: Final[tuple[Literal["conv", "attention", "gru", "lstm"], ...]] = ("conv", "attention", "gru", "lstm")

MODELS: Final[dict[str, ModelSpec]] = {
    spec.name: spec
    for spec in (
        ModelSpec("rmtl", "multi-task", ("classification", "regression"), _rmtl),
        ModelSpec("logistic", "single-task", ("classification", "regression"), _baseline("logistic")),
        ModelSpec(
            "logistic_pooled", "pooled", ("classification", "regression"), _baseline("logistic_pooled")
        ),
        ModelSpec(
            "random_forest", "single-task", ("classification", "regression"), _baseline("random_forest")
        ),
        ModelSpec(
            "random_forest_pooled",
            "pooled",
            ("classification", "regression"),
            _baseline("random_forest_pooled"),
        ),
        ModelSpec(
            "gradient_boosting",
            "single-task",
            ("classification", "regression"),
            _baseline("gradient_boosting", scale=False),
        ),
        ModelSpec(
            "gradient_boosting_pooled",
            "pooled",
            ("classification", "regression"),
            _baseline("gradient_boosting_pooled", scale=False),
        ),
        ModelSpec("majority", "reference", ("classification",), _majority),
        *(
            ModelSpec(f"seq_{arch}", "sequence", ("classification",), _sequence(arch), sequences=True)
            for arch in _ARCHS
        ),
    )
}
"""Every model by name."""


def model_spec(name: str) -> ModelSpec:
    """The spec of ``name``; an unknown name is an error listing the known ones."""
    try:
        return MODELS[name]
    except KeyError:
        raise LearnsightError(f"unknown model {name!r}; known: {', '.join(MODELS)}") from None


def build_model(name: str, ctx: ModelContext) -> Any:
    """A fresh, unfitted model ``name`` for ``ctx``."""
    spec = model_spec(name)
    if ctx.kind not in spec.kinds:
        raise LearnsightError(f"model {name!r} does not do {ctx.kind}")
    return spec.factory(ctx)


__all__ = ["MODELS", "Family", "Kind", "ModelContext", "ModelSpec", "build_model", "model_spec"]
