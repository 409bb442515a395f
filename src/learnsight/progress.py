"""Progress reporting that library code can call and only the CLI renders.

Library functions wrap long steps in :func:`task`; when the CLI has called :func:`enable` the steps
show as rich progress bars (with elapsed time), otherwise they cost nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

_progress: Progress | None = None


def enable(console: Console | None = None) -> Progress:
    """Start rendering progress on ``console`` (stderr by default); returns the rich Progress."""
    global _progress
    if _progress is None:
        _progress = Progress(
            SpinnerColumn(),
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console or Console(stderr=True),
            transient=False,
        )
        _progress.start()
    return _progress


def disable() -> None:
    """Stop rendering progress."""
    global _progress
    if _progress is not None:
        _progress.stop()
        _progress = None


@contextmanager
def task(description: str, total: float | None = None) -> Iterator[Callable[[float], None]]:
    """A step of work; yields ``advance(n)`` to report progress towards ``total``."""
    if _progress is None:
        yield lambda _n: None
        return
    progress = _progress
    task_id = progress.add_task(description, total=total)
    try:
        yield lambda n: progress.advance(task_id, n)
    finally:
        progress.update(task_id, completed=total if total is not None else 1, total=total or 1)
