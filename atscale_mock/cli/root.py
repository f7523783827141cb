"""The ``atscale-mock`` Typer app: every command registered, and one error style."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from .catalogue_cmds import events, schema, show
from .check_cmd import check
from .drift_cmd import drift
from .examples_cmd import examples
from .load_cmd import load, locustfile
from .receive_cmd import receive
from .replay_cmd import replay
from .scenario_cmds import from_recording, plan, run, validate
from .send_cmd import demo, send
from .serve_cmd import serve, trigger


class _OneErrorStyle(TyperGroup):
    """Click's usage errors printed in the tool's one error style (``error: ...`` and a
    ``hint:`` line), like every other error, instead of Click's ``Usage:/Error:`` block."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        if not kwargs.pop("standalone_mode", True):
            return super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[misc]
        from typer._click.exceptions import Abort, ClickException, NoArgsIsHelpError
        from typer._click.exceptions import UsageError as ClickUsageError

        from ..errors import UsageError
        from .common import EXIT_INTERRUPTED, INVOCATION, err

        given = kwargs.get("args", args[0] if args else None)
        INVOCATION[:] = [str(a) for a in (sys.argv[1:] if given is None else given)]
        from .option_table import refusal

        refused = refusal(INVOCATION)
        if refused is not None:  # one table says which command takes which option
            command, option, why = refused
            err(UsageError(f"{command} does not take {option}", why).render())
            sys.exit(2)

        try:
            code = super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[misc]
        except NoArgsIsHelpError as exc:  # a bare command: its help, as Click prints it
            exc.show()
            sys.exit(exc.exit_code)
        except ClickUsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else "atscale-mock"
            err(UsageError(exc.format_message(), f"see '{where} -h'").render())
            sys.exit(exc.exit_code)
        except ClickException as exc:
            err(UsageError(exc.format_message()).render())
            sys.exit(exc.exit_code)
        except Abort:
            err("interrupted")
            sys.exit(EXIT_INTERRUPTED)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    name="atscale-mock",
    cls=_OneErrorStyle,
    help="A mock AtScale engine that emits the engine's webhooks.\n\n"
    "Example: atscale-mock send slow-query --to local\n\n"
    "Exit codes: 0 ok, 1 a delivery or expectation failed, 2 usage error, "
    "130 interrupted.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def keep_examples(doc: str) -> str:
    """A command's help with its example paragraphs marked for Click not to rewrap
    (``\\b``): an example copied from a terminal of any width is the command as written."""
    import inspect

    paragraphs = inspect.cleandoc(doc).split("\n\n")
    marked = [
        "\b\n" + p if p.lstrip().startswith("atscale-mock ") and not p.startswith("\b") else p
        for p in paragraphs
    ]
    return "\n\n".join(marked)


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"atscale-mock {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    pass


for command in (
    events,
    show,
    schema,
    send,
    receive,
    drift,
    demo,
    examples,
    validate,
    plan,
    run,
    load,
    replay,
    locustfile,
    serve,
    trigger,
    check,
):
    command.__doc__ = keep_examples(command.__doc__ or "")
    app.command()(command)


scenario_app = typer.Typer(
    name="scenario",
    help="Make scenario files (validate, plan and run take them).",
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
from_recording.__doc__ = keep_examples(from_recording.__doc__ or "")
scenario_app.command("from-recording")(from_recording)
app.add_typer(scenario_app)


def main() -> None:
    # one name in every message and usage line, however it was started
    # (`python -m atscale_mock` too)
    app(prog_name="atscale-mock")
