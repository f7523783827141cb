"""AtScale's own webhook REST API (its installer API), mocked: the calls a deployment
script makes to register a receiver, answered as AtScale documents them, so that code
can be tested against ``serve``. A webhook created here is a subscription of the mock
engine like any other: it receives the events it names.

    GET    /org/{orgId}/webhooks[?projectId=&notificationType=]   list
    POST   /org/{orgId}/webhooks                                  create
    GET    /org/{orgId}/webhooks/{hookId}                         one
    DELETE /org/{orgId}/webhooks/{hookId}                         delete
    GET    /{orgId}/auth   (HTTP Basic)                           a session token

What AtScale documents (see docs/spec.md): the paths; bearer-token authentication; a
create body of ``org_id``, ``notification_type``, ``url`` and ``project_id``, all four
required; answers wrapped in an envelope of ``status`` (``code``, ``i18n_message``,
``message``), ``response`` (for create and delete, the webhook's ``id``) and
``time_to_process``; 401 without the right, 404 for an unknown org, 500 on a server
error. What it does NOT state, and atscale-mock chooses (marked ``NOT_STATED`` below,
each overridable by not relying on it): the values of ``notification_type`` (here: an
event's CLI name or ``event_type``, or ``all``), the fields of a listed webhook (here:
the four of the create body and ``id``), the status of a bad request (here: 400 in
the same envelope), the value of ``status.code`` (here: the HTTP status), the unit of
``time_to_process`` (here: milliseconds). Any non-empty bearer token is accepted unless
serve has ``--admin-token``, which it must then be; orgs are whatever the path names
(the mock keeps no org registry: an org is unknown, 404, only when it is not a valid
id). The session-token call ("the API's auth call") is documented by AtScale without its
details here: its path, method, credentials and answer are NOT_STATED; atscale-mock
answers ``GET /{orgId}/auth`` with HTTP Basic credentials (any user; with
``--admin-token``, that token as the password) with a token in plain text, accepted as a
bearer until serve stops."""

from __future__ import annotations

import hmac
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..errors import AtscaleMockError
from ..events.catalogue import EVENTS
from .model import Subscription
from .params import json_body
from .state import ServeState

#: what AtScale's pages leave open, and what atscale-mock does there
NOT_STATED = {
    "notification_type": "an event's CLI name or event_type, or 'all'",
    "listed fields": "id, org_id, notification_type, url, project_id",
    "bad request status": "400, in the envelope",
    "status.code": "the HTTP status",
    "time_to_process": "milliseconds",
    "auth call": "GET /{orgId}/auth with HTTP Basic credentials, a plain-text token back",
}
MAX_SESSIONS = 10_000  # session tokens kept; the oldest is forgotten past this
REQUIRED = ("org_id", "notification_type", "url", "project_id")
_ORG = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


def _types() -> dict[str, tuple[str, ...]]:
    """notification_type -> the events it subscribes to (not stated by AtScale)."""
    out: dict[str, tuple[str, ...]] = {"all": tuple(e.name for e in EVENTS)}
    for e in EVENTS:
        out[e.name] = out[e.event_type] = (e.name,)
    return out


NOTIFICATION_TYPES = _types()


def envelope(status: int, response: Any, started: float, message: str = "OK") -> JSONResponse:
    """AtScale's answer envelope."""
    body = {
        "status": {
            "code": status,
            "i18n_message": "response.ok" if status < 400 else "response.error",
            "message": message,
        },
        "response": response,
        "time_to_process": round((time.monotonic() - started) * 1000, 3),
    }
    return JSONResponse(body, status)


