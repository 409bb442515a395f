"""What every CLI command shares: the consoles, the ``--db`` and ``--json`` options, the store opener."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from learnsight.store import DuckDBStore, open_store

console = Console()
err_console = Console(stderr=True)

DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="Store file (DuckDB). Default: $LEARNSIGHT_DB or the user data dir."),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]


def cli_store(db: Path | None) -> DuckDBStore:
    """Open (and migrate) the store a command works on."""
    return open_store(db)


__all__ = ["DbOption", "JsonFlag", "cli_store", "console", "err_console"]
