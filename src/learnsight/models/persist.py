"""Saved models: a fitted model and what it needs to be trusted later, in one directory.

A saved model is a directory holding

``model.joblib``
    the fitted model (:func:`joblib.dump`; a pickle: **load only models you trust**);
``metadata.json``
    :class:`ModelMetadata`: the model's zoo name, target and classes, the feature names it expects,
    the training cut-off, scheme and data fingerprint, the hold-out metrics, the library versions
    it was saved with and the SHA-256 of ``model.joblib``.

:func:`save_model` writes both into a temporary directory beside the target and renames it into
place, so a crash never leaves a half-written model (a previous model at the same path is replaced
only once the new one is complete).  :func:`load_model` checks the file's hash (a corrupted or
truncated file is an error naming it), refuses a metadata ``format`` it does not know and warns
(:class:`ModelVersionWarning`) when scikit-learn, NumPy or PyTorch differ from the versions that
saved the model, since their pickles are not guaranteed to load, or to behave, across versions.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
import platform
import shutil
import sys
import uuid
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any, Final

import joblib  # type: ignore[import-untyped]
import numpy as np

from learnsight.errors import LearnsightError
from learnsight.files import sha256_file

FORMAT: Final = 1
"""Version of the saved-model layout written by :func:`save_model`."""
KNOWN_FORMATS: Final = frozenset({1})
MODEL_FILE: Final = "model.joblib"
METADATA_FILE: Final = "metadata.json"

CHECKED_LIBRARIES: Final = ("scikit-learn", "numpy", "torch")
"""Libraries whose version change triggers a :class:`ModelVersionWarning` on load."""


class ModelVersionWarning(UserWarning):
    """A saved model is loaded with other versions of the libraries its pickle depends on."""


@dataclass
class ModelMetadata:
    """What ``metadata.json`` holds (see the module docstring)."""

    model: str
    """Zoo name (:data:`learnsight.models.zoo.MODELS`)."""
    target: str
    """What the model predicts (:data:`learnsight.models.dataset.TARGETS`)."""
    kind: str
    """``classification`` or ``regression``."""
    classes: list[str]
    """The classes, worst first (empty for regression)."""
    feature_names: list[str]
    """Names of the columns of ``Dataset.X`` the model was trained on, in order."""
    groups: list[str]
    """Feature groups of the training dataset."""
    interim_grades: bool
    as_of: str
    """Training cut-off (:meth:`AsOf.label <learnsight.indicators.asof.AsOf.label>`)."""
    scheme: str
    data_fingerprint: str
    """:meth:`Dataset.fingerprint <learnsight.models.dataset.Dataset.fingerprint>` of the training
    dataset (before the target's row filter)."""
    rows: int
    """Rows the model was fitted on."""
    tasks: list[str]
    """Course IRIs the model knows (it predicts rows of these courses only)."""
    params: dict[str, Any] = field(default_factory=dict)
    """``get_params(deep=False)``, non-JSON values as their ``repr``."""
    metrics: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    """When the bundle was made (ISO 8601, UTC)."""
    versions: dict[str, str] = field(default_factory=dict)
    """Library versions at save time (learnsight, python, numpy, scipy, scikit-learn, duckdb, joblib;
    torch when imported)."""
    model_sha256: str = ""
    """SHA-256 of ``model.joblib`` (set by :func:`save_model`)."""
    seed: int = 0
    sequences: bool = False
    """The model takes ``Dataset.flat_sequences()`` rather than ``Dataset.X``."""
    weeks: list[int] = field(default_factory=list)
    """Week axis of the training sequences (sequence models)."""
    sequence_features: list[str] = field(default_factory=list)
    feature_medians: list[float | None] = field(default_factory=list)
    """Training medians of the model's input columns (None: all missing): the occlusion reference
    of :func:`learnsight.models.explain.contributions`."""
    format: int = FORMAT

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = json_safe(dataclasses.asdict(self))
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "metadata") -> ModelMetadata:
        fmt = data.get("format")
        if fmt not in KNOWN_FORMATS:
            raise LearnsightError(
                f"{where}: saved-model format {fmt!r} is not known to this learnsight "
                f"(known: {sorted(KNOWN_FORMATS)}); upgrade learnsight or retrain the model"
            )
        names = {f.name for f in dataclasses.fields(cls)}
        required = {
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }
        missing = sorted(required - set(data))
        if missing:
            raise LearnsightError(f"{where}: metadata lacks {', '.join(missing)}")
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class ModelBundle:
    """A fitted model and its :class:`ModelMetadata`."""

    model: Any
    metadata: ModelMetadata

    def fingerprint(self) -> str:
        """SHA-256 of the model's joblib dump: ``metadata.model_sha256`` once saved or loaded,
        otherwise computed from an in-memory dump (and remembered)."""
        if not self.metadata.model_sha256:
            self.metadata.model_sha256 = hashlib.sha256(_dump_bytes(self.model)).hexdigest()
        return self.metadata.model_sha256


def library_versions() -> dict[str, str]:
    """Versions of the libraries a saved model depends on (torch only when already imported)."""
    out = {"learnsight": _version("learnsight"), "python": platform.python_version()}
    for dist in ("numpy", "scipy", "scikit-learn", "duckdb", "joblib"):
        out[dist] = _version(dist)
    if "torch" in sys.modules:
        out["torch"] = str(getattr(sys.modules["torch"], "__version__", "unknown"))
    return out


