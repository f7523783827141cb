"""A TCP server on 127.0.0.1 that answers with bytes a test scripts, and keeps the bytes
it was sent: for what a well-behaved HTTP server never does (a close-delimited body, two
answers at once, an endless header) and for seeing exactly what went on the wire."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

Answer = Callable[[socket.socket, bytes], None]


def read_request(conn: socket.socket, timeout: float = 5.0) -> bytes:
    """One request's bytes: the head, then Content-Length bytes of body."""
    conn.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


class RawServer:
    def __init__(self, answer: Answer, max_connections: int = 50) -> None:
        self.answer = answer
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests: list[bytes] = []
        self.connections = 0
        self.max_connections = max_connections
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        self.sock.close()

    def _serve(self) -> None:
        deadline = time.monotonic() + 60  # bounded in time and in connections
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()
            if self.connections >= self.max_connections:
                return

    def _one(self, conn: socket.socket) -> None:
        with conn:
            try:
                request = read_request(conn)
                if request:
                    self.requests.append(request)
                    self.answer(conn, request)
            except OSError:
                pass
