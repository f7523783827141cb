"""The HTML reports as their reader meets them: each written by the real command, then
opened in headless Chromium (Debian's package, tests/browser.py), which must draw every
chart with its axes, fetch nothing, and colour the verdicts. A failing test leaves a
screenshot in test-artifacts/."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from .browser import page
from .cli_helpers import no_traceback, proc
from .httpserver import ScriptedServer

RED, GREEN = "rgb(214, 39, 40)", "rgb(44, 160, 44)"


def _open(tab: Any, path: Path) -> list[str]:
    """Load the report with every request but the file itself refused; the refused
    ones are returned (a self-contained report has none)."""
    fetched: list[str] = []

    def guard(route: Any) -> None:
        url = route.request.url
        if url == path.as_uri():
            route.continue_()
        else:
            fetched.append(url)
            route.abort()

    tab.route("**/*", guard)
    tab.goto(path.as_uri())
    return fetched


def _chart(tab: Any, kind: str) -> dict[str, Any]:
    """What Chromium drew for one chart: tick labels, and the rendered size of its
    series (lines, bars or dots)."""
    svg = tab.locator(f'svg.chart[data-kind="{kind}"]')
    assert svg.count() == 1, f"no {kind} chart"
    return dict(
        svg.evaluate(
            """svg => {
            const box = el => el.getBBox();
            const drawn = [...svg.querySelectorAll('.series, .bar, .dot, .partial')];
            const widths = drawn.map(el => box(el).width);
            return {
              points: Number(svg.dataset.points),
              yticks: [...svg.querySelectorAll('.ytick')].map(t => t.textContent),
              xticks: [...svg.querySelectorAll('.xtick')].map(t => t.textContent),
              grid: svg.querySelectorAll('.grid').length,
              drawn: drawn.length,
              widest: Math.max(0, ...widths),
              target: svg.querySelectorAll('.target').length,
              partial: svg.querySelectorAll('.partial').length,
              shaded: svg.querySelectorAll('.drain').length,
              width: svg.getBoundingClientRect().width,
            };
        }"""
        )
    )


def _has_axes(c: dict[str, Any]) -> None:
    assert len(c["yticks"]) >= 3 and c["yticks"][0] == "0", c["yticks"]  # from zero
    assert len(c["xticks"]) >= 3, c["xticks"]
    assert c["grid"] >= len(c["yticks"]) and c["width"] > 300


def _verdicts(tab: Any) -> dict[str, str]:
    return dict(
        tab.evaluate(
            """() => Object.fromEntries([...document.querySelectorAll('.pass, .fail')]
                .map(el => [el.textContent, getComputedStyle(el).backgroundColor]))"""
        )
    )


def test_load_report_draws_every_chart(tmp_path: Path, srv: ScriptedServer) -> None:
    report = tmp_path / "load.html"
    r = proc(
        "load", "--to", srv.url + "/ok", "--rate", "150", "-d", "2.5", "--seed", "4",
        "--threshold", "error_rate<1%", "--threshold", "p50<0.001ms",  # one passes, one fails
        "--report", str(report),
    )  # fmt: skip
    no_traceback(r)
    assert r.code == 1 and report.exists(), r.stderr  # the p50 threshold fails
    text = report.read_text()
    assert "<script" not in text and "http://" not in text.replace(srv.url, "")
    with page("load-report") as tab:
        assert _open(tab, report) == []
        throughput = _chart(tab, "throughput")
        _has_axes(throughput)
        assert throughput["target"] == 1  # the target rate, dashed
        assert throughput["widest"] > 200  # a line across the run, not a dot
        assert throughput["partial"] >= 1  # 2.5 s: the last second drawn hollow, explained
        assert "only in part" in tab.locator("text=Hollow points").inner_text()
        for kind in ("latency", "lag", "distribution", "bars"):
            c = _chart(tab, kind)
            _has_axes(c)
            assert c["points"] > 0 and c["drawn"] > 0 and c["widest"] > 20, kind
        assert any("%" in t for t in _chart(tab, "distribution")["xticks"])  # percentiles
        verdicts = _verdicts(tab)
        assert verdicts["FAIL"] == RED and verdicts["pass"] == GREEN
        assert tab.locator("td", has_text="FAIL").count() >= 2  # the overall result too


def test_a_ramp_report_slopes_its_target_and_fits_every_label(
    tmp_path: Path, srv: ScriptedServer
) -> None:
    """--ramp 20/s..120/s: the target is a line that climbs across the chart (not a flat
    line at the mean), and no label of any chart is cut off by its chart's edge."""
    report = tmp_path / "ramp.html"
    r = proc(
        "load", "--to", srv.url + "/ok", "--ramp", "20/s..120/s", "-d", "3s", "--seed", "5",
        "--threshold", "p95<5s", "--report", str(report),
    )  # fmt: skip
    no_traceback(r)
    assert r.code == 0 and report.exists(), r.stderr
    with page("ramp-report") as tab:
        assert _open(tab, report) == []
        target = tab.locator('svg.chart[data-kind="throughput"] .target')
        assert target.count() == 1
        ys = target.evaluate(
            "el => [...el.points].map(p => p.y)"
            " .concat(el.tagName === 'line' ? [el.y1.baseVal.value, el.y2.baseVal.value] : [])"
        )
        assert len(ys) >= 2 and ys[0] - ys[-1] > 20, ys  # SVG y grows downwards: it climbs
        clipped = tab.evaluate(
            """() => [...document.querySelectorAll('svg.chart')].flatMap(svg => {
                const outer = svg.getBoundingClientRect();
                return [...svg.querySelectorAll('text')].filter(t => {
                    const b = t.getBoundingClientRect();
                    return b.width > 0 && (b.left < outer.left - 0.5 || b.right > outer.right + 0.5
                        || b.top < outer.top - 0.5 || b.bottom > outer.bottom + 0.5);
                }).map(t => svg.dataset.kind + ': ' + t.textContent);
            })"""
        )
        assert clipped == [], clipped
        assert "p95" in tab.locator("body").inner_text()


