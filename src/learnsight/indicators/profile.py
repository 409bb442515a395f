"""One student's indicators against the cohort: ``learnsight profile STUDENT``.

Reads the stored indicator tables (computing them at "all data" if none are stored), so the
percentiles are those of the last ``learnsight indicators`` run and its as-of cut-off.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from learnsight.errors import LearnsightError
from learnsight.indicators.catalog import BY_NAME
from learnsight.store.duckdb_store import DuckDBStore


@dataclass(frozen=True)
class StudentProfile:
    """Indicator values of one student with their cohort percentile and z-score."""

    actor_key: str
    as_of: str
    rows: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"actor_key": self.actor_key, "as_of": self.as_of, "indicators": self.rows}

    def table(self) -> Table:
        table = Table(title=f"{self.actor_key} — as of {self.as_of}")
        for col in ("course", "indicator", "value", "percentile", "", "z"):
            table.add_column(col, justify="right" if col in ("value", "percentile", "z") else "left")
        for r in self.rows:
            pct = r["percentile"]
            bar = "" if pct is None else "█" * round(pct / 10) + "·" * (10 - round(pct / 10))
            table.add_row(
                _short(r["course"]),
                r["indicator"],
                _fmt(r["value"]),
                "" if pct is None else f"{pct:.0f}",
                bar,
                "" if r["z"] is None else f"{r['z']:+.2f}",
            )
        return table

    def write_plot(self, path: Path) -> Path:
        """A horizontal bar chart of percentiles (HTML; PNG needs the kaleido package)."""
        import plotly.graph_objects as go

        rows = [r for r in self.rows if r["percentile"] is not None]
        labels = [
            f"{r['indicator']} ({_short(r['course'])})" if r["course"] else r["indicator"] for r in rows
        ]
        fig = go.Figure(
            go.Bar(
                x=[r["percentile"] for r in rows],
                y=labels,
                orientation="h",
                marker_color=["#2f855a" if r["percentile"] >= 50 else "#c05621" for r in rows],
            )
        )
        fig.update_layout(
            title=f"{self.actor_key}: percentile among peers (as of {self.as_of})",
            xaxis={"range": [0, 100], "title": "percentile"},
            height=max(300, 22 * len(rows)),
            margin={"l": 260},
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".html":
            fig.write_html(path)
        else:
            try:
                fig.write_image(path)
            except (ValueError, ImportError) as exc:
                raise LearnsightError(f"{path}: cannot write an image ({exc}); use .html") from exc
        return path


def _short(course: str | None) -> str:
    return "" if not course else course.rstrip("/").rsplit("/", 1)[-1]


def _fmt(value: Any) -> str:
    if value is None:
        return "missing"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def resolve_student(store: DuckDBStore, student: str) -> str:
    """The actor key of ``student``: an exact key, or a unique account name / key suffix."""
    if store.scalar("SELECT count(*) FROM statements WHERE actor_key = ?", [student]):
        return student
    rows = store.con.execute(
        "SELECT DISTINCT actor_key FROM statements WHERE ends_with(actor_key, ?) LIMIT 5",
        ["|" + student],
    ).fetchall()
    if len(rows) == 1:
        return str(rows[0][0])
    if not rows:
        raise LearnsightError(f"student {student!r} not found in the store")
    raise LearnsightError(
        f"student {student!r} is ambiguous: {', '.join(str(r[0]) for r in rows)}; give the actor key"
    )


def student_profile(store: DuckDBStore, student: str, *, course: str | None = None) -> StudentProfile:
    """The profile of ``student`` from the stored indicators (computed first if none are stored)."""
    actor = resolve_student(store, student)
    if not store.has_table("indicator_cohort"):
        from learnsight.indicators.compute import compute_indicators
        from learnsight.indicators.engine import DuckDBEngine
        from learnsight.indicators.persist import save_indicators

        save_indicators(store, compute_indicators(DuckDBEngine(store)))
    params = store.scalar("SELECT params FROM derived_builds WHERE name = 'indicators'")
    as_of = json.loads(params).get("as_of", "all") if params else "all"
    cur = store.con.execute(
        "SELECT course, indicator, value, percentile, z FROM indicator_cohort WHERE actor_key = ?",
        [actor],
    )
    raw = cur.fetchall()
    rows: list[dict[str, Any]] = []
    order = {name: i for i, name in enumerate(BY_NAME)}
    for c, ind, value, pct, z in raw:
        if course and c and not (c == course or c.rstrip("/").endswith("/" + course)):
            continue
        rows.append(
            {
                "course": c,
                "indicator": ind,
                "value": value,
                "percentile": pct,
                "z": z,
                "family": BY_NAME[ind].family if ind in BY_NAME else "",
            }
        )
    rows.sort(key=lambda r: (r["course"] or "", order.get(r["indicator"], 999)))
    return StudentProfile(actor_key=actor, as_of=as_of, rows=rows)
