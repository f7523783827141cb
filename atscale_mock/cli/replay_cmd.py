"""replay: re-send recorded deliveries byte for byte, optionally signed afresh."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..config import DEFAULT_TIMEOUT
from ..delivery.faults import Faults
from ..delivery.signing import Signing
from ..redact import Redactor
from .common import check_max_time, err, handle_errors, sigterm_as_interrupt
from .delivery_opts import (
    learn_secret,
)
from .option_groups import NO_FAULTS, fault_options, signing_options
from .options import Json, MaxTime, Quiet, Seed
from .send_cmd import (
    CaCert,
    Headers,
    Insecure,
    LogFile,
    Retries,
    Timeout,
    attempt_printer,
    finish,
    receiver_hooks,
    verify_option,
)


@handle_errors
@fault_options
@signing_options
def replay(
    file: Annotated[Path, typer.Argument(help="A --log file or a receive --record file.")],
    to: Annotated[str, typer.Option("--to", metavar="URL", help="Receiver URL, or 'local'.")],
    only_failed: Annotated[
        bool, typer.Option("--only-failed", help="Only deliveries whose last attempt got no 2xx.")
    ] = False,
    keep_timing: Annotated[
        bool, typer.Option("--keep-timing", help="Keep the original gaps between deliveries.")
    ] = False,
    headers: Headers = None,
    new_ids: Annotated[
        bool,
        typer.Option(
            "--new-ids", help="With --sign: new webhook-id values (default: keep the recorded)."
        ),
    ] = False,
    timeout: Timeout = DEFAULT_TIMEOUT,
    retries: Retries = 0,
    seed: Seed = None,
    log_file: LogFile = None,
    json_out: Json = False,
    quiet: Quiet = False,
    insecure: Insecure = False,
    ca_cert: CaCert = None,
    max_time: MaxTime = None,
    signing: Signing | None = None,
    faults: Faults = NO_FAULTS,
) -> None:
    """Re-send recorded deliveries in order, byte for byte (bodies and the headers that
    were not redacted). --sign signs each again (a fresh timestamp; the recorded
    webhook-id unless --new-ids). Exit 0 when every one got a 2xx, 1 otherwise,
    130 when interrupted (Ctrl-C or SIGTERM).

    Examples:

      atscale-mock replay sent.jsonl --to http://127.0.0.1:8080/hooks --only-failed

      atscale-mock replay got.jsonl --to local --keep-timing

      atscale-mock replay sent.jsonl --to http://127.0.0.1:8080/hooks --duplicates 0.5 --seed 7

      atscale-mock replay sent.jsonl --to http://127.0.0.1:8080/hooks \\
          --sign standard-webhooks --secret "$SECRET" -H 'Authorization: Bearer T'
    """
    from ..api.replay import replay as replay_file
    from ..delivery.request import check_url, parse_header
    from ..report.log import JsonlLog

    if to.strip().lower() != "local":
        check_url(to, "--to")
    header_pairs = tuple(parse_header(h, "--header") for h in headers or [])
    redactor = Redactor()
    redactor.learn_headers(dict(header_pairs))
    learn_secret(redactor, signing)
    if new_ids and signing is None:
        from ..errors import UsageError

        raise UsageError("--new-ids needs --sign MODE (ids are a signature's part)")
    on_received, on_local = receiver_hooks(json_out or quiet)
    check_max_time(max_time)
    with JsonlLog(log_file, redactor) as log, sigterm_as_interrupt(max_time):
        result = replay_file(
            file,
            to=to,
            only_failed=only_failed,
            keep_timing=keep_timing,
            headers=header_pairs,
            sign=signing,
            new_ids=new_ids,
            retries=retries,
            faults=faults,
            seed=seed,
            timeout=timeout,
            verify=verify_option(insecure, ca_cert),
            on_attempt=attempt_printer(log, redactor, json_out, failures_only=quiet),
            on_received=on_received,
            on_local=lambda url: (on_local(url), None)[1],
            on_warning=lambda text: err(f"warning: {text}"),
            keep_records=False,
        )
    err(f"replayed {result.extra['replayed']} deliveries from {file}")
    finish(result, json_out, log)
