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
