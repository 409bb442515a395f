"""The semi-supervised benchmark files and the CSV reader of `ssl fit` (semisupervised.datasets)."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest

from learnsight.errors import LearnsightError
from learnsight.models.semisupervised import datasets as ds
from learnsight.models.semisupervised.benchmark import README_BASELINES, floor

pytestmark = pytest.mark.realdata


# --------------------------------------------------------------------------------------------------
# the real files


def test_usps_is_train_then_test_in_unit_range(ssl_dir: Path) -> None:
    x, y = ds.load_usps(ssl_dir / ds.USPS_FILE)
    assert x.shape == (9298, 256) and x.dtype == np.float64 and y.dtype == np.int64
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert np.bincount(y).tolist() == [1553, 1269, 929, 824, 852, 716, 834, 792, 708, 821]


def test_mnist_subset_has_500_per_digit_scaled_to_unit(ssl_dir: Path) -> None:
    x, y = ds.load_mnist(ssl_dir / ds.MNIST_FILE)
    assert x.shape == (5000, 784) and np.bincount(y).tolist() == [500] * 10
    assert x.min() == 0.0 and x.max() == 1.0


def test_breast_cancer_drops_the_16_incomplete_rows(ssl_dir: Path) -> None:
    x, y = ds.load_breast_cancer(ssl_dir / ds.BREAST_FILE)
    assert x.shape == (683, 9) and np.bincount(y).tolist() == [444, 239]
    assert x.min() == 0.0 and x.max() == 1.0  # scores 1-10 mapped by (x - 1) / 9


def test_dna_train_and_test_files(ssl_dir: Path) -> None:
    x, y = ds.load_dna(ssl_dir / ds.DNA_TRAIN_FILE)
    xt, yt = ds.load_dna(ssl_dir / ds.DNA_TEST_FILE, test=True)
    assert x.shape == (2000, 180) and xt.shape == (1186, 180)
    assert np.bincount(y).tolist() == [464, 485, 1051] and set(np.unique(yt)) == {0, 1, 2}
    assert set(np.unique(x)) <= {0.0, 1.0}


def test_pair_draws_a_fixed_sample_per_class(ssl_dir: Path) -> None:
    x, y = ds.load_usps(ssl_dir / ds.USPS_FILE)
    a, ya = ds.pair(x, y, 3, 8, per_class=700, seed=0)
    b, yb = ds.pair(x, y, 3, 8, per_class=700, seed=0)
    assert a.shape == (1400, 256) and np.bincount(ya)[[3, 8]].tolist() == [700, 700]
    assert np.array_equal(a, b) and np.array_equal(ya, yb)
    with pytest.raises(LearnsightError, match="only 708 samples of 8"):
        ds.pair(x, y, 3, 8, per_class=800)


def test_readme_floors_are_the_numbers_of_the_readme(ssl_dir: Path) -> None:
    """The hard-coded baselines are the README's; if the README changes, this test says so."""
    text = " ".join((ssl_dir.parent / "README.md").read_text(encoding="utf-8").split())
    usps = re.search(
        r"SVM on the labelled only ([\d./]+), LabelSpreading \(kNN\) ([\d./]+), self-training SVC ([\d./]+);",
        text,
    )
    assert usps is not None
    for group, method in zip(usps.groups(), ("svm", "label_spreading", "self_training"), strict=True):
        values = [float(v) / 100 for v in group.split("/")]
        for pair_name, value in zip(("1v7", "3v8", "4v7", "2v3"), values, strict=True):
            assert README_BASELINES[f"usps-{pair_name}"][method] == pytest.approx(value)
    assert "Breast (683): SVM 95.4, self-training 96.0" in text
    assert "DNA (2,000): SVM 82.3, self-training 88.2, LabelSpreading 65.9" in text
    assert floor("dna") == (0.882, "self_training") and floor("usps-3v8") == (0.97, "self_training")
    assert floor("breast") == (0.96, "self_training") and floor("mnist-1v7") == (None, None)


# --------------------------------------------------------------------------------------------------
# malformed benchmark files: the error names the file and the line


def _breast_lines(ssl_dir: Path, n: int = 5) -> list[str]:
    return (ssl_dir / ds.BREAST_FILE).read_text().splitlines()[:n]


