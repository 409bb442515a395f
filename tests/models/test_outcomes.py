"""Outcome labels from hand-made stores: UCI, OULAD and campus final results, cut points, ties."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest

from learnsight.ingest import uci
from learnsight.models.outcomes import (
    OUTCOME_SCHEMA,
    ClassScheme,
    ResponseClass,
    ScoreCuts,
    outcomes,
)
from learnsight.store import DuckDBStore, IngestBatch
from learnsight.xapi import vocab as v
from learnsight.xapi.ids import deterministic_id

T0 = dt.datetime(2024, 1, 10, 12)
MAT = uci.course_iri("mat")
CAMPUS = "https://campus.example.edu/course/C01"
OULAD = "https://oulad.open.ac.uk/course/AAA/2013J"


def _row(actor: str, verb: str, obj: str, course: str, **extra: object) -> dict[str, object]:
    return {
        "actor_key": actor,
        "verb_id": verb,
        "object_id": obj,
        "course": course,
        "ts": extra.pop("ts", T0),
        "source": extra.pop("source", v.SOURCE_REGISTRY),
        **extra,
    }


def _ingest(store: DuckDBStore, rows: list[dict[str, object]], salt: str = "") -> None:
    cols = ["actor_key", "verb_id", "object_id", "course", "ts", "source", "score_raw", "score_max",
            "response"]  # fmt: skip
    types = {"ts": pa.timestamp("us"), "score_raw": pa.float64(), "score_max": pa.float64()}
    data = {c: pa.array([r.get(c) for r in rows], type=types.get(c, pa.string())) for c in cols}
    n = len(rows)
    table = pa.table(
        {
            "id": [str(deterministic_id("outcomes", salt, i)) for i in range(n)],
            "object_type": ["Activity"] * n,
            **data,
        }
    )
    store.ingest(IngestBatch(kind="test", source="test", rows_read=n, statements=table))


def _uci(actor: str, g3: float, **extra: object) -> dict[str, object]:
    return _row(actor, v.SCORED, f"{MAT}/period/3", MAT, score_raw=g3, score_max=20.0, **extra)


def _by_actor(table: pa.Table) -> dict[str, dict[str, object]]:
    return {r["actor_key"]: r for r in table.to_pylist()}


def test_uci_cut_points_at_the_boundaries(store: DuckDBStore) -> None:
    rows = [_uci("a", 14), _uci("b", 13.5), _uci("c", 10), _uci("d", 9.5), _uci("e", 0)]
    # interim grades G1/G2 are not final results
    rows.append(_row("f", v.SCORED, f"{MAT}/period/1", MAT, score_raw=20.0, score_max=20.0))
    _ingest(store, rows)
    got = _by_actor(outcomes(store))
    assert set(got) == {"a", "b", "c", "d", "e"}
    assert {k: r["outcome"] for k, r in got.items()} == {
        "a": "excellent",
        "b": "normal",
        "c": "normal",
        "d": "at-risk",
        "e": "at-risk",
    }
    assert {k: r["passed"] for k, r in got.items()} == {"a": True, "b": True, "c": True, "d": False,
                                                         "e": False}  # fmt: skip
    assert got["a"]["scheme"] == "uci"
    assert got["a"]["score"] == 14.0 and got["a"]["score_max"] == 20.0
    assert got["a"]["outcome_code"] == 2 and got["c"]["outcome_code"] == 1 and got["d"]["outcome_code"] == 0


def test_oulad_responses(store: DuckDBStore) -> None:
    _ingest(
        store,
        [
            _row("a", v.PASSED, OULAD, OULAD, response="Distinction"),
            _row("b", v.PASSED, OULAD, OULAD, response="Pass"),
            _row("c", v.FAILED, OULAD, OULAD, response="Fail"),
            _row("d", v.WITHDREW, OULAD, OULAD, response="Withdrawn"),
            # an assessment score is not a final result
            _row("e", v.SCORED, f"{OULAD}/assessment/1", OULAD, score_raw=90.0, score_max=100.0),
        ],
    )
    table = outcomes(store)
    got = _by_actor(table)
    assert set(got) == {"a", "b", "c", "d"}
    assert [got[k]["outcome"] for k in "abcd"] == ["excellent", "normal", "at-risk", "at-risk"]
    assert [got[k]["passed"] for k in "abcd"] == [True, True, False, False]
    assert all(got[k]["score"] is None and got[k]["scheme"] == "oulad" for k in "abcd")
    assert got["d"]["response"] == "Withdrawn"


def test_campus_cut_points_and_schema(store: DuckDBStore) -> None:
    rows = [
        _row(a, v.SCORED, CAMPUS, CAMPUS, score_raw=s, score_max=100.0)
        for a, s in [("a", 85.0), ("b", 84.5), ("c", 60.0), ("d", 59.5)]
    ]
    rows.append(_row("e", v.SCORED, f"{CAMPUS}/exam/midterm", CAMPUS, score_raw=99.0, score_max=100.0))
    _ingest(store, rows)
    table = outcomes(store)
    assert table.schema == OUTCOME_SCHEMA
    got = _by_actor(table)
    assert [got[k]["outcome"] for k in "abcd"] == ["excellent", "normal", "normal", "at-risk"]
    assert [got[k]["passed"] for k in "abcd"] == [True, True, True, False]
    assert {r["scheme"] for r in got.values()} == {"campus"}


def test_only_registry_latest_and_not_voided(store: DuckDBStore) -> None:
    _ingest(
        store,
        [
            _uci("a", 8, ts=T0),
            _uci("a", 16, ts=T0 + dt.timedelta(days=1)),  # a corrected grade wins
            _uci("b", 18, source=v.SOURCE_LMS),  # not the registry
        ],
    )
    table = outcomes(store)
    assert table.num_rows == 1
    assert table.to_pylist()[0]["score"] == 16.0
    store.con.execute("UPDATE statements SET voided = TRUE WHERE score_raw = 16")
    assert outcomes(store).to_pylist()[0]["score"] == 8.0


def test_one_row_per_actor_and_course_sorted(store: DuckDBStore) -> None:
    _ingest(
        store,
        [
            _uci("b", 12),
            _uci("a", 12),
            _row("a", v.SCORED, CAMPUS, CAMPUS, score_raw=70.0, score_max=100.0),
            _row("a", v.PASSED, OULAD, OULAD, response="Pass"),
        ],
    )
    keys = [(r["course"], r["actor_key"]) for r in outcomes(store).to_pylist()]
    assert keys == sorted(keys)
    assert keys == [(MAT, "a"), (MAT, "b"), (CAMPUS, "a"), (OULAD, "a")]


def test_custom_scheme(store: DuckDBStore) -> None:
    _ingest(
        store,
        [
            _uci("a", 12),
            _row("b", v.WITHDREW, OULAD, OULAD, response="Withdrawn"),
            _row("c", v.PASSED, OULAD, OULAD, response="Pass"),
        ],
    )
    scheme = ClassScheme(
        uci=ScoreCuts(excellent_from=12, at_risk_below=8, pass_from=12),
        oulad=(ResponseClass("Pass", "excellent", True),),  # Withdrawn unmapped: no row
    )
    got = _by_actor(outcomes(store, scheme=scheme))
    assert set(got) == {"a", "c"}
    assert got["a"]["outcome"] == "excellent" and got["a"]["passed"] is True
    assert got["c"]["outcome"] == "excellent"


def test_empty_store(store: DuckDBStore) -> None:
    table = outcomes(store)
    assert table.num_rows == 0
    assert table.schema == OUTCOME_SCHEMA


def test_scheme_validation() -> None:
    with pytest.raises(ValueError, match="must not exceed"):
        ScoreCuts(excellent_from=10, at_risk_below=12, pass_from=10)
    with pytest.raises(ValueError, match="unknown outcome"):
        ResponseClass("Pass", "good", True)
    with pytest.raises(ValueError, match="mapped twice"):
        ClassScheme(oulad=(ResponseClass("Pass", "normal", True), ResponseClass("Pass", "excellent", True)))


@pytest.mark.realdata
def test_real_uci_classes(store: DuckDBStore, uci_dir: Path) -> None:
    uci.ingest_uci(store, uci_dir)
    table = outcomes(store)
    assert table.num_rows == 395 + 649
    counts = Counter((r["course"], r["outcome"]) for r in table.to_pylist())
    # G3 counts of the CSV files: ≥ 14, 10–13, < 10
    assert counts == {
        (MAT, "excellent"): 100,
        (MAT, "normal"): 165,
        (MAT, "at-risk"): 130,
        (uci.course_iri("por"), "excellent"): 194,
        (uci.course_iri("por"), "normal"): 355,
        (uci.course_iri("por"), "at-risk"): 100,
    }
    assert sum(table.column("passed").to_pylist()) == 100 + 165 + 194 + 355