def _version(dist: str) -> str:
    try:
        return importlib_metadata.version(dist)
    except importlib_metadata.PackageNotFoundError:
        if dist == "learnsight":
            import learnsight

            return str(getattr(learnsight, "__version__", "unknown"))
        return "unknown"


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON data: tuples become lists, NumPy scalars Python numbers, NaN and
    infinities ``None``; anything else that JSON cannot hold becomes its ``repr``."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray) and value.ndim <= 1 and value.size <= 10_000:
        return [json_safe(v) for v in value.tolist()]
    return repr(value)


def model_params(model: Any) -> dict[str, Any]:
    """``model.get_params(deep=False)`` made JSON-safe (:func:`json_safe`); ``{}`` without it."""
    get = getattr(model, "get_params", None)
    if get is None:
        return {}
    params = get(deep=False)
    return {str(k): json_safe(v) for k, v in params.items()}


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _dump_bytes(model: Any) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()


def save_model(bundle: ModelBundle, path: str | Path) -> Path:
    """Write ``bundle`` as a model directory at ``path`` (see the module docstring); returns it.

    The directory is built beside ``path`` and renamed into place.  An existing model directory
    (one holding ``metadata.json``) or an empty directory at ``path`` is replaced; anything else
    there is an error.  Sets ``bundle.metadata.model_sha256`` and ``versions``.
    """
    target = Path(path)
    if target.exists() and not _replaceable(target):
        raise LearnsightError(f"{target}: exists and is not a saved model; choose another path")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:12]}"
    tmp.mkdir()
    try:
        model_file = tmp / MODEL_FILE
        joblib.dump(bundle.model, model_file)
        meta = bundle.metadata
        meta.model_sha256 = sha256_file(model_file)
        meta.versions = library_versions()
        meta.format = FORMAT
        if not meta.created:
            meta.created = utc_now()
        text = json.dumps(meta.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)
        (tmp / METADATA_FILE).write_text(text + "\n", encoding="utf-8")
        old: Path | None = None
        if target.exists():
            old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:12]}"
            target.rename(old)
        try:
            tmp.rename(target)
        except OSError:
            if old is not None:
                old.rename(target)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _replaceable(target: Path) -> bool:
    if not target.is_dir():
        return False
    return (target / METADATA_FILE).is_file() or not any(target.iterdir())


def read_metadata(path: str | Path) -> ModelMetadata:
    """The metadata of the model directory ``path`` (without loading the model)."""
    folder = Path(path)
    meta_file = folder / METADATA_FILE
    if not folder.is_dir():
        raise LearnsightError(f"{folder}: no saved model here (not a directory)")
    if not meta_file.is_file():
        raise LearnsightError(f"{meta_file}: missing; {folder} is not a saved model")
    try:
        data = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LearnsightError(f"{meta_file}: unreadable model metadata: {exc}") from exc
    if not isinstance(data, dict):
        raise LearnsightError(f"{meta_file}: model metadata must be a JSON object")
    try:
        return ModelMetadata.from_dict(data, where=str(meta_file))
    except TypeError as exc:
        raise LearnsightError(f"{meta_file}: bad model metadata: {exc}") from exc


def load_model(path: str | Path) -> ModelBundle:
    """Load the model directory ``path`` written by :func:`save_model`.

    Raises :class:`~learnsight.errors.LearnsightError` naming the file when ``metadata.json`` is
    missing or of an unknown format, or ``model.joblib`` is missing, corrupted (hash mismatch) or
    unreadable; warns :class:`ModelVersionWarning` when library versions differ.
    """
    folder = Path(path)
    meta = read_metadata(folder)
    model_file = folder / MODEL_FILE
    if not model_file.is_file():
        raise LearnsightError(f"{model_file}: missing; the saved model is incomplete")
    digest = sha256_file(model_file)
    if digest != meta.model_sha256:
        raise LearnsightError(
            f"{model_file}: corrupted (SHA-256 {digest[:12]}…, metadata says {meta.model_sha256[:12]}…); "
            "save or train the model again"
        )
    try:
        model = joblib.load(model_file)
    except Exception as exc:
        raise LearnsightError(f"{model_file}: cannot load the model: {type(exc).__name__}: {exc}") from exc
    _check_versions(meta, folder)
    return ModelBundle(model=model, metadata=meta)


def _check_versions(meta: ModelMetadata, folder: Path) -> None:
    now = library_versions()
    changed = [
        f"{lib} {meta.versions[lib]} → {now[lib]}"
        for lib in CHECKED_LIBRARIES
        if lib in meta.versions and lib in now and now[lib] != meta.versions[lib]
    ]
    if changed:
        warnings.warn(
            f"{folder}: the model was saved with other library versions ({'; '.join(changed)}); "
            "its predictions may differ — retrain it to be sure",
            ModelVersionWarning,
            stacklevel=2,
        )


__all__ = [
    "FORMAT",
    "METADATA_FILE",
    "MODEL_FILE",
    "ModelBundle",
    "ModelMetadata",
    "ModelVersionWarning",
    "json_safe",
    "library_versions",
    "load_model",
    "model_params",
    "read_metadata",
    "save_model",
]
