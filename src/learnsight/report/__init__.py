"""Reports people read: self-contained HTML pages with Plotly figures (work offline)."""

from learnsight.report.html import HtmlReport, Section

__all__ = ["HtmlReport", "Section"]
