"""`learnsight ssl benchmark | fit | predict` on the real breast-cancer data, and their bad inputs."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from learnsight.cli import app
from learnsight.errors import LearnsightError
from learnsight.models.semisupervised.datasets import load_breast_cancer

pytestmark = pytest.mark.realdata
runner = CliRunner()
FEATURES = ["clump", "size", "shape", "adhesion", "epith", "nuclei", "chromatin", "nucleoli", "mitoses"]
NAMES = {0: "benign", 1: "malignant"}


@pytest.fixture
def breast_csvs(ssl_dir: Path, tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """A training CSV (id, 9 features, diagnosis; 1 row in 10 labelled) of 600 rows, a CSV of the
    other 83 rows without the label, and the true label of every id."""
    x, y = load_breast_cancer(ssl_dir / "breast-cancer-wisconsin.data")
    order = np.random.default_rng(5).permutation(len(y))
    truth = {f"p{i:03d}": NAMES[int(y[i])] for i in range(len(y))}
    train, new = tmp_path / "train.csv", tmp_path / "new.csv"
    with train.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", *FEATURES, "diagnosis"])
        for k, i in enumerate(order[:600]):
            w.writerow([f"p{i:03d}", *x[i].round(4), truth[f"p{i:03d}"] if k % 10 == 0 else ""])
    with new.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", *FEATURES])
        for i in order[600:]:
            w.writerow([f"p{i:03d}", *x[i].round(4)])
    return train, new, truth


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_fit_then_predict_labels_rows_accurately(
    breast_csvs: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    train, new, truth = breast_csvs
    model = tmp_path / "model"
    done = runner.invoke(
        app, ["ssl", "fit", str(train), "--label", "diagnosis", "--model", str(model), "--id", "id", "--json"]
    )
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)
    assert summary["method"] == "lapsvm" and summary["rows"] == 600
    assert set(summary["labelled"]) == {"benign", "malignant"}
    assert sum(summary["labelled"].values()) == 60 and sum(summary["predicted"].values()) == 540
    assert {p.name for p in model.iterdir()} >= {"model.joblib", "metadata.json", "labels.csv", "report.html"}
    meta = json.loads((model / "metadata.json").read_text())
    assert meta["scheme"] == "semi-supervised" and meta["classes"] == ["benign", "malignant"]
    assert meta["feature_names"] == FEATURES
    labels = _rows(model / "labels.csv")
    assert len(labels) == 600 and labels[0]["line"] == "2"
    unlabelled = [r for r in labels if not r["given"]]
    assert all(r["label"] == r["given"] for r in labels if r["given"])
    assert all(0.0 <= float(r["probability"]) <= 1.0 for r in labels)
    assert np.mean([r["label"] == truth[r["id"]] for r in unlabelled]) > 0.9
    assert "Confidence of the new labels" in (model / "report.html").read_text()

    out = tmp_path / "pred.csv"
    done = runner.invoke(
        app, ["ssl", "predict", str(new), "--model", str(model), "--out", str(out), "--json"]
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["rows"] == 83
    predicted = _rows(out)
    assert [r["line"] for r in predicted[:2]] == ["2", "3"] and "id" in predicted[0]
    assert np.mean([r["label"] == truth[r["id"]] for r in predicted]) > 0.9


def test_fit_multikernel_reports_kernel_weights(
    breast_csvs: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    train, _, _ = breast_csvs
    out = tmp_path / "outputs"
    done = runner.invoke(
        app,
        ["ssl", "fit", str(train), "--label", "diagnosis", "--model", str(tmp_path / "mk"), "--id", "id",
         "--method", "mk-lapsvm", "--out", str(out), "--json"],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)
    assert summary["kernel_weights"] and all("|" in k for k in summary["kernel_weights"])
    assert (out / "labels.csv").exists() and "Kernel weights" in (out / "report.html").read_text()


def test_benchmark_command_writes_json_and_html(ssl_dir: Path, tmp_path: Path) -> None:
    done = runner.invoke(
        app,
        ["ssl", "benchmark", "--datasets", "breast", "--methods", "svm,deformed-svm", "--splits", "2",
         "--out", str(tmp_path), "--data", str(ssl_dir), "--json"],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert list(data["datasets"]) == ["breast"] and list(data["methods"]) == ["svm", "deformed_svm"]
    assert json.loads((tmp_path / "ssl-benchmark.json").read_text())["protocol"]["splits"] == 2
    assert "Wisconsin breast cancer" in (tmp_path / "ssl-benchmark.html").read_text()
    args = ["--datasets", "breast", "--methods", "svm", "--splits", "1", "--out", str(tmp_path)]
    done = runner.invoke(app, ["ssl", "benchmark", *args, "--data", str(ssl_dir)], env={"COLUMNS": "200"})
    assert done.exit_code == 0 and "breast" in done.stdout and "96.0" in done.stdout  # the floor column


def _fit_error(csv_path: Path, tmp_path: Path, *extra: str) -> str:
    done = runner.invoke(
        app, ["ssl", "fit", str(csv_path), "--label", "diagnosis", "--model", str(tmp_path / "m"), *extra]
    )
    assert done.exit_code != 0 and isinstance(done.exception, LearnsightError), done.output
    return str(done.exception)


def _edit(path: Path, line: int, old: str, new: str) -> Path:
    lines = path.read_text().splitlines()
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("cell", "message"),
    [("nan", "non-finite value 'nan'"), ("inf", "non-finite value 'inf'"), ("big", "'big' is not a number")],
)
def test_bad_feature_cell_names_file_line_and_column(
    breast_csvs: tuple[Path, Path, dict[str, str]], tmp_path: Path, cell: str, message: str
) -> None:
    train, _, _ = breast_csvs
    first = train.read_text().splitlines()[6].split(",")[1]
    bad = _edit(train, 7, f",{first},", f",{cell},")
    text = _fit_error(bad, tmp_path, "--id", "id")
    assert re.search(rf"{re.escape(str(bad))}:7: column 'clump': {re.escape(message)}", text), text


def test_label_problems_are_clear_errors(
    breast_csvs: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    train, _, _ = breast_csvs
    text = _fit_error(train, tmp_path, "--id", "id", "--classes", "benign,malignant,borderline")
    assert f"{train}: column 'diagnosis': class 'borderline' has no labelled row" in text
    assert "no label column 'diagnosis'" in _fit_error(breast_csvs[1], tmp_path, "--id", "id")
    full = tmp_path / "full.csv"
    full.write_text("a,b,diagnosis\n1,2,benign\n2,1,malignant\n3,3,benign\n")
    assert f"{full}: column 'diagnosis': every row has a label" in _fit_error(full, tmp_path)
    assert f"{train}:2: column 'id': 'p" in _fit_error(train, tmp_path)  # an id column left as a feature
    done = runner.invoke(
        app,
        [
            "ssl",
            "fit",
            str(train),
            "--label",
            "diagnosis",
            "--model",
            str(tmp_path / "m"),
            "--method",
            "tsvm",
        ],
    )
    assert isinstance(done.exception, LearnsightError) and "--method: unknown method 'tsvm'" in str(
        done.exception
    )


def test_predict_needs_the_model_features(
    breast_csvs: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    train, new, _ = breast_csvs
    model = tmp_path / "svm-model"
    done = runner.invoke(app, ["ssl", "fit", str(train), "--label", "diagnosis", "--model", str(model),
                               "--id", "id", "--method", "svm"])  # fmt: skip
    assert done.exit_code == 0, done.output
    lines = new.read_text().splitlines()
    cut = tmp_path / "cut.csv"
    cut.write_text("\n".join(",".join(line.split(",")[:-1]) for line in lines) + "\n")
    done = runner.invoke(
        app, ["ssl", "predict", str(cut), "--model", str(model), "--out", str(tmp_path / "p.csv")]
    )
    assert isinstance(done.exception, LearnsightError)
    assert f"{cut}:1: feature column 'mitoses' is missing" in str(done.exception)
    out = tmp_path / "p.csv"
    done = runner.invoke(app, ["ssl", "predict", str(new), "--model", str(model), "--out", str(out)])
    assert done.exit_code == 0 and _rows(out)[0]["probability"] == ""  # a plain SVM has no probabilities
