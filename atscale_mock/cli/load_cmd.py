"""load: sustained, measured load against a receiver."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..api.load import DEFAULT_CONNECTIONS, GENERATORS
from ..api.load_plan import DEFAULT_DURATION
from ..config import DEFAULT_TIMEOUT
from ..delivery.faults import Faults
from ..delivery.signing import Signing
from ..errors import UsageError
from ..redact import Redactor
from .common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    check_writable,
    command_line,
    err,
    handle_errors,
    holds_signals,
    in_catalogue,
    out,
    print_json,
    resolve_seed,
    sigterm_as_interrupt,
)
from .delivery_opts import (
    learn_secret,
)
from .load_view import LiveLine, summary_table
from .option_groups import NO_FAULTS, fault_options, signing_options
from .options import AtscaleVersion, Json, Seed
from .send_cmd import CaCert, Headers, Insecure, Timeout, verify_option


@handle_errors
def locustfile() -> None:
    """Print the path of the Locust file that emits AtScale webhooks, for `locust -f`.

    Example: locust -f "$(atscale-mock locustfile)" --host http://127.0.0.1:8080/hooks
    """
    from ..load.locust_runner import locustfile_path

    out(locustfile_path())


@handle_errors
@fault_options
@signing_options
@holds_signals  # the built-in generator's runner acts on a Ctrl-C held since start-up
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
            help="Requests per second (open loop): 2000, 10/s or 600/m; or 'max' "
            "(closed loop). Default: max.",
        ),
    ] = None,
    duration: Annotated[
        str | None,
        typer.Option(
            "--duration",
            "-d",
            metavar="DURATION",
            help=f"How long, e.g. 30s, 5m (default {DEFAULT_DURATION}, or the scenario's phases).",
        ),
    ] = None,
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
    atscale_version: AtscaleVersion = None,
    json_out: Json = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live progress.")] = False,
    insecure: Insecure = False,
    ca_cert: CaCert = None,
    generator: Annotated[
        str,
        typer.Option(
            "--generator",
            metavar="builtin|locust",
            help="What makes the load. locust: a headless Locust master with --processes "
            "local workers (the locust extra: Locust installed beside atscale-mock).",
        ),
    ] = "builtin",
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            metavar="builtin|locust",
            hidden=True,
            help="Deprecated spelling of --generator.",
        ),
    ] = None,
    spin: Annotated[
        bool,
        typer.Option(
            "--spin",
            help="Open loop: busy-wait the last millisecond before each send for the "
            "tightest timing (a core per worker; only where the machine has one to "
            "spare). Default: sleep on a timerfd, a fraction of a core.",
        ),
    ] = False,
    signing: Signing | None = None,
    faults: Faults = NO_FAULTS,
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
    from ..api.load_plan import plan_load
    from ..delivery.request import check_url, parse_header
    from ..interrupts import release

    check_writable(report)
    if report:
        from ..report.files import report_format

        report_format(report)  # a wrong file name fails now, not after the run
    in_catalogue(None, atscale_version)
    if engine is not None:  # the old spelling still works, and says so
        err("note: --engine is deprecated; use --generator (the same values)")
        generator = engine
    if generator not in GENERATORS:
        raise UsageError(
            f"--generator: unknown load generator {generator!r}", " or ".join(GENERATORS)
        )
    plan = plan_load(
        to=to,
        file=file,
        rate=rate,
        ramp=ramp,
        duration=duration,
        connections=connections,
        processes=processes,
        mix=mix,
        shifts_sends=bool(faults.delay or faults.jitter),
    )
    header_pairs = tuple(parse_header(h, "--header") for h in headers or [])
    url = plan.to
    if url.strip().lower() != "local":
        check_url(url, "--to")
    redactor = Redactor()
    redactor.learn_headers(dict(header_pairs))
    learn_secret(redactor, signing)
    run_seed = resolve_seed(seed)
    from ..api.load import check_capacity, check_rates

    check_capacity(plan.connections, plan.processes)  # before anything is printed or started
    check_rates(plan.phases)
    err(
        f"load: {redactor.text(url)} at {plan.rate_text} for {plan.duration:g}s, "
        f"{plan.connections} connections, {plan.processes} process(es), seed {run_seed}"
    )
    live = LiveLine(quiet or json_out or generator != "builtin", plan.duration)
    if generator != "builtin":
        release()  # Locust's runner takes signals its own way
    try:
        with sigterm_as_interrupt():
            result = run_load_test(
                to=url,
                phases=plan.phases,
                duration=plan.duration,
                connections=plan.connections,
                processes=plan.processes,
                mix=plan.mix,
                seed=run_seed,
                headers=header_pairs,
                sign=signing,
                faults=faults,
                timeout=timeout,
                verify=verify_option(insecure, ca_cert),
                full=full,
                thresholds=[*plan.thresholds, *(thresholds or [])],
                atscale_version=atscale_version,
                generator=generator,
                progress=live,
                freeze_gc=True,  # the CLI owns its process
                spin=spin,
            )
    finally:
        live.close()
    release()  # SIGTERM's default back for what is left (the summary)
    summary = result.summary
    summary["command"] = redactor.text(command_line())  # for the report (keys redacted)
    interrupted = result.interrupted
    from ..load.report import write_report

    if json_out:
        print_json({k: v for k, v in summary.items() if k != "series"})
    else:
        out(summary_table(summary))
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
