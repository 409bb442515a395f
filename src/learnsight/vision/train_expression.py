"""Train the expression CNN of :mod:`learnsight.vision.expression` on a labelled photo folder.

Usage::

    python -m learnsight.vision.train_expression \\
        --data /work/shared/datasets/faces/expressions --out src/learnsight/vision/weights \\
        --init-seed 20240611,1,2         # the shipped ensemble: three networks, ~20 min on one core

Deterministic (fixed seeds, deterministic torch kernels, a fixed number of threads).  The photos
are split, stratified by class, into a held-out test part the training never sees (20 %), a
validation part carved from the rest (15 % of it: best epoch, and the bias between the two
states) and the training part.  Photos of one person fall in several parts (as they would in any
random sample of this set); ``--group-by-person`` keeps each person (the name in the file name) in
one part instead, a stricter test of faces never seen: several people have dozens of photos, mostly
of one expression, so a person in two parts lets a model recognise people as well as expressions.

Every photo goes through the run-time path: mediapipe's face (:class:`PhotoFaceDetector`) and
:func:`face_crop`.  Training samples a wider crop of the same face (:data:`CONTEXT_MARGIN`) and
draws the model's view from it with random flips, rotations, zooms and shifts (the detector's box
jitters from frame to frame), random contrast, brightness and gamma (with clipping: the per-image
standardisation of :func:`to_input` removes a purely linear change), noise, and a share of views
shrunk to 12–32 pixels and enlarged back (faces far from a classroom camera are small).  Classes are
weighted by the inverse square root of their frequency, and a second loss term asks the summed
probabilities for the right positive/negative state with the two states weighted equally.  AdamW
with a one-cycle learning rate; the weights validated and kept are an exponential moving average of
the trained ones (decay 0.99 a step), from the epoch with the best validation ROC AUC of the
negative state.

``--init-seed A,B,C`` trains one network per seed (initialisation and augmentation) on the same
split and saves them as one ensemble whose probabilities are averaged: each network keeps its own
best epoch and state bias.

Writes ``expression_cnn.pt`` (the state_dict, or ``{"members": [...]}`` for an ensemble) and
``expression_cnn.json`` (classes, input format, the SHA-256 of labels.csv, the split seed and
held-out images, the command, each network's seed and history, and the metrics).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import math
import platform
import re
import shlex
import sys
import time
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from learnsight.files import sha256_file
from learnsight.vision.expression import (
    CLASSES,
    MARGIN,
    NEGATIVE_MASK,
    ExpressionError,
    ExpressionModel,
    NetworkShape,
    PhotoFaceDetector,
    build_network,
    face_crop,
    load_image,
    read_labels,
    scores,
    state_probabilities,
    to_input,
)
from learnsight.vision.extra import require
from learnsight.vision.types import Box, Face, Image

if TYPE_CHECKING:
    import torch
    from torch import nn

CONTEXT_MARGIN = 0.45
"""Margin of the wider crop that augmentation draws the model's view from (room to zoom out,
shift and rotate without running out of face)."""

SEED = 20240611


@dataclass(frozen=True)
class Config:
    """Hyper-parameters of one training run (all recorded in the ``.json``)."""

    seed: int = SEED
    init_seeds: tuple[int, ...] = ()
    """One network per seed (of its initialisation and augmentation), all on the same split, their
    probabilities averaged (:class:`ExpressionModel` ``members``); empty: one network seeded by
    ``seed``, which also draws the split."""
    test_size: float = 0.2
    val_size: float = 0.15
    epochs: int = 60
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    state_loss: float = 0.5
    class_weight_power: float = 0.5
    flip_average: bool = True
    threads: int = 1
    group_by_person: bool = False
    ema: float = 0.99
    low_res: float = 0.25
    shape: NetworkShape = field(default_factory=NetworkShape)


# --------------------------------------------------------------------------------------------- data


def person(path: Path) -> str:
    """The person a photo shows, from its file name (``George_W_Bush_0012.jpg`` → George_W_Bush)."""
    return re.sub(r"[_ -]*\d+$", "", path.stem) or path.stem


def unique_rows(rows: Sequence[tuple[Path, str]]) -> tuple[list[tuple[Path, str]], list[str]]:
    """The rows with each image once; images listed twice with different labels are dropped (and
    named in the second list)."""
    labels: dict[Path, set[str]] = {}
    for path, label in rows:
        labels.setdefault(path, set()).add(label)
    conflicting = sorted(str(p) for p, ls in labels.items() if len(ls) > 1)
    return [(p, next(iter(ls))) for p, ls in labels.items() if len(ls) == 1], conflicting


def split(
    labels: Sequence[str], groups: Sequence[str] | None, config: Config
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Indices of the training, validation and test parts, stratified by class: the first fold of a
    shuffled ``StratifiedKFold`` (``StratifiedGroupKFold`` when ``groups`` are given, so that no
    group is in two parts) is the test part, and the first fold of the rest the validation part."""
    from sklearn.model_selection import (  # type: ignore[import-untyped]
        StratifiedGroupKFold,
        StratifiedKFold,
    )

    y = np.asarray(labels)
    g = np.asarray(groups) if groups is not None else np.arange(len(y))

    def first_fold(rows: NDArray[np.int64], n_splits: int, seed: int) -> tuple[NDArray[np.int64], ...]:
        with warnings.catch_warnings():  # "the least populated class has only 6 members" (contempt)
            warnings.filterwarnings("ignore", "The least populated class", UserWarning)
            if groups is None:
                folds = StratifiedKFold(n_splits, shuffle=True, random_state=seed)
                rest, held = next(folds.split(np.zeros(len(rows)), y[rows]))
            else:
                folds = StratifiedGroupKFold(n_splits, shuffle=True, random_state=seed)
                rest, held = next(folds.split(np.zeros(len(rows)), y[rows], g[rows]))
        return rows[rest], rows[held]

    rest, test = first_fold(np.arange(len(y)), round(1 / config.test_size), config.seed)
    train, val = first_fold(rest, round(1 / config.val_size), config.seed + 1)
    return train.astype(np.int64), val.astype(np.int64), test.astype(np.int64)