def test_locust_engine_report_has_its_data(tmp_path: Path, srv: ScriptedServer) -> None:
    # in the dev extra, so present wherever .ci/run ran (never imported here: it patches
    # the standard library with gevent)
    assert importlib.util.find_spec("locust") is not None, "pip install -e '.[dev]'"
    report = tmp_path / "locust.html"
    r = proc(
        "load", "--generator", "locust", "--to", srv.url + "/ok", "--rate", "40", "-d", "4s",
        "-c", "4", "--seed", "2", "--report", str(report), timeout=180,
    )  # fmt: skip
    no_traceback(r)
    assert r.code == 0, r.stderr
    with page("locust-report") as tab:
        assert _open(tab, report) == []
        for kind in ("throughput", "latency", "bars", "distribution"):
            c = _chart(tab, kind)
            _has_axes(c)
            assert c["points"] > 0 and c["drawn"] > 0, kind
        assert tab.locator('svg.chart[data-kind="lag"]').count() == 0
        assert "not measured" in tab.locator("body").inner_text()  # not a lag of 0.000
        outcomes = tab.locator("table", has_text="status or error").inner_text()
        assert "200" in outcomes


def test_run_report_shows_a_timeline_per_step(tmp_path: Path, srv: ScriptedServer) -> None:
    scenario = tmp_path / "mixed.yaml"
    scenario.write_text(
        f"""version: 1
name: mixed
defaults: {{to: "{srv.url}/ok"}}
steps:
  - id: start
    event: batch-start
  - id: queries
    event: slow-query
    repeat: {{count: 12, rate: 40/s}}
  - id: refused
    event: batch-result
    to: "{srv.url}/status/500"
"""
    )
    report = tmp_path / "run.html"
    r = proc("run", str(scenario), "--report", str(report), "-q")
    no_traceback(r)
    assert r.code == 1, r.stderr  # the refused step fails its expectation
    with page("run-report") as tab:
        assert _open(tab, report) == []
        lanes = _chart(tab, "lanes")
        assert lanes["yticks"] == ["start", "queries", "refused"]
        assert len(lanes["xticks"]) >= 3 and lanes["points"] == 14 and lanes["drawn"] == 14
        colours = tab.evaluate(
            """() => [...document.querySelectorAll('svg[data-kind="lanes"] .dot')]
                 .map(d => d.classList[1] + ' ' + d.getAttribute('fill'))"""
        )
        assert sorted(set(colours)) == ["failed #d62728", "passed #2ca02c"]
        assert sum(c.startswith("failed") for c in colours) == 1
        scatter = _chart(tab, "scatter")
        _has_axes(scatter)
        assert scatter["drawn"] == 14
        steps = tab.locator("table", has_text="deliveries").inner_text()
        assert "queries" in steps and "12" in steps
        assert _verdicts(tab)["FAIL"] == RED
        assert "expected status" in tab.locator("table", has_text="why").inner_text()


def test_serve_journal_report_in_the_browser(srv: ScriptedServer) -> None:
    from .serve_helpers import ServeProcess, settle

    server = ServeProcess()
    try:
        server.api("POST", "/_mock/webhooks", json={"url": srv.url + "/ok"})
        server.api(
            "POST",
            "/_mock/webhooks",
            json={
                "url": srv.url + "/status/500",
                "events": ["slow-query"],
                "retry": {"retries": 0},
            },
        )
        for event in ("slow-query", "slow-query", "batch-start"):
            assert server.api("POST", f"/_mock/events/{event}").status_code == 202
        settle(server.api)
        rows = server.api("GET", "/_mock/deliveries").json()["deliveries"]
        with page("serve-report") as tab:
            url = server.url + "/_mock/report.html"
            fetched: list[str] = []
            tab.route(
                "**/*",
                lambda route: (
                    route.continue_()
                    if route.request.url == url
                    else (fetched.append(route.request.url), route.abort())
                ),
            )
            tab.goto(url)
            assert fetched == []
            lanes = _chart(tab, "lanes")
            assert lanes["yticks"] == ["batch-start", "slow-query"]
            assert lanes["points"] == len(rows) == lanes["drawn"]
            colours = tab.evaluate(
                """() => [...document.querySelectorAll('svg[data-kind="lanes"] .dot')]
                     .map(d => d.classList[1])"""
            )
            assert sorted(set(colours)) == ["2xx", "5xx"]
            assert colours.count("5xx") == sum(r["status"] == 500 for r in rows) >= 2
            _has_axes(_chart(tab, "bars"))
            _has_axes(_chart(tab, "scatter"))
            events = tab.locator("table", has_text="attempts").inner_text()
            assert "slow-query" in events and "batch-start" in events
            assert _verdicts(tab)["FAIL"] == RED  # slow-query: some attempts got 500
    finally:
        server.stop()
