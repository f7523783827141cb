"""``atscale-mock drift``: the spec drift report of a recording."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import err, handle_errors, out, print_json
from .options import AtscaleVersion, Json


@handle_errors
def drift(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A receive --record or --log file.")],
    atscale_version: AtscaleVersion = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 when there is drift (for CI).")
    ] = False,
    json_out: Json = False,
) -> None:
    """Say where recorded payloads differ from the documented catalogue, per event type:
    fields the docs do not name (with examples), fields the docs' example shows that were
    missing, values of another type (a null where the docs say a value) or form (a UUID
    that is not one, a time without Z), constants with undocumented values, and event
    types the catalogue (of --atscale-version) does not have. Documented fields never
    seen are listed apart: the docs' own examples omit them, so they are not drift.

    Examples:

      atscale-mock drift got.jsonl

      atscale-mock drift got.jsonl --atscale-version I2022.4.1 --strict --json

    Exit codes: 0 reported (drift or not), 1 drift with --strict, 2 the file cannot be
    read.
    """
    from ..api.drift import drift as drift_of

    report = drift_of(file, atscale_version=atscale_version)
    if json_out:
        print_json(report.to_json())
    else:
        for line in report.lines():
            out(line)
    if strict and report.drifted:
        err("drift found: exit 1 (--strict)")
        raise typer.Exit(1)
