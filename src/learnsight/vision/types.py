"""The values every vision stage passes on: images, boxes and faces.

Images are RGB ``uint8`` arrays of shape (height, width, 3) everywhere; coordinates are pixels of
the image they were found in, ``x`` to the right and ``y`` down.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Image = NDArray[np.uint8]
"""An RGB image, (height, width, 3), ``uint8``."""


@dataclass(frozen=True)
class Box:
    """An axis-aligned box: top-left corner (``x``, ``y``), width ``w``, height ``h``, in pixels."""

    x: float
    y: float
    w: float
    h: float

    @property
    def area(self) -> float:
        return max(self.w, 0.0) * max(self.h, 0.0)

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    def iou(self, other: Box) -> float:
        """Intersection over union with ``other`` (0 when they do not overlap).

        >>> Box(0, 0, 10, 10).iou(Box(5, 0, 10, 10))
        0.3333333333333333
        """
        ix = max(0.0, min(self.x + self.w, other.x + other.w) - max(self.x, other.x))
        iy = max(0.0, min(self.y + self.h, other.y + other.h) - max(self.y, other.y))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def expanded(self, factor: float) -> Box:
        """The box grown by ``factor`` of its size on every side (0.2: 20 % wider each way)."""
        return Box(
            self.x - self.w * factor,
            self.y - self.h * factor,
            self.w * (1 + 2 * factor),
            self.h * (1 + 2 * factor),
        )

    def clipped(self, width: int, height: int) -> Box:
        """The part of the box inside a ``width`` × ``height`` image."""
        x0, y0 = max(0.0, self.x), max(0.0, self.y)
        x1, y1 = min(float(width), self.x + self.w), min(float(height), self.y + self.h)
        return Box(x0, y0, max(0.0, x1 - x0), max(0.0, y1 - y0))

    def crop(self, image: Image) -> Image:
        """The pixels of ``image`` inside the box (clipped to the image; may be empty)."""
        b = self.clipped(image.shape[1], image.shape[0])
        return image[int(b.y) : round(b.y + b.h), int(b.x) : round(b.x + b.w)]


@dataclass(frozen=True)
class Face:
    """A detected face: its box, the detector's confidence in [0, 1], and the detector's facial
    keypoints as an (n, 2) array of pixel coordinates when it gives them (mediapipe: right eye,
    left eye, nose tip, mouth centre, right ear, left ear)."""

    box: Box
    score: float
    keypoints: NDArray[np.float64] | None = None
