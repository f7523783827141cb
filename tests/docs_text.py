"""The documentation as the tests read it: the README and every page under docs/,
their sections and their fenced code blocks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


@dataclass(frozen=True)
class Block:
    """One fenced code block: where it is, its language, the marker comment above it
    (``<!-- name -->``), and its text."""

    page: Path
    line: int
    lang: str
    marker: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path | None = None) -> list[Block]:
    found = []
    for path in [page] if page else PAGES:
        lines = path.read_text().split("\n")
        i = 0
        while i < len(lines):
            match = re.match(r"^```(\w*)\s*$", lines[i])
            if not match:
                i += 1
                continue
            start = i
            marker_match = re.match(r"^<!-- (\S+) -->$", lines[i - 1]) if i else None
            i += 1
            body = []
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            found.append(
                Block(
                    path,
                    start + 1,
                    match.group(1),
                    marker_match.group(1) if marker_match else "",
                    "\n".join(body) + "\n",
                )
            )
            i += 1
    return found


def marked(marker: str) -> Block:
    """The block under ``<!-- marker -->``, wherever it is."""
    found = [b for b in blocks() if b.marker == marker]
    assert len(found) == 1, f"{marker}: {len(found)} blocks"
    return found[0]


def section(title: str) -> str:
    """The text under the heading ``title`` (any level) up to the next heading of the
    same or a higher level, in whichever page has it."""
    for path in PAGES:
        lines = path.read_text().split("\n")
        fence = False
        start = level = None
        for i, line in enumerate(lines):
            if line.startswith("```"):
                fence = not fence
                continue
            heading = None if fence else re.match(r"^(#+) (.*)$", line)
            if heading and start is None and heading.group(2).strip() == title:
                start, level = i, len(heading.group(1))
            elif heading and start is not None and len(heading.group(1)) <= (level or 0):
                return "\n".join(lines[start:i])
        if start is not None:
            return "\n".join(lines[start:])
    raise AssertionError(f"no section {title!r} in the docs")


def everything() -> str:
    return "\n".join(p.read_text() for p in PAGES)


#: Console commands the docs show but a test cannot run as written, and why.
SHOWN_ONLY = {
    "--to http://": "the reader's own receiver; the same options run against the test "
    "receiver in test_cli_send, test_load and test_negative",
    " receive": "runs in the foreground until stopped; test_cli_send and test_reliability "
    "run receive with --max-events, test_receive_forward runs receive --forward-to between "
    "a stand-in engine and a FastAPI receiver",
    ".jsonl": "reads a log an earlier command wrote (a command that writes it first, with "
    "--log, runs); test_api and test_replay_streaming replay logs",
}


def shown_only(text: str) -> bool:
    """Whether a docs command cannot run as written (see SHOWN_ONLY)."""
    return any(
        key in text and not (key == ".jsonl" and "--log " in text.split(".jsonl")[0])
        for key in SHOWN_ONLY
    )


def console_examples() -> list[tuple[str, list[str]]]:
    """Every `$ atscale-mock ...` command of the docs' console blocks that runs on any
    machine, with the lines shown after it (not the SHOWN_ONLY ones)."""
    found = []
    for block in (b.text for b in blocks() if b.lang == "console"):
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
            text = " ".join(c.strip() for c in command)
            if not shown_only(text):
                found.append((text, shown))
    return found


def normal(line: str, seeded: bool) -> str:
    """Without what varies between runs: latencies, durations, ports (and without a
    --seed, the random seed and ids)."""
    line = re.sub(r"\d+\.\d+ ms", "N ms", line)
    line = re.sub(r" in \d+\.\d+s", " in Ns", line)
    line = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", line)
    if not seeded:
        line = re.sub(r"(seed:? )\d+", r"\1N", line)
        line = re.sub(r"id=[0-9a-f-]{36}", "id=ID", line)
    return line.rstrip()


def run_example(command: str, shown: list[str], cwd: Path, env: dict[str, str]) -> None:
    """Run ``command`` in bash (globs as a shell expands them) with ``atscale-mock`` as
    this Python's ``-m atscale_mock``; every shown line must appear in order, and it
    must end as shown: exit 2 only when an ``error:`` is shown, never a traceback."""
    script = f'atscale-mock() {{ "{sys.executable}" -m atscale_mock "$@"; }}\n{command}\n'
    done = subprocess.run(
        ["bash", "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=90,
        cwd=cwd,
        env={**os.environ, **env},
    )  # fmt: skip (one stream: the order a terminal shows)
    assert "Traceback" not in done.stdout, done.stdout
    if any(line.startswith("error:") for line in shown):
        assert done.returncode == 2, done.stdout
    else:
        assert done.returncode in (0, 1), done.stdout
        assert "error:" not in done.stdout, done.stdout
    seeded = any(w in command for w in ("--seed", " plan ", " run "))  # files carry seeds
    printed = [normal(x, seeded) for x in done.stdout.splitlines()]
    position = 0
    for line in shown:
        if line.strip() in ("...", "\u2026") or not line.strip():
            continue
        want = normal(line, seeded)
        head = want.split("...")[0]  # a line cut short with '...' is checked up to it
        while position < len(printed) and not (
            printed[position] == want or ("..." in want and printed[position].startswith(head))
        ):
            position += 1
        assert position < len(printed), f"{command!r} did not print {line!r}:\n{done.stdout}"
        position += 1


#: --help examples a test cannot run as written, and why.
HELP_SHOWN_ONLY = {
    "atscale-mock serve": "runs until stopped; test_serve starts serve with each option",
    "atscale-mock trigger": "needs a running serve; test_serve runs trigger against one",
    "atscale-mock receive": "runs in the foreground; test_cli_send runs it with --max-events",
    "got.jsonl": "a receive --record file; test_replay_streaming replays recordings, "
    "test_receive_forward runs drift over one, test_from_recording from-recording",
    "--to URL": "URL stands for the reader's receiver; test_load runs --ramp",
}


def help_examples() -> list[str]:
    """Every example command of every command's --help, continuation lines joined."""
    import typer

    from atscale_mock.cli.root import app

    root = typer.main.get_command(app)
    parent = typer.Context(root, info_name="atscale-mock")
    texts = [root.get_help(parent)]
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        context = typer.Context(command, info_name=name, parent=parent)
        texts.append(command.get_help(context))
        for sub_name, sub in getattr(command, "commands", {}).items():  # a group's commands
            texts.append(sub.get_help(typer.Context(sub, info_name=sub_name, parent=context)))
    found = []
    for text in texts:
        lines = text.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i].strip().removeprefix("Example: ").removeprefix("Examples: ")
            i += 1
            if not line.startswith("atscale-mock "):
                continue
            while line.endswith("\\") and i < len(lines):
                line = line[:-1].rstrip() + " " + lines[i].strip()
                i += 1
            found.append(line.split("   #")[0].strip())
    return found
