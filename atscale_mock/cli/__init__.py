"""The ``atscale-mock`` command line: a thin layer over the library.

Exit codes: 0 success; 1 a delivery got no 2xx or an expectation failed;
2 usage error or invalid input; 130 interrupted (Ctrl-C, SIGTERM).

:func:`main` holds SIGINT and SIGTERM before it imports the commands (about 0.15 s):
a signal that arrives meanwhile is kept for the command, which ends with its exit code
and summary as for any later signal, instead of a traceback from inside an import.
The app itself is in :mod:`.root` (``from atscale_mock.cli import app`` still works).
"""

from __future__ import annotations

from typing import Any


def main() -> None:
    from ..interrupts import hold

    hold()
    from .root import main as run

    run()


def __getattr__(name: str) -> Any:
    if name == "app":
        from .root import app

        return app
    raise AttributeError(name)
