"""A scriptable HTTP server on 127.0.0.1 for end-to-end tests, independent of the
built-in receiver. Behaviour is chosen by path:

    /ok, anything else  -> 200               /status/NNN     -> NNN
    /flaky/K/NAME       -> 503 K times, then 200 (counted per NAME)
    /retry-after/S/NAME -> 429 Retry-After: S once, then 200
    /slow/SECONDS       -> sleeps, then 200  /reset          -> closes without answering
    /garbage            -> bytes that are not HTTP          /redirect -> 302 to /ok
    /huge               -> 200 with a 64 MiB body
    /trickle            -> 200 whose body comes one byte every 0.3 s
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)  # when it arrived

    def json(self) -> Any:
        return json.loads(self.body)


class _Quiet(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def handle_error(self, request: object, client_address: object) -> None:
        return None  # a client hanging up on /huge or /slow is expected here


class ScriptedServer:
    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.seen: list[Seen] = []
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.httpd = _Quiet(("127.0.0.1", 0), _handler(self))
        self.scheme = "http"
        if ssl_context is not None:
            self.httpd.socket = ssl_context.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> ScriptedServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def wait_seen(self, n: int, timeout: float = 20.0) -> None:
        """Until at least ``n`` requests have arrived (or ``timeout`` seconds passed):
        the moment a test interrupts a sender that is under way."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.seen) < n:
            time.sleep(0.05)

    def clear(self) -> None:
        with self.lock:
            self.seen.clear()
            self.hits.clear()

    def bodies(self, prefix: str = "/") -> list[Any]:
        return [s.json() for s in self.seen if s.path.startswith(prefix)]


def _handler(server: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = 65536

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def answer(
            self, status: int, extra: dict[str, str] | None = None, body: bytes = b'{"ok":true}'
        ) -> None:
            self.send_response(status)
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with server.lock:
                server.seen.append(Seen(self.path, dict(self.headers.items()), body))
                server.hits[self.path] += 1
                hits = server.hits[self.path]
            parts = self.path.strip("/").split("/")
            kind = parts[0]
            if kind == "status":
                self.answer(int(parts[1]))
            elif kind == "flaky":
                self.answer(503 if hits <= int(parts[1]) else 200)
            elif kind == "retry-after":
                self.answer(429, {"Retry-After": parts[1]}) if hits == 1 else self.answer(200)
            elif kind == "slow":
                time.sleep(float(parts[1]))
                self.answer(200)
            elif kind == "reset":
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
                self.close_connection = True
                self.connection.close()
            elif kind == "garbage":
                self.wfile.write(b"this is not HTTP at all\r\n\r\n")
                self.wfile.flush()
                self.close_connection = True
            elif kind == "trickle":  # 200, then one body byte every 0.3 s for 30 s
                self.send_response(200)
                self.send_header("Content-Length", "100")
                self.end_headers()
                try:
                    for _ in range(100):
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        time.sleep(0.3)
                except OSError:
                    self.close_connection = True
            elif kind == "bigjson":  # a JSON answer longer than the 1 KiB logs keep
                self.answer(200, body=json.dumps({"pad": "x" * 5000, "ok": True}).encode())
            elif kind == "gzjson":  # a gzip-encoded JSON answer
                import gzip

                packed = gzip.compress(json.dumps({"ok": True, "pad": "y" * 3000}).encode())
                self.answer(200, {"Content-Encoding": "gzip"}, packed)
            elif kind == "redirect":
                self.answer(302, {"Location": "/ok"})
            elif kind == "huge":  # 64 MiB, streamed: the client must not hold it
                chunk = b"x" * (1024 * 1024)
                self.send_response(200)
                self.send_header("Content-Length", str(64 * len(chunk)))
                self.end_headers()
                try:
                    for _ in range(64):
                        self.wfile.write(chunk)
                except OSError:
                    self.close_connection = True
            else:
                self.answer(200)

    return Handler
