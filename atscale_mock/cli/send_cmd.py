"""send and demo: deliver events over HTTP, to a URL or to the built-in receiver."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..config import DEFAULT_RETRIES, DEFAULT_TIMEOUT
from ..delivery.faults import Faults, is_copy
from ..delivery.request import check_url, parse_header
from ..delivery.retry import Attempt, Retry
from ..delivery.signing import Signing
from ..errors import UsageError
from ..events.payload import PayloadOptions
from ..redact import Redactor
from ..report.log import JsonlLog
from ..report.text import attempt_line, received_line, summary_line

if TYPE_CHECKING:
    from ..api.results import SendResult
from .common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    as_flag,
    check_max_time,
    err,
    exit_if_max_time,
    handle_errors,
    in_catalogue,
    out,
    print_json,
    resolve_seed,
    sigterm_as_interrupt,
)
from .delivery_opts import (
    RetrySchedule,
    TimeScale,
    learn_secret,
    make_retry,
)
from .option_groups import (
    NO_FAULTS,
    NO_PAYLOAD_OPTIONS,
    fault_options,
    negative_signing,
    payload_options,
)
from .options import (
    POSITIVE_DURATION,
    RATE,
    AtscaleVersion,
    EventArg,
    Full,
    Json,
    MaxTime,
    Quiet,
    Seed,
)
from .progress import Bar

To = Annotated[
    str,
    typer.Option(
        "--to",
        metavar="URL",
        help="Receiver URL; may hold payload placeholders like {org_id}. 'local' starts the "
        "built-in receiver on a free loopback port.",
    ),
]
Headers = Annotated[
    list[str] | None,
    typer.Option(
        "--header",
        "-H",
        metavar="'NAME: VALUE'",
        help="Extra request header. Repeatable. "
        "Values of auth/token/secret/key headers are redacted everywhere.",
    ),
]
Timeout = Annotated[
    float,
    typer.Option(
        "--timeout",
        metavar="DURATION",
        parser=POSITIVE_DURATION,
        help="Per-attempt timeout, e.g. 10s or 500ms.",
    ),
]
Retries = Annotated[
    int,
    typer.Option(
        "--retries",
        min=0,
        help="Retries on connection errors, 429 and 5xx (exponential "
        "backoff with jitter; Retry-After honoured). No retry on other 4xx.",
    ),
]
LogFile = Annotated[
    Path | None,
    typer.Option(
        "--log", metavar="FILE", help="Append one JSON line per attempt (secrets redacted)."
    ),
]
Insecure = Annotated[bool, typer.Option("--insecure", help="Do not verify TLS certificates.")]
CaCert = Annotated[
    Path | None,
    typer.Option(
        "--ca-cert",
        metavar="FILE",
        exists=True,
        dir_okay=False,
        help="Verify TLS against this CA bundle.",
    ),
]


@contextlib.contextmanager
def target(to: str, quiet: bool) -> Iterator[str]:
    """The URL to send to; for 'local', the built-in receiver runs for the duration
    (used by the commands whose library call takes a URL)."""
    from ..api.target import resolve_target

    with resolve_target(to, *receiver_hooks(quiet), what="--to") as url:
        yield url


def receiver_hooks(quiet: bool) -> tuple[Callable[[Any], None], Callable[[str], None]]:
    """What the CLI shows of the built-in receiver: each request, and where it listens."""

    def show(got: Any) -> None:
        if not quiet:
            out("    " + received_line(got))

    return show, lambda url: err(f"built-in receiver listening on {url}")


def attempt_printer(
    log: JsonlLog, redactor: Redactor, quiet: bool, expect: Any = None, failures_only: bool = False
) -> Callable[[Attempt], None]:
    """Log every attempt; print each (``quiet``: none; ``failures_only``: those that
    missed their expectation)."""

    def on_attempt(attempt: Attempt) -> None:
        log.write(attempt)
        if quiet:
            return
        passed = attempt.ok if expect is None else expect.status_ok(attempt.outcome.status)
        if not failures_only or not passed:
            out(attempt_line(attempt, redactor, expect))

    return on_attempt


def counted(
    bar: Bar | None, policy: Retry, expect: Any, printer: Callable[[Attempt], None]
) -> Callable[[Attempt], None]:
    """``printer``, and on a terminal the bar: it moves when a delivery has settled (its
    last attempt, or a drop); a duplicate's copy is not one of the N."""
    if bar is None:
        return printer
    tally = [0, 0]  # passed, failed

    def on_attempt(attempt: Attempt) -> None:
        printer(attempt)
        o = attempt.outcome
        if is_copy(attempt.request.faults):
            return
        if o.error_class != "dropped" and not policy.is_last(attempt.attempt, o):
            return  # a retry follows
        passed = attempt.ok if expect is None else expect.status_ok(o.status)
        tally[0 if passed else 1] += 1
        bar.advance(f"{tally[0]} passed, {tally[1]} failed")

    return on_attempt


def finish(result: SendResult, json_out: bool, log: JsonlLog | None = None) -> None:
    """Print the summary (and a behind-schedule line), then what the log lost; exit 0,
    1 (a delivery failed, or the log could not be written) or 130."""
    behind = result.schedule.behind_text(result.summary["deliveries"])
    if behind:
        err(behind)
    if json_out:
        print_json(result.to_json())
    else:
        head = "interrupted: " if result.interrupted else ""
        err(head + summary_line(result.summary, result.seed))
    problem = log.problem() if log is not None else None
    if problem:
        err(f"error: {problem}")
    exit_if_max_time()
    if result.interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)
    raise typer.Exit(EXIT_OK if result.ok and not problem else EXIT_FAILED)


