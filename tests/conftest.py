from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .httpserver import ScriptedServer

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="session")
def server() -> Iterator[ScriptedServer]:
    srv = ScriptedServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def srv(server: ScriptedServer) -> ScriptedServer:
    server.clear()
    return server


def spec_example(name: str) -> Any:
    return json.loads((GOLDEN / "spec" / f"{name}.json").read_text())


def _findings_dirs() -> set[str]:
    import tempfile
    from pathlib import Path

    return {str(p) for p in Path(tempfile.gettempdir()).glob("atscale-mock-findings-*")}


_FINDINGS_BEFORE: set[str] = set()


def pytest_sessionstart(session: Any) -> None:
    _FINDINGS_BEFORE.update(_findings_dirs())


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    """No run of the suite leaves a findings directory in the temporary folder: check
    saves findings beside its report or under --findings-dir, nowhere else."""
    if hasattr(session.config, "workerinput"):
        return  # the controller looks, once every worker is done
    left = _findings_dirs() - _FINDINGS_BEFORE
    if left:
        import sys

        print(f"\nerror: the suite left {sorted(left)}", file=sys.stderr)
        session.exitstatus = 1
