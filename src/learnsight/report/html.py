"""A self-contained HTML report: sections of text, tables and Plotly figures.

Plotly's JavaScript is embedded once per page, so a report opens offline and can be mailed as one
file.  Every stage adds its own sections; the page layout lives in ``templates/report.html.j2``.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape


@dataclass(frozen=True)
class Section:
    """One titled block of a report; ``html`` is trusted markup built by this package."""

    title: str
    html: str
    note: str = ""


def table_html(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """An HTML table with escaped cells; numbers are right-aligned and thousands-separated."""

    def cell(value: Any) -> str:
        if isinstance(value, bool) or value is None:
            return f"<td>{html.escape(str(value))}</td>"
        if isinstance(value, int):
            return f'<td class="num">{value:,}</td>'
        if isinstance(value, float):
            return (
                f'<td class="num">{value:,.3g}</td>'
                if abs(value) < 1000
                else f'<td class="num">{value:,.0f}</td>'
            )
        return f"<td>{html.escape(str(value))}</td>"

    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def figure_html(figure: Any) -> str:
    """A Plotly figure as a ``<div>`` (the page carries plotly.js once)."""
    return str(figure.to_html(full_html=False, include_plotlyjs=False))


class HtmlReport:
    """Collects sections and writes one HTML file."""

    def __init__(self, title: str, subtitle: str = "") -> None:
        self.title = title
        self.subtitle = subtitle or f"generated {dt.datetime.now():%Y-%m-%d %H:%M}"
        self.sections: list[Section] = []

    def add(self, section: Section) -> None:
        self.sections.append(section)

    def add_table(
        self, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], note: str = ""
    ) -> None:
        self.add(Section(title, table_html(columns, rows), note))

    def add_figure(self, title: str, figure: Any, note: str = "") -> None:
        self.add(Section(title, figure_html(figure), note))

    def render(self) -> str:
        from plotly.offline import get_plotlyjs

        env = Environment(
            loader=PackageLoader("learnsight.report", "templates"),
            autoescape=select_autoescape(["html", "j2"]),
        )
        template = env.get_template("report.html.j2")
        return template.render(
            title=self.title,
            subtitle=self.subtitle,
            sections=self.sections,
            plotly_js=get_plotlyjs(),
        )

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.render(), encoding="utf-8")
        return path
