"""``learnsight ssl …``: semi-supervised labelling (SPEC §6, :mod:`learnsight.models.semisupervised`).

* ``ssl benchmark [--datasets --methods --splits --out DIR]`` — the benchmark protocol of
  :mod:`~learnsight.models.semisupervised.benchmark` on the shared datasets; writes
  ``ssl-benchmark.json`` and ``ssl-benchmark.html`` into DIR;
* ``ssl fit CSV --label COLUMN --model DIR [--method lapsvm|mk-lapsvm]`` — fit on a CSV whose label
  cell is empty for unlabelled rows; saves the model (:mod:`learnsight.models.persist`) and writes
  ``labels.csv`` (every row's label, given or inferred, with its probability) and ``report.html``;
* ``ssl predict CSV --model DIR --out PRED.csv`` — label new rows with a fitted model.

A bad CSV (missing label column, non-numeric or non-finite feature, every row labelled, a class of
``--classes`` without a labelled row) is one error line naming the file, line and column.
"""

from __future__ import annotations

import csv
import json
import time
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table

from learnsight import progress
from learnsight.commands.common import JsonFlag, console, err_console
from learnsight.errors import LearnsightError

ssl_app = typer.Typer(
    help="Semi-supervised labelling: benchmark the methods, fit on a partly labelled CSV, predict.",
    no_args_is_help=True,
)

SCHEME = "semi-supervised"
"""``ModelMetadata.scheme`` of the models ``ssl fit`` saves."""
BENCHMARK_STEM = "ssl-benchmark"
SCALERS = ("standard", "minmax", "none")


