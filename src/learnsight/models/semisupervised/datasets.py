"""The semi-supervised benchmark datasets (SPEC §6; ``$LEARNSIGHT_DATA/ssl``) and the CSV reader of
``learnsight ssl fit/predict``.

Every loader returns ``(X, y)``: ``X`` float64 (rows × features), ``y`` int64 class labels.  A file
that does not hold what it should is a :class:`SSLDataError` naming the file and, where there is one,
the line (1-based, as a text editor counts it) and the column.

Features are scaled as the semi-supervised papers use these sets (Belkin, Niyogi & Sindhwani 2006;
Sindhwani, Niyogi & Belkin 2005), by fixed ranges that need no statistics of the data:

* **USPS** (``usps.h5``, Hull 1994): 16 × 16 grey levels, already in [0, 1] in this file; train
  (7,291) and test (2,007) are joined into one set of 9,298 digits.
* **MNIST** (``mnist_5k.csv.gz``, LeCun et al. 1998): 28 × 28 pixels 0–255 divided by 255; label in
  the last column, no header; only 500 images per digit exist in this subset, so MNIST pairs have
  500 per class, not the 700 of the USPS pairs.
* **Breast cancer** (``breast-cancer-wisconsin.data``, Wolberg & Mangasarian 1990): one header line,
  the sample id in the first column (not a feature), nine cytology scores 1–10 mapped to [0, 1] by
  ``(x − 1) / 9``, class 2 (benign) → 0 and 4 (malignant) → 1.  The 16 rows with a ``?`` (missing
  "bare nuclei") are dropped, leaving 683.
* **DNA** (``dna.scale`` / ``dna.scale.t``, Statlog, Michie et al. 1994): LIBSVM format, 180 binary
  features as they are, classes 1, 2, 3 → 0, 1, 2; 2,000 training and 1,186 test rows.

:func:`pair` picks two digits (e.g. 3 vs 8) with a fixed number per class, drawn with a fixed seed.

>>> x = np.arange(12.0).reshape(6, 2); y = np.array([1, 7, 1, 7, 3, 1])
>>> xp, yp = pair(x, y, 1, 7, per_class=2, seed=0)
>>> sorted(yp.tolist())
[1, 1, 7, 7]
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from learnsight.errors import LearnsightError
from learnsight.models.semisupervised._base import UNLABELLED
from learnsight.settings import get_settings

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

USPS_FILE: Final = "usps.h5"
MNIST_FILE: Final = "mnist_5k.csv.gz"
BREAST_FILE: Final = "breast-cancer-wisconsin.data"
DNA_TRAIN_FILE: Final = "dna.scale"
DNA_TEST_FILE: Final = "dna.scale.t"
DNA_FEATURES: Final = 180


class SSLDataError(LearnsightError):
    """A dataset or CSV file is missing or malformed; the message names the file, line and column."""

    def __init__(self, file: str | Path, message: str, *, line: int | None = None) -> None:
        self.file = str(file)
        self.line = line
        where = f"{self.file}:{line}" if line is not None else self.file
        super().__init__(f"{where}: {message}")


def ssl_folder() -> Path:
    """``$LEARNSIGHT_DATA/ssl`` (see :mod:`learnsight.settings`)."""
    return get_settings().data / "ssl"


def _path(path: str | Path | None, name: str) -> Path:
    p = Path(path) if path is not None else ssl_folder() / name
    if not p.is_file():
        raise SSLDataError(p, "file not found (set LEARNSIGHT_DATA to the folder holding ssl/)")
    return p


def _finite(path: Path, x: FloatArray, what: str = "features") -> None:
    bad = ~np.isfinite(x)
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        raise SSLDataError(path, f"{what}: non-finite value at row {row}, column {col}")


# --------------------------------------------------------------------------------------------------
# the benchmark files


def load_usps(path: str | Path | None = None) -> tuple[FloatArray, IntArray]:
    """USPS digits, train then test (9,298 × 256 in [0, 1]; labels 0–9), from the HDF5 datasets
    ``train/data``, ``train/target``, ``test/data`` and ``test/target``."""
    import h5py  # type: ignore[import-untyped]

    p = _path(path, USPS_FILE)
    parts: list[tuple[FloatArray, IntArray]] = []
    try:
        with h5py.File(p, "r") as f:
            for split in ("train", "test"):
                for key in (f"{split}/data", f"{split}/target"):
                    if key not in f:
                        raise SSLDataError(p, f"no HDF5 dataset {key!r} (has: {', '.join(_h5_keys(f))})")
                x = np.asarray(f[f"{split}/data"][()], dtype=np.float64)
                y_raw = np.asarray(f[f"{split}/target"][()])
                parts.append(_usps_part(p, split, x, y_raw))
    except OSError as exc:
        raise SSLDataError(p, f"unreadable HDF5 file: {exc}") from exc
    return np.vstack([x for x, _ in parts]), np.concatenate([y for _, y in parts])


def _h5_keys(group: Any, prefix: str = "") -> list[str]:
    out: list[str] = []
    for name, item in group.items():
        if hasattr(item, "items"):
            out.extend(_h5_keys(item, f"{prefix}{name}/"))
        else:
            out.append(f"{prefix}{name}")
    return out


def _usps_part(p: Path, split: str, x: FloatArray, y_raw: NDArray[Any]) -> tuple[FloatArray, IntArray]:
    if x.ndim != 2 or x.shape[1] != 256:
        raise SSLDataError(p, f"dataset '{split}/data': expected rows × 256, got shape {x.shape}")
    if y_raw.shape != (x.shape[0],):
        raise SSLDataError(
            p, f"dataset '{split}/target': expected {x.shape[0]} labels, got shape {y_raw.shape}"
        )
    _finite(p, x, f"dataset '{split}/data'")
    y = y_raw.astype(np.int64)
    if not np.array_equal(y, y_raw) or y.min() < 0 or y.max() > 9:
        raise SSLDataError(p, f"dataset '{split}/target': labels must be the digits 0–9")
    return x, y


def load_mnist(path: str | Path | None = None) -> tuple[FloatArray, IntArray]:
    """The 5,000-image MNIST subset (pixels / 255, labels 0–9 from the last column)."""
    p = _path(path, MNIST_FILE)
    try:
        with gzip.open(p, "rt", encoding="ascii") as f:
            lines = f.read().splitlines()
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise SSLDataError(p, f"unreadable gzip CSV: {exc}") from exc
    rows = [line for line in lines if line.strip()]
    if not rows:
        raise SSLDataError(p, "empty file")
    try:
        data = np.loadtxt(io.StringIO("\n".join(rows)), delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError:
        _raise_first_bad_line(p, lines, expected=785)
        raise  # unreachable: the scan above always raises
    if data.shape[1] != 785:
        raise SSLDataError(p, f"expected 785 columns (784 pixels and the label), got {data.shape[1]}")
    x, y_raw = data[:, :-1], data[:, -1]
    _finite(p, x)
    if not np.all((y_raw >= 0) & (y_raw <= 9) & (y_raw == np.round(y_raw))):
        line = _line_of_row(
            lines, int(np.argmax(~((y_raw >= 0) & (y_raw <= 9) & (y_raw == np.round(y_raw)))))
        )
        raise SSLDataError(p, "column 785 (label): expected a digit 0–9", line=line)
    if x.min() < 0 or x.max() > 255:
        raise SSLDataError(p, "pixel values must lie in 0–255")
    return x / 255.0, y_raw.astype(np.int64)


def _line_of_row(lines: list[str], row: int) -> int:
    """1-based line of the ``row``-th non-blank line."""
    seen = -1
    for number, line in enumerate(lines, start=1):
        if line.strip():
            seen += 1
            if seen == row:
                return number
    return len(lines)


def _raise_first_bad_line(path: Path, lines: list[str], *, expected: int) -> None:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        cells = line.split(",")
        if len(cells) != expected:
            raise SSLDataError(
                path, f"expected {expected} comma-separated fields, got {len(cells)}", line=number
            )
        for column, cell in enumerate(cells, start=1):
            try:
                float(cell)
            except ValueError:
                raise SSLDataError(path, f"column {column}: {cell!r} is not a number", line=number) from None
    raise SSLDataError(path, "unreadable CSV")


BREAST_HEADER: Final = 11
"""Fields per line of the breast-cancer file: id, nine scores, class."""


def load_breast_cancer(path: str | Path | None = None) -> tuple[FloatArray, IntArray]:
    """Wisconsin breast cancer: 683 complete rows × 9 scores mapped to [0, 1]; 0 benign, 1 malignant.

    Rows with a ``?`` are dropped (the documented 16); any other non-number, a score outside 1–10 or
    a class other than 2/4 is an error naming the line.
    """
    p = _path(path, BREAST_FILE)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SSLDataError(p, f"unreadable: {exc}") from exc
    lines = text.splitlines()
    if not lines or not lines[0].lower().startswith("id,"):
        raise SSLDataError(p, "expected a header line starting with 'id,'", line=1)
    xs: list[list[float]] = []
    ys: list[int] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = [c.strip() for c in line.split(",")]
        if len(cells) != BREAST_HEADER:
            raise SSLDataError(p, f"expected {BREAST_HEADER} fields, got {len(cells)}", line=number)
        if "?" in cells[1:10]:
            continue
        row: list[float] = []
        for column, cell in enumerate(cells[1:10], start=2):
            try:
                value = float(cell)
            except ValueError:
                raise SSLDataError(p, f"column {column}: {cell!r} is not a number", line=number) from None
            if not 1 <= value <= 10:
                raise SSLDataError(p, f"column {column}: {cell!r} is outside the scores 1–10", line=number)
            row.append((value - 1.0) / 9.0)
        if cells[10] not in ("2", "4"):
            raise SSLDataError(p, f"column 11 (class): expected 2 or 4, got {cells[10]!r}", line=number)
        xs.append(row)
        ys.append(0 if cells[10] == "2" else 1)
    if not xs:
        raise SSLDataError(p, "no complete rows")
    return np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.int64)


def load_dna(path: str | Path | None = None, *, test: bool = False) -> tuple[FloatArray, IntArray]:
    """Statlog DNA: ``dna.scale`` (2,000 rows), or ``dna.scale.t`` (1,186) with ``test=True``;
    180 binary features; classes 1, 2, 3 → 0, 1, 2."""
    from sklearn.datasets import load_svmlight_file  # type: ignore[import-untyped]

    p = _path(path, DNA_TEST_FILE if test else DNA_TRAIN_FILE)
    try:
        sparse_x, y_raw = load_svmlight_file(str(p), n_features=DNA_FEATURES)
    except (ValueError, RuntimeError, IndexError) as exc:
        _raise_bad_svmlight_line(p, DNA_FEATURES)
        raise SSLDataError(p, f"not LIBSVM format: {exc}") from exc
    x = np.asarray(sparse_x.toarray(), dtype=np.float64)
    _finite(p, x)
    bad = ~np.isin(y_raw, (1.0, 2.0, 3.0))
    if bad.any():
        raise SSLDataError(p, f"class must be 1, 2 or 3, got {y_raw[bad][0]:g}", line=int(np.argmax(bad)) + 1)
    return x, (y_raw - 1).astype(np.int64)


def _raise_bad_svmlight_line(path: Path, n_features: int) -> None:
    """Find the first malformed LIBSVM line and raise an error naming it (returns when none)."""
    with path.open(encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, start=1):
            parts = line.split("#", 1)[0].split()
            if not parts:
                continue
            try:
                float(parts[0])
            except ValueError:
                raise SSLDataError(path, f"label {parts[0]!r} is not a number", line=number) from None
            for item in parts[1:]:
                index, sep, value = item.partition(":")
                try:
                    ok = bool(sep) and 1 <= int(index) <= n_features and math.isfinite(float(value))
                except ValueError:
                    ok = False
                if not ok:
                    raise SSLDataError(
                        path,
                        f"bad feature {item!r} (expected index:value, index 1–{n_features})",
                        line=number,
                    )


def pair(
    x: FloatArray, y: IntArray, first: int, second: int, *, per_class: int, seed: int = 0
) -> tuple[FloatArray, IntArray]:
    """``per_class`` rows of digit ``first`` then ``per_class`` of ``second``, drawn without
    replacement with ``seed``; the labels stay the digits."""
    rng = np.random.default_rng(seed)
    picked: list[NDArray[np.intp]] = []
    for digit in (first, second):
        rows = np.flatnonzero(y == digit)
        if len(rows) < per_class:
            raise LearnsightError(
                f"pair {first}v{second}: only {len(rows)} samples of {digit}, need {per_class}"
            )
        picked.append(np.sort(rng.choice(rows, per_class, replace=False)))
    index = np.concatenate(picked)
    return x[index], y[index]


# --------------------------------------------------------------------------------------------------
# user CSV files (learnsight ssl fit / predict)


@dataclass(frozen=True)
class CsvTable:
    """A CSV read for semi-supervised fitting or prediction.

    ``x`` holds the feature columns (``features``, in file order); ``labels`` the raw label cells
    (``""`` when unlabelled; empty when no label column was asked); ``ids`` the id column's cells
    (empty without one); ``lines`` the 1-based file line of each row.
    """

    path: Path
    features: list[str]
    x: FloatArray
    labels: list[str]
    ids: list[str]
    lines: list[int]


def _open_text(path: Path) -> Any:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")


def csv_columns(path: str | Path) -> list[str]:
    """The column names of the CSV ``path`` (its header line)."""
    p = Path(path)
    if not p.is_file():
        raise SSLDataError(p, "file not found")
    try:
        with _open_text(p) as f:
            header = next(csv.reader(f), None)
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
        raise SSLDataError(p, f"unreadable CSV: {exc}") from exc
    return [h.strip() for h in header or []]


def read_csv_table(
    path: str | Path,
    *,
    label: str | None = None,
    id_column: str | None = None,
    features: list[str] | None = None,
) -> CsvTable:
    """Read ``path``: a header line, then one row per sample.

    The feature columns are ``features`` when given (each must exist; other columns are ignored),
    otherwise every column but ``label`` and ``id_column``.  Every feature cell must be a finite
    number: an empty cell, ``nan``, ``inf`` or text is an error naming the line and column.
    """
    p = Path(path)
    if not p.is_file():
        raise SSLDataError(p, "file not found")
    try:
        with _open_text(p) as f:
            reader = csv.reader(f)
            header = next(reader, None)
            rows = [(reader.line_num, row) for row in reader]
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
        raise SSLDataError(p, f"unreadable CSV: {exc}") from exc
    if header is None or not any(h.strip() for h in header):
        raise SSLDataError(p, "empty file (expected a header line)", line=1)
    header = [h.strip() for h in header]
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise SSLDataError(p, f"duplicated column name(s) {', '.join(map(repr, duplicated))}", line=1)
    for name, option in ((label, "label"), (id_column, "id")):
        if name is not None and name not in header:
            raise SSLDataError(p, f"no {option} column {name!r} (columns: {', '.join(header)})", line=1)
    if features is None:
        features = [h for h in header if h not in (label, id_column)]
    else:
        missing = [f for f in features if f not in header]
        if missing:
            raise SSLDataError(p, f"feature column {missing[0]!r} is missing (the model needs it)", line=1)
    if not features:
        raise SSLDataError(p, "no feature column", line=1)
    feature_index = [header.index(f) for f in features]
    x = np.empty((len(rows), len(features)), dtype=np.float64)
    labels: list[str] = []
    ids: list[str] = []
    lines: list[int] = []
    kept = 0
    for line, row in rows:
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise SSLDataError(p, f"expected {len(header)} fields, got {len(row)}", line=line)
        for j, index in enumerate(feature_index):
            cell = row[index].strip()
            try:
                value = float(cell)
            except ValueError:
                what = "empty" if not cell else f"{cell!r} is not a number"
                raise SSLDataError(p, f"column {features[j]!r}: {what}", line=line) from None
            if not math.isfinite(value):
                raise SSLDataError(p, f"column {features[j]!r}: non-finite value {cell!r}", line=line)
            x[kept, j] = value
        if label is not None:
            labels.append(row[header.index(label)].strip())
        if id_column is not None:
            ids.append(row[header.index(id_column)].strip())
        lines.append(line)
        kept += 1
    if kept == 0:
        raise SSLDataError(p, "no data rows after the header")
    return CsvTable(p, list(features), x[:kept], labels, ids, lines)


def encode_labels(
    table: CsvTable, label: str, classes: list[str] | None = None
) -> tuple[IntArray, list[str]]:
    """Labels of ``table`` as ints (``-1`` for an empty cell) and the class names, in code order.

    Errors name the file: every row labelled (nothing to learn from), no row labelled, a single
    labelled class, a label outside ``classes`` (with its line) or a class of ``classes`` with no
    labelled row.
    """
    given = [v for v in table.labels if v]
    if not given:
        raise SSLDataError(table.path, f"column {label!r}: no row has a label")
    if len(given) == len(table.labels):
        raise SSLDataError(
            table.path,
            f"column {label!r}: every row has a label; semi-supervised fitting needs unlabelled rows "
            "(leave their label cell empty)",
        )
    names = sorted(set(given), key=_natural) if classes is None else list(classes)
    if len(set(names)) != len(names):
        raise LearnsightError(f"--classes: duplicated class names in {names}")
    code = {name: i for i, name in enumerate(names)}
    y = np.full(len(table.labels), UNLABELLED, dtype=np.int64)
    for i, value in enumerate(table.labels):
        if not value:
            continue
        if value not in code:
            raise SSLDataError(
                table.path,
                f"column {label!r}: label {value!r} is not one of the classes {', '.join(names)}",
                line=table.lines[i],
            )
        y[i] = code[value]
    counts = np.bincount(y[y >= 0], minlength=len(names))
    for name, count in zip(names, counts, strict=True):
        if count == 0:
            raise SSLDataError(table.path, f"column {label!r}: class {name!r} has no labelled row")
    if len(names) < 2:
        raise SSLDataError(
            table.path, f"column {label!r}: only one class ({names[0]!r}) is labelled; need two"
        )
    return y, names


def _natural(name: str) -> tuple[int, float, str]:
    """Numbers in numeric order, before names in alphabetical order."""
    try:
        return (0, float(name), name)
    except ValueError:
        return (1, 0.0, name)


__all__ = [
    "UNLABELLED",
    "CsvTable",
    "SSLDataError",
    "csv_columns",
    "encode_labels",
    "load_breast_cancer",
    "load_dna",
    "load_mnist",
    "load_usps",
    "pair",
    "read_csv_table",
    "ssl_folder",
]
