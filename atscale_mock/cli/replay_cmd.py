"""replay: re-send recorded deliveries byte for byte."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from ..config import DEFAULT_TIMEOUT
from ..delivery import Attempt, RetryPolicy
from ..redact import Redactor
from ..stats import Summary
from .common import EXIT_INTERRUPTED, err, handle_errors, out
from .options import Json
from .send_cmd import CaCert, Insecure, LogFile, Retries, Timeout, finish, target, verify_option


@handle_errors
def replay(
    file: Annotated[Path, typer.Argument(help="A --log file or a receive --record file.")],
    to: Annotated[str, typer.Option("--to", metavar="URL", help="Receiver URL, or 'local'.")],
    only_failed: Annotated[
        bool, typer.Option("--only-failed", help="Only deliveries whose last attempt got no 2xx.")
    ] = False,
    keep_timing: Annotated[
        bool, typer.Option("--keep-timing", help="Keep the original gaps between deliveries.")
    ] = False,
    timeout: Timeout = DEFAULT_TIMEOUT,
    retries: Retries = 0,
    log_file: LogFile = None,
    json_out: Json = False,
    insecure: Insecure = False,
    ca_cert: CaCert = None,
) -> None:
    """Re-send recorded deliveries in order, byte for byte (bodies and the headers that
    were not redacted). Exit 0 when every one got a 2xx, 1 otherwise.

    Examples:

      atscale-mock replay sent.jsonl --to http://127.0.0.1:8080/hooks --only-failed

      atscale-mock replay got.jsonl --to local --keep-timing
    """
    import asyncio

    from ..delivery import deliver
    from ..log import JsonlLog
    from ..replay import load_recording
    from ..reporters import attempt_line
    from ..sender import HttpxSender, Request

    recorded, warnings = load_recording(file)
    for warning in warnings:
        err(f"warning: {warning}")
    if only_failed:
        recorded = [r for r in recorded if not r.ok]
    redactor = Redactor()
    log = JsonlLog(log_file, redactor)
    summary = Summary()
    verify = verify_option(insecure, ca_cert)

    def on_attempt(attempt: Attempt) -> None:
        log.write(attempt)
        if not json_out:
            out(attempt_line(attempt, redactor))

    with target(to, json_out) as url:
        err(f"replaying {len(recorded)} deliveries from {file}")

        async def main() -> None:
            start, first = time.monotonic(), recorded[0].time if recorded else 0.0
            async with HttpxSender(timeout=timeout, verify=verify) as sender:
                for i, r in enumerate(recorded):
                    if keep_timing:
                        wait = start + (r.time - first) - time.monotonic()
                        if wait > 0:
                            await asyncio.sleep(wait)
                    request = Request(r.event, url, r.body, r.headers, ("replayed",))
                    summary.add(
                        await deliver(
                            sender,
                            request,
                            RetryPolicy(retries),
                            label=r.label or str(i + 1),
                            on_attempt=on_attempt,
                        )
                    )

        try:
            asyncio.run(main())
        except KeyboardInterrupt:
            log.close()
            err("interrupted")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        log.close()
    finish(summary, None, json_out, {"file": str(file), "replayed": len(recorded)})
