"""The serve guide's examples, run as a reader would: the curl session against a
real `serve`, and the compose service's command and health check."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from standardwebhooks.webhooks import Webhook

from .docs_text import marked
from .httpserver import ScriptedServer
from .serve_helpers import ServeProcess


def _block(marker: str) -> str:
    return marked(marker).text


def test_readme_curl_session_runs(srv: ScriptedServer, tmp_path: Path) -> None:
    if shutil.which("curl") is None:
        pytest.fail("curl is needed for the serve guide's session (.ci/run installs it)")
    server = ServeProcess()
    try:
        env = {**os.environ, "ATSCALE_MOCK_SERVER": server.url, "RECEIVER_URL": srv.url + "/hooks"}
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", _block("serve-session")],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        # the journal export holds every attempt; the signed ones verify
        lines = [json.loads(x) for x in (tmp_path / "journal.jsonl").read_text().splitlines()]
        assert len(lines) == len(srv.seen)
        # slow-query to both, batch-start/result/prune to the signed one, plus two retries
        assert len(srv.seen) == 2 + 3 + 2
        signed = [s for s in srv.seen if "webhook-signature" in s.headers]
        assert len(signed) == 1 + 3 + 2
        for seen in signed:
            Webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").verify(
                seen.body, {k.lower(): v for k, v in seen.headers.items()}
            )
        assert len({s.headers["webhook-id"] for s in signed}) == 4  # 2 duplicates
        assert server.api("GET", "/_mock/deliveries").json() == {"deliveries": []}
    finally:
        server.stop()


def test_readme_compose_command_and_health_check(tmp_path: Path) -> None:
    service = yaml.safe_load(_block("serve-compose"))["services"]["atscale-mock"]
    shell = service["command"]
    serve = shell[shell.index("atscale-mock serve") :].rstrip('"')
    args = shlex.split(serve)[2:]
    # the compose file binds 0.0.0.0 with a token from the environment; here: loopback
    args[args.index("--host") + 1] = "127.0.0.1"
    args[args.index("--port") + 1] = "0"
    args[args.index("--journal") + 1] = str(tmp_path / "journal.sqlite3")
    token = service["environment"]["ATSCALE_MOCK_ADMIN_TOKEN"]
    env = {**os.environ, "ATSCALE_MOCK_ADMIN_TOKEN": token}
    proc = subprocess.Popen(
        [sys.executable, "-m", "atscale_mock", "serve", *args],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stderr is not None
        url = proc.stderr.readline().split()[3]
        check = service["healthcheck"]["test"][1:]
        assert check[0] == "python"
        port = url.rsplit(":", 1)[1]
        code = check[2].replace("10600", port)
        ok = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30)
        assert ok.returncode == 0, ok.stderr
        # the token from the environment guards the control API
        import httpx

        assert httpx.get(url + "/_mock/webhooks").status_code == 401
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
    # and the command as written refuses 0.0.0.0 without the token
    bare = {k: v for k, v in os.environ.items() if k != "ATSCALE_MOCK_ADMIN_TOKEN"}
    refused = subprocess.run(
        [sys.executable, "-m", "atscale_mock", "serve", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        env=bare,
        timeout=30,
    )
    assert refused.returncode == 2 and "--admin-token" in refused.stderr
