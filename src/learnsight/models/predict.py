"""Train a model once, predict later: ``learnsight train`` and ``learnsight predict``.

* :func:`train_model` evaluates a zoo model on the grouped 2:1 hold-out (optional), then fits it
  on every row of the dataset for the target and returns a :class:`~learnsight.models.persist.ModelBundle`
  (save it with :func:`~learnsight.models.persist.save_model`).
* :func:`predict_table` predicts every row of a dataset built the same way (same feature groups,
  cut-off, so the same feature names) whose course the model knows, with each row's top drivers
  (:mod:`learnsight.models.explain`).
* :func:`prediction_statements` turns the predictions into xAPI statements (verb
  :data:`~learnsight.xapi.vocab.PREDICTED`, ``context.platform`` :data:`~learnsight.xapi.vocab.SOURCE_MODEL`)
  and :func:`write_predictions` stores them atomically.  Their ids are deterministic (model file,
  learner, course, cut-off), so predicting again with the same model and cut-off adds nothing.
  Model-written statements never become features (:func:`learnsight.indicators.asof.base_views`).
"""

# Upper-case X follows scikit-learn's notation.
# ruff: noqa: N806

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from learnsight.errors import LearnsightError
from learnsight.indicators.asof import AsOf
from learnsight.models.dataset import Dataset, Target, class_order, five_level
from learnsight.models.experiment import Protocol, run_study
from learnsight.models.explain import contributions, top_drivers
from learnsight.models.persist import ModelBundle, ModelMetadata, library_versions, model_params, utc_now
from learnsight.models.zoo import ModelContext, build_model, model_spec
from learnsight.store.base import IngestBatch, IngestReport, Store
from learnsight.store.duckdb_store import DuckDBStore
from learnsight.xapi import vocab
from learnsight.xapi.ids import deterministic_id

FloatArray = npt.NDArray[np.float64]

INGEST_KIND: Final = "predictions"
"""``ingest_batches.kind`` of stored predictions."""
XAPI_VERSION: Final = "1.0.3"
SKIPPED_KEY: Final = b"learnsight.skipped_rows"
"""Schema metadata key of :func:`predict_table`: rows left out (course unknown to the model)."""
MISSING_KEY: Final = b"learnsight.missing_features"
"""Schema metadata key of :func:`predict_table`: model features the data lacked (JSON list)."""
DROPPED_KEY: Final = b"learnsight.dropped_features"
"""Schema metadata key of :func:`predict_table`: data features the model does not know (JSON list)."""
SEQUENCE_PREFIX: Final = "seq."
"""Name prefix of a sequence model's explained weekly feature (all weeks of it together)."""


# -- training ---------------------------------------------------------------------------------------


def train_model(
    dataset: Dataset, target: Target, model_name: str, *, seed: int = 0, evaluate: bool = True
) -> ModelBundle:
    """Fit zoo model ``model_name`` for ``target`` on every row of ``dataset`` the target applies to.

    With ``evaluate`` the model is first scored on the grouped 2:1 hold-out
    (:func:`~learnsight.models.experiment.run_study`, ``Protocol("holdout", seed=seed)``) and those
    metrics go into the metadata (``metrics``: ``protocol``, ``rows``, ``labels``, ``overall``
    and ``per_task`` means, ``confusion``).  A model that fails there is an error.
    """
    spec = model_spec(model_name)
    regression = target == "score"
    kind = "regression" if regression else "classification"
    if kind not in spec.kinds:
        raise LearnsightError(f"model {model_name!r} does not do {kind} (target {target!r})")
    data, y = dataset.for_target(target)
    if len(data) == 0:
        raise LearnsightError(f"no rows to train {model_name!r} on for target {target!r}")
    if spec.sequences and data.sequences is None:
        raise LearnsightError(
            f"model {model_name!r} needs weekly sequences (feature group 'weekly', a course calendar)"
        )
    metrics: dict[str, Any] = {}
    if evaluate:
        study = run_study(dataset, target, [model_name], protocol=Protocol("holdout", seed=seed))
        result = study.models[0]
        if result.error:
            raise LearnsightError(f"hold-out evaluation of {model_name!r} failed: {result.error}")
        metrics = {
            "protocol": study.protocol,
            "rows": study.rows,
            "labels": study.labels,
            "overall": {k: v.get("mean") for k, v in result.overall.items()},
            "per_task": {t: {k: v.get("mean") for k, v in m.items()} for t, m in result.per_task.items()},
            "confusion": result.confusion,
        }
    tasks = data.courses.astype(str)
    X = data.flat_sequences() if spec.sequences else data.X
    ctx = ModelContext(kind=kind, seed=seed, feature_names=data.feature_names, n_weeks=len(data.weeks))
    model = build_model(model_name, ctx)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, np.asarray(y), tasks=tasks)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        medians = np.nanmedian(X, axis=0)
    meta = ModelMetadata(
        model=model_name,
        target=target,
        kind=kind,
        classes=[] if regression else class_order(target, y),
        feature_names=list(data.feature_names),
        groups=[str(g) for g in dataset.info.get("groups", [])],
        interim_grades=bool(dataset.info.get("interim_grades", False)),
        as_of=dataset.as_of.label(),
        scheme=dataset.scheme,
        data_fingerprint=dataset.fingerprint(),
        rows=len(data),
        tasks=sorted(set(tasks.tolist())),
        params=model_params(model),
        metrics=metrics,
        created=utc_now(),
        versions=library_versions(),
        seed=seed,
        sequences=spec.sequences,
        weeks=[int(w) for w in data.weeks] if spec.sequences else [],
        sequence_features=list(data.sequence_features) if spec.sequences else [],
        feature_medians=[None if math.isnan(m) else float(m) for m in medians.tolist()],
    )
    return ModelBundle(model=model, metadata=meta)