def stand_in(image: Image) -> Face:
    """A face whose :func:`face_crop` is the photo's centred square (what the run-time path uses
    for a photo without a detection), so that training can take a wider crop of it too."""
    height, width = image.shape[:2]
    side = min(width, height) / (1 + 2 * MARGIN)
    return Face(Box((width - side) / 2, (height - side) / 2, side, side), 0.0)


def context_size(shape: NetworkShape) -> int:
    """Side of the wider crops, so that their middle is the model's view at the model's size."""
    return round(shape.input_size * (1 + 2 * CONTEXT_MARGIN) / (1 + 2 * MARGIN))


def prepare(
    paths: Sequence[Path], shape: NetworkShape
) -> tuple[NDArray[np.uint8], NDArray[np.float32], NDArray[np.bool_]]:
    """For each photo: the wider grey crop (augmentation's source), the model's input along the
    run-time path, and whether a face was found."""
    cv2 = require("cv2")
    size = context_size(shape)
    contexts = np.empty((len(paths), size, size), dtype=np.uint8)
    crops: list[Image] = []
    found = np.zeros(len(paths), dtype=bool)
    with PhotoFaceDetector() as detect:
        for i, path in enumerate(paths):
            image = load_image(path)
            face = detect(image)
            found[i] = face is not None
            crops.append(face_crop(image, face))
            wide = face_crop(image, face or stand_in(image), margin=CONTEXT_MARGIN)
            grey = cv2.cvtColor(np.ascontiguousarray(wide), cv2.COLOR_RGB2GRAY)
            contexts[i] = cv2.resize(grey, (size, size), interpolation=cv2.INTER_AREA)
            if (i + 1) % 500 == 0:
                log(f"  faces: {i + 1}/{len(paths)} photos")
    return contexts, to_input(crops, shape.input_size), found


