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


def _console_examples() -> list[tuple[str, list[str]]]:
    """Commands of the README's console blocks that run on any machine, each with the
    lines shown after it: none that needs a server the reader starts (a URL), runs in
    the foreground until stopped (`receive`), or reads a file an earlier step wrote."""
    import re

    text = (ROOT / "README.md").read_text()
    found = []
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        lines = block.rstrip("\n").split("\n")
        while lines:
            if not lines[0].startswith("$ atscale-mock"):
                lines.pop(0)
                continue
            command = []
            while lines:
                line = lines.pop(0)
                command.append(line.removeprefix("$ ").split("  #")[0].rstrip(" \\"))
                if not line.endswith("\\"):
                    break
            shown = []
            while lines and not lines[0].startswith("$ "):
                shown.append(lines.pop(0))
            text_ = " ".join(c.strip() for c in command)
            if "http" in text_ or " receive" in text_ or ".jsonl" in text_:
                continue
            found.append((text_, shown))
    return found


def _normal(line: str, seeded: bool) -> str:
    """Without what varies between runs: latencies, durations, ports (and without a
    --seed, the random seed and ids)."""
    import re

    line = re.sub(r"\d+\.\d+ ms", "N ms", line)
    line = re.sub(r" in \d+\.\d+s", " in Ns", line)
    line = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", line)
    if not seeded:
        line = re.sub(r"(seed:? )\d+", r"\1N", line)
        line = re.sub(r"id=[0-9a-f-]{36}", "id=ID", line)
    return line.rstrip()


@pytest.mark.parametrize("command,shown", _console_examples(), ids=lambda x: str(x)[:40])
def test_readme_console_examples_print_what_they_show(
    command: str, shown: list[str], tmp_path: Path
) -> None:
    """Every line shown appears in what the command prints, in order ('...' marks
    what the README leaves out)."""
    import shlex
    import subprocess
    import sys

    args = shlex.split(command)[1:]
    for name in ("scenarios", "tests"):  # what the examples read; what they write stays here
        (tmp_path / name).symlink_to(ROOT / name)
    done = subprocess.run(
        [sys.executable, "-m", "atscale_mock", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=60,
        cwd=ROOT,
    )  # fmt: skip (one stream: the order a terminal shows)
    seeded = "--seed" in args or "plan" in args or "run" in args  # files carry seeds
    printed = [_normal(x, seeded) for x in done.stdout.splitlines()]
    position = 0
    for line in shown:
        if line.strip() in ("...", "…") or not line.strip():
            continue
        want = _normal(line, seeded)
        head = want.split("...")[0]  # a line cut short with '...' is checked up to it

        def matches(got: str, want: str = want, head: str = head) -> bool:
            return got == want or ("..." in want and got.startswith(head))

        while position < len(printed) and not matches(printed[position]):
            position += 1
        assert position < len(printed), f"{command!r} did not print {line!r}"
        position += 1


def test_readme_has_runnable_console_examples() -> None:
    commands = [c for c, _ in _console_examples()]
    assert any("--duplicates" in c for c in commands) and len(commands) >= 4


def test_readme_pytest_examples_pass(tmp_path: Path) -> None:
    """The README's FastAPI and Flask test files, run by pytest as their author would."""
    import re
    import subprocess
    import sys

    text = (ROOT / "README.md").read_text()
    section = text.split("## Testing your receiver with pytest", 1)[1].split("\n## ", 1)[0]
    names = []
    for block in re.findall(r"```python\n(.*?)```", section, re.S):
        name = block.splitlines()[0].removeprefix("# ").strip()
        (tmp_path / name).write_text(block)
        names.append(name)
    assert names == ["test_fastapi_receiver.py", "test_flask_receiver.py"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0 and "5 passed" in done.stdout, done.stdout + done.stderr


def test_readme_check_example_finds_both_planted_bugs(tmp_path: Path) -> None:
    """The README's `check` section: its FastAPI receiver and test, run by pytest."""
    import re
    import subprocess
    import sys

    text = (ROOT / "README.md").read_text()
    section = text.split("## Checking your receiver (`check`)", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1 and blocks[0].startswith("# test_check_receiver.py")
    (tmp_path / "test_check_receiver.py").write_text(blocks[0])
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout + done.stderr


def test_version_prints_the_package_version() -> None:
    import subprocess
    import sys

    import atscale_mock

    done = subprocess.run(
        [sys.executable, "-m", "atscale_mock", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout == f"atscale-mock {atscale_mock.__version__}\n"