# -- prediction -------------------------------------------------------------------------------------


def check_features(meta: ModelMetadata, dataset: Dataset) -> None:
    """Error unless ``dataset`` has the model's features (names, order, and weeks for sequences)."""
    want, have = list(meta.feature_names), list(dataset.feature_names)
    if want != have:
        missing = [n for n in want if n not in set(have)]
        extra = [n for n in have if n not in set(want)]
        parts = []
        if missing:
            parts.append(f"missing from the data: {_first(missing)}")
        if extra:
            parts.append(f"not known to the model: {_first(extra)}")
        if not missing and not extra:
            pos = next(
                (i for i, (a, b) in enumerate(zip(want, have, strict=False)) if a != b),
                min(len(want), len(have)),
            )
            shown = (want[pos] if pos < len(want) else None, have[pos] if pos < len(have) else None)
            parts.append(f"order differs from position {pos} (model {shown[0]!r}, data {shown[1]!r})")
        raise LearnsightError(
            f"the dataset's features differ from the model's ({len(have)} vs {len(want)}): "
            + "; ".join(parts)
            + f". Build the dataset as the model was trained (groups {meta.groups}, "
            f"interim_grades={meta.interim_grades}) on a store with the same sources, "
            "or align the features (missing ones become missing values)"
        )
    if meta.sequences:
        if dataset.sequences is None:
            raise LearnsightError(f"model {meta.model!r} needs weekly sequences; the dataset has none")
        weeks, features = list(dataset.weeks), list(dataset.sequence_features)
        if weeks != list(meta.weeks) or features != list(meta.sequence_features):
            raise LearnsightError(
                f"model {meta.model!r} was trained on {len(meta.weeks)} weeks of "
                f"{len(meta.sequence_features)} features (cut-off {meta.as_of}); the dataset has "
                f"{len(weeks)} weeks of {len(features)} (cut-off {dataset.as_of.label()}): "
                "predict at the training cut-off"
            )


def align_features(dataset: Dataset, feature_names: Sequence[str]) -> tuple[Dataset, list[str], list[str]]:
    """``dataset`` with exactly the columns ``feature_names``, in that order: a column the dataset
    lacks is all missing (NaN: the model's imputation fills it), a column the model does not know
    is dropped.  Returns the aligned dataset, the missing and the dropped names.

    For data that legitimately differ from the training data's columns, e.g. a new cohort in which
    a category of a profile attribute (a one-hot column) does not occur.
    """
    have = {name: j for j, name in enumerate(dataset.feature_names)}
    missing = [n for n in feature_names if n not in have]
    dropped = [n for n in dataset.feature_names if n not in set(feature_names)]
    X = np.full((len(dataset), len(feature_names)), np.nan)
    for j, name in enumerate(feature_names):
        if name in have:
            X[:, j] = dataset.X[:, have[name]]
    return dataclasses.replace(dataset, X=X, feature_names=tuple(feature_names)), missing, dropped


def _first(names: Sequence[str], n: int = 5) -> str:
    more = f" (+{len(names) - n} more)" if len(names) > n else ""
    return ", ".join(names[:n]) + more


