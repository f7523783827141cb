"""atscale-mock in a receiver's own pytest suite (installed with the package through the
``pytest11`` entry point; no conftest needed).

Fixtures:

* ``atscale_engine``: sends engine events at a target: ``.send(event, ...)``,
  ``.run(scenario, ...)``, ``.lifecycle(...)`` (batch start -> result -> prune). The
  target comes from the call (``to=``: a URL, ``"local"``, or an ASGI/WSGI app object,
  delivered in process), else ``--atscale-target URL``, else the ``atscale_target`` ini
  key. A delivery that does not meet its expectation fails the test with the status,
  the receiver's answer, the payload and the seed that reproduces it.
* ``atscale_receiver``: the built-in receiver on a free port, new for each test, with
  ``.url``, ``.events``, ``.wait_for()``, ``.assert_received()``,
  ``.assert_all_signed()``.
* ``atscale_sign``: ``atscale_sign(payload_or_bytes, secret, scheme=...)`` -> the
  headers that sign a request of the test's own.

``pytest --atscale-scenarios 'scenarios/*.yaml'`` (or the ``atscale_scenarios`` ini
key) collects each scenario file as a test item, run against the target.

Nothing of atscale-mock is imported until a fixture or a scenario item is used, so a
session that does not use the plugin pays nothing for it.
"""

from __future__ import annotations

import glob
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .config import SECRET_ENV
from .report.printable import for_terminal

if TYPE_CHECKING:
    from .api.results import SendResult
    from .check.scorecard import Scorecard
    from .receiver.local import Received, Receiver
    from .scenario.result import RunResult

BODY_SHOWN = 500  # characters of a receiver's answer shown in a failure


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("atscale-mock", "AtScale engine webhooks (atscale-mock)")
    group.addoption(
        "--atscale-target",
        metavar="URL",
        default=None,
        help="Where atscale_engine and scenario items send (a receiver URL, or 'local').",
    )
    group.addoption(
        "--atscale-scenarios",
        metavar="GLOB",
        action="append",
        default=None,
        help="Collect these scenario files as test items (repeatable).",
    )
    group.addoption(
        "--atscale-sign",
        metavar="MODE",
        default=None,
        help="Sign scenario items' deliveries: standard-webhooks or hmac-sha256 "
        f"(the key from --atscale-secret or ${SECRET_ENV}).",
    )
    group.addoption(
        "--atscale-secret",
        metavar="KEY",
        default=None,
        help=f"The signing key for --atscale-sign (prefer ${SECRET_ENV}: a command line "
        "is visible to other users of the machine).",
    )
    parser.addini("atscale_target", "Default target of atscale_engine and scenario items.")
    parser.addini("atscale_sign", "Default signing mode of scenario items (see --atscale-sign).")
    parser.addini("atscale_scenarios", "Scenario files to collect (globs).", type="linelist")


def _target(config: pytest.Config) -> Any:
    return config.getoption("--atscale-target") or config.getini("atscale_target") or None


def _signing(config: pytest.Config) -> Any:
    """The Signing scenario items use (None: unsigned), from --atscale-sign or the ini
    key, the key from --atscale-secret or the environment; a bad mode or a missing key
    is a usage error before any item runs."""
    import os

    mode = config.getoption("--atscale-sign") or config.getini("atscale_sign") or None
    secret = config.getoption("--atscale-secret") or os.environ.get(SECRET_ENV)
    if mode is None:
        return None
    if not secret:
        raise pytest.UsageError(f"--atscale-sign needs --atscale-secret KEY or ${SECRET_ENV}")
    from .api.options import Signing
    from .errors import UsageError

    try:
        return Signing(mode, secret)
    except UsageError as exc:  # "scheme: ..." / "secret: ...": said of this option
        message = exc.message.removeprefix(exc.field + ": ") if exc.field else exc.message
        raise pytest.UsageError(f"--atscale-sign {mode}: {message}") from None


class DeliveryFailed(AssertionError):
    """A delivery did not meet its expectation; the message reads like pytest's own."""


def _describe(result: SendResult, expect: Any) -> str:
    lines = []
    for d in result.deliveries:
        if d.passed:
            continue
        got = d.status if d.status is not None else f"{d.error_class} ({d.error})"
        wanted = " or ".join(expect) if expect else "2xx"
        lines.append(
            f"{d.event}{' #' + d.label if d.label else ''}: expected status {wanted}, got {got}"
        )
        if d.response_body:
            lines.append(f"  response body: {d.response_body[:BODY_SHOWN]}")
        lines.append(f"  payload: {json.dumps(d.payload)[:BODY_SHOWN]}")
    lines.append(f"  reproduce with seed={result.seed}")
    return for_terminal("\n".join(lines))