# --------------------------------------------------------------------------------------------- training


def augment(
    context: torch.Tensor, shape: NetworkShape, gen: torch.Generator, low_res: float = 0.25
) -> torch.Tensor:
    """Random views of a batch of wider grey crops ((n, 1, c, c) floats in 0–255) → the network's
    standardised (n, 1, s, s) input."""
    import torch
    import torch.nn.functional as F  # noqa: N812 -- PyTorch's convention

    n = context.shape[0]

    def uniform(low: float, high: float, size: int = n) -> torch.Tensor:
        return low + (high - low) * torch.rand(size, generator=gen)

    base = (1 + 2 * MARGIN) / (1 + 2 * CONTEXT_MARGIN)
    scale = base * torch.exp(uniform(-0.12, 0.12))
    angle = uniform(-12, 12) * math.pi / 180
    flip = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
    theta = torch.stack(
        [
            torch.stack([cos * flip, -sin, uniform(-0.07, 0.07)], dim=1),
            torch.stack([sin * flip, cos, uniform(-0.07, 0.07)], dim=1),
        ],
        dim=1,
    )
    size = shape.input_size
    grid = F.affine_grid(theta, [n, 1, size, size], align_corners=False)
    x = F.grid_sample(context, grid, mode="bilinear", padding_mode="border", align_corners=False)
    small = torch.rand(n, generator=gen) < low_res
    if small.any():
        side = int(torch.randint(12, 33, (1,), generator=gen))
        low = F.interpolate(x[small], size=(side, side), mode="area")
        x[small] = F.interpolate(low, size=(size, size), mode="bilinear", align_corners=False)
    contrast = torch.exp(uniform(-0.4, 0.4)).view(n, 1, 1, 1)
    brightness = uniform(-40, 40).view(n, 1, 1, 1)
    x = ((x - 128) * contrast + 128 + brightness).clamp(0, 255)
    gamma = torch.exp(uniform(-0.4, 0.4)).view(n, 1, 1, 1)
    x = 255 * (x / 255) ** gamma
    x = x + uniform(0, 6).view(n, 1, 1, 1) * torch.randn(x.shape, generator=gen)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    std = x.std(dim=(1, 2, 3), keepdim=True, unbiased=False)
    return (x - mean) / std.clamp_min(1.0)


def class_weights(y: NDArray[np.int64], power: float) -> NDArray[np.float64]:
    """Per-class loss weights ``(largest count / count) ** power``, normalised to mean 1 over the
    training rows (a class absent from training gets the largest weight)."""
    counts = np.bincount(y, minlength=len(CLASSES)).astype(np.float64)
    weights: NDArray[np.float64] = (counts.max() / np.maximum(counts, 1)) ** power
    out: NDArray[np.float64] = weights / float(np.mean(weights[y]))
    return out


def roc_auc(negative: NDArray[np.bool_], score: NDArray[np.float64]) -> float:
    """Area under the ROC curve of ``score`` for the ``negative`` rows (ties count half)."""
    from scipy.stats import rankdata  # type: ignore[import-untyped]

    n_neg, n_pos = int(negative.sum()), int((~negative).sum())
    if not n_neg or not n_pos:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[negative].sum() - n_neg * (n_neg + 1) / 2) / (n_neg * n_pos))


def with_bias(probs: NDArray[np.float64], bias: float) -> NDArray[np.float64]:
    """Probabilities after adding ``bias`` to the negative classes' logits."""
    logits = np.log(np.clip(probs, 1e-12, None)) + bias * NEGATIVE_MASK
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    out: NDArray[np.float64] = e / e.sum(axis=1, keepdims=True)
    return out