def predict_table(bundle: ModelBundle, dataset: Dataset, *, top_k: int = 5, align: bool = False) -> pa.Table:
    """One prediction per row of ``dataset`` whose course is one of the model's tasks.

    Columns: ``actor_key``, ``course``, ``as_of`` (the dataset's cut-off), ``model``,
    ``predicted`` (class; the score for regression), ``probability`` (of the predicted class),
    ``proba`` (JSON ``{class: probability}``, classes worst first), ``drivers`` (JSON list of the
    ``top_k`` signed contributions ``{feature, value, contribution}``, :mod:`~learnsight.models.explain`)
    and ``actual`` (the row's known value of the target, for checking; null where the target does
    not apply).  The number of rows left out (courses the model does not know) is in the schema
    metadata (:func:`skipped_rows`).

    The dataset's feature names must equal the model's (:func:`check_features`), unless ``align``:
    then the columns are aligned to the model's (:func:`align_features`) and the schema metadata
    lists the missing and dropped ones (:func:`alignment`).
    """
    meta = bundle.metadata
    missing: list[str] = []
    dropped: list[str] = []
    if align and list(dataset.feature_names) != list(meta.feature_names):
        dataset, missing, dropped = align_features(dataset, meta.feature_names)
    check_features(meta, dataset)
    keep = np.isin(dataset.courses.astype(str), np.asarray(meta.tasks, dtype=str))
    data = dataset.rows(keep)
    skipped = int((~keep).sum())
    tasks = data.courses.astype(str)
    regression = meta.kind == "regression"
    model = bundle.model
    if meta.sequences:
        X = data.flat_sequences()
        names, blocks, values = _sequence_blocks(data)
    else:
        X = data.X
        names, blocks, values = list(data.feature_names), None, data.X
    medians = np.array([np.nan if m is None else m for m in meta.feature_medians], dtype=np.float64)
    reference = medians if medians.shape == (X.shape[1],) else None
    n = len(data)
    probability: list[float | None]
    proba_json: list[str | None]
    if n == 0:
        predicted: list[Any] = []
        probability, proba_json, contrib = [], [], np.zeros((0, len(names)))
    elif regression:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            predicted = [float(v) for v in np.asarray(model.predict(X, tasks=tasks), dtype=np.float64)]
            contrib = contributions(model, X, tasks, names, reference=reference, blocks=blocks)
        probability, proba_json = [None] * n, [None] * n
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p = np.asarray(model.predict_proba(X, tasks=tasks), dtype=np.float64)
            contrib = contributions(model, X, tasks, names, reference=reference, blocks=blocks, proba=p)
        classes = [str(c) for c in np.asarray(model.classes_).tolist()]
        order = [classes.index(c) for c in meta.classes if c in classes] + [
            j for j, c in enumerate(classes) if c not in meta.classes
        ]
        best = np.argmax(p, axis=1)
        predicted = [classes[j] for j in best.tolist()]
        probability = [float(min(max(v, 0.0), 1.0)) for v in p[np.arange(n), best].tolist()]
        proba_json = [
            json.dumps({classes[j]: round(float(row[j]), 6) for j in order}, allow_nan=False)
            for row in p.tolist()
        ]
    drivers = [
        json.dumps(
            [{**d, "contribution": round(d["contribution"], 6)} for d in row],
            allow_nan=False,
            ensure_ascii=False,
        )
        for row in top_drivers(contrib, names, values, k=top_k)
    ]
    actual = _actual(data, meta.target)
    value_type = pa.float64() if regression else pa.string()
    schema = pa.schema(
        [
            ("actor_key", pa.string()),
            ("course", pa.string()),
            ("as_of", pa.string()),
            ("model", pa.string()),
            ("predicted", value_type),
            ("probability", pa.float64()),
            ("proba", pa.string()),
            ("drivers", pa.string()),
            ("actual", value_type),
        ],
        metadata={
            SKIPPED_KEY: str(skipped).encode(),
            b"learnsight.target": meta.target.encode(),
            b"learnsight.model": meta.model.encode(),
            b"learnsight.training_cutoff": meta.as_of.encode(),
            MISSING_KEY: json.dumps(missing).encode(),
            DROPPED_KEY: json.dumps(dropped).encode(),
        },
    )
    return pa.table(
        {
            "actor_key": [str(a) for a in data.actor_keys.tolist()],
            "course": tasks.tolist(),
            "as_of": [dataset.as_of.label()] * n,
            "model": [meta.model] * n,
            "predicted": predicted,
            "probability": probability,
            "proba": proba_json,
            "drivers": drivers,
            "actual": actual,
        },
        schema=schema,
    )


