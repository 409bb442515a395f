"""Helpers shared by the benchmark scripts: peak memory and a printed figure line."""

from __future__ import annotations

import resource
import sys
from pathlib import Path


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux: ru_maxrss is KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dir_size_mb(path: Path) -> float:
    """Size of a file or of all files under a folder, in MiB."""
    if path.is_file():
        return path.stat().st_size / 2**20
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def figure(name: str, value: float, unit: str, target: str = "") -> None:
    """Print one benchmark figure as an aligned line (and flush, for long runs)."""
    tail = f"   (target {target})" if target else ""
    print(f"{name:<44} {value:>14,.2f} {unit}{tail}")
    sys.stdout.flush()
