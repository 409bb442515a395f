"""The ``video`` extra: a clear error when it is not installed."""

from __future__ import annotations

import importlib
from types import ModuleType

from learnsight.errors import LearnsightError


class VideoExtraMissing(LearnsightError):
    """A classroom-video feature was used without the ``video`` extra."""


def require(module: str) -> ModuleType:
    """Import ``module`` from the ``video`` extra, or raise :class:`VideoExtraMissing` saying how to
    install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise VideoExtraMissing(
            f"{module} is not installed: classroom video needs the video extra (pip install -e '.[video]')"
        ) from exc