def choose_bias(probs: NDArray[np.float64], y: NDArray[np.int64]) -> float:
    """The negative classes' logit bias (−3 … 3) that maximises the mean of state accuracy and
    balanced state accuracy on the validation part (the smallest such bias in absolute value)."""
    negative = NEGATIVE_MASK[y]
    best, best_score = 0.0, -1.0
    for bias in sorted(np.round(np.arange(-3, 3.001, 0.05), 2), key=abs):
        pred = state_probabilities(with_bias(probs, float(bias))).argmax(axis=1) == 1
        recall = [np.mean(pred[negative]), np.mean(~pred[~negative])]
        score = (np.mean(pred == negative) + np.mean(recall)) / 2
        if score > best_score + 1e-9:
            best, best_score = float(bias), float(score)
    return best


def train(
    contexts: NDArray[np.uint8],
    y: NDArray[np.int64],
    val_inputs: NDArray[np.float32],
    val_y: NDArray[np.int64],
    config: Config,
    init_seed: int | None = None,
) -> tuple[ExpressionModel, dict[str, Any]]:
    """Train one network on the wider crops (initialisation and augmentation seeded by
    ``init_seed``, default ``config.seed``), keep the epoch with the best validation ROC AUC of the
    negative state, then set the state bias on the validation part.  Returns the model and a
    history."""
    import torch
    import torch.nn.functional as F  # noqa: N812 -- PyTorch's convention

    init_seed = config.seed if init_seed is None else init_seed
    torch.manual_seed(init_seed)
    gen = torch.Generator().manual_seed(init_seed)
    network = build_network(config.shape)
    source = torch.from_numpy(contexts.astype(np.float32)).unsqueeze(1)
    target = torch.from_numpy(y)
    weight = torch.from_numpy(class_weights(y, config.class_weight_power)).float()
    negative_rows = torch.from_numpy(NEGATIVE_MASK[y])
    state_weight = torch.where(
        negative_rows, 0.5 / negative_rows.float().mean(), 0.5 / (1 - negative_rows.float().mean())
    )
    mask = torch.from_numpy(NEGATIVE_MASK)
    optimizer = torch.optim.AdamW(network.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps = math.ceil(len(y) / config.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.lr, total_steps=config.epochs * steps, pct_start=0.2
    )
    ema_fn = torch.optim.swa_utils.get_ema_multi_avg_fn(config.ema)  # type: ignore[no-untyped-call]
    averaged = torch.optim.swa_utils.AveragedModel(network, multi_avg_fn=ema_fn, use_buffers=True)
    ema: nn.Module = averaged.module
    model = ExpressionModel(ema, config.shape, flip_average=config.flip_average, fold=False)
    val_negative = NEGATIVE_MASK[val_y]
    best: tuple[float, int, dict[str, torch.Tensor]] = (-1.0, 0, {})
    history = []
    for epoch in range(1, config.epochs + 1):
        started = time.perf_counter()
        network.train()
        order = torch.randperm(len(y), generator=gen)
        total = 0.0
        for start in range(0, len(y), config.batch_size):
            rows = order[start : start + config.batch_size]
            logits = network(augment(source[rows], config.shape, gen, config.low_res))
            loss = F.cross_entropy(
                logits, target[rows], weight=weight, label_smoothing=config.label_smoothing
            )
            p_negative = (torch.softmax(logits, dim=1) * mask).sum(dim=1).clamp(1e-6, 1 - 1e-6)
            truth = negative_rows[rows].float()
            loss = loss + config.state_loss * F.binary_cross_entropy(
                p_negative, truth, weight=state_weight[rows]
            )
            optimizer.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            schedule.step()
            averaged.update_parameters(network)
            total += float(loss.detach()) * len(rows)
        ema.eval()
        probs = model.predict_inputs(val_inputs)
        auc = roc_auc(val_negative, state_probabilities(probs)[:, 1])
        val = scores([CLASSES[i] for i in val_y], probs)
        seconds = time.perf_counter() - started
        history.append(
            {
                "epoch": epoch,
                "loss": round(total / len(y), 4),
                "val_auc": round(auc, 4),
                "val_accuracy": round(val["accuracy"], 4),
                "seconds": round(seconds, 1),
            }
        )
        log(
            f"epoch {epoch:>3}/{config.epochs}  loss {total / len(y):.3f}  "
            f"val: negative-state AUC {auc:.3f}  "
            f"state acc {val['state_accuracy']:.3f}  balanced {val['state_balanced_accuracy']:.3f}  "
            f"6-class {val['accuracy']:.3f}  {seconds:.1f} s"
        )
        if auc > best[0]:
            best = (auc, epoch, copy.deepcopy(ema.state_dict()))
    final = build_network(config.shape)
    final.load_state_dict(best[2])
    final.eval()
    model = ExpressionModel(final, config.shape, flip_average=config.flip_average)
    bias = choose_bias(model.predict_inputs(val_inputs), val_y)
    with torch.no_grad():
        final.get_buffer("logit_bias").copy_(torch.from_numpy(bias * NEGATIVE_MASK.astype(np.float32)))
    model = ExpressionModel(final, config.shape, flip_average=config.flip_average)
    return model, {
        "init_seed": init_seed,
        "best_epoch": best[1],
        "best_val_auc": best[0],
        "negative_bias": bias,
        "epochs": history,
    }


# --------------------------------------------------------------------------------------------- main


def log(message: str) -> None:
    """A progress line on stderr."""
    print(message, file=sys.stderr, flush=True)


def run(data: Path, out: Path, config: Config, command: str) -> dict[str, Any]:
    """Train on ``data/labels.csv``, write ``out/expression_cnn.{pt,json}``; returns the json."""
    torch = require("torch")
    torch.set_num_threads(config.threads)
    torch.use_deterministic_algorithms(True)
    started = time.perf_counter()
    labels_csv = data / "labels.csv"
    rows, conflicting = unique_rows(read_labels(labels_csv))
    paths = [p for p, _ in rows]
    y = np.array([CLASSES.index(label) for _, label in rows], dtype=np.int64)
    groups = [person(p) for p in paths] if config.group_by_person else None
    train_idx, val_idx, test_idx = split([label for _, label in rows], groups, config)
    log(
        f"{len(rows)} photos ({len(conflicting)} dropped: listed twice with different labels); "
        f"train {len(train_idx)}, validation {len(val_idx)}, held-out test {len(test_idx)}"
    )
    contexts, inputs, found = prepare(paths, config.shape)
    log(f"faces found in {int(found.sum())}/{len(found)} photos ({time.perf_counter() - started:.0f} s)")
    members, histories = [], []
    seeds = config.init_seeds or (config.seed,)
    for i, init_seed in enumerate(seeds, start=1):
        if len(seeds) > 1:
            log(f"network {i}/{len(seeds)} (init seed {init_seed})")
        member, history = train(
            contexts[train_idx], y[train_idx], inputs[val_idx], y[val_idx], config, init_seed
        )
        members.append(member.network)
        histories.append(history)
    model = ExpressionModel(members[0], config.shape, members=members[1:], flip_average=config.flip_average)
    seconds = time.perf_counter() - started

    def metrics(idx: NDArray[np.int64]) -> dict[str, Any]:
        result = scores([CLASSES[i] for i in y[idx]], model.predict_inputs(inputs[idx]))
        result["no_face"] = int((~found[idx]).sum())
        return result

    test_images = sorted(paths[i].relative_to(data).as_posix() for i in test_idx)
    subset = test_images[::4]
    subset_idx = np.array([i for i in test_idx if paths[i].relative_to(data).as_posix() in set(subset)])
    meta: dict[str, Any] = {
        "classes": list(CLASSES),
        "network": config.shape.to_json(),
        "flip_average": config.flip_average,
        "input": {
            "crop": f"face_crop: the detector's box grown by {MARGIN} of its size on every side, squared, "
            "edge pixels repeated outside the image; the centred square without a face",
            "format": f"grey (ITU-R 601 luma), {config.shape.input_size}×{config.shape.input_size}, "
            "area-resampled, each image standardised to mean 0 and standard deviation 1",
            "photo_detector": "mediapipe FaceDetection(model_selection=1, min_detection_confidence=0.5) "
            "on the photo padded in black by its longer side on every side",
        },
        "networks": len(members),
        "negative_logit_bias": [h["negative_bias"] for h in histories],
        "parameters": sum(p.numel() for n in members for p in n.parameters()),
        "data": {
            "labels_csv": str(labels_csv),
            "labels_sha256": sha256_file(labels_csv),
            "rows": sum(1 for _ in read_labels(labels_csv)),
            "photos_used": len(rows),
            "dropped_conflicting_labels": conflicting,
            "class_counts": dict(Counter(label for _, label in rows)),
        },
        "split": {
            "method": (
                "StratifiedGroupKFold grouped by person (the file name without its number)"
                if config.group_by_person
                else "StratifiedKFold"
            )
            + " (scikit-learn, shuffled with the seed), stratified by class: test = first fold of "
            "round(1/test_size) folds; validation = first fold of round(1/val_size) folds of the rest "
            "(seed + 1); photos listed twice with different labels are left out",
            "seed": config.seed,
            "test_size": config.test_size,
            "val_size": config.val_size,
            "n_train": len(train_idx),
            "n_val": len(val_idx),
            "n_test": len(test_idx),
            "test_images_sha256": hashlib.sha256("\n".join(test_images).encode()).hexdigest(),
            "test_images": test_images,
        },
        "training": {
            "command": command,
            "config": {k: v for k, v in config.__dict__.items() if k != "shape"},
            "seconds": round(seconds, 1),
            "threads": config.threads,
            "torch": torch.__version__,
            "python": platform.python_version(),
            "members": [
                {k: h[k] for k in ("init_seed", "best_epoch", "best_val_auc", "epochs")} for h in histories
            ],
        },
        "metrics": {
            "test": metrics(test_idx),
            "test_subset": {"images": "every 4th of test_images", **metrics(subset_idx)},
            "validation": metrics(val_idx),
        },
    }
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "expression_cnn.pt")
    (out / "expression_cnn.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    test = meta["metrics"]["test"]
    log(
        f"held-out test ({test['n']} photos): state accuracy {test['state_accuracy']:.3f}, balanced "
        f"{test['state_balanced_accuracy']:.3f}, 6-class accuracy {test['accuracy']:.3f}; "
        f"{seconds:.0f} s; wrote {out / 'expression_cnn.pt'}"
    )
    return meta


def _seeds(text: str) -> tuple[int, ...]:
    try:
        seeds = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"seeds are integers separated by commas, got {text!r}") from None
    if len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"a seed is given twice: {text!r}")
    return seeds


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m learnsight.vision.train_expression", description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="folder with labels.csv (image,expression)")
    parser.add_argument("--out", type=Path, required=True, help="folder for expression_cnn.pt and .json")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--init-seed",
        type=_seeds,
        default=(),
        help="seed(s) of the initialisation and augmentation, e.g. 20240611,1,2: one network per seed, "
        "averaged (default: one network, --seed)",
    )
    parser.add_argument("--epochs", type=int, default=Config.epochs)
    parser.add_argument("--threads", type=int, default=Config.threads, help="torch threads (default 1)")
    parser.add_argument(
        "--group-by-person", action="store_true", help="keep each person's photos in one part of the split"
    )
    args = parser.parse_args(argv)
    config = Config(
        seed=args.seed,
        init_seeds=args.init_seed,
        epochs=args.epochs,
        threads=args.threads,
        group_by_person=args.group_by_person,
    )
    command = shlex.join(["python", "-m", "learnsight.vision.train_expression", *(argv or sys.argv[1:])])
    try:
        run(args.data, args.out, config, command)
    except ExpressionError as exc:
        log(f"error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
