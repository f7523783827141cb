"""Docs that cannot drift: every command has help with an example and is in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from atscale_mock.cli import app

from .cli_helpers import cli

ROOT = Path(__file__).parent.parent
COMMANDS = sorted(c.callback.__name__ for c in app.registered_commands if c.callback)


def test_there_are_commands() -> None:
    assert {"events", "show", "schema", "send", "receive", "demo"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str) -> None:
    r = cli(command, "--help")
    assert r.code == 0
    assert "Example" in r.stdout and f"atscale-mock {command}" in r.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_in_the_readme(command: str) -> None:
    assert f"atscale-mock {command}" in (ROOT / "README.md").read_text()


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second() -> None:
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```sh", 1)[1].split("```", 1)[0]
    assert "make run" in first_block and "make test" in first_block
    assert "make test" in (ROOT / ".ci" / "run").read_text()
