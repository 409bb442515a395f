"""Every importer refuses a non-UTF-8 file and a truncated gzip with an error that names the file,
and leaves the store exactly as it was."""

from __future__ import annotations

import gzip
import importlib.util
import shutil
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from learnsight.errors import IngestError
from learnsight.ingest.csv_mapped import ingest_csv
from learnsight.ingest.oulad import ingest_oulad
from learnsight.ingest.uci import ingest_uci
from learnsight.ingest.xapi_json import ingest_xapi
from learnsight.simulate.campus import CampusConfig, simulate_campus, write_campus
from learnsight.store import DuckDBStore


def _sibling(name: str) -> ModuleType:
    """Load a sibling test module for its fixture writers (tests are not a package)."""
    path = Path(__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_bad_files_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _snapshot(store: DuckDBStore) -> tuple[int, int, int]:
    return (
        store.count_statements(),
        int(store.scalar("SELECT count(*) FROM ingest_batches")),
        int(store.scalar("SELECT count(*) FROM profiles")),
    )


def _latin1(path: Path) -> None:
    """Rewrite a UTF-8 text file with a Latin-1 byte in its second line."""
    lines = path.read_bytes().split(b"\n")
    lines[1] = lines[1] + b"\xe9"  # 'é' in Latin-1, invalid UTF-8 on its own
    path.write_bytes(b"\n".join(lines))


def _truncate_gz(path: Path) -> Path:
    gz = path.with_name(path.name + ".gz")
    with path.open("rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    data = gz.read_bytes()
    gz.write_bytes(data[: len(data) // 2])
    path.unlink()
    return gz


def _oulad(tmp: Path) -> tuple[Path, Path, Callable[[DuckDBStore, Path], object]]:
    folder = _sibling("test_oulad").write_oulad(tmp / "oulad", gz=False)
    return folder, folder / "studentVle.csv", ingest_oulad


def _uci(tmp: Path) -> tuple[Path, Path, Callable[[DuckDBStore, Path], object]]:
    uci = _sibling("test_uci")
    path = uci.write(tmp / "uci", "mat", [uci.line(), uci.line(age="18")])
    return tmp / "uci", path, ingest_uci


def _csv(tmp: Path) -> tuple[Path, Path, Callable[[DuckDBStore, Path], object]]:
    path = tmp / "canteen.csv"
    path.write_text(
        "card_id,timestamp,terminal,canteen,amount\n"
        "S0001,2024-09-02 07:32:10,T12,North canteen,6.50\n"
        "S0002,2024-09-02 12:02:00,T03,South canteen,9.00\n",
        encoding="utf-8",
    )
    return path, path, lambda store, p: ingest_csv(store, p, "campus-card-canteen")


def _xapi(tmp: Path) -> tuple[Path, Path, Callable[[DuckDBStore, Path], object]]:
    from learnsight.simulate.export import export_sources

    campus = simulate_campus(CampusConfig(n_students=3, n_courses=1, n_weeks=1, seed=2))
    path = export_sources(campus, tmp / "campus")["lms"]
    return path, path, ingest_xapi


IMPORTERS = {"oulad": _oulad, "uci": _uci, "csv": _csv, "xapi": _xapi}


@pytest.fixture
def filled(store: DuckDBStore) -> DuckDBStore:
    """A store that already holds data, which a failed import must not touch."""
    write_campus(store, simulate_campus(CampusConfig(n_students=4, n_courses=1, n_weeks=1, seed=9)))
    return store


@pytest.mark.parametrize("kind", sorted(IMPORTERS))
def test_non_utf8_file(kind: str, filled: DuckDBStore, tmp_path: Path) -> None:
    target, bad_file, importer = IMPORTERS[kind](tmp_path)
    _latin1(bad_file)
    before = _snapshot(filled)
    with pytest.raises(IngestError) as caught:
        importer(filled, target)
    assert bad_file.name in str(caught.value)
    assert "UTF-8" in str(caught.value) or "utf-8" in str(caught.value).lower()
    assert _snapshot(filled) == before


@pytest.mark.parametrize("kind", sorted(IMPORTERS))
def test_truncated_gzip(kind: str, filled: DuckDBStore, tmp_path: Path) -> None:
    target, source_file, importer = IMPORTERS[kind](tmp_path)
    gz = _truncate_gz(source_file)
    if target == source_file:
        target = gz
    before = _snapshot(filled)
    with pytest.raises(IngestError) as caught:
        importer(filled, target)
    assert gz.name in str(caught.value)
    assert _snapshot(filled) == before