def test_breast_bad_cell_names_file_line_and_column(ssl_dir: Path, tmp_path: Path) -> None:
    lines = _breast_lines(ssl_dir)
    bad = tmp_path / "breast.data"
    lines[3] = lines[3].replace(",", ",x", 1)
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(ds.SSLDataError, match=rf"{re.escape(str(bad))}:4: column 2: 'x\d+' is not a number"):
        ds.load_breast_cancer(bad)
    lines = _breast_lines(ssl_dir)
    lines[2] = lines[2].rsplit(",", 1)[0] + ",3"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        ds.SSLDataError, match=r"breast.data:3: column 11 \(class\): expected 2 or 4, got '3'"
    ):
        ds.load_breast_cancer(bad)
    bad.write_text("\n".join([*_breast_lines(ssl_dir), "1,2,3"]) + "\n")
    with pytest.raises(ds.SSLDataError, match=r"breast.data:6: expected 11 fields, got 3"):
        ds.load_breast_cancer(bad)
    bad.write_text("\n".join(_breast_lines(ssl_dir)[1:]) + "\n")
    with pytest.raises(ds.SSLDataError, match=r"breast.data:1: expected a header line"):
        ds.load_breast_cancer(bad)


def test_mnist_bad_cell_and_width_name_the_line(tmp_path: Path) -> None:
    good = ",".join(["0"] * 784 + ["3"])
    bad = tmp_path / "mnist.csv.gz"
    with gzip.open(bad, "wt") as f:
        f.write("\n".join([good, good, good.replace("0", "?", 1)]) + "\n")
    with pytest.raises(ds.SSLDataError, match=r"mnist.csv.gz:3: column 1: '\?' is not a number"):
        ds.load_mnist(bad)
    with gzip.open(bad, "wt") as f:
        f.write("\n".join([good, "1,2,3"]) + "\n")
    with pytest.raises(ds.SSLDataError, match=r"mnist.csv.gz:2: expected 785 comma-separated fields, got 3"):
        ds.load_mnist(bad)
    with gzip.open(bad, "wt") as f:
        f.write("\n".join([good, good[:-1] + "12"]) + "\n")
    with pytest.raises(ds.SSLDataError, match=r"mnist.csv.gz:2: column 785 \(label\)"):
        ds.load_mnist(bad)
    bad.write_bytes(b"not gzip")
    with pytest.raises(ds.SSLDataError, match="unreadable gzip CSV"):
        ds.load_mnist(bad)


def test_dna_bad_line_is_named(ssl_dir: Path, tmp_path: Path) -> None:
    lines = (ssl_dir / ds.DNA_TRAIN_FILE).read_text().splitlines()[:4]
    bad = tmp_path / "dna.scale"
    bad.write_text("\n".join([*lines[:2], lines[2] + " 181:1", lines[3]]) + "\n")
    with pytest.raises(ds.SSLDataError, match=r"dna.scale:3: bad feature '181:1'"):
        ds.load_dna(bad)
    bad.write_text("\n".join([*lines[:3], "5 " + lines[3].split(" ", 1)[1]]) + "\n")
    with pytest.raises(ds.SSLDataError, match=r"dna.scale:4: class must be 1, 2 or 3, got 5"):
        ds.load_dna(bad)


def test_usps_missing_dataset_and_missing_file(tmp_path: Path) -> None:
    import h5py

    bad = tmp_path / "usps.h5"
    with h5py.File(bad, "w") as f:
        f["train/data"] = np.zeros((3, 256))
        f["train/target"] = np.zeros(3, dtype=int)
    with pytest.raises(ds.SSLDataError, match=r"usps.h5: no HDF5 dataset 'test/data' \(has: train/data"):
        ds.load_usps(bad)
    with h5py.File(bad, "w") as f:
        for split in ("train", "test"):
            f[f"{split}/data"] = np.full((3, 256), np.nan)
            f[f"{split}/target"] = np.zeros(3, dtype=int)
    with pytest.raises(ds.SSLDataError, match=r"usps.h5: dataset 'train/data': non-finite value"):
        ds.load_usps(bad)
    with pytest.raises(ds.SSLDataError, match=r"nope.h5: file not found"):
        ds.load_usps(tmp_path / "nope.h5")


# --------------------------------------------------------------------------------------------------
# CSV files of `ssl fit` / `ssl predict`


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "students.csv"
    path.write_text(text)
    return path


