"""A FastAPI receiver for the forwarding test, in a module of its own: FastAPI is a dev
tool (the lowest-versions smoke set runs the forwarding tests without it)."""

from __future__ import annotations

import json

from fastapi import FastAPI, Request, Response


class FastApiReceiver:
    """A FastAPI receiver under uvicorn: keeps every body and its headers, answers 500 to
    unpublish (a receiver bug the engine must see), 200 to the rest."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        app = FastAPI()

        @app.post("/hooks")
        async def hooks(request: Request) -> Response:
            body = await request.body()
            self.bodies.append(body)
            self.headers.append(dict(request.headers))
            kind = json.loads(body).get("event_type")
            if kind == "unpublish_schema_success":
                return Response('{"error": "boom"}', 500, media_type="application/json")
            return Response('{"ok": true}', 200, media_type="application/json")

        self.app = app
