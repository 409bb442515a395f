"""Fixtures: an LRS app on a temporary DuckDB store, with a writer/reader credential."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from learnsight.lrs import create_app


def basic(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


HEADERS = {"X-Experience-API-Version": "1.0.3", "Authorization": basic("app", "s3cret")}
READER = {"X-Experience-API-Version": "1.0.3", "Authorization": basic("reader", "r3ad")}
WRITER = {"X-Experience-API-Version": "1.0.3", "Authorization": basic("writer", "wr1te")}


def statement(n: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "actor": {"mbox": f"mailto:learner{n}@example.org", "name": f"Learner {n}"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted", "display": {"en-US": "attempted"}},
        "object": {"id": f"http://example.org/quiz/{n}", "objectType": "Activity"},
        **extra,
    }


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "lrs.duckdb"


@pytest.fixture
def client(store_path: Path) -> Iterator[TestClient]:
    app = create_app(
        store_path,
        credentials={
            "app": ("s3cret", ["all"]),
            "reader": ("r3ad", ["statements/read"]),
            "writer": ("wr1te", ["statements/write"]),
        },
    )
    with TestClient(app) as c:
        yield c
