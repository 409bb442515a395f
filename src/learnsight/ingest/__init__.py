"""Importers: each turns one kind of source into statements and profiles for the store.

One module per source kind, each exposing ``ingest_<kind>(store, path, ...) -> IngestReport`` and
reachable as ``learnsight ingest <kind> PATH``.  :func:`timed` runs any of them and makes the report's
``seconds`` cover the whole import (reading, validating, transforming and writing), not only the
store's write.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Concatenate, ParamSpec

from learnsight.store.base import IngestReport, Store

P = ParamSpec("P")


def timed(
    importer: Callable[Concatenate[Store, P], IngestReport],
    store: Store,
    *args: P.args,
    **kwargs: P.kwargs,
) -> IngestReport:
    """Run ``importer(store, *args, **kwargs)``; the report's ``seconds`` is the whole wall time."""
    started = time.perf_counter()
    report = importer(store, *args, **kwargs)
    return dataclasses.replace(report, seconds=time.perf_counter() - started)
