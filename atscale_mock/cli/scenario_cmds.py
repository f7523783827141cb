"""validate, plan, run: scenario files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..delivery.faults import Faults
from ..delivery.request import check_url, parse_header
from ..delivery.signing import Signing
from ..errors import ScenarioError, UsageError
from ..redact import Redactor
from .common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    check_max_time,
    check_writable,
    err,
    exit_if_max_time,
    gc_paused,
    handle_errors,
    in_catalogue,
    now,
    out,
    print_json,
    resolve_clock,
    resolve_seed,
    sigterm_as_interrupt,
)
from .delivery_opts import (
    RetrySchedule,
    learn_secret,
    make_retry,
)
from .delivery_opts import TimeScale as RetryTimeScale
from .option_groups import NO_FAULTS, fault_options, negative_signing
from .options import POSITIVE_DURATION, AtscaleVersion, Json, MaxTime, Quiet, Seed
from .progress import Bar
from .send_cmd import CaCert, Headers, Insecure, LogFile, receiver_hooks, verify_option

if TYPE_CHECKING:
    from ..scenario.model import Scenario
    from ..scenario.result import DeliveryResult

Files = Annotated[list[Path], typer.Argument(help="Scenario files (YAML).", show_default=False)]
File = Annotated[Path, typer.Argument(help="Scenario file (YAML).", show_default=False)]
TimeScale = Annotated[
    float | None,
    typer.Option(
        "--time-scale",
        min=0.000001,
        metavar="X",
        help="Simulated seconds per wall second (overrides the file's time_scale).",
    ),
]
Vars = Annotated[
    list[str] | None,
    typer.Option("--var", metavar="NAME=VALUE", help="Override a scenario variable. Repeatable."),
]


def _load(
    file: Path,
    var_args: list[str] | None,
    time_scale: float | None = None,
    read_env: bool = True,
    atscale_version: str | None = None,
) -> Scenario:
    from ..events.payload import parse_value
    from ..scenario.reading import NoEnvironment, read_scenario

    overrides: dict[str, Any] = {}
    for text in var_args or []:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--var expects NAME=VALUE, got {text!r}")
        overrides[name.strip()] = parse_value(value)
    with gc_paused():
        environ = None if read_env else NoEnvironment()
        scenario = read_scenario(file, environ, var_overrides=overrides)
    if time_scale is not None:
        from dataclasses import replace

        scenario = replace(scenario, time_scale=time_scale)
    if atscale_version is not None:
        from ..api.scenario import in_version

        in_catalogue(None, atscale_version)  # a version not documented: --atscale-version
        scenario = in_version(scenario, atscale_version)
    return scenario


def _seed_and_clock(scenario: Scenario, seed: int | None) -> tuple[int, Any]:
    given = seed if seed is not None else scenario.defaults.seed
    fixed = resolve_clock(scenario.clock, given is not None)
    return resolve_seed(given), fixed or now()


def _needs_signing(scenario: Scenario) -> list[str]:
    """What only a signed run can do: validate cannot know the run's --sign, so it says
    so instead of passing in silence."""
    return [
        f"step {s.id!r} sends a bad or stale signature: run it with --sign MODE --secret KEY "
        "(run refuses it unsigned)"
        for s in scenario.event_steps()
        if (s.bad_signature or s.stale_timestamp) and s.sign
    ]


@handle_errors
def validate(
    files: Files,
    json_out: Json = False,
    quiet: Quiet = False,
    no_env: Annotated[
        bool,
        typer.Option(
            "--no-env",
            help="Do not read environment variables: ${env:X}/${secret:X} take their "
            "default, or stay unchecked references (lint where secrets are not set).",
        ),
    ] = False,
    atscale_version: AtscaleVersion = None,
) -> None:
    """Check scenario files without any network: syntax, keys, events, fields, references,
    durations, rates, environment variables. Reports every problem at once; exit 2 if any.

    Examples:

      atscale-mock validate scenarios/*.yaml

      atscale-mock validate --no-env scenarios/*.yaml   # where the secrets are not set
    """
    from ..examples import expand

    in_catalogue(None, atscale_version)  # an undocumented version: once, not per file
    report: dict[str, list[dict[str, Any]]] = {}
    files = [found for given in files for found in expand(given)]
    for file in files:
        try:
            scenario = _load(file, None, read_env=not no_env, atscale_version=atscale_version)
            report[str(file)] = []
            if not json_out and not quiet:
                err(f"ok: {file}")
                for note in _needs_signing(scenario):
                    err(f"  note: {note}")
        except ScenarioError as exc:
            report[str(file)] = [
                {"line": p.line, "column": p.column, "message": p.message, "hint": p.hint}
                for p in exc.problems
            ]
            if not json_out:
                err(exc.render() + "\n")
        except UsageError as exc:  # a step's event not in --atscale-version's catalogue
            report[str(file)] = [{"line": 0, "column": 0, "message": exc.message, "hint": exc.hint}]
            if not json_out:
                err(exc.render() + "\n")
    if json_out:
        print_json(report)
    bad = sum(1 for problems in report.values() if problems)
    if bad:
        if not json_out:
            err(f"{bad} of {len(files)} file(s) invalid")
        raise typer.Exit(EXIT_USAGE)


@handle_errors
def plan(
    file: File,
    seed: Seed = None,
    var_args: Vars = None,
    json_out: Json = False,
    to: Annotated[str | None, typer.Option("--to", help="Receiver URL to show.")] = None,
    summary: Annotated[
        bool,
        typer.Option(
            "--summary",
            help="Counts by event and step instead of every payload (from the timing "
            "alone: fast and small for millions of deliveries; with --json, the counts).",
        ),
    ] = False,
    time_scale: TimeScale = None,
    atscale_version: AtscaleVersion = None,
) -> None:
    """Show the timeline and every payload without sending: a dry run for review,
    identical for the same seed.

    Example:

      atscale-mock plan scenarios/batch-lifecycle.yaml --seed 42
    """
    from ..scenario import plan as p

    scenario = _load(file, var_args, time_scale, atscale_version=atscale_version)
    run_seed, clock = _seed_and_clock(scenario, seed)
    redactor = Redactor(scenario.secrets)
    target = to or scenario.defaults.to
    if summary:
        doc = redactor.data(p.plan_summary(scenario, run_seed, clock, target))
        if json_out:
            import json

            out(json.dumps(doc, indent=2, ensure_ascii=False))
        else:
            out(p.render_summary(doc))
        return
    # the listing is printed as it is made: memory does not grow with its length
    head, deliveries = p.plan_stream(scenario, run_seed, clock, target)
    clean = (redactor.data(d) for d in deliveries)
    lines = p.plan_json_lines if json_out else p.plan_text_lines
    for line in lines(redactor.data(head), clean):
        out(line)


class _Progress:
    """Live progress on a terminal; one line per delivery otherwise."""

    def __init__(
        self, total: int | None, quiet: bool, redactor: Redactor, json_out: bool = False
    ) -> None:
        """``total``: the deliveries planned (None: not known before they happen, as for
        an engine simulation); the bar shows how many of them are done and an ETA."""
        self.redactor = redactor
        self.quiet = quiet
        self.show = err if json_out else out  # with --json, stdout holds only the JSON
        self.bar = Bar(total) if Bar.wanted(quiet) else None
        self.passed = self.failed = 0

    def result(self, r: DeliveryResult) -> None:
        from ..report.text import attempt_line

        self.passed += r.passed
        self.failed += not r.passed
        line = attempt_line(r.tries[-1], self.redactor)
        if r.failures:
            line += "\n      FAILED: " + self.redactor.text("; ".join(r.failures))
        if self.bar is not None:
            self.bar.advance(f"{self.passed} passed, {self.failed} failed")
            if r.failures:
                self.bar.above(line)
        elif not self.quiet or r.failures:
            self.show(line)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def planned_total(scenario: Any) -> int | None:
    """How many deliveries a run will make, when the timing keys alone tell (engine
    steps decide theirs as they run; duplicates add to it)."""
    from ..scenario.model import Parallel
    from ..scenario.plan import count_deliveries
    from ..simulation.steps import EngineStep

    for step in scenario.steps:
        for branch in step.branches if isinstance(step, Parallel) else (step,):
            if isinstance(branch, EngineStep):
                return None
    return count_deliveries(scenario)


@handle_errors
@fault_options
@negative_signing
def run(
    file: File,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            metavar="URL",
            help="Receiver URL (overrides defaults.to); 'local' for the built-in receiver.",
        ),
    ] = None,
    var_args: Vars = None,
    seed: Seed = None,
    retries: Annotated[
        int | None, typer.Option("--retries", min=0, help="Override defaults.retries.")
    ] = None,
    junit: Annotated[
        Path | None,
        typer.Option(
            "--junit", metavar="FILE", help="Write JUnit XML, one test case per delivery."
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            metavar="FILE.json|FILE.html",
            help="Write a report: JSON (every delivery), or with .html one offline page with "
            "a timeline per step, latency and failures.",
        ),
    ] = None,
    log_file: LogFile = None,
    json_out: Json = False,
    quiet: Quiet = False,
    insecure: Insecure = False,
    ca_cert: CaCert = None,
    time_scale: TimeScale = None,
    atscale_version: AtscaleVersion = None,
    retry_schedule: RetrySchedule = None,
    retry_time_scale: RetryTimeScale = 1.0,
    max_time: MaxTime = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            metavar="DURATION",
            parser=POSITIVE_DURATION,
            help="Per-attempt timeout, e.g. 10s (overrides the file's defaults.timeout).",
        ),
    ] = None,
    headers: Headers = None,
    signing: Signing | None = None,
    faults: Faults = NO_FAULTS,
) -> None:
    """Run a scenario against a receiver, with live progress and a final summary.

    Exit codes: 0 every expectation met; 1 an expectation or delivery failed; 2 invalid
    scenario or usage; 130 interrupted (the summary, reports and log are still written).

    Example:

      atscale-mock run scenarios/batch-lifecycle.yaml --to local --junit junit.xml
    """
    import gc

    from ..api.scenario import run as run_scenario
    from ..report.log import JsonlLog
    from ..scenario.report import write_reports

    check_writable(junit, report)
    if report is not None:
        from ..report.files import report_format

        report_format(report)  # a wrong file name fails now, not after the run
    scenario = _load(file, var_args, time_scale, atscale_version=atscale_version)
    run_seed, _ = _seed_and_clock(scenario, seed)
    url = to or scenario.defaults.to
    if not url:
        raise UsageError("no receiver URL", "give --to URL (or 'local'), or set defaults.to")
    if url.strip().lower() != "local":
        check_url(url, "--to")
    redactor = Redactor(scenario.secrets)
    header_pairs = tuple(parse_header(h, "--header") for h in headers or [])
    for known in [
        scenario.defaults.headers,
        dict(header_pairs),
        *(s.headers for s in scenario.event_steps()),
    ]:
        redactor.learn_headers(known)
    learn_secret(redactor, signing)
    retry = make_retry(
        scenario.defaults.retries if retries is None else retries, retry_schedule, retry_time_scale
    )
    on_received, on_local = receiver_hooks(quiet or json_out)
    err(f"running {scenario.name} ({file}), seed {run_seed}")
    progress = _Progress(planned_total(scenario), quiet or json_out, redactor, json_out)
    gc.collect()
    gc.freeze()  # long-lived setup objects leave the collector's work: shorter pauses
    try:
        check_max_time(max_time)
        with JsonlLog(log_file, redactor) as log, sigterm_as_interrupt(max_time):
            result = run_scenario(
                scenario,
                to=url,
                seed=run_seed,
                retries=retry,
                timeout=timeout,
                headers=header_pairs,
                sign=signing,
                faults=faults,
                verify=verify_option(insecure, ca_cert),
                on_attempt=log.write,
                on_result=progress.result,
                on_received=on_received,
                on_local=on_local,
                keep_results=bool(junit or report),  # only a report needs every delivery
            )
    finally:
        gc.unfreeze()
        progress.close()
    problems = write_reports(result, redactor, junit, report)
    summary = result.to_json(deliveries=False)
    if json_out:
        print_json(summary)
    else:
        err(_summary_text(summary))
    problem = log.problem()
    for line in [*problems, *([problem] if problem else [])]:
        err(f"error: {line}")
    exit_if_max_time()
    if result.interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)
    good = result.failed == 0 and result.not_sent == 0 and not problems and not problem
    raise typer.Exit(EXIT_OK if good else EXIT_FAILED)


def _summary_text(s: dict[str, Any]) -> str:
    head = "INTERRUPTED: " if s["interrupted"] else ""
    lat = s["latency_ms"]
    return (
        f"{head}{s['scenario']}: {s['passed']} passed, {s['failed']} failed, "
        f"{s['not_sent']} not sent of {s['planned']} in {s['elapsed_seconds']:.2f}s; "
        f"latency p50 {lat['p50']:.1f} ms p99 {lat['p99']:.1f} ms; "
        f"dispatch lag p99 {s['dispatch_lag_ms']['p99']:.1f} ms; seed {s['seed']}"
    )


@handle_errors
def from_recording(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE", help="A receive --record or --log file.", show_default=False
        ),
    ],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", metavar="FILE.yaml", help="Where to write the scenario."),
    ],
    keep_timing: Annotated[
        bool,
        typer.Option(
            "--keep-timing",
            help="Replay at the recorded pace (default: compressed to at most 2 s).",
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite FILE.yaml if it exists.")
    ] = False,
) -> None:
    """Turn a recording into a scenario that replays it: the same events in the same
    order at the same offsets, recorded values as `set:` overrides, and batch, query and
    instance ids generated per run (later uses become ${steps...} references, so a
    batch result stays paired with its start and two runs share no id). What cannot be
    replayed (undocumented fields) is listed in the file's header and on stderr.

    Examples:

      atscale-mock scenario from-recording got.jsonl -o replay.yaml

      atscale-mock scenario from-recording got.jsonl -o replay.yaml --keep-timing --force

    Exit codes: 0 written, 2 the recording cannot be read, has no engine event, or
    FILE.yaml exists (give --force).
    """
    from ..scenario.from_recording import from_recording as convert

    if output.exists() and not force:
        raise UsageError(f"-o: {output} exists", "give --force to overwrite it")
    made = convert(file, keep_timing=keep_timing, on_warning=lambda w: err(f"warning: {w}"))
    try:
        output.write_text(made.text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}") from None
    err(f"wrote {output}: {made.steps} steps; run it with: atscale-mock run {output} --to URL")