def predict_store(
    store: DuckDBStore, bundle: ModelBundle, as_of: AsOf | None = None, *, top_k: int = 5
) -> pa.Table:
    """:func:`predict_table` on a store: the dataset is built the way the model's was (same feature
    groups, interim grades) at ``as_of`` (default: the model's own training cut-off), every learner
    included (``unlabelled``), and aligned to the model's features."""
    from learnsight.models.dataset import DatasetBuilder

    meta = bundle.metadata
    cut = as_of if as_of is not None else AsOf.parse("" if meta.as_of == "all" else meta.as_of)
    builder = DatasetBuilder(
        store,
        groups=meta.groups,  # type: ignore[arg-type]
        interim_grades=meta.interim_grades,
        unlabelled=True,
    )
    return predict_table(bundle, builder.build(cut), top_k=top_k, align=True)


def skipped_rows(table: pa.Table) -> int:
    """Rows :func:`predict_table` left out because the model does not know their course."""
    meta = table.schema.metadata or {}
    return int(meta.get(SKIPPED_KEY, b"0"))


def alignment(table: pa.Table) -> tuple[list[str], list[str]]:
    """The features :func:`predict_table` (``align=True``) filled as missing, and those it dropped."""
    meta = table.schema.metadata or {}
    missing: list[str] = json.loads(meta.get(MISSING_KEY, b"[]"))
    dropped: list[str] = json.loads(meta.get(DROPPED_KEY, b"[]"))
    return missing, dropped


def _sequence_blocks(data: Dataset) -> tuple[list[str], list[list[int]], FloatArray]:
    """Explained features of a sequence model: each static column, and each weekly feature over all
    weeks (value: its total over the observed weeks)."""
    assert data.sequences is not None
    n_static = data.X.shape[1]
    n_weeks, n_feat = data.sequences.shape[1], data.sequences.shape[2]
    names = list(data.feature_names) + [f"{SEQUENCE_PREFIX}{f}" for f in data.sequence_features]
    blocks = [[j] for j in range(n_static)] + [
        [n_static + w * n_feat + k for w in range(n_weeks)] for k in range(n_feat)
    ]
    seq = data.sequences.astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        totals = np.where(np.all(np.isnan(seq), axis=1), np.nan, np.nansum(seq, axis=1))
    return names, blocks, np.hstack([data.X, totals])


def _actual(data: Dataset, target: str) -> list[Any]:
    if target == "three_class":
        return [None if v is None else str(v) for v in data.outcome.tolist()]
    if target == "pass_fail":
        return [
            None if r == "Withdrawn" else ("pass" if p else "fail")
            for r, p in zip(data.response.tolist(), data.passed.tolist(), strict=True)
        ]
    known = ~np.isnan(data.score)
    if target == "five_level":
        levels = five_level(np.where(known, data.score, 0.0))
        return [str(v) if k else None for v, k in zip(levels.tolist(), known.tolist(), strict=True)]
    return [float(v) if k else None for v, k in zip(data.score.tolist(), known.tolist(), strict=True)]


# -- statements -------------------------------------------------------------------------------------


def agent_from_key(key: str) -> dict[str, Any]:
    """The xAPI Agent whose actor key (:mod:`learnsight.xapi.keys`) is ``key``.

    >>> agent_from_key("account:https://campus.example.edu|S0001")
    {'objectType': 'Agent', 'account': {'homePage': 'https://campus.example.edu', 'name': 'S0001'}}
    >>> agent_from_key("mailto:ana@example.org")
    {'objectType': 'Agent', 'mbox': 'mailto:ana@example.org'}
    """
    if key.startswith("account:"):
        home, sep, name = key[len("account:") :].partition("|")  # an IRI never holds a raw "|"
        if sep and home and name:
            return {"objectType": "Agent", "account": {"homePage": home, "name": name}}
    elif key.startswith("mailto:"):
        return {"objectType": "Agent", "mbox": key}
    elif key.startswith("sha1:"):
        return {"objectType": "Agent", "mbox_sha1sum": key[len("sha1:") :]}
    elif key.startswith("openid:"):
        return {"objectType": "Agent", "openid": key[len("openid:") :]}
    raise LearnsightError(f"actor key {key!r} names no xAPI agent (account:, mailto:, sha1: or openid:)")


def prediction_id(model_fingerprint: str, actor_key: str, course: str, as_of: str) -> str:
    """The deterministic id of a prediction statement."""
    return str(deterministic_id("prediction", model_fingerprint, actor_key, course, as_of))


