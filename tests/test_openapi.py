"""`schema --openapi`: a valid OpenAPI 3.1 document whose generated models accept every
payload the tool generates."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from openapi_spec_validator import validate

from atscale_mock.events.catalogue import EVENTS
from atscale_mock.events.openapi import _model_name
from atscale_mock.events.spec_examples import EXAMPLES

from .cli_helpers import cli
from .conftest import spec_example

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    r = cli("schema", "--openapi", "--sign", "standard-webhooks")
    assert r.code == 0
    return json.loads(r.stdout)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def models(document: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """Pydantic models generated from the document, as a receiver's author would."""
    tmp = tmp_path_factory.mktemp("models")
    (tmp / "webhooks.json").write_text(json.dumps(document))
    exe = Path(sys.executable).parent / "datamodel-codegen"
    done = subprocess.run(
        [str(exe), "--input", "webhooks.json", "--input-file-type", "openapi", "--output",
         "models.py", "--output-model-type", "pydantic_v2.BaseModel", "--formatters",
         "black"],
        cwd=tmp, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    spec = importlib.util.spec_from_file_location("generated_models", tmp / "models.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["generated_models"] = module  # pydantic resolves annotations through it
    spec.loader.exec_module(module)
    return module


def test_the_document_validates(document: dict[str, Any]) -> None:
    validate(document)
    assert len(document["webhooks"]) == 7
    headers = document["webhooks"]["slow_query_event"]["post"]["parameters"]
    assert {h["name"] for h in headers} == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    plain = json.loads(cli("schema", "--openapi").stdout)
    assert "parameters" not in plain["webhooks"]["slow_query_event"]["post"]  # none documented


def test_the_examples_are_the_specs(document: dict[str, Any]) -> None:
    for event in EVENTS:
        assert EXAMPLES[event.name] == spec_example(event.name)
        schema = document["components"]["schemas"][_model_name(event)]
        assert schema["examples"] == [spec_example(event.name)]


def _payloads() -> list[tuple[str, dict[str, Any]]]:
    import atscale_mock as am
    from atscale_mock.load.generator import DEFAULT_MIX, PayloadGenerator

    out: list[tuple[str, dict[str, Any]]] = []
    for event in EVENTS:
        for seed in range(40):
            out.append((event.name, am.payload(event.name, seed=seed)))
            out.append((event.name, am.payload(event.name, seed=seed, full=True)))
            if event.failure:
                out.append((event.name, am.payload(event.name, seed=seed, failed=True)))
        out.append((event.name, spec_example(event.name)))
    plan = am.plan(ROOT / "scenarios" / "engine-day.yaml", seed=3)
    out += [(d["event"], d["payload"]) for d in plan["deliveries"]]
    for name, body in PayloadGenerator(DEFAULT_MIX, 5).batch(2000):
        out.append((name, json.loads(body)))
    return out


def test_generated_models_accept_every_generated_payload(models: ModuleType) -> None:
    by_name = {e.name: e for e in EVENTS}
    counted: dict[str, int] = {}
    for name, payload in _payloads():
        model = getattr(models, _model_name(by_name[name]))
        model.model_validate(payload)  # raises on any mismatch
        counted[name] = counted.get(name, 0) + 1
    assert set(counted) == set(by_name)


def test_generated_models_reject_a_malformed_payload(models: ModuleType) -> None:
    from pydantic import ValidationError

    bad = dict(spec_example("slow-query"), time_taken="slow")
    with pytest.raises(ValidationError):
        models.SlowQueryEvent.model_validate(bad)
