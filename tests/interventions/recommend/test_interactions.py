"""Implicit-feedback matrices from the store (learnsight.interventions.recommend.interactions)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from learnsight.indicators.asof import AsOf
from learnsight.interventions.recommend import (
    KINDS,
    PROJECT,
    RecommendError,
    from_triples,
    load_interactions,
    resource_courses,
)
from learnsight.store import DuckDBStore, IngestBatch, open_store
from learnsight.xapi import vocab
from learnsight.xapi.columns import statement_columns, statements_table
from learnsight.xapi.parse import parse_statement

HOME = "https://uni.example.org"


def test_from_triples_adds_up_repeats_and_keeps_the_first_use() -> None:
    x = from_triples("books", ["b", "a", "a", "a"], ["x", "y", "x", "x"], [1, 2, 3, 4], [30, 20, 10, 5])
    assert x.counts.toarray().tolist() == [[7.0, 2.0], [1.0, 0.0]]
    assert x.first_use_matrix().toarray().tolist() == [[5.0, 20.0], [30.0, 0.0]]
    assert np.allclose(x.ratings().toarray(), np.log1p(x.counts.toarray()))
    with pytest.raises(RecommendError, match="positive"):
        from_triples("books", ["a"], ["x"], [0], [1])
    with pytest.raises(RecommendError, match="no books interactions"):
        x.user_row("zed")


def test_campus_kinds(campus_store: DuckDBStore) -> None:
    courses = resource_courses(campus_store)
    assert len(courses) == 3
    res = load_interactions(campus_store, "resources", course=courses[0])
    assert all(i.startswith(courses[0] + "/") for i in res.items)
    assert any("/resource/R" in i for i in res.items) and any("/video/" in i for i in res.items)
    assert not any("/quiz/" in i or "/homework/" in i or "/forum/" in i for i in res.items)
    # counts are clicks (quantity) where given: more than one per statement on resources
    statements = campus_store.con.execute(
        "SELECT count(*) FROM statements WHERE course = ? AND object_id LIKE '%/resource/R%'", [courses[0]]
    ).fetchone()
    assert statements is not None
    resource_cols = [j for j, i in enumerate(res.items) if "/resource/R" in i]
    assert res.counts[:, resource_cols].sum() > statements[0]
    books = load_interactions(campus_store, "books")
    assert all("/library/book/" in i for i in books.items)
    assert all("(" in label for label in books.labels)  # title (category)
    partners = load_interactions(campus_store, "partners")
    assert set(partners.items) <= set(partners.users) | set(partners.items)
    dense = partners.counts.toarray()
    index = {u: i for i, u in enumerate(partners.users)}
    for j, item in enumerate(partners.items):
        assert dense[index[item], j] == 0 if item in index else True  # never oneself
    sym = {(partners.users[r], partners.items[c]) for r, c in zip(*partners.counts.nonzero(), strict=True)}
    assert all((b, a) in sym for a, b in sym)  # an exchange links both learners
    assert load_interactions(campus_store, "courses").shape[1] == 3


def test_errors_name_the_kind(campus_store: DuckDBStore) -> None:
    with pytest.raises(RecommendError, match="unknown kind 'films'"):
        load_interactions(campus_store, "films")
    with pytest.raises(RecommendError, match="give a course"):
        load_interactions(campus_store, "resources")
    with pytest.raises(RecommendError, match=r"no project statements.*neither OULAD nor the simulated"):
        load_interactions(campus_store, "projects")
    assert "projects" in KINDS


def _statement(
    actor: str, verb: str, obj: str, when: str, *, platform: str = "lms", **ext: Any
) -> dict[str, Any]:
    return {
        "actor": {"objectType": "Agent", "account": {"homePage": HOME, "name": actor}},
        "verb": {"id": verb},
        "object": {"objectType": "Activity", "id": obj, "definition": {"type": PROJECT}},
        "context": {"platform": platform, "extensions": {vocab.EXT_TITLE: ext.get("title", "untitled")}},
        "timestamp": when,
    }


def _reply(actor: str, author: str, when: str) -> dict[str, Any]:
    thread = f"{HOME}/course/X/forum/{author}/t1"
    return {
        "actor": {"objectType": "Agent", "account": {"homePage": HOME, "name": actor}},
        "verb": {"id": vocab.REPLIED},
        "object": {"objectType": "Activity", "id": thread, "definition": {"type": vocab.DISCUSSION}},
        "context": {"platform": "lms", "extensions": {vocab.EXT_THREAD_AUTHOR: f"account:{HOME}|{author}"}},
        "timestamp": when,
    }


def test_hand_made_project_statements(tmp_path: Path) -> None:
    joined = vocab.BASE + "/verbs/joined"
    raw = [
        _statement("ana", joined, f"{HOME}/project/solar", "2024-10-01T10:00:00Z", title="Solar car"),
        _statement("ana", vocab.ATTENDED, f"{HOME}/project/solar", "2024-10-03T10:00:00Z", title="Solar car"),
        _statement("ana", joined, f"{HOME}/project/robots", "2024-10-05T10:00:00Z", title="Robots"),
        _statement("ben", joined, f"{HOME}/project/robots", "2024-10-02T10:00:00Z", title="Robots"),
        # learnsight's own statements about learners are never feedback
        _statement("ben", joined, f"{HOME}/project/ghost", "2024-10-02T10:00:00Z", platform="intervention"),
        _reply("ana", "ben", "2024-10-02T11:00:00Z"),
        _reply("cleo", "ben", "2024-10-02T12:00:00Z"),
    ]
    stored = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        statement_columns(parse_statement(s, index=i), stored=stored, source=s) for i, s in enumerate(raw)
    ]
    with open_store(tmp_path / "p.duckdb") as store:
        store.ingest(
            IngestBatch(
                kind="test", source="projects", rows_read=len(rows), statements=statements_table(rows)
            )
        )
        x = load_interactions(store, "projects")
        assert x.items == (f"{HOME}/project/robots", f"{HOME}/project/solar")
        assert x.labels == ("Robots", "Solar car")
        assert x.counts.toarray().tolist() == [[1.0, 2.0], [1.0, 0.0]]
        early = load_interactions(store, "projects", as_of=AsOf.parse("2024-10-04"))
        assert early.counts.toarray().tolist() == [[0.0, 2.0], [1.0, 0.0]]
        # xAPI statements keep their extensions in the raw JSON: partners still come out
        partners = load_interactions(store, "partners")
        assert [u.rsplit("|", 1)[-1] for u in partners.users] == ["ana", "ben", "cleo"]
        assert partners.counts.toarray().tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
