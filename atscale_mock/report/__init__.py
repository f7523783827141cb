"""Reporting: how results are written and drawn.

log.py        the JSON Lines attempt log (redacted)
text.py       one line per attempt or received event, and summary lines
printable.py  untrusted text made safe for a terminal
files.py      a report's format from its file name, and writing it whole
html.py       the one HTML renderer: page, tables (load, run, check, serve)
charts.py     the charts of those pages, as inline SVG
svg.py        the drawing under the charts: frame, axes, ticks, legend
"""
