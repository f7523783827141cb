"""check: the receiver conformance battery and schema-driven fuzzing, as a scorecard."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..check.probes import DEFAULT_MAX_LATENCY
from ..config import DEFAULT_TIMEOUT
from ..delivery.request import check_url, parse_header
from ..delivery.signing import Signing
from ..errors import UsageError
from ..redact import Redactor
from ..report.log import JsonlLog
from .common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    check_writable,
    err,
    handle_errors,
    in_catalogue,
    out,
    print_json,
    resolve_seed,
    sigterm_as_interrupt,
)
from .delivery_opts import (
    learn_secret,
)
from .option_groups import signing_options
from .options import AtscaleVersion, Json, Seed
from .send_cmd import CaCert, Headers, Insecure, LogFile, Timeout, verify_option


def _names(values: list[str] | None) -> list[str]:
    return [n.strip() for v in values or [] for n in v.split(",") if n.strip()]


def _seconds(value: str | None, what: str) -> float | None:
    if value is None:
        return None
    from ..scenario.units import parse_duration

    try:
        return parse_duration(value)
    except (ValueError, UsageError):
        raise UsageError(
            f"{what}: not a duration: {value!r}", "for example 30s, 500ms or 2m"
        ) from None


@handle_errors
@signing_options
def check(
    to: Annotated[
        str | None,
        typer.Option("--to", metavar="URL", help="The receiver to check, or 'local'."),
    ] = None,
    expect: Annotated[
        list[str] | None,
        typer.Option(
            "--expect",
            metavar="CHECK=CODES",
            help="Replace checks' expected status: forged=401, empty=400,422, or several "
            "at once: forged=401,stale=4xx. Repeatable.",
        ),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option("--only", metavar="CHECKS", help="Run only these checks (comma-separated)."),
    ] = None,
    skip: Annotated[
        list[str] | None,
        typer.Option("--skip", metavar="CHECKS", help="Leave these checks out (comma-separated)."),
    ] = None,
    fuzz: Annotated[
        int | None,
        typer.Option("--fuzz", min=1, metavar="N", help="Also send N generated payloads."),
    ] = None,
    fuzz_time: Annotated[
        str | None,
        typer.Option("--fuzz-time", metavar="DURATION", help="Fuzz for this long, e.g. 30s."),
    ] = None,
    seed: Seed = None,
    max_latency: Annotated[
        str,
        typer.Option(
            "--max-latency",
            metavar="DURATION",
            help="Latency budget: each event's p99 in the burst must stay under it.",
        ),
    ] = "10s",
    clock: Annotated[
        str | None,
        typer.Option(
            "--clock",
            metavar="ISO8601|now",
            help="The payloads' time (default: the seeded one, so --seed repeats every "
            "body); 'now' for the current time.",
        ),
    ] = None,
    atscale_version: AtscaleVersion = None,
    burst: Annotated[
        int,
        typer.Option(
            "--burst",
            min=1,
            max=1000,
            help="Concurrent deliveries in the latency check (at most 1000; for more, "
            "run a load test).",
        ),
    ] = 50,
    headers: Headers = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    insecure: Insecure = False,
    ca_cert: CaCert = None,
    json_out: Json = False,
    junit: Annotated[
        Path | None, typer.Option("--junit", metavar="FILE", help="Write a JUnit XML scorecard.")
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", metavar="FILE.html", help="Write an HTML scorecard."),
    ] = None,
    findings_dir: Annotated[
        Path | None,
        typer.Option(
            "--findings-dir",
            metavar="DIR",
            help="Where findings too long for --set are saved for replay (default: "
            "atscale-mock-findings/ beside the --report or --junit file, else in the "
            "current directory; made only when there is one to save).",
        ),
    ] = None,
    log_file: LogFile = None,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="No line per check as it runs: the scorecard only."),
    ] = False,
    list_checks: Annotated[bool, typer.Option("--list", help="List the checks and exit.")] = False,
    signing: Signing | None = None,
) -> None:
    """Check a receiver's webhook hygiene: a battery of named checks, and with --fuzz
    schema-valid generated payloads whose 5xx, timeouts and resets are findings, shrunk
    to a minimal payload with the command that reproduces it.

    Exit 0 when no "must" check failed and fuzzing found nothing, 1 otherwise, 2 for
    usage errors, 130 when interrupted. "should" checks that fail are warnings.

    Examples:

      atscale-mock check --to http://127.0.0.1:8000/hooks

      atscale-mock check --to http://127.0.0.1:8000/hooks \\
          --sign standard-webhooks --secret "$SECRET"

      atscale-mock check --to http://127.0.0.1:8000/hooks --fuzz 500 --seed 7 --junit check.xml

      atscale-mock check --to http://127.0.0.1:8000/hooks --expect forged=401 --skip latency

      atscale-mock check --list
    """
    from ..check.battery import CHECKS

    if list_checks:
        for c in CHECKS:
            out(f"{c.name:<20} {c.level:<6} {c.sends}")
        raise typer.Exit(EXIT_OK)
    if to is None:
        raise UsageError("check needs --to URL", "for example --to http://127.0.0.1:8000/hooks")
    if to.strip().lower() != "local":
        check_url(to, "--to")
    in_catalogue(None, atscale_version)
    if report is not None and report.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"--report {report}: the scorecard report is HTML", "name it FILE.html")
    check_writable(junit, report, log_file)
    if findings_dir is not None:
        from ..report.files import check_output_dir

        check_output_dir(findings_dir, "--findings-dir")
    else:  # beside the reports, never a temporary directory left behind
        beside = report or junit
        findings_dir = (beside.parent if beside else Path()) / "atscale-mock-findings"
    header_pairs = tuple(parse_header(h, "--header") for h in headers or [])
    redactor = Redactor()
    redactor.learn_headers(dict(header_pairs))
    learn_secret(redactor, signing)
    run_seed = resolve_seed(seed)
    err(f"seed: {run_seed}")
    log = JsonlLog(log_file, redactor)
    from ..api.check import check as run_check

    def heard(result: object) -> None:
        if not json_out and not quiet:
            err(redactor.text(f"  {getattr(result, 'verdict', '')}: {getattr(result, 'name', '')}"))

    with log, sigterm_as_interrupt():  # Ctrl-C, and SIGTERM with it: the library's stop flag
        card = run_check(
            to,
            sign=signing,
            expect=expect,
            only=_names(only),
            skip=_names(skip),
            fuzz=fuzz,
            fuzz_time=_seconds(fuzz_time, "--fuzz-time"),
            seed=run_seed,
            max_latency=_positive(_seconds(max_latency, "--max-latency"), "--max-latency"),
            burst=burst,
            headers=header_pairs,
            timeout=timeout,
            verify=verify_option(insecure, ca_cert),
            findings_dir=findings_dir,
            clock=clock,
            atscale_version=atscale_version,
            on_attempt=log.write,
            on_check=heard,
        )
    # the scorecard first: a report file that cannot be written loses nothing shown
    if json_out:
        print_json(redactor.data(card.to_json()))
    else:
        out(redactor.text(card.text()))
    problems = [p for p in (log.problem(), *_write_reports(card, junit, report, redactor)) if p]
    for problem in problems:
        err(f"error: {problem}")
    if card.interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)
    raise typer.Exit(EXIT_OK if card.ok and not problems else EXIT_FAILED)


def _write_reports(
    card: Any, junit: Path | None, report: Path | None, redactor: Redactor
) -> list[str]:
    from ..report.files import write_text

    problems = []
    for path, render in ((junit, card.junit), (report, card.html)):
        if path is None:
            continue
        try:
            write_text(path, redactor.text(render()))
        except UsageError as exc:
            problems.append(exc.message)
    return problems


def _positive(value: float | None, flag: str) -> float:
    if value is None:
        return DEFAULT_MAX_LATENCY
    if value <= 0:
        raise UsageError(f"{flag}: must be more than 0, got {value:g}s", "for example 2s or 500ms")
    return value