@ssl_app.command("benchmark")
def benchmark(
    out: Annotated[Path, typer.Option("--out", help="Folder for ssl-benchmark.json and .html.")] = Path(
        "out/ssl-benchmark"
    ),
    datasets: Annotated[
        str,
        typer.Option(
            "--datasets",
            help="Comma-separated: usps-1v7 … mnist-2v3, breast, dna, or the groups all, usps, mnist.",
        ),
    ] = "all",
    methods: Annotated[
        str | None,
        typer.Option(
            "--methods",
            help="Comma-separated: svm, label_spreading, self_training, deformed_svm, lapsvm, mk_lapsvm "
            "(default: every one that imports).",
        ),
    ] = None,
    splits: Annotated[
        int, typer.Option("--splits", help="Random labelled/unlabelled splits (seeds 0…n-1).")
    ] = 20,
    n_jobs: Annotated[int, typer.Option("--n-jobs", help="Worker processes (1: no parallelism).")] = 1,
    data: Annotated[
        Path | None, typer.Option("--data", help="The ssl datasets folder (default: $LEARNSIGHT_DATA/ssl).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Run the semi-supervised benchmark protocol; write a JSON and an HTML report."""
    from learnsight.models.semisupervised.benchmark import run_benchmark
    from learnsight.report.ssl import write_benchmark_report

    progress.enable(err_console)
    try:
        result = run_benchmark(datasets, methods, splits, folder=data, n_jobs=n_jobs)
    finally:
        progress.disable()
    data_dict = result.to_dict()
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / f"{BENCHMARK_STEM}.json"
    json_path.write_text(json.dumps(data_dict, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    html_path = write_benchmark_report(data_dict, out / f"{BENCHMARK_STEM}.html")
    if as_json:
        print(json.dumps(data_dict, allow_nan=False))
        return
    _print_benchmark(data_dict)
    for name, reason in data_dict["skipped_methods"].items():
        err_console.print(f"[yellow]skipped[/] {name}: {reason}", highlight=False)
    console.print(f"written: {json_path}, {html_path} ({data_dict['seconds']:.0f} s)")


def _print_benchmark(data: dict[str, Any]) -> None:
    methods = list(data["methods"])
    view = Table(title=f"transductive accuracy, mean ± sd over {data['protocol']['splits']} splits")
    view.add_column("dataset")
    view.add_column("floor", justify="right")
    for m in methods:
        view.add_column(m, justify="right")
    view.add_column("target")
    for name, entry in data["datasets"].items():
        cells = []
        for m in methods:
            stats = entry["methods"][m]["transductive"]
            if stats["mean"] is None:
                cells.append("failed" if entry["methods"][m]["errors"] else "-")
                continue
            sd = "" if stats["sd"] is None else f" ± {100 * stats['sd']:.1f}"
            mark = "[bold]" if m == entry["best_method"] else ""
            cells.append(f"{mark}{100 * stats['mean']:.1f}{sd}")
        target = entry["target"]
        met = {True: "[green]met[/]", False: "[red]not met[/]", None: "-"}[target["met"]]
        floor = "-" if entry["floor"] is None else f"{100 * entry['floor']:.1f}"
        view.add_row(name, floor, *cells, met)
    console.print(view)


# --------------------------------------------------------------------------------------------------
# fit / predict


def _method_name(method: str) -> str:
    from learnsight.models.semisupervised.benchmark import METHODS

    key = method.strip().replace("-", "_")
    if key not in METHODS:
        known = ", ".join(m.replace("_", "-") for m in METHODS)
        raise LearnsightError(f"--method: unknown method {method!r} (known: {known})")
    reason = METHODS[key].available()
    if reason is not None:
        raise LearnsightError(f"--method: {method} is not available ({reason})")
    return key


def _pipeline(method: str, scale: str) -> Any:
    from sklearn.pipeline import Pipeline  # type: ignore[import-untyped]
    from sklearn.preprocessing import MinMaxScaler, StandardScaler  # type: ignore[import-untyped]

    from learnsight.models.semisupervised.benchmark import METHODS

    if scale not in SCALERS:
        raise LearnsightError(f"--scale: expected one of {', '.join(SCALERS)}, got {scale!r}")
    estimator = METHODS[method].build()
    if scale == "none":
        return Pipeline([("model", estimator)])
    scaler = StandardScaler() if scale == "standard" else MinMaxScaler()
    return Pipeline([("scale", scaler), ("model", estimator)])


def _probabilities(model: Any, x: Any, codes: Any) -> list[float | None]:
    """Probability of the class ``codes[i]`` for each row, or Nones when the model has none."""
    if not hasattr(model, "predict_proba"):
        return [None] * len(codes)
    try:
        proba = np.asarray(model.predict_proba(x), dtype=np.float64)
    except (AttributeError, NotImplementedError):
        return [None] * len(codes)
    classes = list(np.asarray(model.classes_).tolist())
    column = np.array([classes.index(c) for c in np.asarray(codes).tolist()])
    return [float(p) for p in proba[np.arange(len(codes)), column]]


@ssl_app.command("fit")
def fit(
    csv_path: Annotated[
        Path, typer.Argument(help="CSV with a header; an empty label cell marks an unlabelled row.")
    ],
    label: Annotated[str, typer.Option("--label", help="The label column.")],
    model: Annotated[Path, typer.Option("--model", help="Folder to save the fitted model in.")],
    method: Annotated[
        str,
        typer.Option("--method", help="lapsvm or mk-lapsvm (or a benchmark baseline: svm, deformed-svm …)."),
    ] = "lapsvm",
    id_column: Annotated[
        str | None,
        typer.Option("--id", help="A column that identifies rows (not a feature; copied to outputs)."),
    ] = None,
    classes: Annotated[
        str | None,
        typer.Option("--classes", help="Comma-separated class names; each needs at least one labelled row."),
    ] = None,
    scale: Annotated[
        str, typer.Option("--scale", help="Feature scaling fitted on all rows: standard, minmax or none.")
    ] = "standard",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for labels.csv and report.html (default: the model folder)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Fit a semi-supervised model on a partly labelled CSV; label its unlabelled rows."""
    from learnsight.files import sha256_file
    from learnsight.models.persist import ModelBundle, ModelMetadata, model_params, save_model
    from learnsight.models.semisupervised.datasets import encode_labels, read_csv_table
    from learnsight.report.ssl import fit_report

    name = _method_name(method)
    pipeline = _pipeline(name, scale)
    class_list = [c.strip() for c in classes.split(",") if c.strip()] if classes else None
    progress.enable(err_console)
    try:
        with progress.task(f"reading {csv_path.name}"):
            table = read_csv_table(csv_path, label=label, id_column=id_column)
            y, names = encode_labels(table, label, class_list)
        with progress.task(f"fitting {name} on {len(y):,} rows ({int(np.sum(y >= 0)):,} labelled)"):
            start = time.perf_counter()
            pipeline.fit(table.x, y)
            seconds = time.perf_counter() - start
        estimator = pipeline.named_steps["model"]
        codes = np.asarray(estimator.transduction_).astype(np.int64)
        probability = _probabilities(pipeline, table.x, codes)
    finally:
        progress.disable()
    unlabelled = y < 0
    weights = getattr(estimator, "kernel_weights_", None)
    metadata = ModelMetadata(
        model=name,
        target=label,
        kind="classification",
        classes=names,
        feature_names=table.features,
        groups=[],
        interim_grades=False,
        as_of="all",
        scheme=SCHEME,
        data_fingerprint=sha256_file(table.path),
        rows=len(y),
        tasks=[],
        params={"scale": scale, **model_params(estimator)},
        metrics={
            "labelled": {
                names[c]: int(n) for c, n in enumerate(np.bincount(y[y >= 0], minlength=len(names)))
            },
            "unlabelled": int(unlabelled.sum()),
            "fit_seconds": round(seconds, 3),
            "id_column": id_column,
            "kernel_weights": weights if isinstance(weights, dict) else None,
        },
    )
    save_model(ModelBundle(pipeline, metadata), model)
    folder = out if out is not None else model
    folder.mkdir(parents=True, exist_ok=True)
    labels_csv = folder / "labels.csv"
    _write_rows(
        labels_csv,
        ["line", *([id_column] if id_column else []), "given", "label", "probability"],
        (
            [
                table.lines[i],
                *([table.ids[i]] if id_column else []),
                table.labels[i],
                names[codes[i]],
                _round(probability[i]),
            ]
            for i in range(len(y))
        ),
    )
    summary: dict[str, Any] = {
        "csv": str(csv_path),
        "method": name,
        "model": str(model),
        "rows": len(y),
        "features": table.features,
        "labelled": metadata.metrics["labelled"],
        "predicted": dict(Counter(names[c] for c in codes[unlabelled])),
        "confidence": [probability[i] for i in np.flatnonzero(unlabelled)],
        "kernel_weights": metadata.metrics["kernel_weights"],
        "params": metadata.params,
        "seconds": seconds,
    }
    report = fit_report(summary).write(folder / "report.html")
    if as_json:
        short = {k: v for k, v in summary.items() if k not in ("confidence", "features")}
        short |= {"labels_csv": str(labels_csv), "report": str(report)}
        print(json.dumps(short, default=str))
        return
    view = Table(title=f"{name} on {csv_path.name}: {len(y):,} rows, {int(unlabelled.sum()):,} unlabelled")
    for column in ("class", "labelled", "labelled here"):
        view.add_column(column, justify="right" if column != "class" else "left")
    for n in names:
        view.add_row(n, f"{summary['labelled'].get(n, 0):,}", f"{summary['predicted'].get(n, 0):,}")
    console.print(view)
    console.print(f"model: {model}; labels: {labels_csv}; report: {report} ({seconds:.1f} s)")


@ssl_app.command("predict")
def predict(
    csv_path: Annotated[Path, typer.Argument(help="CSV with (at least) the model's feature columns.")],
    model: Annotated[Path, typer.Option("--model", help="A model folder written by `ssl fit`.")],
    out: Annotated[Path, typer.Option("--out", help="The CSV of predictions to write.")],
    id_column: Annotated[
        str | None,
        typer.Option("--id", help="Row id column to copy (default: the one used at fit, if present)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Label the rows of a CSV with a model fitted by `ssl fit`."""
    from learnsight.models.persist import load_model
    from learnsight.models.semisupervised.datasets import csv_columns, read_csv_table

    bundle = load_model(model)
    meta = bundle.metadata
    if meta.scheme != SCHEME:
        raise LearnsightError(f"{model}: not a model of `learnsight ssl fit` (scheme {meta.scheme!r})")
    if id_column is None:
        remembered = meta.metrics.get("id_column")
        if isinstance(remembered, str) and remembered:
            id_column = remembered if remembered in csv_columns(csv_path) else None
    progress.enable(err_console)
    try:
        with progress.task(f"labelling {csv_path.name}"):
            table = read_csv_table(csv_path, id_column=id_column, features=meta.feature_names)
            codes = np.asarray(bundle.model.predict(table.x)).astype(np.int64)
            probability = _probabilities(bundle.model, table.x, codes)
    finally:
        progress.disable()
    labels = [meta.classes[c] for c in codes]
    _write_rows(
        out,
        ["line", *([id_column] if id_column else []), "label", "probability"],
        (
            [table.lines[i], *([table.ids[i]] if id_column else []), labels[i], _round(probability[i])]
            for i in range(len(labels))
        ),
    )
    counts = dict(Counter(labels))
    if as_json:
        print(json.dumps({"model": str(model), "rows": len(labels), "out": str(out), "predicted": counts}))
        return
    console.print(
        f"{len(labels):,} rows labelled ({', '.join(f'{k} {v:,}' for k, v in sorted(counts.items()))}); "
        f"written to {out}"
    )


def _round(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _write_rows(path: Path, header: list[str], rows: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


__all__ = ["ssl_app"]