class Hooks:
    """The webhooks created through this API: their AtScale fields, by id, beside the
    engine's subscriptions (a hook deleted in ``/_mock`` is gone here too)."""

    def __init__(self, engine: ServeState, token: str | None) -> None:
        self.engine = engine
        self.token = token
        self.fields: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, None] = {}  # tokens the auth call gave, oldest first

    def live(self) -> dict[str, dict[str, Any]]:
        for gone in [h for h in self.fields if h not in self.engine.subs]:
            del self.fields[gone]
        return self.fields

    def refused(self, request: Request, started: float) -> Response | None:
        """401 unless the call carries a bearer token (serve's admin token, if set);
        404 for an org id that cannot be one."""
        given = request.headers.get("authorization", "")
        scheme, _, token = given.partition(" ")
        ok = scheme.lower() == "bearer" and bool(token.strip())
        if ok and self.token is not None:
            ok = token.strip() in self.sessions or hmac.compare_digest(
                token.strip().encode(), self.token.encode()
            )
        if not ok:
            return envelope(401, None, started, "a bearer token is needed (Authorization)")
        if not _ORG.match(request.path_params["org"]):
            return envelope(404, None, started, "no such organization")
        return None

    async def auth(self, request: Request) -> Response:
        """The session-token call (NOT_STATED: its shape): HTTP Basic credentials in, a
        token out as plain text; with an admin token, that is the password."""
        import base64
        import binascii
        import secrets

        started = time.monotonic()
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            user, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, sep, password = "", "", ""
        ok = scheme.lower() == "basic" and bool(sep and user)
        if ok and self.token is not None:
            ok = hmac.compare_digest(password.encode(), self.token.encode())
        if not ok:
            return envelope(401, None, started, "user name and password needed (HTTP Basic)")
        if not _ORG.match(request.path_params["org"]):
            return envelope(404, None, started, "no such organization")
        token = secrets.token_urlsafe(32)
        self.sessions[token] = None
        while len(self.sessions) > MAX_SESSIONS:
            del self.sessions[next(iter(self.sessions))]
        return Response(token, 200, media_type="text/plain")

    async def list(self, request: Request) -> Response:
        started = time.monotonic()
        if (refused := self.refused(request, started)) is not None:
            return refused
        org = request.path_params["org"]
        project = request.query_params.get("projectId")
        kind = request.query_params.get("notificationType")
        rows = [
            h
            for h in self.live().values()
            if h["org_id"] == org
            and (project is None or h["project_id"] == project)
            and (kind is None or h["notification_type"] == kind)
        ]
        return envelope(200, rows, started)

    async def create(self, request: Request) -> Response:
        started = time.monotonic()
        if (refused := self.refused(request, started)) is not None:
            return refused
        try:
            body = json_body(await request.body())
        except AtscaleMockError as exc:
            return envelope(400, None, started, exc.message)
        problem = self._problem(body, request.path_params["org"])
        if problem:
            return envelope(400, None, started, problem)
        hook_id = uuid.uuid4().hex[:12]
        sub = Subscription(
            hook_id,
            body["url"],
            NOTIFICATION_TYPES[body["notification_type"]],
            project_id=body["project_id"] or None,
            org_id=body["org_id"],
        )
        try:
            self.engine.subscribe(sub)
        except AtscaleMockError as exc:  # serve's own port, or outside --deliver-to
            return envelope(400, None, started, exc.message)
        self.fields[hook_id] = {"id": hook_id, **{k: body[k] for k in REQUIRED}}
        return envelope(200, {"id": hook_id}, started)

    def _problem(self, body: Any, org: str) -> str:
        if not isinstance(body, dict):
            return "the body must be a JSON object"
        missing = [k for k in REQUIRED if k not in body]
        if missing:
            return f"missing: {', '.join(missing)} (all of {', '.join(REQUIRED)} are required)"
        extra = sorted(set(body) - set(REQUIRED))
        if extra:
            return f"unknown field(s): {', '.join(extra)}"
        if not all(isinstance(body[k], str) for k in REQUIRED):
            return "org_id, notification_type, url and project_id are strings"
        if body["org_id"] != org:
            return f"org_id {body['org_id']!r} is not the org of the path ({org!r})"
        if body["notification_type"] not in NOTIFICATION_TYPES:
            known = ", ".join(sorted(NOTIFICATION_TYPES))
            return f"unknown notification_type {body['notification_type']!r}; one of: {known}"
        from ..delivery.request import check_url

        try:
            check_url(body["url"], "url")
        except AtscaleMockError as exc:
            return exc.message
        return ""

    async def get(self, request: Request) -> Response:
        return self._one(request, lambda hook: hook)

    async def delete(self, request: Request) -> Response:
        def remove(hook: dict[str, Any]) -> dict[str, Any]:
            self.engine.unsubscribe(hook["id"])
            del self.fields[hook["id"]]
            return {"id": hook["id"]}

        return self._one(request, remove)

    def _one(self, request: Request, act: Callable[[dict[str, Any]], Any]) -> Response:
        """The webhook the path names, in its org, acted on; 401/404 otherwise."""
        started = time.monotonic()
        if (refused := self.refused(request, started)) is not None:
            return refused
        hook = self.live().get(request.path_params["hook"])
        if hook is None or hook["org_id"] != request.path_params["org"]:
            return envelope(404, None, started, "no such webhook")
        return envelope(200, act(hook), started)


def routes(engine: ServeState, token: str | None) -> list[Route]:
    hooks = Hooks(engine, token)
    handler = Callable[[Request], Any]
    table: list[tuple[str, handler, str]] = [
        ("/org/{org}/webhooks", hooks.list, "GET"),
        ("/org/{org}/webhooks", hooks.create, "POST"),
        ("/org/{org}/webhooks/{hook}", hooks.get, "GET"),
        ("/org/{org}/webhooks/{hook}", hooks.delete, "DELETE"),
        ("/{org}/auth", hooks.auth, "GET"),
    ]
    return [Route(path, fn, methods=[method]) for path, fn, method in table]
