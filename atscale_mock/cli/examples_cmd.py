"""``atscale-mock examples``: the example scenarios an installation carries."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import UsageError
from .common import err, handle_errors, out, print_json
from .options import Json


@handle_errors
def examples(
    copy: Annotated[
        Path | None,
        typer.Option(
            "--copy",
            metavar="DIR",
            help="Write every example into DIR (made if missing), with the scenario JSON "
            "Schema beside them for editors.",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="With --copy: overwrite files already there.")
    ] = False,
    json_out: Json = False,
) -> None:
    """List the example scenarios this installation carries, or copy them to start from.
    `scenarios/NAME.yaml` in any command is the bundled NAME where no such file exists.

    Examples:

      atscale-mock examples

      atscale-mock examples --copy scenarios && atscale-mock validate scenarios/*.yaml

    Exit codes: 0 listed or copied, 2 a file exists (give --force) or DIR is not writable.
    """
    from .. import examples as bundled

    if copy is None:
        found = bundled.examples()
        if json_out:
            print_json([{"name": e.name, "path": str(e.path), "about": e.about} for e in found])
            return
        width = max((len(e.name) for e in found), default=0)
        for e in found:
            out(f"{e.name:<{width}}  {e.about}")
        if found:
            err(f"run one with: atscale-mock run scenarios/{found[0].name} --to local")
        return
    from ..scenario.jsonschema import scenario_schema

    try:
        written = bundled.copy_to(copy, scenario_schema(), overwrite=force)
    except FileExistsError as exc:
        raise UsageError(f"--copy: {exc} exists", "give --force to overwrite it") from None
    except OSError as exc:
        raise UsageError(f"--copy: cannot write {copy}: {exc.strerror}") from None
    if json_out:
        print_json([str(p) for p in written])
        return
    for path in written:
        out(str(path))
    err(f"wrote {len(written)} files; next: atscale-mock validate {copy}/*.yaml")
