"""learnsight: learning-behaviour analytics on one learner-centred xAPI event stream.

The package tree follows the data's journey::

    ingest/ -> store/ -> activities/ -> indicators/ -> models/ -> interventions/ -> report/ -> cli

Public entry points are re-exported here; everything else is an implementation detail of its stage.
"""

from learnsight.errors import (
    IngestError,
    LearnsightError,
    MappingError,
    StatementValidationError,
    StoreError,
)

__version__ = "0.1.0"

__all__ = [
    "IngestError",
    "LearnsightError",
    "MappingError",
    "StatementValidationError",
    "StoreError",
    "__version__",
]
