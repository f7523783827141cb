"""receive: the built-in receiver, in the foreground."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Annotated

import typer

from ..config import DEFAULT_RECEIVER_HOST, DEFAULT_RECEIVER_PORT
from ..errors import UsageError

if TYPE_CHECKING:
    from ..receiver import Received
from .common import EXIT_INTERRUPTED, err, handle_errors, out


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
            "--duration", min=0.001, metavar="SECONDS", help="Stop after this long (exit 0)."
        ),
    ] = None,
) -> None:
    """Run the built-in receiver: accept POSTs on any path, print each event (event_type,
    id, path, whether it matches the catalogue's schema), answer --status. Ctrl-C stops it
    (exit 130).

    Example: atscale-mock receive --port 10502 --status 200
    """
    from ..receiver import Receiver
    from ..reporters import received_line

    done = threading.Event()
    counts = {"valid": 0, "invalid": 0}

    def on_request(got: Received) -> None:
        counts["valid" if got.valid else "invalid"] += 1
        out(received_line(got))
        if max_events and sum(counts.values()) >= max_events:
            done.set()

    try:
        receiver = Receiver(host, port, status, on_request)
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror}",
            "choose another --port, or 0 for a free one",
        ) from exc
    receiver.start()
    err(f"listening on {receiver.url} (answering {status}); Ctrl-C to stop")
    deadline = time.monotonic() + duration if duration else None
    try:
        while not done.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                break
            done.wait(0.1)
    except KeyboardInterrupt:
        receiver.stop()
        err(f"stopped: {counts['valid']} valid, {counts['invalid']} invalid")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    receiver.stop()
    err(f"stopped: {counts['valid']} valid, {counts['invalid']} invalid")