class EventSender:
    """What ``atscale_engine`` gives a test: the library's calls, aimed at the target
    and checked (``check=False`` returns the result without failing the test)."""

    def __init__(self, target: Any) -> None:
        self.target = target

    def _to(self, to: Any) -> Any:
        chosen = to if to is not None else self.target
        if chosen is None:
            raise pytest.UsageError(
                "atscale_engine has no target: pass to= (a URL, 'local' or an app), "
                "--atscale-target URL, or set atscale_target in the ini file"
            )
        return chosen

    def send(self, event: str, *, to: Any = None, check: bool = True, **options: Any) -> SendResult:
        """:func:`atscale_mock.send` to the target; fails the test when a delivery
        misses its expectation (``expect_status``, default a 2xx)."""
        from .api.send import send

        __tracebackhide__ = True
        result = send(event, to=self._to(to), **options)
        if check and not result.ok:
            raise DeliveryFailed(_describe(result, _expected(options)))
        return result

    def run(
        self, scenario: str | Path, *, to: Any = None, check: bool = True, **options: Any
    ) -> RunResult:
        """:func:`atscale_mock.run` to the target; fails the test on a failed step."""
        from .api.scenario import run

        __tracebackhide__ = True
        result = run(scenario, to=self._to(to), **options)
        if check and not result.ok:
            raise DeliveryFailed(_run_failures(result))
        return result

    def check(self, to: Any = None, *, fail: bool = True, **options: Any) -> Scorecard:
        """:func:`atscale_mock.check`: the conformance battery (and ``fuzz=N``) against
        the target or ``to`` (an app, with ``path=`` its route); fails the test with the
        scorecard when a "must" check fails or fuzzing finds something
        (``fail=False`` returns the scorecard without failing)."""
        from .api.check import check

        __tracebackhide__ = True
        card = check(self._to(to), **options)
        if fail and not card.ok:
            raise DeliveryFailed(card.text())
        return card

    def lifecycle(
        self,
        *,
        to: Any = None,
        prune: bool = False,
        failed: bool = False,
        seed: int | None = None,
        check: bool = True,
        **options: Any,
    ) -> list[SendResult]:
        """A coherent batch: start -> result (-> prune), sharing the batch ``id``,
        project and cube. ``failed`` gives the result an error."""
        from .events.make import batch_of, payload

        __tracebackhide__ = True
        start = payload("batch-start", seed=seed)
        shared = batch_of(start)
        first = dict(shared, is_full_build=start["is_full_build"])
        common = {"to": to, "check": check, "seed": seed, **options}
        results = [self.send("batch-start", set=first, **common)]
        results.append(self.send("batch-result", set=shared, failed=failed, **common))
        if prune:
            results.append(self.send("prune-result", set=shared, **common))
        return results


def _expected(options: dict[str, Any]) -> list[str]:
    status = options.get("expect_status")
    if status is None:
        return []
    return status.split(",") if isinstance(status, str) else [str(s) for s in status]


def _run_failures(result: RunResult) -> str:
    lines = [
        f"scenario {result.scenario.name} ({result.scenario.file}): "
        f"{result.failed} failed, {result.not_sent} not sent of {result.planned}"
    ]
    line_of: Callable[[tuple[str | int, ...]], int] | None = None
    for r in result.deliveries:
        if r.passed:
            continue
        step = r.planned.step
        if line_of is None:  # the file is read again once, at the first failure
            line_of = _step_lines(result.scenario.file)
        where = f"{result.scenario.file}:{line_of(step.path)}"
        lines.append(f"step {step.id} ({r.planned.label}) at {where}")
        for failure in r.failures:
            lines.append(f"  {failure}")
        body = r.tries[-1].outcome.body
        if body:
            lines.append(f"  response body: {body[:BODY_SHOWN]}")
    lines.append(f"  reproduce with seed={result.seed}")
    return for_terminal("\n".join(lines))


def _step_lines(file: str) -> Callable[[tuple[str | int, ...]], int]:
    """Where the step at a path starts in the file (block or flow style), from one read
    of it; 0 when the file cannot be read again."""
    from .scenario import yamlpos

    try:
        doc, _ = yamlpos.load(Path(file).read_bytes(), file)
    except OSError:
        return lambda path: 0

    def line(path: tuple[str | int, ...]) -> int:
        mark = doc.mark_of(path)
        return mark.line if mark else 0

    return line


@pytest.fixture
def atscale_engine(request: pytest.FixtureRequest) -> EventSender:
    """Send engine events at the target (to=, --atscale-target or atscale_target)."""
    return EventSender(_target(request.config))


