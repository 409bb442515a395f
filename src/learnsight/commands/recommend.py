"""``learnsight recommend``: adaptive recommendations for excellent students (SPEC §4).

Collaborative filtering (item-kNN, implicit ALS, or the popularity baseline) over the implicit
feedback of the statements — resources, learning paths, courses, partners, books, projects — with
the empty cells first filled by multiple linear regression on the indicators; ``--evaluate`` prints
the offline evaluation (held-out latest interactions, precision / recall / NDCG at 5, 10, 20).
Library: :mod:`learnsight.interventions.recommend`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import pyarrow as pa
import typer
from rich.table import Table

from learnsight.commands.common import DbOption, JsonFlag, cli_store, console
from learnsight.errors import LearnsightError
from learnsight.store import DuckDBStore

KIND_HELP = "resources | paths | courses | partners | books | projects"


def recommend(
    db: DbOption = None,
    kind: Annotated[str, typer.Option("--kind", help=f"What to recommend: {KIND_HELP}.")] = "resources",
    student: Annotated[
        list[str] | None,
        typer.Option(
            "--student", help="Only this student (actor key or its last part, e.g. S0002); repeatable."
        ),
    ] = None,
    course: Annotated[
        str | None,
        typer.Option("--course", help="Only this course (IRI or its last part(s), e.g. C01 or GGG/2014J)."),
    ] = None,
    k: Annotated[int, typer.Option("--k", help="Recommendations per student.")] = 10,
    model: Annotated[str, typer.Option("--model", help="knn | als | popularity.")] = "knn",
    fill: Annotated[
        bool, typer.Option("--fill/--no-fill", help="Fill empty cells by MLR on the indicators first.")
    ] = True,
    audience: Annotated[
        str,
        typer.Option("--for", help="excellent (known or predicted, SPEC §4) | all students."),
    ] = "excellent",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Cut-off: a date (2024-10-15) or a course week (week:6).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the recommendations (.csv or .parquet).")
    ] = None,
    evaluate: Annotated[
        bool,
        typer.Option(
            "--evaluate", help="Print the offline evaluation of every model instead (all students)."
        ),
    ] = False,
    split: Annotated[
        str, typer.Option("--split", help="--evaluate hold-out: time (latest items) | random.")
    ] = "time",
    seed: Annotated[int, typer.Option("--seed", help="Random seed (ALS start, hold-out ties).")] = 0,
    limit: Annotated[int, typer.Option("--limit", help="Rows shown on screen.")] = 30,
    as_json: JsonFlag = False,
) -> None:
    """Recommend resources, paths, courses, partners, books or projects to excellent students."""
    from learnsight.indicators.asof import AsOf
    from learnsight.interventions.recommend import KINDS, RecommendError

    if kind not in KINDS:
        raise RecommendError(f"--kind: unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if out is not None and out.suffix not in (".parquet", ".csv"):
        raise LearnsightError(f"--out: expected a .parquet or .csv file, got {out}")
    cut = AsOf.parse(as_of)
    store = cli_store(db)
    try:
        course_iri = resolve_course(store, course) if course is not None else None
        if evaluate:
            _evaluate(store, kind, course_iri, cut, split, seed, as_json)
            return
        from learnsight.interventions.recommend import recommend as run

        students = [resolve_student(store, s) for s in student] if student else None
        table = run(
            store,
            kind,
            students=students,
            course=course_iri,
            k=k,
            model=model,
            fill=fill,
            audience=audience,
            as_of=cut,
            random_state=seed,
        )
    finally:
        store.close()
    if out is not None:
        _write(table, out)
    if as_json:
        console.print_json(
            json.dumps(
                {
                    "kind": kind,
                    "model": model,
                    "fill": fill,
                    "for": "named students" if student else audience,
                    "as_of": cut.label(),
                    "students": len(set(table.column("actor_key").to_pylist())),
                    "rows": table.num_rows,
                    "recommendations": table.slice(0, limit).to_pylist(),
                },
                default=str,
            )
        )
        return
    _show(table, kind, model, fill, cut.label(), limit)
    if out is not None:
        console.print(f"written to {out}")


def resolve_course(store: DuckDBStore, text: str) -> str:
    """A course IRI from the IRI itself or its last path segment(s) (``C01``, ``GGG/2014J``)."""
    rows = store.con.execute(
        "SELECT DISTINCT course FROM courses UNION SELECT DISTINCT course FROM statements "
        "WHERE course IS NOT NULL"
    ).fetchall()
    known = sorted(str(r[0]) for r in rows)
    if text in known:
        return text
    matches = [c for c in known if c.rstrip("/").endswith("/" + text.strip("/"))]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise LearnsightError(
            f"--course: unknown course {text!r} (e.g. {', '.join(known[:3]) or 'none stored'})"
        )
    raise LearnsightError(f"--course: {text!r} matches {len(matches)} courses: {', '.join(matches[:5])}")


def resolve_student(store: DuckDBStore, text: str) -> str:
    """An actor key from the key itself or its last part (``S0002`` for ``account:…|S0002``)."""
    exact = store.con.execute("SELECT 1 FROM statements WHERE actor_key = ? LIMIT 1", [text]).fetchone()
    if exact:
        return text
    rows = store.con.execute(
        "SELECT DISTINCT actor_key FROM statements "
        "WHERE suffix(actor_key, ?) OR suffix(actor_key, ?) LIMIT 3",
        ["|" + text, ":" + text],
    ).fetchall()
    if len(rows) == 1:
        return str(rows[0][0])
    if not rows:
        raise LearnsightError(f"--student: unknown student {text!r} (no statement has this actor)")
    raise LearnsightError(f"--student: {text!r} matches several actors; give the full actor key")


def _evaluate(
    store: DuckDBStore, kind: str, course: str | None, cut: Any, split: str, seed: int, as_json: bool
) -> None:
    from learnsight.interventions.recommend import evaluate_store

    if split not in ("time", "random"):
        raise LearnsightError(f"--split: expected time or random, got {split!r}")
    result = evaluate_store(store, kind, course=course, as_of=cut, strategy=split, random_state=seed)
    if as_json:
        console.print_json(
            json.dumps(
                {
                    "kind": kind,
                    "split": split,
                    "matrices": result.matrices,
                    "users": result.users,
                    "held_out": result.held_out,
                    "metrics": result.rows(),
                }
            )
        )
        return
    view = Table(
        title=f"offline evaluation — {kind}, {split} hold-out: {result.users:,} learners in "
        f"{result.matrices} matrices, {result.held_out:,} held-out items"
    )
    columns = [("precision", 10, "P@10"), ("recall", 10, "R@10")] + [
        ("ndcg", k, f"NDCG@{k}") for k in result.ks
    ]
    for col in ("model", "fill", *(c[2] for c in columns), "fit s"):
        view.add_column(col, justify="left" if col in ("model", "fill") else "right")
    by_key: dict[tuple[str, str], dict[int, dict[str, Any]]] = {}
    for r in result.rows():
        by_key.setdefault((r["model"], r["fill"]), {})[r["k"]] = r
    for (name, filled), per_k in by_key.items():
        cells = [f"{per_k[k][m]:.4f}" if k in per_k else "-" for m, k, _ in columns]
        view.add_row(name, filled, *cells, f"{next(iter(per_k.values()))['fit_seconds']:.2f}")
    console.print(view)


def _write(table: pa.Table, out: Path) -> None:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".parquet":
        pq.write_table(table, out)
    else:
        pacsv.write_csv(table, out)


def _show(table: pa.Table, kind: str, model: str, fill: bool, as_of: str, limit: int) -> None:
    students = len(set(table.column("actor_key").to_pylist()))
    how = (
        "the path of the learners who passed" if kind == "paths" else model + (" + MLR fill" if fill else "")
    )
    view = Table(title=f"{kind} for {students:,} students — {how}, as of {as_of}")
    for col in ("student", "course", "#", "item", "score", "why"):
        view.add_column(col)
    for row in table.slice(0, limit).to_pylist():
        view.add_row(
            str(row["actor_key"]).rsplit("|", 1)[-1],
            "-" if row["course"] is None else str(row["course"]).rstrip("/").rsplit("/", 1)[-1],
            str(row["rank"]),
            str(row["label"]),
            f"{row['score']:.3g}",
            str(row["reason"]),
        )
    console.print(view)


__all__ = ["recommend", "resolve_course", "resolve_student"]
