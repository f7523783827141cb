"""Docs that cannot drift: every command has help with an example and is documented;
every code block of the README and docs/ is run, validated or named with the test
that runs it; the site builds strictly."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from atscale_mock.cli import app

from .cli_helpers import cli
from .docs_text import PAGES, Block, blocks, console_examples, everything, run_example, section
from .httpserver import ScriptedServer

ROOT = Path(__file__).parent.parent
COMMANDS = sorted(
    [c.callback.__name__ for c in app.registered_commands if c.callback]
    + [  # a group's commands, as typed: "scenario from-recording"
        f"{g.typer_instance.info.name} {c.name or c.callback.__name__}"
        for g in app.registered_groups
        if g.typer_instance is not None
        for c in g.typer_instance.registered_commands
        if c.callback
    ]
)


def test_there_are_commands() -> None:
    assert {"events", "show", "schema", "send", "receive", "demo"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str) -> None:
    r = cli(*command.split(), "--help")
    assert r.code == 0
    assert "Example" in r.stdout and f"atscale-mock {command}" in r.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_in_the_docs(command: str) -> None:
    assert f"atscale-mock {command}" in everything()
    assert f"`{command}`" in (ROOT / "README.md").read_text()  # the README's command list


def test_the_readme_is_a_landing_page() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) < 250
    for link in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (ROOT / link).is_file(), link


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second() -> None:
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```sh", 1)[1].split("```", 1)[0]
    assert "make run" in first_block and "make test" in first_block
    assert "make test" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize("command,shown", console_examples(), ids=lambda x: str(x)[:40])
def test_docs_console_examples_print_what_they_show(
    command: str, shown: list[str], tmp_path: Path
) -> None:
    """Run as a reader would, from an empty directory (the scenario files they name are
    the bundled examples; only the deliberately broken ones of tests/ are linked in):
    every line shown appears in what the command prints, in order ('...' marks what
    the docs leave out), and it ends as the docs say."""
    (tmp_path / "tests").symlink_to(ROOT / "tests")
    run_example(command, shown, tmp_path, {})


def test_the_docs_have_runnable_console_examples() -> None:
    commands = [c for c, _ in console_examples()]
    assert any("--duplicates" in c for c in commands) and len(commands) >= 15


def test_docs_pytest_examples_pass(tmp_path: Path) -> None:
    """The pytest guide's FastAPI and Flask test files, run by pytest as their author would."""
    text = section("Testing your receiver with pytest")
    names = []
    for block in re.findall(r"```python\n(.*?)```", text, re.S):
        name = block.splitlines()[0].removeprefix("# ").strip()
        (tmp_path / name).write_text(block)
        names.append(name)
    assert names == ["test_fastapi_receiver.py", "test_flask_receiver.py"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0 and "5 passed" in done.stdout, done.stdout + done.stderr


def test_docs_check_example_finds_both_planted_bugs(tmp_path: Path) -> None:
    """The check guide: its FastAPI receiver and test, run by pytest."""
    found = re.findall(r"```python\n(.*?)```", section("Checking your receiver (`check`)"), re.S)
    assert len(found) == 1 and found[0].startswith("# test_check_receiver.py")
    (tmp_path / "test_check_receiver.py").write_text(found[0])
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout + done.stderr


def test_version_prints_the_package_version() -> None:
    import atscale_mock

    done = subprocess.run(
        [sys.executable, "-m", "atscale_mock", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout == f"atscale-mock {atscale_mock.__version__}\n"


def test_every_environment_variable_the_code_names_is_in_the_table() -> None:
    """The docs' environment page comes from atscale_mock.environment; the names the
    package's code uses and the table's are the same set."""
    from atscale_mock.environment import VARIABLES

    used = set()
    for path in (ROOT / "atscale_mock").rglob("*.py"):
        if path.name != "environment.py":
            text = path.read_text()
            used |= set(re.findall(r"ATSCALE_MOCK_H_(?=\W)|ATSCALE_MOCK_[A-Z0-9_]*[A-Z0-9]", text))
    table = {v.name.replace("<NAME>", "") for v in VARIABLES}
    assert used == table


SCENARIO_KEYS = {"version", "name", "description", "clock", "time_scale", "engine", "load"}
SCENARIO_KEYS |= {"faults", "defaults", "vars", "steps"}


def _is_test_file(block: Block) -> bool:
    return bool(re.match(r"# test_\w+\.py\n", block.text))


def _is_scenario(block: Block) -> bool:
    doc = yaml.safe_load(block.text)
    return isinstance(doc, dict) and set(doc) <= SCENARIO_KEYS


def _install_only(block: Block) -> bool:
    """A shell block of install lines (pip, make, a venv, --version), which the
    packaging tests do for real (a wheel into a folder of its own, from an empty
    directory)."""
    commands = [
        line.split("#")[0].strip() for line in block.text.splitlines() if line.split("#")[0].strip()
    ]
    allowed = (
        "pip install ",
        "make run",
        "make test",
        "python3 -m venv ",
        "atscale-mock --version",
    )
    return all(
        c.startswith(allowed) or c == "atscale-mock send slow-query --to local" for c in commands
    )


#: Blocks run by a test of their own, by the marker above them.
MARKED = {
    "serve-session": "tests/test_serve_docs.py::test_readme_curl_session_runs",
    "serve-compose": "tests/test_serve_docs.py::test_readme_compose_command_and_health_check",
    "ci-workflow": "tests/test_docs.py::test_the_ci_workflow_validates_and_runs_the_examples",
    "locust-commands": "tests/test_locust.py (the same commands against a local receiver)",
    "serve-commands": "tests/test_serve.py and tests/test_serve_limits.py (each option)",
    "send-your-receiver": "tests/test_cli_send.py (headers, --log, placeholders, retries)",
}


def test_every_code_block_is_run_validated_or_named() -> None:
    """No block in the docs is only prose: each is run by a test here or by the test
    its marker names, or is an install line the packaging tests run for real."""
    unknown = []
    for block in blocks():
        if block.marker:
            ok = block.marker in MARKED
        elif block.lang == "console":
            ok = "$ atscale-mock" in block.text or block.text.startswith("<-- ")
        elif block.lang == "python":
            ok = True  # test_docs_python_blocks_run / the pytest examples
        elif block.lang == "yaml":
            ok = _is_scenario(block)
        elif block.lang == "sh":
            ok = _install_only(block)
        else:
            ok = False
        if not ok:
            unknown.append(f"{block.where} ({block.lang})")
    assert unknown == []
    for test in MARKED.values():
        assert (ROOT / test.split("::")[0].split(" ")[0]).is_file(), test


@pytest.mark.parametrize(
    "page", sorted({b.page for b in blocks() if b.lang == "python"}), ids=lambda p: p.name
)
def test_docs_python_blocks_run(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each page's Python blocks run in order in one namespace, from an empty directory
    (the scenario paths they name are the bundled examples); test files are run by
    pytest in the tests above."""
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    ran = 0
    for block in blocks(page):
        if block.lang == "python" and not _is_test_file(block):
            exec(compile(block.text, block.where, "exec"), namespace)  # noqa: S102
            ran += 1
    assert ran or page.name in ("pytest.md", "check.md")


@pytest.mark.parametrize(
    "block",
    [b for b in blocks() if b.lang == "yaml" and not b.marker],
    ids=lambda b: b.where,
)
def test_docs_scenario_yaml_validates(block: Block, tmp_path: Path) -> None:
    """A scenario in the docs validates; a fragment (a `load:` section, an engine day
    without its version line) validates once it is made a file."""
    doc = yaml.safe_load(block.text)
    text = block.text
    if "version" not in doc:
        text = "version: 1\n" + text
    if "steps" not in doc:
        text += "steps:\n  - event: slow-query\n"
    path = tmp_path / "from-docs.yaml"
    path.write_text(text)
    done = cli("validate", "--no-env", str(path))
    assert done.code == 0, f"{block.where}: {done.stderr}"


def test_the_ci_workflow_validates_and_runs_the_examples(
    tmp_path: Path, srv: ScriptedServer
) -> None:
    """The CI guide's workflow step, as GitHub would run it: in a repository holding the
    example scenarios (`atscale-mock examples --copy scenarios`), with its env."""
    import os

    from .docs_text import marked

    workflow = yaml.safe_load(marked("ci-workflow").text)
    steps = workflow["jobs"]["scenarios"]["steps"]
    step = next(s for s in steps if "atscale-mock run" in s.get("run", ""))
    bindir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"}
    env.update({k: str(v) for k, v in step["env"].items()})
    env["RECEIVER_URL"] = srv.url + "/webhooks"  # the receiver under test
    env["RECEIVER_TOKEN"] = "t0ken"
    copied = subprocess.run(
        [sys.executable, "-m", "atscale_mock", "examples", "--copy", "scenarios"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert copied.returncode == 0, copied.stderr
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", step["run"]],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    junits = sorted(p.name for p in tmp_path.glob("junit-*.xml"))
    assert len(junits) == len(list((tmp_path / "scenarios").glob("*.yaml")))
    assert srv.seen  # the scenarios that do not name a `to` went to RECEIVER_URL


def test_the_docs_site_builds_strictly_with_every_reference(tmp_path: Path) -> None:
    """mkdocs build --strict (a broken link, a missing page or a bad reference fails);
    the generated reference pages hold every command, route, scenario key and variable."""
    import json
    import os

    from atscale_mock.environment import VARIABLES
    from atscale_mock.scenario.jsonschema import scenario_schema

    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    cli_page = (site / "reference" / "cli" / "index.html").read_text()
    for command in COMMANDS:
        assert f'id="{command.replace(" ", "-")}"' in cli_page, command
    api_page = (site / "reference" / "control-api" / "index.html").read_text()
    openapi = json.loads((ROOT / "atscale_mock" / "serve" / "openapi.json").read_text())
    for path in openapi["paths"]:
        assert path.replace("{", "").split("}")[0] in api_page.replace("{", ""), path
    format_page = (site / "reference" / "scenario-format" / "index.html").read_text()
    for key in scenario_schema()["properties"]:
        assert f"<code>{key}</code>" in format_page, key
    env_page = (site / "reference" / "environment" / "index.html").read_text()
    for variable in VARIABLES:
        assert variable.name.replace("<", "&lt;").replace(">", "&gt;") in env_page
    python_page = (site / "reference" / "api" / "index.html").read_text()
    assert "atscale_mock.send" in python_page and "expect_status" in python_page
    for page in PAGES[1:]:
        if page.name != "hooks.py":
            assert page.name.endswith(".md")
