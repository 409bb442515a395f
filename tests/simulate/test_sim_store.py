"""The simulated campus is valid store input, written once and idempotently."""

from __future__ import annotations

from learnsight.simulate import Campus, write_campus
from learnsight.store import DuckDBStore


def test_write_then_rewrite(store: DuckDBStore, small_campus: Campus) -> None:
    small = small_campus.config
    n = small_campus.statements.num_rows
    report = write_campus(store, small_campus)
    assert report.kind == "simulate"
    assert report.statements_written == n
    assert report.profiles_written == small.n_students
    assert report.rows_rejected == 0
    assert report.details["seed"] == small.seed
    assert report.details["n_students"] == small.n_students
    assert report.details["n_courses"] == small.n_courses
    assert report.details["statements_by_source"] == small_campus.counts_by_source()
    assert store.count_statements() == n

    again = write_campus(store, small_campus)
    assert again.statements_written == 0
    assert again.statements_skipped == n
    assert store.count_statements() == n

    stats = store.stats()
    assert dict(stats.by_source) == small_campus.counts_by_source()
    assert stats.profiles == small.n_students


def test_stored_statement_rebuilds(store: DuckDBStore, small_campus: Campus) -> None:
    write_campus(store, small_campus)
    row = small_campus.statements.slice(0, 1).to_pylist()[0]
    statement = store.get_statement(row["id"])
    assert statement is not None
    assert statement["actor"]["account"] == {"homePage": "https://campus.example.edu", "name": "S0001"}
    assert statement["context"]["platform"] == row["source"]
