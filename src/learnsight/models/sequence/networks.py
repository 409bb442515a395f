"""PyTorch modules of :class:`~learnsight.models.sequence.SequenceClassifier`.

Every encoder maps a batch of weekly inputs ``seq`` of shape ``(batch, n_weeks, n_inputs)`` -- the
standardised weekly features, 0 where missing, then the fraction of the week's features observed
as the last channel -- to a fixed-size representation ``(batch, out_features)``.  A week whose
last channel is 0 is *unobserved* (after the cut-off, after the course's end, or masked by
augmentation); each encoder keeps such weeks out of its summary:

* :class:`ConvEncoder` -- causal dilated 1-D convolutions over weeks, then max and mean pooling
  over the observed weeks;
* :class:`AttentionEncoder` -- a small Transformer encoder (Vaswani et al. 2017) over a learned
  weekly embedding plus learned positional embedding, unobserved weeks as padded keys;
* :class:`RecurrentEncoder` -- a GRU or LSTM whose hidden state at the last observed week
  summarises the course so far (Aljohani, Fayoumi & Hassan 2019).

:class:`SequenceNet` adds a small MLP on the static features and an optional learned task
(course) embedding, concatenated with the sequence representation before the classification head,
so one encoder is shared by all tasks (multi-task learning by parameter sharing).  Dropout acts on
the sequence representation, the static branch and the head, not inside the encoders: on a CPU,
dropout masks over every week's activations cost more than the small encoders themselves.

References
----------
.. [1] N. R. Aljohani, A. Fayoumi and S.-U. Hassan, "Predicting at-risk students using clickstream
   data in the virtual learning environment", Sustainability 11(24), 7238, 2019.
.. [2] A. Vaswani, N. Shazeer, N. Parmar, J. Uszkoreit, L. Jones, A. N. Gomez, L. Kaiser and
   I. Polosukhin, "Attention is all you need", NeurIPS 2017.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F  # noqa: N812 -- PyTorch's convention
from torch import Tensor, nn

Arch = Literal["conv", "attention", "gru", "lstm"]
ARCHS: tuple[Arch, ...] = ("conv", "attention", "gru", "lstm")


def observed_weeks(seq: Tensor) -> Tensor:
    """``(batch, n_weeks)`` bool: weeks whose observed-fraction channel (the last) is positive."""
    return seq[..., -1] > 0


def masked_max_mean(h: Tensor, observed: Tensor) -> Tensor:
    """Max and mean of ``h`` ``(batch, n_weeks, d)`` over observed weeks: ``(batch, 2 d)``.

    A row with no observed week pools to zeros.
    """
    keep = observed.unsqueeze(-1)
    weight = keep.to(h.dtype)
    mean = (h * weight).sum(dim=1) / weight.sum(dim=1).clamp(min=1.0)
    peak = h.masked_fill(~keep, float("-inf")).amax(dim=1)
    peak = torch.where(observed.any(dim=1, keepdim=True), peak, torch.zeros_like(peak))
    return torch.cat([peak, mean], dim=1)


class _CausalBlock(nn.Module):
    """Residual block: causal dilated convolution over weeks, then ReLU.

    Channels-last ``(batch, weeks, channels)``: the convolution is written as one linear map of the
    ``kernel_size`` lagged copies of the sequence (weeks ``t, t - d, ..., t - (k - 1) d``, zeros
    before week 0), which on a CPU trains faster than :class:`torch.nn.Conv1d` at these sizes.
    """

    def __init__(self, channels: int, kernel_size: int, dilation: int) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.linear = nn.Linear(kernel_size * channels, channels)

    def forward(self, x: Tensor) -> Tensor:
        n_weeks, d = x.shape[1], self.dilation
        padded = F.pad(x, (0, 0, (self.kernel_size - 1) * d, 0))
        lags = torch.cat([padded[:, i * d : i * d + n_weeks] for i in range(self.kernel_size)], dim=2)
        out: Tensor = x + F.relu(self.linear(lags))
        return out


class ConvEncoder(nn.Module):
    """Causal temporal convolutions over weeks with global max + mean pooling.

    A linear layer embeds each week, then ``n_layers`` residual blocks of causal convolutions with
    dilation ``1, 2, 4, ...`` (each week sees only itself and earlier weeks, so a summary at the
    cut-off never mixes in the padded weeks after it).  Max pooling catches a burst or a drop in
    any week, mean pooling the overall level; both run over observed weeks only.  Convolutions are
    the simplest of the encoders and a strong baseline for short weekly sequences.
    """

    def __init__(self, n_inputs: int, hidden_size: int, n_layers: int, kernel_size: int) -> None:
        super().__init__()
        self.embed = nn.Linear(n_inputs, hidden_size)
        self.blocks = nn.ModuleList(_CausalBlock(hidden_size, kernel_size, 2**i) for i in range(n_layers))
        self.out_features = 2 * hidden_size

    def forward(self, seq: Tensor) -> Tensor:
        h: Tensor = F.relu(self.embed(seq))
        for block in self.blocks:
            h = block(h)
        return masked_max_mean(h, observed_weeks(seq))


class _SelfAttentionBlock(nn.Module):
    """Pre-norm Transformer encoder layer (Vaswani et al. 2017): multi-head self-attention + MLP.

    Written out with batched matrix products rather than :class:`torch.nn.TransformerEncoderLayer`:
    for sequences of a few dozen weeks the plain products are several times faster on a CPU than
    the fused attention kernels, and they are deterministic.
    """

    def __init__(self, hidden_size: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.scale = (hidden_size // n_heads) ** -0.5
        self.norm1 = nn.LayerNorm(hidden_size)
        self.qkv = nn.Linear(hidden_size, 3 * hidden_size)
        self.proj = nn.Linear(hidden_size, hidden_size)
        self.norm2 = nn.LayerNorm(hidden_size)
        self.mlp = nn.Sequential(
            nn.Linear(hidden_size, 2 * hidden_size), nn.ReLU(), nn.Linear(2 * hidden_size, hidden_size)
        )

    def forward(self, x: Tensor, padding: Tensor) -> Tensor:
        """``x`` ``(batch, length, hidden)``; ``padding`` ``(batch, length)`` is True for ignored keys."""
        n, length, d = x.shape
        qkv: Tensor = self.qkv(self.norm1(x))
        # (batch, heads, length, head size) views: no copy with one head
        q, k, v = (part.view(n, length, self.n_heads, -1).transpose(1, 2) for part in qkv.chunk(3, dim=-1))
        scores = (q @ k.transpose(-1, -2)) * self.scale
        scores = scores.masked_fill(padding[:, None, None, :], float("-inf"))
        heads = (scores.softmax(dim=-1) @ v).transpose(1, 2).reshape(n, length, d)
        x = x + self.proj(heads)
        out: Tensor = x + self.mlp(self.norm2(x))
        return out


class AttentionEncoder(nn.Module):
    """Transformer encoder over weeks (Vaswani et al. 2017) with a summary token.

    Each week is embedded linearly and a learned positional embedding (one vector per week of the
    course) is added; a learned summary token is prepended and never masked, so rows with no
    observed week stay well defined.  Unobserved weeks are padded keys: no position attends to
    them.  The representation is the summary token's output and the mean of the observed weeks'
    outputs.  Attention lets any week relate directly to any other (e.g. a drop relative to the
    student's own early weeks) without a recurrent path.
    """

    def __init__(self, n_inputs: int, n_weeks: int, hidden_size: int, n_layers: int, n_heads: int) -> None:
        super().__init__()
        self.embed = nn.Linear(n_inputs, hidden_size)
        self.position = nn.Parameter(torch.zeros(1, n_weeks, hidden_size))
        self.summary = nn.Parameter(torch.zeros(1, 1, hidden_size))
        # Unit-scale positions (nn.Embedding's default): with small ones (0.02, as in large
        # Transformers) the weeks start out nearly indistinguishable and training sat on a plateau.
        nn.init.normal_(self.position, std=1.0)
        nn.init.normal_(self.summary, std=0.02)
        self.blocks = nn.ModuleList(_SelfAttentionBlock(hidden_size, n_heads) for _ in range(n_layers))
        self.norm = nn.LayerNorm(hidden_size)
        self.out_features = 2 * hidden_size

    def forward(self, seq: Tensor) -> Tensor:
        observed = observed_weeks(seq)
        h: Tensor = self.embed(seq) + self.position
        tokens = torch.cat([self.summary.expand(seq.shape[0], -1, -1), h], dim=1)
        padding = torch.cat([torch.zeros_like(observed[:, :1]), ~observed], dim=1)
        for block in self.blocks:
            tokens = block(tokens, padding)
        out: Tensor = self.norm(tokens)
        weight = observed.unsqueeze(-1).to(out.dtype)
        mean = (out[:, 1:] * weight).sum(dim=1) / weight.sum(dim=1).clamp(min=1.0)
        return torch.cat([out[:, 0], mean], dim=1)


class RecurrentEncoder(nn.Module):
    """GRU or LSTM over weeks; the last hidden state is the representation.

    Following Aljohani, Fayoumi & Hassan (2019), who predict at-risk OULAD students from weekly
    clickstream with an LSTM, the network reads the weeks in order and its (last layer's) state at
    the last observed week summarises the course so far: trailing unobserved weeks (after an
    early-prediction cut-off) do not reach the representation, and an unobserved week in the middle
    is read as zero features with observed fraction 0.  (The whole padded sequence is run and the
    state at the last observed week gathered; on a CPU that is faster than packed sequences and
    gives the same result.)  A row with no observed week is represented by zeros.
    """

    def __init__(self, n_inputs: int, hidden_size: int, n_layers: int, cell: Literal["gru", "lstm"]) -> None:
        super().__init__()
        self.rnn: nn.GRU | nn.LSTM
        if cell == "gru":
            self.rnn = nn.GRU(n_inputs, hidden_size, n_layers, batch_first=True)
        else:
            self.rnn = nn.LSTM(n_inputs, hidden_size, n_layers, batch_first=True)
        self.out_features = hidden_size

    def forward(self, seq: Tensor) -> Tensor:
        observed = observed_weeks(seq)
        n_weeks = seq.shape[1]
        last = n_weeks - 1 - observed.flip(1).to(torch.int64).argmax(dim=1)
        out: Tensor = self.rnn(seq)[0]
        state = out[torch.arange(seq.shape[0]), last]
        return torch.where(observed.any(dim=1, keepdim=True), state, torch.zeros_like(state))


class SequenceNet(nn.Module):
    """Sequence encoder + static MLP + task embedding + classification head.

    Parameters
    ----------
    arch : {"conv", "attention", "gru", "lstm"}
        The sequence encoder (see the module docstring).
    n_inputs : int
        Channels per week: the weekly features plus the observed-fraction channel.
    n_weeks : int
        Sequence length (the attention encoder's positional embedding has one vector per week).
    n_static_inputs : int
        Static input columns (0: no static branch).
    n_tasks : int
        Number of tasks (0: no task embedding).
    n_outputs : int
        Number of classes (one logit each).
    hidden_size, n_layers, kernel_size, n_heads, dropout, task_embedding_dim, static_hidden
        Sizes, as in :class:`~learnsight.models.sequence.SequenceClassifier`.
    """

    def __init__(
        self,
        *,
        arch: Arch,
        n_inputs: int,
        n_weeks: int,
        n_static_inputs: int,
        n_tasks: int,
        n_outputs: int,
        hidden_size: int,
        n_layers: int,
        kernel_size: int,
        n_heads: int,
        dropout: float,
        task_embedding_dim: int,
        static_hidden: int,
    ) -> None:
        super().__init__()
        self.encoder: ConvEncoder | AttentionEncoder | RecurrentEncoder
        if arch == "conv":
            self.encoder = ConvEncoder(n_inputs, hidden_size, n_layers, kernel_size)
        elif arch == "attention":
            self.encoder = AttentionEncoder(n_inputs, n_weeks, hidden_size, n_layers, n_heads)
        elif arch in ("gru", "lstm"):
            self.encoder = RecurrentEncoder(n_inputs, hidden_size, n_layers, arch)
        else:
            raise ValueError(f"arch must be one of {ARCHS}, got {arch!r}")
        width = self.encoder.out_features
        self.drop = nn.Dropout(dropout)
        self.static: nn.Sequential | None = None
        if n_static_inputs > 0:
            self.static = nn.Sequential(
                nn.Linear(n_static_inputs, static_hidden), nn.ReLU(), nn.Dropout(dropout)
            )
            width += static_hidden
        self.task: nn.Embedding | None = None
        if n_tasks > 0 and task_embedding_dim > 0:
            self.task = nn.Embedding(n_tasks, task_embedding_dim)
            width += task_embedding_dim
        self.head = nn.Sequential(
            nn.Linear(width, hidden_size), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden_size, n_outputs)
        )

    def forward(self, seq: Tensor, static: Tensor | None = None, tasks: Tensor | None = None) -> Tensor:
        """Class logits ``(batch, n_outputs)`` of weekly inputs, static inputs and task codes."""
        parts: list[Tensor] = [self.drop(self.encoder(seq))]
        if self.static is not None:
            if static is None:
                raise ValueError("this network has a static branch: pass static inputs")
            parts.append(self.static(static))
        if self.task is not None:
            if tasks is None:
                raise ValueError("this network has a task embedding: pass task codes")
            parts.append(self.task(tasks))
        logits: Tensor = self.head(torch.cat(parts, dim=1))
        return logits
