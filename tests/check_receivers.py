"""Receivers for the ``check`` tests, in FastAPI and in Flask: a correct one, and a
buggy one with four planted bugs that ``atscale-mock check`` must find:

* a crash (500) when ``cube_id`` is present and null;
* a crash (500) when ``created_by_user`` is longer than 500 characters;
* forged, stale, unsigned and mis-signed requests accepted (no verification);
* a 500 on a duplicate ``webhook-id``.

Self-contained (the plugin test copies this file into a fresh directory)."""

import json
import threading
from typing import Any

from fastapi import FastAPI, Request, Response
from flask import Flask, request
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
LONG = 500


class Logic:
    """What a receiver does with (headers, body): a status."""

    def __init__(self, buggy: bool) -> None:
        self.buggy = buggy
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        headers = {k.lower(): v for k, v in headers.items()}
        if not self.buggy:
            try:
                Webhook(SECRET).verify(body, headers)
            except WebhookVerificationError:
                return 401
            except ValueError:  # verify() also parses the body: not JSON
                return 400
        if not headers.get("content-type", "").startswith("application/json"):
            return 415
        try:
            payload: Any = json.loads(body)
        except ValueError:
            return 400
        if not isinstance(payload, dict):
            return 400
        if self.buggy:
            if "cube_id" in payload:
                payload["cube_id"].lower()  # planted: AttributeError on null
            user = payload.get("created_by_user")
            if isinstance(user, str) and len(user) > LONG:
                raise ValueError("created_by_user too long for the column")  # planted
        msg_id = headers.get("webhook-id", "")
        with self.lock:
            duplicate = msg_id in self.seen
            self.seen.add(msg_id)
        if duplicate and self.buggy:
            raise RuntimeError("duplicate key value violates unique constraint")  # planted
        return 200


def fastapi_app(buggy: bool) -> Any:
    app = FastAPI()
    logic = Logic(buggy)

    @app.post("/hooks")
    async def hooks(request: Request) -> Response:
        status = logic.handle(dict(request.headers), await request.body())
        return Response('{"ok": true}' if status == 200 else "", status_code=status)

    return app


def flask_app(buggy: bool) -> Any:
    app = Flask("check_receiver")
    app.logger.disabled = True  # the planted crashes are expected
    logic = Logic(buggy)

    @app.post("/hooks")
    def hooks() -> tuple[str, int]:
        status = logic.handle(dict(request.headers), request.get_data())
        return ('{"ok": true}' if status == 200 else ""), status

    return app
