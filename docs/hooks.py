"""MkDocs hooks: the reference pages are generated from the code at build time, so they
cannot drift from it: every command's help (from the Typer app), the control API (from
serve's OpenAPI document), the scenario format (from its JSON Schema) and the
environment variables (from ``atscale_mock.environment``)."""

from __future__ import annotations

import json
import os
from typing import Any

from mkdocs.structure.files import File, Files


def on_files(files: Files, config: Any) -> Files:
    for name, render in (
        ("reference/cli.md", cli_reference),
        ("reference/control-api.md", control_api_reference),
        ("reference/scenario-format.md", scenario_reference),
        ("reference/environment.md", environment_reference),
    ):
        files.append(File.generated(config, name, content=render()))
    return files


def cli_reference() -> str:
    """Every command's --help, as the terminal prints it at 100 columns."""
    import typer

    from atscale_mock.cli.root import app

    os.environ["COLUMNS"] = "100"
    root = typer.main.get_command(app)
    parent = typer.Context(root, info_name="atscale-mock", max_content_width=100)
    out = [
        "# Command reference",
        "",
        "Generated from the command line itself (`atscale-mock COMMAND --help`). "
        "Exit codes: 0 ok, 1 a delivery or expectation failed, 2 usage error, "
        "130 interrupted; a command's help says what it adds.",
        "",
        "```text",
        root.get_help(parent),
        "```",
    ]
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        ctx = typer.Context(command, info_name=name, parent=parent, max_content_width=100)
        out += ["", f"## {name}", "", "```text", command.get_help(ctx), "```"]
        for sub_name, sub in getattr(command, "commands", {}).items():  # a group's commands
            sub_ctx = typer.Context(sub, info_name=sub_name, parent=ctx, max_content_width=100)
            out += ["", f"## {name} {sub_name}", "", "```text", sub.get_help(sub_ctx), "```"]
    return "\n".join(out) + "\n"


def _ref(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return f"[{name}](#{name.lower()})"
    if schema.get("type") == "array":
        return f"list of {_ref(schema.get('items', {}))}"
    if "oneOf" in schema or "anyOf" in schema:
        return " or ".join(_ref(s) for s in schema.get("oneOf", schema.get("anyOf", [])))
    return str(schema.get("type", "any"))


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def control_api_reference() -> str:
    """serve's control API from its OpenAPI document: every route, its parameters, body
    and answers, then the schemas."""
    from importlib.resources import files as package_files

    doc = json.loads(package_files("atscale_mock.serve").joinpath("openapi.json").read_text())
    out = [
        "# Control API (serve)",
        "",
        f"{doc['info'].get('description', '')}",
        "",
        "Rendered from the OpenAPI document a running serve answers at "
        "`/_mock/openapi.json` (version "
        f"{doc['info'].get('version', '?')}). Every write takes a JSON body; off loopback "
        "every call needs `Authorization: Bearer TOKEN`.",
    ]
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            if method == "parameters":
                continue
            out += ["", f"## `{method.upper()} {path}`", "", _cell(op.get("summary", ""))]
            if op.get("description"):
                out += ["", op["description"]]
            params = op.get("parameters", []) + methods.get("parameters", [])
            if params:
                out += ["", "| parameter | in | type | meaning |", "|---|---|---|---|"]
                for p in params:
                    out.append(
                        f"| `{p['name']}` | {p['in']} | {_ref(p.get('schema', {}))} | "
                        f"{_cell(p.get('description', ''))} |"
                    )
            body = op.get("requestBody", {}).get("content", {})
            for kind, media in body.items():
                out += ["", f"Body ({kind}): {_ref(media.get('schema', {}))}"]
            out += ["", "| status | meaning | body |", "|---|---|---|"]
            for status, answer in op.get("responses", {}).items():
                content = answer.get("content", {})
                shape = ", ".join(_ref(m.get("schema", {})) for m in content.values())
                out.append(f"| {status} | {_cell(answer.get('description', ''))} | {shape} |")
    out += ["", "## Schemas"]
    for name, schema in doc.get("components", {}).get("schemas", {}).items():
        out += ["", f"### {name}", ""]
        if schema.get("description"):
            out += [_cell(schema["description"]), ""]
        props = schema.get("properties", {})
        if props:
            required = set(schema.get("required", []))
            out += ["| field | type | required | meaning |", "|---|---|---|---|"]
            for field, spec in props.items():
                out.append(
                    f"| `{field}` | {_ref(spec)} | {'yes' if field in required else ''} | "
                    f"{_cell(spec.get('description', ''))} |"
                )
        else:
            out.append(f"Type: {_ref(schema)}")
    return "\n".join(out) + "\n"


def _type(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in schema["enum"])
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(_type(s) for s in schema[key])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {_type(schema.get('items', {}))}"
    return " or ".join(kind) if isinstance(kind, list) else str(kind)


def _rows(schema: dict[str, Any], prefix: str, out: list[str], depth: int = 0) -> None:
    required = set(schema.get("required", []))
    for key, spec in schema.get("properties", {}).items():
        path = f"{prefix}{key}"
        out.append(
            f"| `{path}` | {_type(spec)} | {'yes' if key in required else ''} | "
            f"{_cell(spec.get('description', ''))} |"
        )
        if depth < 3 and spec.get("type") == "object" and spec.get("properties"):
            _rows(spec, path + ".", out, depth + 1)


def scenario_reference() -> str:
    """The scenario file format from its JSON Schema (`atscale-mock schema --scenario`)."""
    from atscale_mock.scenario.jsonschema import scenario_schema

    schema = scenario_schema()
    out = [
        "# Scenario format",
        "",
        "Rendered from the scenario JSON Schema (`atscale-mock schema --scenario`, or the "
        "`atscale-mock-scenario.schema.json` that `atscale-mock examples --copy DIR` writes "
        "for your editor). The [scenarios guide](../guides/scenarios.md) explains each part "
        "with examples; `atscale-mock validate` checks more than the schema can (events, "
        "fields, references), with file:line:column.",
        "",
        "## Top level",
        "",
        "| key | type | required | meaning |",
        "|---|---|---|---|",
    ]
    _rows(schema, "", out)
    steps = schema["properties"]["steps"].get("items", {})
    kinds = steps.get("anyOf") or steps.get("oneOf") or [steps]
    for kind in kinds:
        props = kind.get("properties", {})
        required = kind.get("required", [])
        title = kind.get("title") or (f"Steps with `{required[0]}`" if required else "Steps")
        out += ["", f"## {title}", ""]
        if kind.get("description"):
            out += [_cell(kind["description"]), ""]
        if props:
            out += ["| key | type | required | meaning |", "|---|---|---|---|"]
            _rows(kind, "", out)
    return "\n".join(out) + "\n"


def environment_reference() -> str:
    from atscale_mock.environment import VARIABLES

    out = [
        "# Environment variables",
        "",
        "Every variable atscale-mock reads or sets. Values of the ones marked secret are "
        "never printed or logged (shown as `***`). Scenario files read any variable with "
        "`${env:NAME}` and `${secret:NAME}` (see the [scenarios guide]"
        "(../guides/scenarios.md)).",
        "",
        "| variable | used by | meaning | secret |",
        "|---|---|---|---|",
    ]
    for v in VARIABLES:
        out.append(
            f"| `{v.name}` | {_cell(v.used_by)} | {_cell(v.meaning)} | "
            f"{'yes' if v.secret else ''} |"
        )
    return "\n".join(out) + "\n"
