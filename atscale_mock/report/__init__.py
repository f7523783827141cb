"""Reporting: typed results and how they are rendered.

summary.py    running totals and latency percentiles of deliveries
results.py    the library's typed results (SendResult, DeliveryRecord)
log.py        the JSON Lines attempt log (redacted)
text.py       one line per attempt or received event, and summary lines
run_report.py a scenario run's JSON report, JUnit XML and HTML page
html.py       the one HTML renderer: page, tables, inline SVG charts (load and run)
"""
