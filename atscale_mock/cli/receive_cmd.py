"""receive: the built-in receiver, in the foreground."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer

from ..config import DEFAULT_RECEIVER_HOST, DEFAULT_RECEIVER_PORT
from ..errors import UsageError
from .common import EXIT_INTERRUPTED, err, handle_errors, out, print_json, sigterm_as_interrupt
from .delivery_opts import Secret
from .options import DURATION, POSITIVE_DURATION, AtscaleVersion, Json

if TYPE_CHECKING:
    from ..receiver.local import Received, Receiver


def _stop_line(receiver: Receiver, counts: dict[str, int]) -> str:
    t = receiver.tracker.summary()
    signatures = ""
    if receiver.behaviour.secret:
        signatures = (
            f"signatures: {counts['signature valid']} valid, "
            f"{counts['signature invalid']} invalid, {counts['signature unsigned']} unsigned; "
        )
    refused = receiver.refused
    extra = ""
    if refused:
        extra += "; refused or closed: " + ", ".join(f"{k} {v}" for k, v in sorted(refused.items()))
    if receiver.forwarded:
        extra += "; forwarded, answered: " + ", ".join(
            f"{k} {v}" for k, v in sorted(receiver.forwarded.items())
        )
    if receiver.record_errors:
        extra += f"; {receiver.record_errors} requests not written to --record (disk full?)"
    return (
        f"stopped: {counts['valid']} valid, {counts['invalid']} invalid (schema); "
        + signatures
        + f"{t['duplicates']} duplicates, {t['out_of_order']} out of order, "
        f"{t['results_without_start']} batch results whose start never came" + extra
    )


@handle_errors
def receive(
    host: Annotated[
        str, typer.Option("--host", help="Address to bind (loopback by default).")
    ] = DEFAULT_RECEIVER_HOST,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port; 0 picks a free one.")
    ] = DEFAULT_RECEIVER_PORT,
    status: Annotated[
        int, typer.Option("--status", min=100, max=599, help="Status code to answer.")
    ] = 200,
    max_events: Annotated[
        int | None,
        typer.Option("--max-events", min=1, help="Stop after this many requests (exit 0)."),
    ] = None,
    duration: Annotated[
        float | None,
        typer.Option(
            "--duration",
            metavar="DURATION",
            parser=POSITIVE_DURATION,
            help="Stop after this long (exit 0).",
        ),
    ] = None,
    record: Annotated[
        Path | None,
        typer.Option(
            "--record",
            metavar="FILE",
            help="Append every request as a JSON line (replayable with `replay`).",
        ),
    ] = None,
    secret: Secret = None,
    signature_header: Annotated[
        str,
        typer.Option(
            "--signature-header", metavar="NAME", help="Header of hmac-sha256 signatures."
        ),
    ] = "X-Signature",
    fail_rate: Annotated[
        float,
        typer.Option(
            "--fail-rate",
            min=0.0,
            max=1.0,
            metavar="RATE",
            help="Answer 500 to this share of requests, at random.",
        ),
    ] = 0.0,
    delay: Annotated[
        float,
        typer.Option(
            "--delay",
            metavar="DURATION",
            parser=DURATION,
            help="Wait this long before answering.",
        ),
    ] = 0.0,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for --fail-rate.")] = None,
    accept_invalid: Annotated[
        bool,
        typer.Option(
            "--accept-invalid",
            help="With --secret: answer --status to bad, stale and missing signatures too "
            "(by default they get 401, as a verifying receiver answers).",
        ),
    ] = False,
    forward_to: Annotated[
        str | None,
        typer.Option(
            "--forward-to",
            metavar="URL",
            help="Proxy mode: forward every request to URL (body and headers as they came) "
            "and answer the sender with what URL answered (502 when it does not answer).",
        ),
    ] = None,
    forward_timeout: Annotated[
        float,
        typer.Option(
            "--forward-timeout",
            metavar="DURATION",
            parser=POSITIVE_DURATION,
            help="With --forward-to: how long the receiver may take to answer.",
        ),
    ] = 10.0,
    resign: Annotated[
        str | None,
        typer.Option(
            "--resign",
            metavar="SECRET",
            help="With --forward-to: replace each request's signature by one made with this "
            "key (whsec_...: standard-webhooks, keeping webhook-id and -timestamp; else "
            "hmac-sha256 in --signature-header). Never printed.",
        ),
    ] = None,
    atscale_version: AtscaleVersion = None,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Exit 1 at the end when the spec drift report found drift."),
    ] = False,
    json_out: Json = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="Print only requests that fail a check (schema, signature), then the summary.",
        ),
    ] = False,
) -> None:
    """Run the built-in receiver: accept POSTs on any path, print each event (event_type,
    id, path, whether it matches the catalogue's schema, its signature with --secret,
    duplicates and batch results that came before their start), answer --status. With
    --secret, bad, stale and missing signatures get 401 (unless --accept-invalid).
    Ctrl-C stops it (exit 130); --max-events or --duration end it with 0.

    With --forward-to it sits between a real engine and your receiver: each request is
    checked, recorded and forwarded, your receiver's answer goes back to the engine, and
    each line shows both legs. At the end (every mode) a spec drift report says where the
    payloads differed from the documented catalogue; --strict exits 1 when they did.

    Examples:

      atscale-mock receive --port 10502 --status 200

      atscale-mock receive --secret "$SECRET" --record got.jsonl --fail-rate 0.1 --delay 0.2

      atscale-mock receive --port 10502 --forward-to http://127.0.0.1:8000/hooks --record got.jsonl
    """
    from ..receiver.forward import Forward, resign_scheme
    from ..receiver.local import Behaviour, Receiver
    from ..report.text import received_line

    for name, value in (("--duration", duration), ("--delay", delay)):
        if value is not None and not 0 <= value < 1e7:
            raise UsageError(f"{name} must be a finite number of seconds, got {value}")
    forward: Forward | None = None
    if forward_to is not None:
        answering = [
            name
            for name, given in (
                ("--status", status != 200),
                ("--fail-rate", fail_rate > 0),
                ("--delay", delay > 0),
                ("--accept-invalid", accept_invalid),
            )
            if given
        ]
        if answering:
            raise UsageError(
                f"{', '.join(answering)} cannot be used with --forward-to",
                "with --forward-to your receiver answers; those options answer instead of it",
            )
        signing = resign_scheme(resign, signature_header) if resign else None
        forward = Forward(forward_to, forward_timeout, signing)
    elif resign is not None:
        raise UsageError("--resign needs --forward-to", "it signs what is forwarded")
    done = threading.Event()
    counts = dict.fromkeys(
        ("valid", "invalid", "signature valid", "signature invalid", "signature unsigned"), 0
    )

    warned: list[bool] = []

    def on_request(got: Received) -> None:
        if receiver.record_errors and not warned:
            warned.append(True)
            err(f"warning: cannot write to {record} (disk full?); still answering")
        counts["valid" if got.valid else "invalid"] += 1
        verdict = got.signature.partition(":")[0] if got.signature is not None else None
        if verdict is not None:
            counts["signature " + verdict] += 1
        if quiet and got.valid and verdict in (None, "valid"):
            pass  # -q: only requests that fail a check are printed
        elif json_out:
            import json

            from ..receiver.local import record_line

            out(
                json.dumps(
                    {
                        k: v
                        for k, v in record_line(got).items()
                        if k not in ("body", "body_b64", "headers")
                    }
                )
            )
        else:
            out(received_line(got))
        if max_events and counts["valid"] + counts["invalid"] >= max_events:
            done.set()

    record_file: IO[str] | None = None
    if record is not None:
        try:
            record_file = record.open("a", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {record}: {exc.strerror}") from exc
    behaviour = Behaviour(
        status,
        fail_rate,
        delay,
        secret,
        signature_header,
        record_file,
        seed,
        accept_invalid,
        forward,
        atscale_version,
    )
    try:
        receiver = Receiver(host, port, on_request=on_request, behaviour=behaviour)
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror}",
            "choose another --port, or 0 for a free one",
        ) from exc
    deadline = time.monotonic() + duration if duration else None
    try:
        with sigterm_as_interrupt():  # from the first request on, a signal ends it cleanly
            receiver.start()
            mode = f"forwarding to {forward_to}" if forward_to else f"answering {status}"
            err(f"listening on {receiver.url} ({mode}); Ctrl-C to stop")
            _wait(done, deadline)
    except KeyboardInterrupt:
        _close(receiver, record_file)
        _report(receiver, counts, json_out)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    _close(receiver, record_file)
    _report(receiver, counts, json_out)
    if strict and receiver.drift.drifted:
        raise typer.Exit(1)


def _report(receiver: Receiver, counts: dict[str, int], json_out: bool) -> None:
    err(_stop_line(receiver, counts))
    for line in receiver.drift.lines():
        err(line)
    if json_out:
        print_json(
            {
                **counts,
                **receiver.tracker.summary(),
                "refused": receiver.refused,
                "record_errors": receiver.record_errors,
                "forwarded": receiver.forwarded,
                "drift": receiver.drift.to_json(),
            }
        )


def _wait(done: threading.Event, deadline: float | None) -> None:
    while not done.is_set():
        if deadline is not None and time.monotonic() >= deadline:
            return
        done.wait(0.1)


def _close(receiver: Any, record_file: IO[str] | None) -> None:
    receiver.stop()
    if record_file is not None:
        with contextlib.suppress(OSError):  # what a full disk left: already counted
            record_file.close()
