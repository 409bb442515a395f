"""Scikit-learn compatible neural sequence classifier over weekly feature tensors."""

# Upper-case names (X) follow scikit-learn's notation.
# ruff: noqa: N803, N806

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from sklearn.base import BaseEstimator, ClassifierMixin  # type: ignore[import-untyped]
from sklearn.metrics import accuracy_score  # type: ignore[import-untyped]
from sklearn.model_selection import train_test_split  # type: ignore[import-untyped]
from sklearn.utils import check_random_state  # type: ignore[import-untyped]
from sklearn.utils.multiclass import check_classification_targets  # type: ignore[import-untyped]
from sklearn.utils.validation import check_is_fitted, validate_data  # type: ignore[import-untyped]
from torch import Tensor, nn

from learnsight.models.rmtl._data import encode_tasks, lookup_tasks
from learnsight.models.sequence._data import (
    FloatArray,
    Prepared,
    SequenceScaler,
    n_week_features,
    split_columns,
)
from learnsight.models.sequence.networks import ARCHS, Arch, SequenceNet

IntArray = npt.NDArray[np.intp]
_PREDICT_BATCH = 8192
_CLIP_NORM = 5.0


class SequenceClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Neural classifier of weekly behaviour sequences (conv, attention, GRU or LSTM encoder).

    Why a sequence model: indicators summed over a whole course lose *when* things happened; the
    weekly trajectory (a student whose clicks fade after week 5, a late start, a missed assessment
    week) is what early-warning systems need.  This estimator reads the weekly features of
    :mod:`learnsight.indicators.weekly` as a sequence, adds static features and, for several
    courses, a learned course (task) embedding with one encoder shared by all courses.

    ``X`` is flat and 2-D so that the model runs on the same scikit-learn style splits as the other
    models of :mod:`learnsight.models` (build it with
    :func:`~learnsight.models.sequence.flatten_sequences`): the first ``n_static`` columns are
    static features, then ``n_weeks * n_week_features`` weekly features in week-major order (week
    0's features, then week 1's, ...).  ``n_week_features`` is inferred in :meth:`fit`.  NaN means
    missing (weeks after an early-prediction cut-off, sources absent from the data).

    Preprocessing, fitted on the rows passed to :meth:`fit`: weekly values become
    ``log1p(max(x, 0))`` (counts are skewed) and are standardised per feature over observed cells;
    missing cells become 0 and one extra channel per week gives the fraction of the week's features
    observed, so the network can tell an unobserved week from an inactive one.  Static features
    are median-imputed, standardised and get missing indicators.

    Encoders (``arch``): ``"conv"`` causal dilated 1-D convolutions with max + mean pooling over
    observed weeks; ``"attention"`` a small Transformer encoder (Vaswani et al. 2017) with learned
    positional embedding and unobserved weeks as padded keys; ``"gru"`` / ``"lstm"`` a recurrent
    encoder whose last hidden state (at the last observed week) summarises the sequence, as in the
    LSTM on weekly OULAD clickstream of Aljohani, Fayoumi & Hassan (2019).  See
    :mod:`learnsight.models.sequence.networks`.

    Training: Adam with weight decay and per-epoch exponential learning-rate decay, minibatch
    cross-entropy (optionally class-balanced), early stopping on a stratified validation split of
    the training rows keeping the weights of the best validation loss, and training-only
    augmentation (Gaussian noise on the standardised weekly features; whole weeks masked at
    random, as if unobserved).  With an integer ``random_state`` two fits give identical results
    (same machine, same number of threads); the global torch RNG is left as it was.

    Parameters
    ----------
    n_weeks : int
        Number of weeks in each row.
    n_static : int, default=0
        Number of leading static columns of ``X``.
    arch : {"conv", "attention", "gru", "lstm"}, default="gru"
        Sequence encoder.
    hidden_size : int, default=32
        Width of the encoder and of the head's hidden layer.
    n_layers : int or None, default=None
        Convolution blocks, Transformer layers or stacked recurrent layers; None: 2 for
        ``"conv"`` (receptive field of 7 weeks with kernel 3), 1 for the others (enough for
        sequences of a few dozen weeks, and half the time of 2 on a CPU).
    kernel_size : int, default=3
        Width of the convolutions over weeks (``arch="conv"``).
    n_heads : int, default=2
        Attention heads (``arch="attention"``); must divide ``hidden_size``.
    dropout : float, default=0.1
        Dropout rate in the encoder, static branch and head.
    task_embedding_dim : int, default=8
        Size of the learned task embedding used when ``tasks`` is given to :meth:`fit` (0: tasks
        are checked but not used).
    static_hidden : int, default=16
        Width of the static features' MLP.
    lr : float, default=3e-3
        Adam learning rate.
    weight_decay : float, default=1e-4
        Adam weight decay (L2).
    lr_decay : float, default=0.97
        Factor applied to the learning rate after each epoch (1: constant).
    max_epochs : int, default=40
        Maximum passes over the training rows.
    batch_size : int, default=256
        Minibatch size.
    validation_fraction : float, default=0.15
        Fraction of the training rows held out (stratified by class) for early stopping; 0 trains
        for ``max_epochs`` and keeps the last weights.
    patience : int, default=8
        Epochs without a validation loss lower than the best by more than ``tol`` before stopping.
    tol : float, default=1e-4
        Smallest decrease of the validation loss that counts as an improvement.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss: ``{label: weight}`` (missing labels weigh 1), or
        ``"balanced"``: ``n_samples / (n_classes * count)`` over the rows trained on.
    noise_std : float, default=0.05
        Standard deviation of Gaussian noise added to the observed standardised weekly features
        during training.
    week_mask_p : float, default=0.05
        Probability that a week of a training row is masked (features and observed fraction set
        to 0), during training only.
    log_transform : bool, default=True
        Apply ``log1p(max(x, 0))`` to the weekly features before standardising.
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split, initialisation, shuffling, dropout and augmentation.
    n_threads : int or None, default=1
        Torch intra-op threads during :meth:`fit` and prediction (the previous setting is restored
        afterwards); None leaves torch's setting.  These networks are small, so more threads
        gain little, while on a busy machine (parallel cross-validation, ``pytest -n``) OpenMP
        threads that wait for each other made training an order of magnitude slower.
    verbose : bool, default=False
        Print the losses of each epoch.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Columns of ``X``.
    n_week_features_ : int
        Weekly features per week.
    tasks_ : ndarray of shape (n_tasks,) or None
        Sorted task labels seen in :meth:`fit`; None when it was called without ``tasks``.
    scaler_ : SequenceScaler
        The fitted preprocessing.
    module_ : SequenceNet
        The trained network (best validation weights), in evaluation mode.
    n_epochs_ : int
        Epochs run.
    best_epoch_ : int
        Epoch (counting from 1) whose weights were kept.
    history_ : dict of str to list of float
        ``"train_loss"`` (mean minibatch loss, with dropout and augmentation), ``"val_loss"``
        (empty without validation) and ``"lr"``, one entry per epoch.

    References
    ----------
    .. [1] N. R. Aljohani, A. Fayoumi and S.-U. Hassan, "Predicting at-risk students using
       clickstream data in the virtual learning environment", Sustainability 11(24), 7238, 2019.
    .. [2] A. Vaswani, N. Shazeer, N. Parmar, J. Uszkoreit, L. Jones, A. N. Gomez, L. Kaiser and
       I. Polosukhin, "Attention is all you need", NeurIPS 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from learnsight.models.sequence import SequenceClassifier, flatten_sequences
    >>> rng = np.random.default_rng(0)
    >>> weeks = rng.poisson(5.0, size=(200, 6, 2)).astype(float)
    >>> y = (weeks[:, 3:, 0].sum(axis=1) > weeks[:, :3, 0].sum(axis=1)).astype(int)
    >>> X = flatten_sequences(weeks)
    >>> model = SequenceClassifier(n_weeks=6, arch="conv", max_epochs=5, random_state=0).fit(X, y)
    >>> model.predict_proba(X).shape
    (200, 2)
    """

    classes_: npt.NDArray[Any]
    tasks_: npt.NDArray[Any] | None
    scaler_: SequenceScaler
    module_: SequenceNet
    n_week_features_: int
    n_epochs_: int
    best_epoch_: int
    history_: dict[str, list[float]]

    def __init__(
        self,
        n_weeks: int,
        n_static: int = 0,
        *,
        arch: Arch = "gru",
        hidden_size: int = 32,
        n_layers: int | None = None,
        kernel_size: int = 3,
        n_heads: int = 2,
        dropout: float = 0.1,
        task_embedding_dim: int = 8,
        static_hidden: int = 16,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
        lr_decay: float = 0.97,
        max_epochs: int = 40,
        batch_size: int = 256,
        validation_fraction: float = 0.15,
        patience: int = 8,
        tol: float = 1e-4,
        class_weight: dict[Any, float] | str | None = None,
        noise_std: float = 0.05,
        week_mask_p: float = 0.05,
        log_transform: bool = True,
        random_state: int | np.random.RandomState | None = None,
        n_threads: int | None = 1,
        verbose: bool = False,
    ) -> None:
        self.n_weeks = n_weeks
        self.n_static = n_static
        self.arch = arch
        self.hidden_size = hidden_size
        self.n_layers = n_layers
        self.kernel_size = kernel_size
        self.n_heads = n_heads
        self.dropout = dropout
        self.task_embedding_dim = task_embedding_dim
        self.static_hidden = static_hidden
        self.lr = lr
        self.weight_decay = weight_decay
        self.lr_decay = lr_decay
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.tol = tol
        self.class_weight = class_weight
        self.noise_std = noise_std
        self.week_mask_p = week_mask_p
        self.log_transform = log_transform
        self.random_state = random_state
        self.n_threads = n_threads
        self.verbose = verbose

    def __sklearn_tags__(self) -> Any:
        """NaN marks missing values, so it is allowed in ``X``."""
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    # -- fit -------------------------------------------------------------------------------------

    def _n_layers(self) -> int:
        if self.n_layers is None:
            return 2 if self.arch == "conv" else 1
        return self.n_layers

    def _check_params(self) -> None:
        if self.arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}, got {self.arch!r}")
        positive = {
            "hidden_size": self.hidden_size,
            "n_layers": self._n_layers(),
            "kernel_size": self.kernel_size,
            "n_heads": self.n_heads,
            "static_hidden": self.static_hidden,
            "max_epochs": self.max_epochs,
            "batch_size": self.batch_size,
            "patience": self.patience,
        }
        for name, value in positive.items():
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.arch == "attention" and self.hidden_size % self.n_heads:
            raise ValueError(f"n_heads={self.n_heads} must divide hidden_size={self.hidden_size}")
        if not isinstance(self.task_embedding_dim, int | np.integer) or self.task_embedding_dim < 0:
            raise ValueError(
                f"task_embedding_dim must be a non-negative integer, got {self.task_embedding_dim!r}"
            )
        unit: dict[str, float] = {
            "dropout": self.dropout,
            "validation_fraction": self.validation_fraction,
            "week_mask_p": self.week_mask_p,
        }
        for name, rate in unit.items():
            if not 0.0 <= rate < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {rate!r}")
        if self.lr <= 0 or self.weight_decay < 0 or self.noise_std < 0 or self.tol < 0:
            raise ValueError(
                f"need lr > 0, weight_decay >= 0, noise_std >= 0, tol >= 0; got {self.lr}, "
                f"{self.weight_decay}, {self.noise_std}, {self.tol}"
            )
        if self.n_threads is not None and (
            not isinstance(self.n_threads, int | np.integer) or self.n_threads < 1
        ):
            raise ValueError(f"n_threads must be None or a positive integer, got {self.n_threads!r}")
        if not 0.0 < self.lr_decay <= 1.0:
            raise ValueError(f"lr_decay must be in (0, 1], got {self.lr_decay!r}")
        if not (
            self.class_weight is None
            or self.class_weight == "balanced"
            or isinstance(self.class_weight, dict)
        ):
            raise ValueError(f"class_weight must be None, 'balanced' or a dict, got {self.class_weight!r}")

    def fit(self, X: Any, y: Any, tasks: Any = None) -> SequenceClassifier:
        """Fit on flat rows ``X``, class labels ``y`` and optionally each row's task label ``tasks``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_static + n_weeks * n_week_features)
            Static columns, then weekly columns in week-major order; NaN where missing.
        y : array-like of shape (n_samples,)
            Class labels (at least two classes; strings or integers).
        tasks : array-like of shape (n_samples,), optional
            Task (e.g. course) of each row; when given, a learned task embedding joins the
            sequence representation and :meth:`predict` needs ``tasks`` too.

        Returns
        -------
        self : SequenceClassifier
        """
        self._check_params()
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite="allow-nan")
        check_classification_targets(y)
        n_feat = n_week_features(X.shape[1], self.n_weeks, self.n_static)
        classes, y_codes = np.unique(y, return_inverse=True)
        if classes.shape[0] < 2:
            raise ValueError(f"need at least two classes, got 1 class: {classes.tolist()}")
        if tasks is None:
            task_labels: npt.NDArray[Any] | None = None
            task_codes = None
        else:
            task_labels, task_codes = encode_tasks(tasks, X.shape[0])
        static, weeks = split_columns(X, self.n_static, self.n_weeks)
        scaler = SequenceScaler.fit(static, weeks, log_transform=self.log_transform)
        data = scaler.transform(static, weeks)

        rng = check_random_state(self.random_state)
        train_rows, val_rows = self._validation_split(y_codes.astype(np.intp), rng)
        seed = int(rng.randint(np.iinfo(np.int32).max))

        self.classes_ = classes
        self.tasks_ = task_labels
        self.n_week_features_ = n_feat
        self.scaler_ = scaler
        with torch.random.fork_rng(devices=[]), _threads(self.n_threads), _deterministic():
            torch.manual_seed(seed)
            self._train(data, y_codes.astype(np.int64), task_codes, train_rows, val_rows, seed)
        return self

    def _validation_split(self, y_codes: IntArray, rng: np.random.RandomState) -> tuple[IntArray, IntArray]:
        n = y_codes.shape[0]
        rows = np.arange(n, dtype=np.intp)
        n_val = int(np.floor(self.validation_fraction * n))
        if self.validation_fraction == 0 or n_val < 1 or n - n_val < 1:
            return rows, rows[:0]
        seed = int(rng.randint(np.iinfo(np.int32).max))
        counts = np.bincount(y_codes)
        stratify = y_codes if counts.min() >= 2 and n_val >= counts.shape[0] else None
        train, val = train_test_split(rows, test_size=n_val, random_state=seed, stratify=stratify)
        return np.sort(train).astype(np.intp), np.sort(val).astype(np.intp)

    def _build(self, n_static_inputs: int, n_tasks: int) -> SequenceNet:
        return SequenceNet(
            arch=self.arch,
            n_inputs=self.n_week_features_ + 1,
            n_weeks=self.n_weeks,
            n_static_inputs=n_static_inputs,
            n_tasks=n_tasks,
            n_outputs=int(self.classes_.shape[0]),
            hidden_size=self.hidden_size,
            n_layers=self._n_layers(),
            kernel_size=self.kernel_size,
            n_heads=self.n_heads,
            dropout=self.dropout,
            task_embedding_dim=self.task_embedding_dim,
            static_hidden=self.static_hidden,
        )

    def _net_shape(self) -> tuple[int, int]:
        """``(static input columns, number of tasks)`` of the network."""
        return 2 * self.n_static, 0 if self.tasks_ is None else int(self.tasks_.shape[0])

    def _train(
        self,
        data: Prepared,
        y: npt.NDArray[np.int64],
        task_codes: IntArray | None,
        train_rows: IntArray,
        val_rows: IntArray,
        seed: int,
    ) -> None:
        gen = torch.Generator().manual_seed(seed)
        module = self._build(*self._net_shape())
        seq = torch.from_numpy(data.seq)
        cells = torch.from_numpy(data.cells)
        static = torch.from_numpy(data.static) if self.n_static else None
        task_t = None if task_codes is None else torch.from_numpy(task_codes.astype(np.int64))
        target = torch.from_numpy(y)

        weights = self._class_weights(y[train_rows])
        weight = None if weights is None else torch.tensor(weights, dtype=torch.float32)
        loss_fn = nn.CrossEntropyLoss(weight=weight)
        optimizer = torch.optim.Adam(
            module.parameters(), lr=self.lr, weight_decay=self.weight_decay, fused=True
        )
        scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=self.lr_decay)

        train_idx = torch.from_numpy(train_rows.astype(np.int64))
        val_idx = torch.from_numpy(val_rows.astype(np.int64))
        history: dict[str, list[float]] = {"train_loss": [], "val_loss": [], "lr": []}
        best_loss, best_epoch, best_state = float("inf"), 0, None
        stale = 0
        epoch = 0
        for epoch in range(1, self.max_epochs + 1):
            module.train()
            history["lr"].append(float(optimizer.param_groups[0]["lr"]))
            order = train_idx[torch.randperm(train_idx.shape[0], generator=gen)]
            total, seen = 0.0, 0
            for start in range(0, order.shape[0], self.batch_size):
                idx = order[start : start + self.batch_size]
                batch = self._augment(seq[idx], cells[idx], gen)
                logits = module(batch, _take(static, idx), _take(task_t, idx))
                loss: Tensor = loss_fn(logits, target[idx])
                optimizer.zero_grad()
                loss.backward()  # type: ignore[no-untyped-call]
                nn.utils.clip_grad_norm_(module.parameters(), _CLIP_NORM)
                optimizer.step()
                total += float(loss.detach()) * idx.shape[0]
                seen += idx.shape[0]
            scheduler.step()
            history["train_loss"].append(total / max(seen, 1))
            if val_idx.shape[0] == 0:
                if self.verbose:
                    print(f"epoch {epoch:3d}  train {history['train_loss'][-1]:.4f}")
                continue
            logits = _logits(module, seq[val_idx], _take(static, val_idx), _take(task_t, val_idx))
            with torch.no_grad():
                val_loss = float(loss_fn(logits, target[val_idx]))
            history["val_loss"].append(val_loss)
            if self.verbose:
                print(f"epoch {epoch:3d}  train {history['train_loss'][-1]:.4f}  val {val_loss:.4f}")
            if val_loss < best_loss - self.tol:
                best_loss, best_epoch, stale = val_loss, epoch, 0
                best_state = copy.deepcopy(module.state_dict())
            else:
                stale += 1
                if stale >= self.patience:
                    break
        if best_state is not None:
            module.load_state_dict(best_state)
        else:
            best_epoch = epoch
        module.eval()
        self.module_ = module
        self.n_epochs_ = epoch
        self.best_epoch_ = best_epoch
        self.history_ = history

    def _class_weights(self, y: npt.NDArray[np.int64]) -> FloatArray | None:
        """Loss weight of each class (in the order of ``classes_``) from ``class_weight``."""
        n_classes = self.classes_.shape[0]
        if self.class_weight is None:
            return None
        if isinstance(self.class_weight, dict):
            unknown = set(self.class_weight) - set(self.classes_.tolist())
            if unknown:
                raise ValueError(f"class_weight has labels not in y: {sorted(map(str, unknown))}")
            return np.array([float(self.class_weight.get(c, 1.0)) for c in self.classes_.tolist()])
        counts = np.bincount(y, minlength=n_classes).astype(np.float64)
        share = y.shape[0] / (n_classes * np.maximum(counts, 1.0))
        out: FloatArray = np.where(counts > 0, share, 0.0)
        return out

    def _augment(self, seq: Tensor, cells: Tensor, gen: torch.Generator) -> Tensor:
        """Training-only augmentation: noise on observed standardised features, whole weeks masked."""
        if self.noise_std > 0:
            noise = torch.randn(cells.shape, generator=gen) * self.noise_std
            seq = torch.cat([seq[..., :-1] + noise * cells.to(seq.dtype), seq[..., -1:]], dim=2)
        if self.week_mask_p > 0:
            keep = torch.rand(seq.shape[:2], generator=gen) >= self.week_mask_p
            seq = seq * keep.unsqueeze(-1).to(seq.dtype)
        return seq

    # -- predict ---------------------------------------------------------------------------------

    def _task_codes(self, tasks: Any, n: int) -> IntArray | None:
        if self.tasks_ is None:
            if tasks is not None:
                raise ValueError("this model was fitted without tasks: call it with tasks=None")
            return None
        codes: IntArray = lookup_tasks(tasks, n, self.tasks_)
        return codes

    def _class_logits(self, X: Any, tasks: Any) -> FloatArray:
        """Logits of every class, ``(n_samples, n_classes)``."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64, ensure_all_finite="allow-nan")
        codes = self._task_codes(tasks, X.shape[0])
        static, weeks = split_columns(X, self.n_static, self.n_weeks)
        data = self.scaler_.transform(static, weeks)
        seq = torch.from_numpy(data.seq)
        static_t = torch.from_numpy(data.static) if self.n_static else None
        task_t = None if codes is None else torch.from_numpy(codes.astype(np.int64))
        out = np.empty((X.shape[0], self.classes_.shape[0]), dtype=np.float64)
        with _threads(self.n_threads):
            for start in range(0, X.shape[0], _PREDICT_BATCH):
                idx = torch.arange(start, min(start + _PREDICT_BATCH, X.shape[0]))
                logits = _logits(self.module_, seq[idx], _take(static_t, idx), _take(task_t, idx))
                out[start : start + idx.shape[0]] = logits.numpy()
        return out

    def decision_function(self, X: Any, tasks: Any = None) -> FloatArray:
        """Class scores: logits ``(n_samples, n_classes)``; for two classes, ``(n_samples,)``.

        With two classes the score is the logit of ``classes_[1]`` minus that of ``classes_[0]``
        (positive: ``classes_[1]``), scikit-learn's binary convention.
        """
        z = self._class_logits(X, tasks)
        return z[:, 1] - z[:, 0] if z.shape[1] == 2 else z

    def predict_proba(self, X: Any, tasks: Any = None) -> FloatArray:
        """Class probabilities ``(n_samples, n_classes)`` in the order of ``classes_`` (softmax)."""
        z = self._class_logits(X, tasks)
        z -= z.max(axis=1, keepdims=True)
        p: FloatArray = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        return p

    def predict(self, X: Any, tasks: Any = None) -> Any:
        """Most probable class of each row."""
        best = np.argmax(self._class_logits(X, tasks), axis=1)
        return self.classes_[best]

    def score(self, X: Any, y: Any, tasks: Any = None, sample_weight: Any = None) -> float:
        """Accuracy of ``predict(X, tasks)``."""
        return float(accuracy_score(y, self.predict(X, tasks), sample_weight=sample_weight))

    # -- pickling --------------------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        """The estimator's state with the network replaced by its weights as NumPy arrays."""
        state: dict[str, Any] = dict(super().__getstate__())
        module = state.pop("module_", None)
        if module is not None:
            weights = module.state_dict().items()
            state["_module_weights"] = {k: v.detach().cpu().numpy().copy() for k, v in weights}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore, rebuilding the network from its weights."""
        state = dict(state)
        weights = state.pop("_module_weights", None)
        super().__setstate__(state)
        if weights is not None:
            module = self._build(*self._net_shape())
            module.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})
            module.eval()
            self.module_ = module


@contextmanager
def _threads(n: int | None) -> Iterator[None]:
    """Run with ``n`` torch intra-op threads (None: unchanged), restoring the previous number."""
    before = torch.get_num_threads()
    if n is not None and n != before:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


@contextmanager
def _deterministic() -> Iterator[None]:
    """Run with ``torch.use_deterministic_algorithms(True)`` (warn only), restoring the setting."""
    was = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(was, warn_only=warn_only)


def _take(t: Tensor | None, idx: Tensor) -> Tensor | None:
    return None if t is None else t[idx]


def _logits(module: SequenceNet, seq: Tensor, static: Tensor | None, tasks: Tensor | None) -> Tensor:
    """Logits in evaluation mode (no dropout), without gradients; restores the module's mode."""
    was_training = module.training
    module.eval()
    with torch.no_grad():
        out: Tensor = module(seq, static, tasks)
    module.train(was_training)
    return out
