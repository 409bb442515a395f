"""Small file helpers shared across stages."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_file(path: Path | str) -> str:
    """SHA-256 (hex) of a file's bytes, read in 1 MiB blocks: the identity of a model file, a data
    set's labels or a video."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
