"""The wheel works outside the checkout: built from this tree, installed into a folder
of its own and run from an empty directory, the README's scenario examples find their
files (the bundled examples) and the wheel carries its license and the scenario
JSON Schema."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .httpserver import ScriptedServer

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(the wheel, the folder it is installed in), built once for this module."""
    out = tmp_path_factory.mktemp("wheel")
    tree = _private_copy(tmp_path_factory.mktemp("tree"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(tree)],
        check=True, capture_output=True, text=True, timeout=300, cwd=out,
    )  # fmt: skip
    wheel = next(out.glob("atscale_mock-*.whl"))
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
         str(wheel)],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    yield wheel, target


def _private_copy(where: Path) -> Path:
    """The source tree copied for one build: setuptools writes build/ and *.egg-info
    into the tree it builds, and xdist workers build at once."""
    import shutil

    skip = shutil.ignore_patterns(
        ".git", ".venv*", "build", "dist", "site", "*.egg-info", "__pycache__",
        ".*_cache", "test-artifacts", "out",
    )  # fmt: skip
    tree = where / "atscale-mock"
    shutil.copytree(ROOT, tree, ignore=skip, symlinks=True)
    return tree


def _outside(target: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run in an empty directory with the wheel's package first on the path (the
    dependencies are this environment's)."""
    env = {**os.environ, "PYTHONPATH": str(target)}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_wheel_carries_the_examples_the_schema_and_the_license(
    installed: tuple[Path, Path],
) -> None:
    wheel, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    examples = sorted(n.rsplit("/", 1)[1] for n in names if n.startswith("atscale_mock/examples/"))
    assert examples == sorted(p.name for p in (ROOT / "scenarios").glob("*.yaml"))
    assert "atscale_mock/atscale-mock-scenario.schema.json" in names
    assert any(n.endswith("licenses/LICENSE") for n in names)
    assert "atscale_mock/py.typed" in names and "atscale_mock/serve/openapi.json" in names


def test_the_readme_scenario_examples_work_from_an_empty_directory(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, target = installed
    where = _outside(target, tmp_path, "-c", "import atscale_mock; print(atscale_mock.__file__)")
    assert where.stdout.startswith(str(target)), where.stdout + where.stderr
    ran = _outside(
        target, tmp_path, "-m", "atscale_mock", "run", "scenarios/batch-lifecycle.yaml",
        "--to", "local", "-q",
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert "4 passed" in ran.stderr + ran.stdout
    valid = _outside(
        target, tmp_path, "-m", "atscale_mock", "validate", "scenarios/engine-day.yaml"
    )
    assert valid.returncode == 0, valid.stderr
    lib = _outside(
        target, tmp_path, "-c",
        "import atscale_mock as am; print(am.run('scenarios/slow-queries.yaml', to='local').ok)",
    )  # fmt: skip
    assert lib.stdout.strip() == "True", lib.stderr
    missing = _outside(target, tmp_path, "-m", "atscale_mock", "validate", "scenarios/nope.yaml")
    assert missing.returncode != 0 and "nope.yaml" in missing.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written where it ran


def _lower_bounds() -> dict[str, str]:
    """Every ``name>=X`` of the runtime dependencies and the extras a command needs
    (not ``dev`` or ``docs``: tools to work on atscale-mock, not to run it)."""
    import re
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    specs = [
        *project["dependencies"],
        *(s for k, v in extras.items() if k not in ("dev", "docs") for s in v),
    ]
    bounds = {}
    for spec in specs:
        match = re.match(r"([A-Za-z0-9_.-]+)\s*>=\s*([0-9][^,;\s]*)", spec)
        assert match, f"{spec!r} has no lower bound: the floors smoke cannot test it"
        bounds[match.group(1).lower()] = match.group(2)
    return bounds


def test_the_ci_floors_are_the_declared_lower_bounds() -> None:
    """.ci/floors.txt pins what pyproject.toml says is the lowest that works, no more
    and no less, so the smoke set on it tests the declared ranges."""
    floors = {}
    for line in (ROOT / ".ci" / "floors.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            floors[name.strip().lower()] = version.strip()
    bounds = _lower_bounds()
    assert floors.keys() == bounds.keys()
    for name, version in bounds.items():
        assert tuple(map(int, floors[name].split("."))) == tuple(map(int, version.split("."))) + (
            0,
        ) * (len(floors[name].split(".")) - len(version.split("."))), name


def test_an_installed_user_lists_and_copies_the_examples(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    import json

    _, target = installed
    listed = _outside(target, tmp_path, "-m", "atscale_mock", "examples", "--json")
    assert listed.returncode == 0, listed.stderr
    names = [e["name"] for e in json.loads(listed.stdout)]
    assert names == sorted(p.name for p in (ROOT / "scenarios").glob("*.yaml"))
    assert all(str(target) in e["path"] for e in json.loads(listed.stdout))
    copied = _outside(target, tmp_path, "-m", "atscale_mock", "examples", "--copy", "mine")
    assert copied.returncode == 0, copied.stderr
    files = sorted(p.name for p in (tmp_path / "mine").iterdir())
    assert files == sorted([*names, "atscale-mock-scenario.schema.json"])
    first = (tmp_path / "mine" / names[0]).read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=atscale-mock-scenario.schema.json"
    schema = json.loads((tmp_path / "mine" / "atscale-mock-scenario.schema.json").read_text())
    assert schema["$schema"].startswith("https://json-schema.org/")
    valid = _outside(
        target, tmp_path, "-m", "atscale_mock", "validate", *(f"mine/{n}" for n in names)
    )
    assert valid.returncode == 0, valid.stderr
    again = _outside(target, tmp_path, "-m", "atscale_mock", "examples", "--copy", "mine")
    assert again.returncode == 2 and "--force" in again.stderr


def test_every_docs_and_help_example_runs_from_the_wheel_in_an_empty_directory(
    installed: tuple[Path, Path], tmp_path: Path, srv: ScriptedServer
) -> None:
    """The documentation's console examples and every command's --help examples, run
    by the installed wheel from an empty directory, in order (a replay reads the log a
    send before it wrote). A URL on 127.0.0.1 or localhost is the test's receiver; the
    shown-only ones are named, with the test that runs them, in tests/docs_text.py."""
    import re

    from .docs_text import HELP_SHOWN_ONLY, console_examples, help_examples, run_example

    _, target = installed
    env = {
        "PYTHONPATH": str(target),
        "SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "ATSCALE_MOCK_H_AUTHORIZATION": "Bearer t",
    }
    docs = tmp_path / "docs-examples"
    docs.mkdir()
    (docs / "tests").symlink_to(ROOT / "tests")  # the deliberately broken scenarios
    for command, shown in console_examples():
        run_example(command, shown, docs, env)
    helps = tmp_path / "help-examples"
    helps.mkdir()
    ran = 0
    for command in help_examples():
        if any(key in command for key in HELP_SHOWN_ONLY):
            continue
        local = re.sub(r"http://(127\.0\.0\.1|localhost):\d+", srv.url, command)
        run_example(local, [], helps, env)
        ran += 1
    assert ran >= 20
