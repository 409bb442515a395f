"""Fixtures: an LRS app on each backend — a temporary DuckDB store, and a fresh database on a real
PostgreSQL server — with writer/reader credentials.

The PostgreSQL server is ``$LEARNSIGHT_TEST_POSTGRES`` (a ``postgresql://`` URL of a role that may
create databases; ``scripts/dev.sh test`` starts one with ``scripts/postgres.sh``).  Without it the
PostgreSQL cases are skipped locally and fail under ``CI=true``.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from fastapi.testclient import TestClient

from learnsight.lrs import create_app
from learnsight.lrs.backend import LRSBackend
from learnsight.lrs.connect import open_backend

BACKENDS = ("duckdb", "postgres")


def basic(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


HEADERS = {"X-Experience-API-Version": "1.0.3", "Authorization": basic("app", "s3cret")}
READER = {"X-Experience-API-Version": "1.0.3", "Authorization": basic("reader", "r3ad")}
WRITER = {"X-Experience-API-Version": "1.0.3", "Authorization": basic("writer", "wr1te")}
CREDENTIALS = {
    "app": ("s3cret", ["all"]),
    "reader": ("r3ad", ["statements/read"]),
    "writer": ("wr1te", ["statements/write"]),
}


def statement(n: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "actor": {"mbox": f"mailto:learner{n}@example.org", "name": f"Learner {n}"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted", "display": {"en-US": "attempted"}},
        "object": {"id": f"http://example.org/quiz/{n}", "objectType": "Activity"},
        **extra,
    }


@pytest.fixture(scope="session")
def postgres_server() -> str | None:
    """The URL of the test PostgreSQL server, or None (then PostgreSQL cases skip; in CI they fail)."""
    url = os.environ.get("LEARNSIGHT_TEST_POSTGRES")
    if not url and os.environ.get("CI", "").lower() == "true":
        pytest.fail("CI=true but LEARNSIGHT_TEST_POSTGRES is not set: scripts/dev.sh test starts PostgreSQL")
    return url or None


def fresh_database(server: str) -> str:
    """A new, empty database on ``server``; returns its URL."""
    import psycopg

    name = f"lrs_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    parts = urlsplit(server)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "lrs.duckdb"


@pytest.fixture(params=BACKENDS)
def backend_target(request: pytest.FixtureRequest, store_path: Path, postgres_server: str | None) -> str:
    """Where an LRS test stores: a DuckDB path, or a fresh PostgreSQL database."""
    if request.param == "duckdb":
        return str(store_path)
    if postgres_server is None:
        pytest.skip("no PostgreSQL server (set LEARNSIGHT_TEST_POSTGRES)")
    return fresh_database(postgres_server)


@pytest.fixture
def backend(backend_target: str) -> Iterator[LRSBackend]:
    opened = open_backend(backend_target)
    yield opened
    opened.close()


@pytest.fixture
def client(backend_target: str) -> Iterator[TestClient]:
    with TestClient(create_app(backend_target, credentials=CREDENTIALS)) as c:
        yield c


def duckdb_only(client: TestClient) -> Any:
    """The DuckDB store behind ``client``; skips the test on another backend."""
    backend = client.app.state.lrs.backend  # type: ignore[attr-defined]
    if backend.name != "duckdb":
        pytest.skip("reads the DuckDB store's own tables")
    return backend.store
