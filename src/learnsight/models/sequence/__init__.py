"""Neural sequence models over weekly feature tensors (needs the ``torch`` extra).

:class:`SequenceClassifier` is a scikit-learn compatible classifier over flat rows of static
features followed by week-major weekly features (:func:`flatten_sequences` builds them from a
``(rows, weeks, features)`` tensor), with a convolutional, attention, GRU or LSTM encoder, and an
optional learned task (course) embedding for multi-course training.
"""

from learnsight.models.sequence._data import SequenceScaler, flatten_sequences, split_columns
from learnsight.models.sequence.classifier import SequenceClassifier
from learnsight.models.sequence.networks import (
    AttentionEncoder,
    ConvEncoder,
    RecurrentEncoder,
    SequenceNet,
)

__all__ = [
    "AttentionEncoder",
    "ConvEncoder",
    "RecurrentEncoder",
    "SequenceClassifier",
    "SequenceNet",
    "SequenceScaler",
    "flatten_sequences",
    "split_columns",
]
