"""On one real OULAD module-presentation, collaborative filtering beats popularity (SPEC §4)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from learnsight.interventions.recommend import evaluate, from_triples

MODULE, PRESENTATION = "GGG", "2014J"


@pytest.mark.realdata
def test_cf_beats_popularity_on_one_module_presentation(oulad_dir: Path) -> None:
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    source = next(p for p in (oulad_dir / "studentVle.csv.gz", oulad_dir / "studentVle.csv") if p.exists())
    rows = con.execute(
        "SELECT CAST(id_student AS VARCHAR), CAST(id_site AS VARCHAR), sum(sum_click), min(date) "
        "FROM read_csv(?, header = true) WHERE code_module = ? AND code_presentation = ? GROUP BY ALL",
        [str(source), MODULE, PRESENTATION],
    ).fetchall()
    con.close()
    users, items, clicks, first = zip(*rows, strict=True)
    data = from_triples("resources", users, items, clicks, [86400.0 * d for d in first], course=MODULE)
    assert data.shape[0] > 600 and data.shape[1] > 100
    result = evaluate([(data, None)], models=("random", "popularity", "item-knn", "als"), ks=(10,))
    ndcg = {r["model"]: r["ndcg"] for r in result.rows()}
    assert result.users > 500
    assert ndcg["popularity"] > 2 * ndcg["random"]
    assert max(ndcg["item-knn"], ndcg["als"]) > ndcg["popularity"] + 0.02
