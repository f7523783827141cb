"""One renderer for every HTML report (``load`` with either engine, ``run``, ``check``,
``serve``): a single self-contained file, charts as inline SVG (:mod:`.charts`), no
script, no stylesheet or font fetched, readable with JavaScript off and printable.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .charts import (
    Line,
    distribution_chart,
    empty,
    lanes_chart,
    line_chart,
    scatter_chart,
    stacked_bars,
)
from .svg import esc

__all__ = [
    "Line",
    "Raw",
    "distribution_chart",
    "empty",
    "esc",
    "lanes_chart",
    "line_chart",
    "page",
    "scatter_chart",
    "stacked_bars",
    "table",
    "verdict",
]

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:64em;padding:0 1em;color:#222}
h1{margin-bottom:.2em} h2{margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.8em 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#fff;background:#2ca02c;padding:1px 6px;border-radius:3px}
.fail{color:#fff;background:#d62728;padding:1px 6px;border-radius:3px}
.verdict{font-size:1.2em;margin:.6em 0}
.note{color:#555;font-size:.9em}
svg.chart{display:block;margin:.4em 0 1.2em;max-width:100%;height:auto}
svg text{font-family:system-ui,sans-serif;font-size:11px;fill:#333}
svg .grid{stroke:#e4e4e4;stroke-width:1}
svg .axis{stroke:#555;stroke-width:1}
svg .target{stroke:#d62728;stroke-width:1.5;stroke-dasharray:6 4}
svg .drain{fill:#f1f1f1}
"""


def table(rows: Sequence[Sequence[Any]], head: Sequence[str], numeric: Sequence[int] = ()) -> str:
    """A table; cells already marked up pass through when given as :class:`Raw`."""

    def cell(tag: str, i: int, value: Any) -> str:
        cls = ' class="n"' if i in numeric else ""
        text = value.html if isinstance(value, Raw) else esc(value)
        return f"<{tag}{cls}>{text}</{tag}>"

    top = "".join(cell("th", i, c) for i, c in enumerate(head)) if any(head) else ""
    body = "".join(
        "<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>" for row in rows
    )
    return f"<table>{f'<tr>{top}</tr>' if top else ''}{body}</table>"


@dataclass(frozen=True)
class Raw:
    """Markup to put in a table cell as it is (made here, never from input)."""

    html: str


def verdict(passed: bool) -> Raw:
    return Raw('<span class="pass">pass</span>' if passed else '<span class="fail">FAIL</span>')


def page(title: str, subtitle: str, sections: Iterable[str]) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{esc(title)}</h1><p>{esc(subtitle)}</p>" + "\n".join(sections) + "</body></html>\n"
    )