class ReceiverFixture:
    """The built-in receiver for one test, with assertions."""

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver

    @property
    def url(self) -> str:
        return self.receiver.url + "/hooks"

    @property
    def events(self) -> list[Received]:
        return self.receiver.events

    def wait_for(self, event_type: str, timeout: float = 5.0) -> Received:
        return self.receiver.wait_for(event_type, timeout)

    def assert_received(self, event_type: str, count: int | None = None) -> list[Received]:
        """The requests of ``event_type`` (an ``event_type`` or CLI name); at least one,
        or exactly ``count``."""
        from .events.catalogue import find_event

        __tracebackhide__ = True
        known = find_event(event_type)
        wanted = known.event_type if known else event_type
        got = [e for e in self.events if e.event_type == wanted]
        seen = sorted({str(e.event_type) for e in self.events})
        if count is None and not got:
            raise AssertionError(f"no {wanted} event received; received: {seen or 'nothing'}")
        if count is not None and len(got) != count:
            raise AssertionError(f"expected {count} {wanted} event(s), received {len(got)}")
        return got

    def assert_all_signed(self, secret: str | None = None) -> None:
        """Every request carries a signature (with ``secret``: a valid one)."""
        from .delivery.signing import verify

        __tracebackhide__ = True
        for e in self.events:
            headers = {k.lower(): v for k, v in e.headers.items()}
            if "webhook-signature" not in headers and "x-signature" not in headers:
                raise AssertionError(f"{e.event_type} to {e.path} is not signed")
            if secret is not None:
                verdict = verify(secret, e.headers, e.body)
                if verdict != "valid":
                    raise AssertionError(f"{e.event_type} to {e.path}: signature {verdict}")


@pytest.fixture
def atscale_receiver() -> Iterator[ReceiverFixture]:
    """The built-in receiver on a free loopback port, new for each test."""
    from .receiver.local import Receiver

    with Receiver() as receiver:
        yield ReceiverFixture(receiver)


@pytest.fixture
def atscale_sign() -> Any:
    """``atscale_sign(payload_or_bytes, secret, scheme="standard-webhooks")`` -> the
    headers that sign a request (with ``Content-Type``); the body to send is
    ``json.dumps(payload, separators=(",", ":"))`` for a dict."""
    from .api.signing import sign_headers

    return sign_headers


# -- scenario files as test items ---------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Scenario files become items before pytest's own ``-k``/``-m`` selection runs, so
    ``-k 'not x'`` and ``-k 'a or b'`` select them as they select any test."""
    patterns = config.getoption("--atscale-scenarios") or config.getini("atscale_scenarios")
    if not patterns:
        return
    root = Path(str(config.rootpath))
    files: list[Path] = []
    for pattern in patterns:
        matched = sorted(glob.glob(pattern, recursive=True)) or sorted(
            glob.glob(str(root / pattern), recursive=True)
        )
        if not matched:
            raise pytest.UsageError(f"--atscale-scenarios {pattern!r} matches no file")
        files += [Path(m).resolve() for m in matched]
    sign = _signing(config)  # a bad mode or a missing key stops the session here
    added: list[pytest.Item] = []
    for path in dict.fromkeys(files):
        rel = _relative(path, root)
        # the node id carries the file's path: two smoke.yaml in a/ and b/ are told
        # apart in reports and JUnit, and -k selects by any part of the path
        item = ScenarioItem.from_parent(
            session, name=path.stem, path=path, nodeid=f"{rel}::{path.stem}"
        )
        item.extra_keyword_matches.update(Path(rel).parts)
        item.sign = sign
        added.append(item)
    items.extend(added)
    if added:  # counted as collected (--collect-only said "no tests collected")
        from _pytest.reports import CollectReport

        config.hook.pytest_collectreport(
            report=CollectReport(nodeid="", outcome="passed", longrepr=None, result=list(added))
        )


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


class ScenarioItem(pytest.Item):
    """One scenario file, run against the target; each step a report section."""

    def __init__(self, *, path: Path, **kwargs: Any) -> None:
        super().__init__(path=path, **kwargs)
        self.scenario_path = path
        self.sign: Any = None  # the session's Signing (--atscale-sign), set at collection

    def runtest(self) -> None:
        from .api.scenario import run

        target = _target(self.config)
        options: dict[str, Any] = {"sign": self.sign}
        if target:
            options["to"] = target
        result = run(self.scenario_path, **options)
        self.add_report_section("call", "steps", _steps_text(result))
        if not result.ok:
            raise DeliveryFailed(_run_failures(result))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, DeliveryFailed):
            return str(excinfo.value)
        if excinfo.errisinstance(Exception) and hasattr(excinfo.value, "render"):
            return str(excinfo.value.render())
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.scenario_path, 0, f"scenario: {self.scenario_path.name}"


def _steps_text(result: RunResult) -> str:
    lines = []
    for r in sorted(result.deliveries, key=lambda r: (r.planned.group, r.planned.offset)):
        o = r.tries[-1].outcome
        got = o.status if o.status is not None else o.error_class
        mark = "PASS" if r.passed else "FAIL"
        lines.append(f"{mark} {r.planned.label} ({r.planned.step.event.name}): {got}")
    return "\n".join(lines)


#: the class's former name ("engine" now names only the simulated AtScale engine)
Engine = EventSender
