"""Fixtures of the classroom-video tests: the real face photographs and the ``video`` extra.

Without the extra (or the data) the tests are skipped on a developer's machine and **fail** when
``CI=true``: ``scripts/dev.sh test`` installs the extra.
"""

from __future__ import annotations

import importlib.util

import pytest

from learnsight.settings import running_in_ci
from learnsight.vision.demo_lesson import EXTRA_MODULES


@pytest.fixture(autouse=True)
def video_extra() -> None:
    """Every test here needs the ``video`` extra."""
    missing = [m for m in EXTRA_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        message = f"the video extra is missing ({', '.join(missing)}): pip install -e '.[video]'"
        if running_in_ci():
            pytest.fail(message)
        pytest.skip(message)
