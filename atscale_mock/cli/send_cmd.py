"""send and demo: deliver events over HTTP, to a URL or to the built-in receiver."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from ..catalogue import EVENTS
from ..config import DEFAULT_RETRIES, DEFAULT_SLOW_QUERY_THRESHOLD, DEFAULT_TIMEOUT
from ..delivery import Attempt, RetryPolicy
from ..log import JsonlLog
from ..payload import BuildOptions, resolve_event
from ..redact import Redactor
from ..reporters import attempt_line, received_line, summary_line
from ..sender import HttpxSender
from ..sending import SendPlan, check_url, parse_header, run_send
from ..stats import Summary
from .common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    err,
    handle_errors,
    now,
    out,
    print_json,
    resolve_clock,
    resolve_seed,
)
from .delivery_opts import (
    DEFAULT_HMAC_HEADER,
    BadSignature,
    Delay,
    Drop,
    Duplicates,
    Jitter,
    Malformed,
    MalformedRate,
    Reorder,
    RetrySchedule,
    Secret,
    Sign,
    SignatureHeader,
    Stale,
    TimeScale,
    make_faults,
    make_policy,
    make_signer,
)
from .options import (
    Clock,
    Cube,
    ErrorText,
    Failed,
    Full,
    Json,
    Org,
    Project,
    Seed,
    Sets,
    SlowThreshold,
    payload_inputs,
)

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
    float, typer.Option("--timeout", min=0.001, metavar="SECONDS", help="Per-attempt timeout.")
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
    """The URL to send to; for 'local', the built-in receiver runs for the duration."""
    if to.strip().lower() != "local":
        yield check_url(to)
        return
    from ..receiver import Receiver

    def show(got: object) -> None:
        if not quiet:
            out("    " + received_line(got))  # type: ignore[arg-type]

    with Receiver(on_request=show) as receiver:
        err(f"built-in receiver listening on {receiver.url}")
        yield receiver.url + "/hooks"


def deliver_plans(
    plans: list[SendPlan],
    summary: Summary,
    *,
    policy: RetryPolicy,
    timeout: float,
    verify: bool | str,
    log: JsonlLog,
    redactor: Redactor,
    quiet: bool,
) -> Summary:
    """Send every plan in order; print a line per attempt; log it. On Ctrl-C the
    KeyboardInterrupt propagates with ``summary`` complete up to the interruption."""

    def on_attempt(attempt: Attempt) -> None:
        log.write(attempt)
        if not quiet:
            out(attempt_line(attempt, redactor))

    import asyncio

    async def main() -> None:
        async with HttpxSender(timeout=timeout, verify=verify) as sender:
            for plan in plans:
                await run_send(plan, sender, policy, summary, on_attempt)

    try:
        asyncio.run(main())
    finally:
        log.close()
    return summary


def finish(summary: Summary, seed: int | None, json_out: bool, extra: dict[str, object]) -> None:
    if json_out:
        print_json({"seed": seed, **extra, **summary.as_dict()})
    else:
        err(summary_line(summary, seed))
    raise typer.Exit(EXIT_OK if summary.failed == 0 else EXIT_FAILED)


def verify_option(insecure: bool, ca_cert: Path | None) -> bool | str:
    if insecure and ca_cert:
        from ..errors import UsageError

        raise UsageError("--insecure and --ca-cert contradict each other")
    return False if insecure else str(ca_cert) if ca_cert else True


@handle_errors
def send(
    event: Annotated[str, typer.Argument(help="Event: CLI name or event_type.")],
    to: To,
    count: Annotated[int, typer.Option("--count", "-n", min=1, help="How many events.")] = 1,
    rate: Annotated[
        float | None,
        typer.Option("--rate", min=0.001, help="Events per second (default: one after another)."),
    ] = None,
    headers: Headers = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    retries: Retries = DEFAULT_RETRIES,
    log_file: LogFile = None,
    json_out: Json = False,
    seed: Seed = None,
    sets: Sets = None,
    full: Full = False,
    failed: Failed = False,
    error: ErrorText = None,
    org: Org = None,
    project: Project = None,
    cube: Cube = None,
    slow_threshold: SlowThreshold = DEFAULT_SLOW_QUERY_THRESHOLD,
    clock: Clock = None,
    insecure: Insecure = False,
    ca_cert: CaCert = None,
    sign: Sign = None,
    secret: Secret = None,
    signature_header: SignatureHeader = DEFAULT_HMAC_HEADER,
    bad_signature: BadSignature = False,
    stale_timestamp: Stale = 0.0,
    duplicates: Duplicates = 0.0,
    reorder: Reorder = 0,
    drop: Drop = 0.0,
    delay: Delay = 0.0,
    jitter: Jitter = 0.0,
    malformed: Malformed = None,
    malformed_rate: MalformedRate = 1.0,
    retry_schedule: RetrySchedule = None,
    retry_time_scale: TimeScale = 1.0,
) -> None:
    """Build an event's payload and POST it as application/json.

    One line per attempt; exit 0 when every event got a 2xx, 1 when any did not,
    2 for usage errors, 130 when interrupted.

    Examples:

      atscale-mock send slow-query --to local

      atscale-mock send batch-result --failed --to http://127.0.0.1:10502/hooks

      atscale-mock send slow-query -n 100 --rate 20 --log sent.jsonl \
          --to 'http://localhost:10502/webhooks/orgId/{org_id}/envId/prod'

      atscale-mock send batch-start -n 20 --duplicates 0.2 --reorder 5 \
          --sign standard-webhooks --secret whsec_... --to local
    """
    ev = resolve_event(event)
    options, overrides, fixed = payload_inputs(
        ev,
        seeded=seed is not None,
        sets=sets,
        full=full,
        failed=failed,
        error=error,
        org=org,
        project=project,
        cube=cube,
        slow_threshold=slow_threshold,
        clock=clock,
    )
    run_seed = resolve_seed(seed)
    header_pairs = tuple(parse_header(h) for h in headers or [])
    redactor = Redactor()
    redactor.learn_headers(dict(header_pairs))
    verify = verify_option(insecure, ca_cert)
    signer = make_signer(sign, secret, signature_header, bad_signature, stale_timestamp, redactor)
    faults = make_faults(duplicates, reorder, drop, delay, jitter, malformed, malformed_rate)
    policy = make_policy(retries, retry_schedule, retry_time_scale)
    log = JsonlLog(log_file, redactor)
    with target(to, json_out) as url:
        err(f"seed: {run_seed}")
        plan = SendPlan(
            ev, url, run_seed, count, rate, options, overrides, header_pairs, fixed, faults, signer
        )
        summary = Summary()
        try:
            deliver_plans(
                [plan],
                summary,
                policy=policy,
                timeout=timeout,
                verify=verify,
                log=log,
                redactor=redactor,
                quiet=json_out,
            )
        except KeyboardInterrupt:
            err("interrupted: " + summary_line(summary, run_seed))
            raise typer.Exit(EXIT_INTERRUPTED) from None
    finish(summary, run_seed, json_out, {"event": ev.name, "url": redactor.text(to)})


@handle_errors
def demo(
    to: Annotated[
        str, typer.Option("--to", metavar="URL", help="Receiver URL, or 'local'.")
    ] = "local",
    seed: Seed = None,
    full: Full = False,
    json_out: Json = False,
) -> None:
    """Send every one of the seven events once, showing both sides (the main job of
    `make run`).

    Example: atscale-mock demo --seed 1
    """
    run_seed = resolve_seed(seed)
    fixed = resolve_clock(None, seed is not None)
    options = BuildOptions(clock=fixed or now(), full=full)
    with target(to, json_out) as url:
        err(f"seed: {run_seed}")
        plans = [
            SendPlan(e, url, run_seed + i, options=options, fixed_clock=fixed is not None)
            for i, e in enumerate(EVENTS)
        ]
        summary = deliver_plans(
            plans,
            Summary(),
            policy=RetryPolicy(),
            timeout=DEFAULT_TIMEOUT,
            verify=True,
            log=JsonlLog(None, Redactor()),
            redactor=Redactor(),
            quiet=json_out,
        )
    finish(summary, run_seed, json_out, {"events": [e.name for e in EVENTS]})