GOOD = "id,a,b,grade\ns1,1.0,2.0,pass\ns2,0.5,1.5,\ns3,3.0,0.1,fail\ns4,2.0,2.0,\n"


def test_read_csv_table_splits_features_labels_and_ids(tmp_path: Path) -> None:
    table = ds.read_csv_table(_csv(tmp_path, GOOD), label="grade", id_column="id")
    assert table.features == ["a", "b"] and table.x.shape == (4, 2) and table.x.dtype == np.float64
    assert table.labels == ["pass", "", "fail", ""] and table.ids == ["s1", "s2", "s3", "s4"]
    assert table.lines == [2, 3, 4, 5]
    y, names = ds.encode_labels(table, "grade")
    assert names == ["fail", "pass"] and y.tolist() == [1, -1, 0, -1]
    y, names = ds.encode_labels(table, "grade", ["pass", "fail"])
    assert y.tolist() == [0, -1, 1, -1]
    only = ds.read_csv_table(table.path, features=["b"])
    assert only.features == ["b"] and only.labels == []


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("s5,nan,1,", r":6: column 'a': non-finite value 'nan'"),
        ("s5,1,inf,pass", r":6: column 'b': non-finite value 'inf'"),
        ("s5,1,-Infinity,", r":6: column 'b': non-finite value '-Infinity'"),
        ("s5,,1,pass", r":6: column 'a': empty"),
        ("s5,1,high,", r":6: column 'b': 'high' is not a number"),
        ("s5,1,2", r":6: expected 4 fields, got 3"),
    ],
)
def test_bad_feature_cells_name_file_line_and_column(tmp_path: Path, row: str, message: str) -> None:
    path = _csv(tmp_path, GOOD + row + "\n")
    with pytest.raises(ds.SSLDataError, match=re.escape(str(path)) + message):
        ds.read_csv_table(path, label="grade", id_column="id")


def test_bad_label_columns_are_named(tmp_path: Path) -> None:
    path = _csv(tmp_path, GOOD)
    with pytest.raises(
        ds.SSLDataError, match=r"students.csv:1: no label column 'result' \(columns: id, a, b, grade\)"
    ):
        ds.read_csv_table(path, label="result")
    table = ds.read_csv_table(_csv(tmp_path, "a,grade\n1,pass\n2,fail\n3,pass\n"), label="grade")
    with pytest.raises(ds.SSLDataError, match=r"students.csv: column 'grade': every row has a label"):
        ds.encode_labels(table, "grade")
    table = ds.read_csv_table(_csv(tmp_path, "a,grade\n1,\n2,\n"), label="grade")
    with pytest.raises(ds.SSLDataError, match="no row has a label"):
        ds.encode_labels(table, "grade")
    table = ds.read_csv_table(_csv(tmp_path, "a,grade\n1,pass\n2,\n3,pass\n"), label="grade")
    with pytest.raises(ds.SSLDataError, match=r"only one class \('pass'\) is labelled"):
        ds.encode_labels(table, "grade")
    with pytest.raises(ds.SSLDataError, match=r"column 'grade': class 'fail' has no labelled row"):
        ds.encode_labels(table, "grade", ["pass", "fail"])
    table = ds.read_csv_table(_csv(tmp_path, GOOD), label="grade", id_column="id")
    with pytest.raises(ds.SSLDataError, match=r"students.csv:4: column 'grade': label 'fail' is not one of"):
        ds.encode_labels(table, "grade", ["pass", "merit"])


def test_bad_csv_files(tmp_path: Path) -> None:
    with pytest.raises(ds.SSLDataError, match=r"students.csv:1: empty file"):
        ds.read_csv_table(_csv(tmp_path, ""))
    with pytest.raises(ds.SSLDataError, match=r"students.csv: no data rows"):
        ds.read_csv_table(_csv(tmp_path, "a,b\n"))
    with pytest.raises(ds.SSLDataError, match=r"students.csv:1: duplicated column name\(s\) 'a'"):
        ds.read_csv_table(_csv(tmp_path, "a,a\n1,2\n"))
    with pytest.raises(ds.SSLDataError, match=r"students.csv:1: feature column 'c' is missing"):
        ds.read_csv_table(_csv(tmp_path, GOOD), features=["a", "c"])
    with pytest.raises(ds.SSLDataError, match=r"nothing.csv: file not found"):
        ds.read_csv_table(tmp_path / "nothing.csv")