def verify_option(insecure: bool, ca_cert: Path | None) -> bool | str:
    if insecure and ca_cert:
        from ..errors import UsageError

        raise UsageError("--insecure and --ca-cert contradict each other")
    return False if insecure else str(ca_cert) if ca_cert else True


@handle_errors
@fault_options
@negative_signing
@payload_options
def send(
    event: EventArg,
    to: To,
    count: Annotated[int, typer.Option("--count", "-n", min=1, help="How many events.")] = 1,
    rate: Annotated[
        float | None,
        typer.Option(
            "--rate",
            parser=RATE,
            metavar="RATE",
            help="Events per second, e.g. 20 or 20/s or 600/m (default: one after another).",
        ),
    ] = None,
    headers: Headers = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    retries: Retries = DEFAULT_RETRIES,
    log_file: LogFile = None,
    json_out: Json = False,
    seed: Seed = None,
    atscale_version: AtscaleVersion = None,
    insecure: Insecure = False,
    ca_cert: CaCert = None,
    retry_schedule: RetrySchedule = None,
    retry_time_scale: TimeScale = 1.0,
    max_time: MaxTime = None,
    expect_status: Annotated[
        str | None,
        typer.Option(
            "--expect-status",
            metavar="CODES",
            help="What counts as a pass, e.g. 401, 4xx or 401,403 (default 2xx): a "
            "negative test passes when the receiver rightly rejects.",
        ),
    ] = None,
    quiet: Quiet = False,
    signing: Signing | None = None,
    faults: Faults = NO_FAULTS,
    payload_options: PayloadOptions = NO_PAYLOAD_OPTIONS,
) -> None:
    """Build an event's payload and POST it as application/json.

    One line per attempt; exit 0 when every event met its expectation (a 2xx unless
    --expect-status says otherwise), 1 when any did not, 2 for usage errors, 130 when
    interrupted (Ctrl-C or SIGTERM).

    Examples:

      atscale-mock send slow-query --to local

      atscale-mock send batch-result --failed --to http://127.0.0.1:10502/hooks

      atscale-mock send slow-query -n 100 --rate 20 --log sent.jsonl \\
          --to 'http://localhost:10502/webhooks/orgId/{org_id}/envId/prod'

      atscale-mock send batch-start -n 20 --duplicates 0.2 --reorder 5 \\
          --sign standard-webhooks --secret "$SECRET" --to local

      atscale-mock send slow-query --sign standard-webhooks --secret "$SECRET" \\
          --bad-signature --expect-status 401 --to http://127.0.0.1:8080/hooks
    """
    from ..api.send import send as send_events

    in_catalogue(event, atscale_version)
    if to.strip().lower() != "local":
        check_url(to, "--to")
    header_pairs = tuple(parse_header(h, "--header") for h in headers or [])
    redactor = Redactor()
    redactor.learn_headers(dict(header_pairs))
    learn_secret(redactor, signing)
    run_seed = resolve_seed(seed)
    err(f"seed: {run_seed}")
    log = JsonlLog(log_file, redactor)
    on_received, on_local = receiver_hooks(json_out or quiet)
    from ..api.options import as_expect

    try:
        expect = as_expect(expect_status)
    except UsageError as exc:
        raise as_flag(exc) from None
    check_max_time(max_time)
    retry = make_retry(retries, retry_schedule, retry_time_scale)
    printer = attempt_printer(log, redactor, json_out, expect, failures_only=quiet)
    bar = Bar(count) if count > 1 and Bar.wanted(quiet or json_out) else None
    with (
        log,
        sigterm_as_interrupt(max_time),
        contextlib.closing(bar) if bar else contextlib.nullcontext(),
    ):
        result = send_events(
            event,
            to=to,
            count=count,
            rate=rate,
            seed=run_seed,
            payload_options=payload_options,
            clock=payload_options.clock or ("now" if seed is None else None),
            atscale_version=atscale_version,
            headers=header_pairs,
            timeout=timeout,
            retries=retry,
            sign=signing,
            faults=faults,
            verify=verify_option(insecure, ca_cert),
            on_attempt=counted(bar, retry, expect, printer),
            on_received=on_received,
            on_local=on_local,
            keep_records=False,
            expect_status=expect_status,
        )
    finish(result, json_out, log)


@handle_errors
def demo(
    to: Annotated[
        str, typer.Option("--to", metavar="URL", help="Receiver URL, or 'local'.")
    ] = "local",
    seed: Seed = None,
    full: Full = False,
    atscale_version: AtscaleVersion = None,
    json_out: Json = False,
    quiet: Quiet = False,
) -> None:
    """Send every one of the seven events once (the six of I2022.4.1 with
    --atscale-version I2022.4.1), showing both sides (the main job of `make run`).

    Example:

      atscale-mock demo --seed 1
    """
    from ..api.send import demo as demo_events

    in_catalogue(None, atscale_version)
    on_received, on_local = receiver_hooks(json_out or quiet)
    run_seed = resolve_seed(seed)
    err(f"seed: {run_seed}")
    with sigterm_as_interrupt():
        result = demo_events(
            to=to,
            seed=run_seed,
            clock=None if seed is not None else "now",
            full=full,
            atscale_version=atscale_version,
            on_attempt=attempt_printer(
                JsonlLog(None, Redactor()), Redactor(), json_out, failures_only=quiet
            ),
            on_received=on_received,
            on_local=on_local,
        )
    finish(result, json_out)
