"""load: sustained, measured load against a receiver."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ..config import DEFAULT_TIMEOUT
from ..delivery.faults import Faults
from ..errors import UsageError
from ..redact import Redactor
from .common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    check_writable,
    err,
    handle_errors,
    out,
    print_json,
    resolve_seed,
    sigterm_as_interrupt,
)
from .delivery_opts import (
    DEFAULT_HMAC_HEADER,
    Delay,
    Drop,
    Duplicates,
    Jitter,
    Malformed,
    MalformedRate,
    Reorder,
    Secret,
    Sign,
    SignatureHeader,
    learn_secret,
    make_signing,
)
from .options import Json, Seed
from .send_cmd import CaCert, Headers, Insecure, Timeout, verify_option

DEFAULT_CONNECTIONS = 50
DEFAULT_DURATION = "10s"


from ..api.load import MAX_RATE  # noqa: E402 - the library's ceiling, said early here


def _rate(text: str | None) -> float | None:
    """``--rate``: events per second, or ``max`` (None) for closed loop."""
    if text is None or text.strip().lower() == "max":
        return None
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"--rate: not a number or 'max': {text!r}") from None
    if not 0 < value < MAX_RATE:
        raise UsageError(
            f"--rate must be greater than zero and below {MAX_RATE:,.0f}, got {text}",
            "or 'max' for as fast as the receiver answers",
        )
    return value


def _ramp(text: str) -> tuple[float, float]:
    start, sep, end = text.partition("..")
    try:
        a, b = float(start), float(end)
    except ValueError:
        raise UsageError(
            f"--ramp expects FROM..TO, got {text!r}", "for example --ramp 100..5000"
        ) from None
    if not sep or a < 0 or b <= 0:
        raise UsageError(f"--ramp expects FROM..TO with TO > 0, got {text!r}")
    return a, b


def _processes(text: str) -> int:
    if text == "auto":
        return os.cpu_count() or 1
    if not text.isdigit() or int(text) < 1:
        raise UsageError(f"--processes expects a number >= 1 or 'auto', got {text!r}")
    return int(text)


def _duration(text: str) -> float:
    from ..scenario.units import parse_duration

    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise UsageError(f"--duration: expected {exc}, got {text!r}") from None
    if seconds <= 0:
        raise UsageError("--duration must be greater than zero")
    return seconds


class _Live:
    """A live status line on a terminal; a line every 5 s otherwise; nothing if quiet."""

    def __init__(self, quiet: bool, duration: float) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.duration = duration
        self.last = -1

    def __call__(self, totals: Any, elapsed: float) -> None:
        if self.quiet:
            return
        rows = totals.series()
        if not rows:
            return
        row = rows[-1]
        second = int(elapsed)
        if not self.tty and (second == self.last or second % 5):
            return
        self.last = second
        errors = ", ".join(f"{k}={v}" for k, v in sorted(totals.errors.items())) or "0"
        line = (
            f"{elapsed:6.1f}/{self.duration:g}s  sent {totals.sent}  ok {totals.ok}  "
            f"errors {errors}  rate {row['rate']:.0f}/s  "
            f"p50 {row['latency_ms']['p50']:.2f} ms  p99 {row['latency_ms']['p99']:.2f} ms"
        )
        if self.tty:
            sys.stderr.write("\r\x1b[2K" + line)
            sys.stderr.flush()
        else:
            err(line)

    def close(self) -> None:
        if self.tty and not self.quiet:
            sys.stderr.write("\n")


def _table(s: dict[str, Any]) -> str:
    target = f"target {s['target_rate']:.0f}/s" if s["target_rate"] else "closed loop"
    lines = [
        f"{'INTERRUPTED: ' if s['interrupted'] else ''}{s['sent']} sent, {s['ok']} ok "
        f"(2xx), {s['completed'] - s['ok']} failed, {s['not_sent']} not sent, "
        f"{s['late']} late in {min(s['elapsed_s'], s['duration_s']):.1f} s: "
        f"{s['rate']:.1f} req/s ({target}); seed {s['seed']}",
        f"{'ms':<22}{'p50':>9}{'p90':>9}{'p99':>9}{'p99.9':>9}{'max':>9}",
    ]
    rows = (
        (("latency (Locust)", "latency_ms"),)
        if s["mode"] == "locust"
        else (
            ("latency (intended)", "latency_ms"),
            ("service time", "service_ms"),
            ("dispatch lag", "dispatch_lag_ms"),
        )
    )
    for name, key in rows:
        v = s[key]
        lines.append(
            f"{name:<22}" + "".join(f"{v[q]:>9.3f}" for q in ("p50", "p90", "p99", "p99.9", "max"))
        )
    statuses = ", ".join(f"{k}={v}" for k, v in sorted(s["statuses"].items())) or "none"
    errors = ", ".join(f"{k}={v}" for k, v in sorted(s["errors"].items())) or "none"
    lines += [f"statuses: {statuses}", f"errors: {errors}"]
    if s.get("behind"):
        lines.append(s["behind"])
    if s.get("faults"):
        lines.append(
            "faults injected: " + ", ".join(f"{k}={v}" for k, v in sorted(s["faults"].items()))
        )
    for t in s.get("thresholds", []):
        lines.append(
            f"{'PASS' if t['passed'] else 'FAIL'} {t['threshold']} "
            f"(actual {t['actual']:.4g}, limit {t['limit']:.4g})"
        )
    return "\n".join(lines)


@handle_errors
def locustfile() -> None:
    """Print the path of the Locust file that emits AtScale webhooks, for `locust -f`.

    Example: locust -f "$(atscale-mock locustfile)" --host http://127.0.0.1:8080/hooks
    """
    from ..load.locust_runner import locustfile_path

    out(locustfile_path())


@handle_errors
def load(
    file: Annotated[
        Path | None,
        typer.Argument(help="Optional scenario file: its `load:` section and its events' mix."),
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", metavar="URL", help="Receiver URL, or 'local'.")
    ] = None,
    rate: Annotated[
        str | None,
        typer.Option(
            "--rate",
            metavar="R|max",
            help="Requests per second (open loop), or 'max' (closed loop). Default: max.",
        ),
    ] = None,
    duration: Annotated[
        str, typer.Option("--duration", "-d", metavar="DURATION", help="How long, e.g. 30s, 5m.")
    ] = DEFAULT_DURATION,
    ramp: Annotated[
        str | None,
        typer.Option(
            "--ramp", metavar="FROM..TO", help="Ramp the rate linearly over the duration."
        ),
    ] = None,
    mix: Annotated[
        str | None,
        typer.Option(
            "--mix",
            metavar="EVENT=W,...",
            help="Event weights, e.g. slow-query=8,batch-start=1. Default: a busy engine's mix.",
        ),
    ] = None,
    connections: Annotated[
        int | None,
        typer.Option(
            "--connections",
            "-c",
            min=1,
            help=f"Connections at most (default {DEFAULT_CONNECTIONS}).",
        ),
    ] = None,
    processes: Annotated[
        str | None,
        typer.Option(
            "--processes", metavar="N|auto", help="Worker processes (auto: one per core)."
        ),
    ] = None,
    thresholds: Annotated[
        list[str] | None,
        typer.Option(
            "--threshold",
            metavar="EXPR",
            help="Pass/fail: p99<250ms, error_rate<1%, rate>=0.99*target. Repeatable.",
        ),
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", metavar="FILE.json|FILE.html", help="Write a report.")
    ] = None,
    seed: Seed = None,
    headers: Headers = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    full: Annotated[bool, typer.Option("--full", help="Payloads with --full fields.")] = False,
    json_out: Json = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live progress.")] = False,
    insecure: Insecure = False,
    ca_cert: CaCert = None,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            metavar="builtin|locust",
            help="locust: a headless Locust master with --processes local workers "
            "(pip install 'atscale-mock[locust]').",
        ),
    ] = "builtin",
    duplicates: Duplicates = 0.0,
    reorder: Reorder = 0,
    drop: Drop = 0.0,
    delay: Delay = 0.0,
    jitter: Jitter = 0.0,
    malformed: Malformed = None,
    malformed_rate: MalformedRate = 1.0,
    sign: Sign = None,
    secret: Secret = None,
    signature_header: SignatureHeader = DEFAULT_HMAC_HEADER,
    spin: Annotated[
        bool,
        typer.Option(
            "--spin",
            help="Open loop: busy-wait the last millisecond before each send for the "
            "tightest timing (a core per worker; only where the machine has one to "
            "spare). Default: sleep on a timerfd, a fraction of a core.",
        ),
    ] = False,
) -> None:
    """Sustained load with unique, valid payloads, measured free of coordinated omission.

    Open loop (--rate R): each request has an intended send time and latency counts from
    it; requests that could not be sent in time are reported as late or not sent.
    Closed loop (--rate max): as fast as the receiver answers. Exit 0; 1 when a
    --threshold fails; 2 for usage errors; 130 when interrupted.

    Examples:

      atscale-mock load --to local --rate 2000 --duration 10s

      atscale-mock load --to http://127.0.0.1:8080/hooks --rate max -c 50 --threshold 'p99<50ms'

      atscale-mock load --to URL --ramp 100..5000 -d 2m --report load.html
    """
    from ..api.load import load as run_load_test
    from ..delivery.request import check_url, parse_header
    from ..load.generator import parse_mix
    from ..load.schedule import Phase

    check_writable(report)
    if report:
        from ..report.files import report_format

        report_format(report)  # a wrong file name fails now, not after the run
    spec = _scenario_load(file) if file else {}
    url = to or spec.get("to")
    if not url:
        raise UsageError("no receiver URL", "give --to URL (or 'local')")
    seconds = (
        _duration(duration)
        if duration != DEFAULT_DURATION or "phases" not in spec
        else sum(p.duration for p in spec["phases"])
    )
    if (delay or jitter) and not (ramp or (rate and rate != "max") or "phases" in spec):
        raise UsageError(
            "--delay and --jitter shift intended send times: they need an "
            "open-loop --rate or --ramp"
        )
    if ramp and rate:
        raise UsageError("--ramp and --rate contradict each other", "use one of them")
    if ramp:
        a, b = _ramp(ramp)
        phases = [Phase(seconds, a, b)]
    elif rate is not None or "phases" not in spec:
        r = _rate(rate)
        phases = [] if r is None else [Phase(seconds, r)]
    else:
        phases = spec["phases"]
    header_pairs = tuple(parse_header(h, "--header") for h in headers or [])
    if url.strip().lower() != "local":
        check_url(url, "--to")
    redactor = Redactor()
    redactor.learn_headers(dict(header_pairs))
    signing = make_signing(sign, secret, signature_header, False, 0.0)
    learn_secret(redactor, signing)
    run_seed = resolve_seed(seed)
    config_mix = parse_mix(mix) if mix else spec.get("mix") or parse_mix(None)
    conns = connections or spec.get("connections") or DEFAULT_CONNECTIONS
    procs = _processes(processes or str(spec.get("processes", 1)))
    from ..api.load import check_capacity, check_rates

    check_capacity(int(conns), procs)  # before anything is printed or started
    check_rates(phases)
    rate_text = f"{sum(p.expected for p in phases) / seconds:.0f} req/s" if phases else "max rate"
    err(
        f"load: {redactor.text(url)} at {rate_text} for {seconds:g}s, "
        f"{conns} connections, {procs} process(es), seed {run_seed}"
    )
    live = _Live(quiet or json_out or engine != "builtin", seconds)
    try:
        with sigterm_as_interrupt():
            result = run_load_test(
                to=url,
                phases=phases,
                duration=seconds,
                connections=conns,
                processes=procs,
                mix=config_mix,
                seed=run_seed,
                headers=header_pairs,
                sign=signing,
                faults=Faults(duplicates, reorder, drop, delay, jitter, malformed, malformed_rate),
                timeout=timeout,
                verify=verify_option(insecure, ca_cert),
                full=full,
                thresholds=[*(spec.get("thresholds") or []), *(thresholds or [])],
                engine=engine,
                progress=live,
                freeze_gc=True,  # the CLI owns its process
                spin=spin,
            )
    finally:
        live.close()
    summary = result.summary
    interrupted = result.interrupted
    from ..load.report import write_report

    if json_out:
        print_json({k: v for k, v in summary.items() if k != "series"})
    else:
        out(_table(summary))
    lost = False
    if report:
        try:
            write_report(report, summary, redactor)
        except UsageError as exc:  # a full disk: the summary above is still the result
            err(f"error: {exc.message}")
            lost = True
    if interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)
    failed = any(not t["passed"] for t in summary["thresholds"])
    raise typer.Exit(EXIT_FAILED if failed or lost else EXIT_OK)


def _scenario_load(file: Path) -> dict[str, Any]:
    """The `load:` section of a scenario, with its events as the default mix."""
    from ..scenario.loader import load_scenario

    scenario = load_scenario(file)
    spec: dict[str, Any] = dict(scenario.load or {})
    if "mix" not in spec:
        weights: dict[str, float] = {}
        for step in scenario.event_steps():
            weights[step.event.name] = weights.get(step.event.name, 0) + step.repeat.count
        if weights:
            spec["mix"] = weights
    if scenario.defaults.to:
        spec["to"] = scenario.defaults.to
    return spec
