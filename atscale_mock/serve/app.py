"""The HTTP face of ``serve``: a Starlette app with the control API under ``/_mock``
(contract in ``openapi.json``), a live stream of journal rows (server-sent events) and
the web console at ``/``. Thin: every verb is one call on :class:`MockEngine`."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import datetime
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..errors import AtscaleMockError, ScenarioError
from .engine import MockEngine
from .guard import MAX_BODY, BrowserGuard
from .journal import status_clause
from .model import FieldError, check_options, fault_rule, subscription, trigger_options

MAX_LIMIT = 10_000
REPORT_ROWS = 5000  # attempts /_mock/report.html draws unless ?limit= says
STREAM_QUEUE = 1000  # rows a slow console may fall behind before it misses some
KEEPALIVE = 15.0  # seconds between SSE comments on a quiet stream


def _error(status: int, message: str, field: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"error": message, **extra}
    if field is not None:
        body["field"] = field
    return JSONResponse(body, status)


async def _json(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise FieldError("body", f"not JSON: {exc}") from None
    except RecursionError:
        raise FieldError("body", "JSON nested too deeply") from None


Handler = Callable[[Request], Awaitable[Response]]


def _guarded(handler: Handler) -> Handler:
    """Turn the engine's and the models' errors into clear 4xx answers."""

    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except FieldError as exc:
            return _error(422, str(exc), exc.field)
        except ScenarioError as exc:
            return _error(422, "scenario has problems", "scenario", problems=exc.render())
        except AtscaleMockError as exc:
            return _error(422, exc.message, hint=exc.hint or None)
        except LookupError as exc:
            return _error(404, str(exc.args[0]) if exc.args else "not found")

    return wrapped


def build_app(
    engine: MockEngine,
    admin_token: str | None = None,
    allow_hosts: Iterable[str] = (),
    max_body: int = MAX_BODY,
) -> Starlette:
    """The ASGI app of one engine; with ``admin_token`` every ``/_mock`` call needs
    ``Authorization: Bearer <token>``. In front of it all, :class:`BrowserGuard`: Host
    checked (IP literals, localhost and ``allow_hosts``), cross-origin writes refused,
    bodies at most ``max_body`` bytes."""

    async def health(request: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "webhooks": len(engine.subs),
                "in_flight": engine.in_flight(),
                "journal": str(engine.journal.path),
                "attempts": await asyncio.to_thread(engine.journal.count),
                "journal_errors": engine.journal.errors,
            }
        )

    async def list_webhooks(request: Request) -> Response:
        return JSONResponse({"webhooks": [s.public() for s in engine.subs.values()]})

    async def add_webhook(request: Request) -> Response:
        sub = engine.subscribe(subscription(await _json(request)))
        return JSONResponse({"id": sub.id, "webhook": sub.public()}, 201)

    async def delete_webhook(request: Request) -> Response:
        if not engine.unsubscribe(request.path_params["id"]):
            raise LookupError(f"no webhook {request.path_params['id']!r}")
        return Response(status_code=204)

    async def trigger(request: Request) -> Response:
        options = trigger_options(await _json(request))
        ids = engine.trigger(request.path_params["event"], options)
        return JSONResponse({"deliveries": ids}, 202)

    async def batch(request: Request) -> Response:
        body = await _json(request) or {}
        prune = body.pop("prune", False) if isinstance(body, dict) else False
        if not isinstance(prune, bool):
            raise FieldError("prune", "expected true or false")
        stages = engine.lifecycle(trigger_options(body), prune)
        ids = [i for stage in stages.values() for i in stage]
        return JSONResponse({"deliveries": ids, "stages": stages}, 202)

    async def start_scenario(request: Request) -> Response:
        kind = request.headers.get("content-type", "")
        if "yaml" in kind:
            body: dict[str, Any] = {"scenario": (await request.body()).decode("utf-8", "replace")}
            body.update({k: v for k, v in request.query_params.items()})
            for key in ("seed",):
                if key in body:
                    body[key] = _int_param(body[key], key)
            if "time_scale" in body:
                body["time_scale"] = _time_scale(body["time_scale"])
            if "continuous" in body:
                body["continuous"] = body["continuous"].lower() in ("1", "true", "yes")
        else:
            body = await _json(request) or {}
            if not isinstance(body, dict):
                raise FieldError("body", "expected a JSON object")
        allowed = ("name", "scenario", "seed", "continuous", "time_scale")
        unknown = [k for k in body if k not in allowed]
        if unknown:
            raise FieldError(unknown[0], "unknown field; known: " + ", ".join(allowed))
        if ("name" in body) == ("scenario" in body):
            raise FieldError(
                "name",
                "give name (one of the files given to serve --scenario: "
                + (", ".join(engine.scenarios) or "none")
                + ") or scenario (the YAML text)",
            )
        if "name" in body:
            if not isinstance(body["name"], str) or body["name"] not in engine.scenarios:
                raise FieldError(
                    "name",
                    f"no scenario {body['name']!r}; known: "
                    + (", ".join(engine.scenarios) or "none"),
                )
            source: str = str(engine.scenarios[body["name"]])
            name = str(body["name"])
        else:
            if not isinstance(body["scenario"], str) or not body["scenario"].strip():
                raise FieldError("scenario", "expected the scenario's YAML text")
            source = body["scenario"] if "\n" in body["scenario"] else body["scenario"] + "\n"
            name = "inline"
        seed = body.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise FieldError("seed", "expected an integer")
        continuous = body.get("continuous", False)
        if not isinstance(continuous, bool):
            raise FieldError("continuous", "expected true or false")
        time_scale = body.get("time_scale")
        if time_scale is not None:
            time_scale = _time_scale(time_scale)
        run = engine.start_run(
            source, name=name, seed=seed, continuous=continuous, time_scale=time_scale
        )
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
        q = request.query_params
        status = q.get("status") or None
        if status is not None:
            try:
                status_clause(status)
            except ValueError as exc:
                raise FieldError("status", str(exc).removeprefix("status: ")) from None
        rows = await asyncio.to_thread(
            engine.journal.query,
            event=_event_param(q.get("event")),
            status=status,
            since=_since(q.get("since")),
            webhook_id=q.get("webhook_id") or None,
            run_id=q.get("run_id") or None,
            delivery_id=q.get("id") or None,
            after=_int_param(q["after"], "after") if q.get("after") else None,
            limit=_limit(q.get("limit")),
        )
        return JSONResponse({"deliveries": rows})

    async def report(request: Request) -> Response:
        from .report import journal_report

        q = request.query_params
        limit = _limit(q.get("limit") or str(REPORT_ROWS))
        rows = await asyncio.to_thread(
            engine.journal.query,
            event=_event_param(q.get("event")),
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
        rule = fault_rule(await _json(request), set(engine.subs))
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
        from ..api.check import check

        options = check_options(await _json(request))
        card = await asyncio.to_thread(check, **options)  # its own loop, off this one
        return JSONResponse(card.to_json())

    async def reset(request: Request) -> Response:
        await engine.reset()
        return Response(status_code=204)

    async def events_catalogue(request: Request) -> Response:
        from ..catalogue import EVENTS

        return JSONResponse(
            {
                "events": [
                    {"name": e.name, "event_type": e.event_type, "title": e.title} for e in EVENTS
                ]
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
                response = _error(401, "this server needs Authorization: Bearer <admin token>")
                response.headers["WWW-Authenticate"] = "Bearer"
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def openapi_text() -> str:
    return resources.files(__package__).joinpath("openapi.json").read_text(encoding="utf-8")


def _event_param(value: str | None) -> str | None:
    if not value:
        return None
    from ..payload import resolve_event

    return resolve_event(value).name


def _int_param(value: Any, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise FieldError(name, f"expected an integer, got {value!r}") from None
    if not -(2**63) <= number < 2**63:  # what SQLite's INTEGER holds
        raise FieldError(name, f"out of range: {value!r}")
    return number


def _time_scale(value: Any) -> float:
    """``time_scale`` from JSON or a query string, held to the scenario file's rule."""
    from ..scenario.engine_loader import parse_time_scale

    if isinstance(value, bool):
        raise FieldError("time_scale", f"expected a number, got {value!r}")
    try:
        return parse_time_scale(float(value))
    except (TypeError, ValueError) as exc:
        raise FieldError("time_scale", f"expected {exc}, got {value!r}") from None


def _limit(value: str | None) -> int:
    if not value:
        return 100
    limit = _int_param(value, "limit")
    if not 1 <= limit <= MAX_LIMIT:
        raise FieldError("limit", f"must be from 1 to {MAX_LIMIT}, got {limit}")
    return limit


def _since(value: str | None) -> float | None:
    """Epoch seconds or an ISO 8601 time."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise FieldError("since", f"expected epoch seconds or ISO 8601, got {value!r}") from None
