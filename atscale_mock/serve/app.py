"""The HTTP face of ``serve``: a Starlette app with the control API under ``/_mock``
(contract in ``openapi.json``), a live stream of journal rows (server-sent events) and
the web console at ``/``. Thin: every verb is one call on :class:`ServeState`."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..errors import AtscaleMockError, ScenarioError
from . import atscale_api
from .checks import Busy, CheckStopped
from .guard import MAX_BODY, BrowserGuard
from .model import FieldError, check_options, fault_rule, subscription, trigger_options
from .params import (
    MAX_LIMIT,
    error_response,
    event_param,
    journal_query,
    json_body,
    limit_param,
    run_body,
    run_request,
)
from .state import ServeState

REPORT_ROWS = 5000  # attempts /_mock/report.html draws unless ?limit= says
STREAM_QUEUE = 1000  # rows a slow console may fall behind before it misses some
KEEPALIVE = 15.0  # seconds between SSE comments on a quiet stream


Handler = Callable[[Request], Awaitable[Response]]


def _guarded(handler: Handler) -> Handler:
    """Turn the engine's and the models' errors into clear 4xx answers."""

    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except FieldError as exc:
            return error_response(422, str(exc), exc.field)
        except ScenarioError as exc:
            return error_response(422, "scenario has problems", "scenario", problems=exc.render())
        except AtscaleMockError as exc:
            return error_response(422, exc.message, hint=exc.hint or None)
        except LookupError as exc:
            return error_response(404, str(exc.args[0]) if exc.args else "not found")

    return wrapped


def build_app(
    engine: ServeState,
    admin_token: str | None = None,
    allow_hosts: Iterable[str] = (),
    max_body: int = MAX_BODY,
) -> Starlette:
    """The ASGI app of one engine; with ``admin_token`` every ``/_mock`` call needs
    ``Authorization: Bearer <token>``. In front of it all, :class:`BrowserGuard`: Host
    checked (IP literals, localhost and ``allow_hosts``), cross-origin writes refused,
    bodies at most ``max_body`` bytes."""

    async def health(request: Request) -> Response:
        failing = engine.journal.failing
        return JSONResponse(
            {
                "status": "degraded" if failing else "ok",
                "journal_error": failing,
                "webhooks": len(engine.subs),
                "in_flight": engine.in_flight(),
                "journal": str(engine.journal.path),
                "attempts": await asyncio.to_thread(engine.journal.count),
                "journal_errors": engine.journal.errors,
            },
            503 if failing else 200,
        )

    async def list_webhooks(request: Request) -> Response:
        return JSONResponse({"webhooks": [s.public() for s in engine.subs.values()]})

    async def add_webhook(request: Request) -> Response:
        sub = engine.subscribe(subscription(json_body(await request.body())))
        return JSONResponse({"id": sub.id, "webhook": sub.public()}, 201)

    async def delete_webhook(request: Request) -> Response:
        if not engine.unsubscribe(request.path_params["id"]):
            raise LookupError(f"no webhook {request.path_params['id']!r}")
        return Response(status_code=204)

    async def trigger(request: Request) -> Response:
        options = trigger_options(json_body(await request.body()))
        ids = engine.trigger(request.path_params["event"], options)
        return JSONResponse({"deliveries": ids}, 202)

    async def batch(request: Request) -> Response:
        body = json_body(await request.body()) or {}
        prune = body.pop("prune", False) if isinstance(body, dict) else False
        if not isinstance(prune, bool):
            raise FieldError("prune", "expected true or false")
        stages = engine.lifecycle(trigger_options(body), prune)
        ids = [i for stage in stages.values() for i in stage]
        return JSONResponse({"deliveries": ids, "stages": stages}, 202)

    async def start_scenario(request: Request) -> Response:
        kind = request.headers.get("content-type", "")
        raw = await request.body()
        body = run_body(kind, raw, dict(request.query_params))
        run = await engine.start_run(**run_request(body, engine.scenarios))
        return JSONResponse(run.public(), 202)

    async def list_runs(request: Request) -> Response:
        return JSONResponse(
            {
                "runs": [r.public() for r in engine.runs.values()],
                "available": sorted(engine.scenarios),
            }
        )

    async def get_run(request: Request) -> Response:
        run = engine.runs.get(request.path_params["id"])
        if run is None:
            raise LookupError(f"no run {request.path_params['id']!r}")
        return JSONResponse(run.public())

    async def stop_run(request: Request) -> Response:
        if request.path_params["id"] not in engine.runs:
            raise LookupError(f"no run {request.path_params['id']!r}")
        run = await engine.stop_run(request.path_params["id"])
        return JSONResponse(run.public())

    async def deliveries(request: Request) -> Response:
        query = journal_query(request.query_params)
        rows = await asyncio.to_thread(engine.journal.query, **query)
        return JSONResponse({"deliveries": rows})

    async def report(request: Request) -> Response:
        from .report import journal_report

        q = request.query_params
        limit = limit_param(q.get("limit") or str(REPORT_ROWS))
        rows = await asyncio.to_thread(
            engine.journal.query,
            event=event_param(q.get("event")),
            run_id=q.get("run_id") or None,
            limit=limit,
        )
        total = await asyncio.to_thread(engine.journal.count)
        page = journal_report(rows, MAX_LIMIT, total)
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    async def export(request: Request) -> Response:
        async def lines() -> AsyncIterator[bytes]:
            pages = engine.journal.pages()
            while True:
                page = await asyncio.to_thread(next, pages, None)
                if page is None:
                    return
                yield "".join(line + "\n" for line in page).encode()

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    async def replay(request: Request) -> Response:
        new = engine.replay(request.path_params["id"])
        return JSONResponse({"deliveries": [new]}, 202)

    async def stream(request: Request) -> Response:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(STREAM_QUEUE)
        engine.listeners.add(queue)

        async def events() -> AsyncIterator[bytes]:
            try:
                yield b": connected\n\n"
                while True:
                    try:
                        row = await asyncio.wait_for(queue.get(), KEEPALIVE)
                    except TimeoutError:
                        yield b": keep-alive\n\n"
                        continue
                    data = json.dumps(row, ensure_ascii=False)
                    yield f"id: {row['seq']}\nevent: attempt\ndata: {data}\n\n".encode()
            finally:
                engine.listeners.discard(queue)

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def add_fault(request: Request) -> Response:
        rule = fault_rule(json_body(await request.body()), set(engine.subs))
        engine.faults[rule.id] = rule
        return JSONResponse(rule.public(), 201)

    async def list_faults(request: Request) -> Response:
        return JSONResponse({"faults": [f.public() for f in engine.faults.values()]})

    async def clear_faults(request: Request) -> Response:
        engine.faults.clear()
        return Response(status_code=204)

    async def delete_fault(request: Request) -> Response:
        if engine.faults.pop(request.path_params["id"], None) is None:
            raise LookupError(f"no fault {request.path_params['id']!r}")
        return Response(status_code=204)

    async def run_check(request: Request) -> Response:
        options = check_options(json_body(await request.body()))
        options.setdefault("atscale_version", engine.atscale_version)  # serve's, by default
        try:  # on a thread of its own; stopped when this client hangs up
            card = await engine.checks.run(options, request.is_disconnected)
        except Busy as exc:
            return error_response(429, str(exc))
        except CheckStopped as exc:
            return error_response(503, str(exc))
        return JSONResponse(card.to_json())

    async def reset(request: Request) -> Response:
        await engine.reset()
        return Response(status_code=204)

    async def events_catalogue(request: Request) -> Response:
        return JSONResponse(
            {
                "atscale_version": engine.catalogue.version,
                "events": [
                    {"name": e.name, "event_type": e.event_type, "title": e.title}
                    for e in engine.catalogue.events
                ],
            }
        )

    async def openapi(request: Request) -> Response:
        return Response(openapi_text(), media_type="application/json")

    async def console(request: Request) -> Response:
        from .console import PAGE

        return HTMLResponse(PAGE, headers={"Cache-Control": "no-store"})

    g = _guarded
    routes = [
        Route("/", console, methods=["GET"]),
        Route("/_mock/health", g(health), methods=["GET"]),
        Route("/_mock/openapi.json", g(openapi), methods=["GET"]),
        Route("/_mock/events", g(events_catalogue), methods=["GET"]),
        Route("/_mock/webhooks", g(list_webhooks), methods=["GET"]),
        Route("/_mock/webhooks", g(add_webhook), methods=["POST"]),
        Route("/_mock/webhooks/{id}", g(delete_webhook), methods=["DELETE"]),
        Route("/_mock/events/{event}", g(trigger), methods=["POST"]),
        Route("/_mock/lifecycles/batch", g(batch), methods=["POST"]),
        Route("/_mock/scenarios", g(list_runs), methods=["GET"]),
        Route("/_mock/scenarios", g(start_scenario), methods=["POST"]),
        Route("/_mock/scenarios/{id}", g(get_run), methods=["GET"]),
        Route("/_mock/scenarios/{id}", g(stop_run), methods=["DELETE"]),
        Route("/_mock/deliveries", g(deliveries), methods=["GET"]),
        Route("/_mock/deliveries.jsonl", g(export), methods=["GET"]),
        Route("/_mock/report.html", g(report), methods=["GET"]),
        Route("/_mock/deliveries/{id}/replay", g(replay), methods=["POST"]),
        Route("/_mock/stream", g(stream), methods=["GET"]),
        Route("/_mock/checks", g(run_check), methods=["POST"]),
        Route("/_mock/faults", g(list_faults), methods=["GET"]),
        Route("/_mock/faults", g(add_fault), methods=["POST"]),
        Route("/_mock/faults", g(clear_faults), methods=["DELETE"]),
        Route("/_mock/faults/{id}", g(delete_fault), methods=["DELETE"]),
        Route("/_mock/reset", g(reset), methods=["POST"]),
        *atscale_api.routes(engine, admin_token),  # AtScale's own webhook API
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await engine.close()  # in-flight attempts journaled as interrupted

    app = Starlette(routes=routes, lifespan=lifespan)
    if admin_token:
        app.add_middleware(_TokenGuard, token=admin_token)
    app.add_middleware(BrowserGuard, allow_hosts=tuple(allow_hosts), max_body=max_body)
    return app


class _TokenGuard:
    """Every ``/_mock`` call needs ``Authorization: Bearer <token>`` (the console page
    itself loads without it and asks for the token). A health check without the token
    gets ``{"status": "ok"}`` and nothing else, so compose and load balancers need no
    secret."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/_mock"):
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                if scope["path"] == "/_mock/health":
                    await JSONResponse({"status": "ok"})(scope, receive, send)
                    return
                response = error_response(
                    401, "this server needs Authorization: Bearer <admin token>"
                )
                response.headers["WWW-Authenticate"] = "Bearer"
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def openapi_text() -> str:
    return resources.files(__package__).joinpath("openapi.json").read_text(encoding="utf-8")