def prediction_statements(
    table: pa.Table, bundle: ModelBundle, *, timestamp: datetime | None = None
) -> list[dict[str, Any]]:
    """One xAPI 1.0.3 statement per row of :func:`predict_table` (see the module docstring).

    Actor: the learner; verb :data:`~learnsight.xapi.vocab.PREDICTED`; object: the course
    activity; ``result.response`` the predicted class and ``result.score.scaled`` its probability
    (for regression ``result.score.raw`` the predicted score); result extensions: every class's
    probability and the drivers; ``context.platform`` ``model``; context extensions: the model's
    name, target and file fingerprint, the training data's fingerprint and cut-off, and the
    prediction's cut-off.  ``timestamp`` (default now) is the prediction time.
    """
    meta = bundle.metadata
    fingerprint = bundle.fingerprint()
    when = (timestamp or datetime.now(UTC)).astimezone(UTC)
    stamp = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    regression = meta.kind == "regression"
    out: list[dict[str, Any]] = []
    for row in table.to_pylist():
        course_activity = {
            "objectType": "Activity",
            "id": row["course"],
            "definition": {"type": vocab.COURSE},
        }
        result: dict[str, Any] = {}
        extensions: dict[str, Any] = {vocab.EXT_DRIVERS: json.loads(row["drivers"] or "[]")}
        if regression:
            value = float(row["predicted"])
            result["response"] = f"{value:.4g}"
            result["score"] = {"raw": value}
        else:
            result["response"] = str(row["predicted"])
            result["score"] = {"scaled": float(row["probability"])}
            extensions[vocab.EXT_PROBABILITIES] = json.loads(row["proba"])
        result["extensions"] = extensions
        out.append(
            {
                "id": prediction_id(fingerprint, row["actor_key"], row["course"], row["as_of"]),
                "actor": agent_from_key(row["actor_key"]),
                "verb": {"id": vocab.PREDICTED, "display": {"en-US": vocab.VERB_DISPLAY[vocab.PREDICTED]}},
                "object": course_activity,
                "result": result,
                "context": {
                    "platform": vocab.SOURCE_MODEL,
                    "contextActivities": {"grouping": [course_activity]},
                    "extensions": {
                        vocab.EXT_MODEL: meta.model,
                        vocab.EXT_MODEL_FINGERPRINT: fingerprint,
                        vocab.EXT_TARGET: meta.target,
                        vocab.EXT_DATA_FINGERPRINT: meta.data_fingerprint,
                        vocab.EXT_TRAINING_CUTOFF: meta.as_of,
                        vocab.EXT_AS_OF: row["as_of"],
                    },
                },
                "timestamp": stamp,
                "version": XAPI_VERSION,
            }
        )
    return out


def write_predictions(
    store: Store, statements: Sequence[dict[str, Any]], *, source: str | None = None
) -> IngestReport:
    """Validate ``statements`` strictly and store them in one atomic batch (kind ``predictions``).

    Statements already stored (same id: same model, learner, course and cut-off) are skipped.
    Raises :class:`~learnsight.errors.StatementValidationError` for an invalid statement (nothing
    is written).
    """
    from learnsight.xapi.columns import statement_columns, statements_table
    from learnsight.xapi.parse import parse_statement

    stored = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        statement_columns(parse_statement(s, index=i), stored=stored, source=s)
        for i, s in enumerate(statements)
    ]
    first = statements[0]["context"]["extensions"] if statements else {}
    label = source or (
        f"predict(model={first.get(vocab.EXT_MODEL)}, target={first.get(vocab.EXT_TARGET)}, "
        f"as_of={first.get(vocab.EXT_AS_OF)})"
        if statements
        else "predict"
    )
    batch = IngestBatch(
        kind=INGEST_KIND,
        source=label,
        rows_read=len(rows),
        statements=statements_table(rows),
        details={
            "model": first.get(vocab.EXT_MODEL),
            "model_fingerprint": first.get(vocab.EXT_MODEL_FINGERPRINT),
            "target": first.get(vocab.EXT_TARGET),
        }
        if statements
        else {},
    )
    return store.ingest(batch)


__all__ = [
    "INGEST_KIND",
    "SEQUENCE_PREFIX",
    "agent_from_key",
    "align_features",
    "alignment",
    "check_features",
    "predict_store",
    "predict_table",
    "prediction_id",
    "prediction_statements",
    "skipped_rows",
    "train_model",
    "write_predictions",
]
