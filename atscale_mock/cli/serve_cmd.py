"""``serve`` (a long-lived mock engine) and ``trigger`` (fire an event on a running one,
so CI scripts need no curl)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer

from ..config import DEFAULT_JOURNAL_MAX_ROWS
from ..config import install_hint as _install_hint
from ..errors import UsageError
from ..events.payload import PayloadOptions
from .common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    as_flag,
    err,
    handle_errors,
    out,
    print_json,
    sigterm_as_interrupt,
)
from .option_groups import NO_PAYLOAD_OPTIONS, payload_options
from .options import (
    POSITIVE_DURATION,
    AtscaleVersion,
    EventArg,
    Json,
    Seed,
)

AdminToken = Annotated[
    str | None,
    typer.Option(
        "--admin-token",
        envvar="ATSCALE_MOCK_ADMIN_TOKEN",
        metavar="TOKEN",
        help="Every /_mock call needs 'Authorization: Bearer TOKEN' (required off loopback). "
        "Env: ATSCALE_MOCK_ADMIN_TOKEN.",
        show_envvar=False,
    ),
]
Server = Annotated[
    str,
    typer.Option(
        "--server",
        envvar="ATSCALE_MOCK_SERVER",
        metavar="URL",
        help="The running `atscale-mock serve` (env: ATSCALE_MOCK_SERVER).",
        show_envvar=False,
    ),
]


@handle_errors
def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to bind (loopback by default).")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port; 0 picks a free one.")
    ] = 10600,
    journal: Annotated[
        Path | None,
        typer.Option(
            "--journal",
            metavar="FILE",
            help="SQLite file of every attempt, kept across restarts (default: a new "
            "temporary file).",
        ),
    ] = None,
    admin_token: AdminToken = None,
    scenarios: Annotated[
        list[Path] | None,
        typer.Option(
            "--scenario",
            metavar="FILE",
            help="A scenario file runs can start by name (its file name without .yaml). "
            "Repeatable.",
        ),
    ] = None,
    insecure: Annotated[
        bool, typer.Option("--insecure", help="Do not verify receivers' TLS certificates.")
    ] = False,
    allow_hosts: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host",
            metavar="NAME",
            help="A host name requests may use besides IP addresses and localhost (the "
            "Host header is checked against DNS rebinding). Repeatable.",
        ),
    ] = None,
    journal_max_rows: Annotated[
        int,
        typer.Option(
            "--journal-max-rows",
            min=1,
            metavar="N",
            help="Rows the journal keeps; the oldest go first.",
        ),
    ] = DEFAULT_JOURNAL_MAX_ROWS,
    deliver_to: Annotated[
        list[str] | None,
        typer.Option(
            "--deliver-to",
            metavar="HOST",
            help="Deliver only to this host (a name, an IP address or a CIDR range such as "
            "10.0.0.0/8). Repeatable. Default: any host but serve itself.",
        ),
    ] = None,
    scenario_env: Annotated[
        list[str] | None,
        typer.Option(
            "--scenario-env",
            metavar="NAME",
            help="An environment variable a posted scenario's ${env:NAME} or "
            "${secret:NAME} may read (none by default). Repeatable.",
        ),
    ] = None,
    atscale_version: AtscaleVersion = None,
) -> None:
    """Run a mock AtScale engine: subscribe receivers, fire events, run scenarios and
    read the delivery journal over HTTP (/_mock/..., OpenAPI at /_mock/openapi.json),
    with a live web console at /.

    Examples:

      atscale-mock serve

      atscale-mock serve --journal engine.sqlite3 --scenario scenarios/engine-day.yaml

      atscale-mock serve --host 0.0.0.0 --admin-token "$TOKEN"   # off loopback

      atscale-mock serve --allow-host mock-engine   # reached as http://mock-engine:10600

    Browsers cannot drive it from other sites: /_mock writes need a JSON (or YAML)
    body and no foreign Origin; a Host that is not an IP address, localhost or an
    --allow-host name is refused (421).

    Serve never delivers to itself: a subscription naming its own port is refused, and
    a delivery that reaches any serve's control API gets 508 (no amplification loop).
    A scenario posted over HTTP cannot read serve's environment unless --scenario-env
    names the variable; the --scenario files serve was started with can.

    Stops on Ctrl-C or SIGTERM (exit 130): deliveries in flight are journaled as
    interrupted. Needs the serve extra (Starlette and uvicorn).
    """
    try:
        from ..serve import serve as run_server
    except ImportError:  # pragma: no cover - depends on the install
        raise UsageError("serve needs Starlette and uvicorn", _install_hint("serve")) from None

    def ready(url: str, journal_path: Path) -> None:
        err(f"mock engine on {url} (console {url}/, API {url}/_mock); journal {journal_path}")
        err("Ctrl-C to stop")

    try:
        with sigterm_as_interrupt():
            run_server(
                host=host,
                port=port,
                journal=journal,
                admin_token=admin_token,
                scenarios=list(scenarios or []),
                verify=not insecure,
                allow_hosts=tuple(allow_hosts or ()),
                journal_max_rows=journal_max_rows,
                deliver_to=tuple(deliver_to or ()),
                scenario_env=tuple(scenario_env or ()),
                atscale_version=atscale_version,
                on_ready=ready,
                on_error=lambda text: err(f"warning: {text}"),
            )
    except UsageError as exc:  # the engine's keyword, said as this command's option
        raise as_flag(exc, {"scenarios": "--scenario"}) from None
    except KeyboardInterrupt:
        err("stopped; deliveries in flight were journaled as interrupted")
        raise typer.Exit(EXIT_INTERRUPTED) from None


@handle_errors
@payload_options
def trigger(
    event: EventArg,
    server: Server = "http://127.0.0.1:10600",
    admin_token: AdminToken = None,
    seed: Seed = None,
    wait: Annotated[
        float | None,
        typer.Option(
            "--wait",
            metavar="DURATION",
            parser=POSITIVE_DURATION,
            help="Wait up to this long for the deliveries to finish; exit 1 unless every "
            "one ended in a 2xx.",
        ),
    ] = None,
    json_out: Json = False,
    payload_options: PayloadOptions = NO_PAYLOAD_OPTIONS,
) -> None:
    """Fire one event on a running `atscale-mock serve`: it delivers the event to every
    subscription that wants it. Prints the delivery ids.

    Examples:

      atscale-mock trigger slow-query --server http://127.0.0.1:10600

      atscale-mock trigger batch-result --failed --set context.project_id=p1 --wait 10

    Exit codes: 0 triggered (with --wait: all delivered with a 2xx), 1 no subscription
    wanted the event (nothing was sent), a delivery failed or --wait ran out, 2 usage
    error or the server refused the request.
    """
    from ..serve.model import Trigger

    body = Trigger(seed, payload_options).body()
    from ..events.payload import resolve_event

    event = resolve_event(event).name  # an unknown name (or '../reset') never leaves here
    client = _Client(server, admin_token)
    ids: list[str] = client.field(
        client.call("POST", f"/_mock/events/{quote(event, safe='')}", body), "deliveries", list
    )
    result: dict[str, Any] = {"event": event, "deliveries": ids}
    code = 0 if ids else EXIT_FAILED  # nothing sent is not a success
    if wait is not None:
        try:
            with sigterm_as_interrupt():
                finals, done = client.wait_for(ids, wait)
        except KeyboardInterrupt:
            err("interrupted")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        result["results"] = finals
        result["finished"] = done
        good = all(r["status"] is not None and 200 <= r["status"] < 300 for r in finals)
        code = 0 if ids and done and good else EXIT_FAILED
    if json_out:
        print_json(result)
    else:
        if not ids:
            err(
                f"no subscription wants {event}; nothing was sent "
                '(subscribe a receiver first: POST /_mock/webhooks {"url": ...})'
            )
        for delivery in result.get("results") or [{"id": i} for i in ids]:
            line = delivery["id"]
            if "status" in delivery:
                line += (
                    f"  {delivery['webhook_id']}  {delivery['status'] or delivery['error_class']}"
                )
                line += f"  attempt {delivery['attempt']}"
            out(line)
        if wait is not None and not result["finished"]:
            err(f"not finished after {wait:g}s")
    raise typer.Exit(code)


class _Client:
    """A few calls to the control API, with errors the user can act on."""

    def __init__(self, server: str, token: str | None) -> None:
        from ..delivery.request import check_url

        if server.strip().lower() == "local":
            raise UsageError(
                "--server: 'local' is the built-in receiver, not a running mock engine",
                "start one with `atscale-mock serve` and give its URL: "
                "--server http://127.0.0.1:10600 (the default)",
                field="server",
            )
        try:
            self.base = check_url(server, "--server").rstrip("/")
        except UsageError as exc:
            raise UsageError(
                exc.message,
                "the URL of a running `atscale-mock serve`, such as http://127.0.0.1:10600",
                field="server",
            ) from None
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, body: Any = None) -> Any:
        import httpx

        try:
            response = httpx.request(
                method, self.base + path, json=body, headers=self.headers, timeout=30
            )
        except httpx.HTTPError as exc:
            raise UsageError(
                f"cannot reach the mock engine at {self.base}: {exc.__class__.__name__}",
                "start it with `atscale-mock serve`, or give --server",
            ) from None
        if response.status_code == 401:
            raise UsageError("the mock engine wants an admin token", "give --admin-token")
        if response.status_code >= 400:
            try:
                data = response.json()
                text = data.get("error") or response.text
                hint = data.get("hint") or data.get("problems") or ""
            except (json.JSONDecodeError, AttributeError):
                text, hint = response.text[:200], ""
            raise UsageError(f"{self.base}: {text}", hint)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise self.not_serve() from None

    def not_serve(self) -> UsageError:
        return UsageError(
            f"{self.base} does not answer like atscale-mock serve",
            "give --server the URL `atscale-mock serve` printed (default port 10600)",
        )

    def field(self, answer: Any, key: str, kind: type) -> Any:
        """``answer[key]`` when the answer is an object holding a ``kind`` there."""
        if not isinstance(answer, dict) or not isinstance(answer.get(key), kind):
            raise self.not_serve()
        return answer[key]

    def wait_for(self, ids: list[str], seconds: float) -> tuple[list[dict[str, Any]], bool]:
        """The last attempt of each delivery once the engine has none in flight (or the
        time is up), and whether it finished."""
        deadline = time.monotonic() + seconds
        while True:
            in_flight = self.field(self.call("GET", "/_mock/health"), "in_flight", int)
            finals = [self._last(i) for i in ids]
            done = in_flight == 0 and all(f is not None for f in finals)
            if done or time.monotonic() >= deadline:
                return [f for f in finals if f is not None], done
            time.sleep(0.1)

    def _last(self, delivery_id: str) -> dict[str, Any] | None:
        answer = self.call("GET", f"/_mock/deliveries?id={quote(str(delivery_id))}&limit=1")
        rows = self.field(answer, "deliveries", list)
        if not rows or not isinstance(rows[-1], dict):
            return None
        row: dict[str, Any] = rows[-1]
        row.pop("payload", None)
        return row
