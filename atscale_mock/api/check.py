"""``check()``: the conformance battery and, with ``fuzz``, schema-driven fuzzing of a
receiver, through the one delivery pipeline; the result is a :class:`Scorecard`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..aliases import Target
from ..check.battery import NAMES, describe, judge, parse_expect, select, skip_reason
from ..check.probes import DEFAULT_BURST, DEFAULT_MAX_LATENCY, Context
from ..check.scorecard import CheckResult, Finding, FuzzFigures, Scorecard
from ..delivery.retry import OnAttempt
from ..delivery.signing import DEFAULT_HMAC_HEADER
from ..errors import UsageError
from ..events.make import resolve_clock
from ..interrupts import sigint_sets
from .options import Delivery, Headers, Signing, delivery_of, refuse_unused, resolve_seed
from .send_plan import in_process, shown
from .target import is_local, resolve_target

if TYPE_CHECKING:
    from ..receiver.local import Behaviour

__all__ = ["MAX_BURST", "NAMES", "Scorecard", "check"]

#: concurrent deliveries the latency burst may make: each holds a connection and a
#: request in memory (30,000 held 1.4 GB). More concurrency than this is a load test:
#: ``atscale-mock load`` (or ``am.load``) is the explicit way to it.
MAX_BURST = 1000


def check(
    to: Target,
    *,
    sign: Signing | None = None,
    expect: Mapping[str, str] | Sequence[str] | None = None,
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    fuzz: int | None = None,
    fuzz_time: float | None = None,
    seed: int | None = None,
    max_latency: float = DEFAULT_MAX_LATENCY,
    burst: int = DEFAULT_BURST,
    delivery: Delivery | None = None,
    headers: Headers = None,
    timeout: float | None = None,
    verify: bool | str | None = None,
    path: str = "/",
    findings_dir: str | Path | None = None,
    clock: str | datetime | None = None,
    atscale_version: str | None = None,
    on_attempt: OnAttempt | None = None,
    on_check: Callable[[CheckResult], None] | None = None,
    stop: threading.Event | None = None,
) -> Scorecard:
    """Run the battery against ``to`` (a URL, ``"local"``, or an ASGI/WSGI app, then at
    route ``path``): every check of :data:`NAMES` unless ``only``/``skip`` say otherwise,
    the signature checks when ``sign`` is given. ``expect`` replaces a check's expected
    status (``{"forged": "401"}`` or ``["forged=401"]``). ``fuzz`` sends that many
    generated payloads, ``fuzz_time`` fuzzes for that many seconds. Ctrl-C ends it with
    the scorecard so far, marked ``interrupted``, and so does setting ``stop`` (from any
    thread: a signal handler, a server whose client hung up): sending stops within
    50 ms, what was in flight is recorded as interrupted. ``fuzz_time`` bounds the
    fuzzing itself, shrinking included: a send in flight when it runs out is cut short.
    ``burst`` is at most :data:`MAX_BURST`. The payloads' time is ``clock`` (an ISO 8601
    time, a datetime, or ``"now"``), by default the seeded one: with the same ``seed``,
    every body of the battery and the fuzzer is the same, run after run. ``"local"`` is
    the built-in receiver, verifying signatures with ``sign``'s secret. A finding too
    long for ``--set`` is saved under ``findings_dir`` for ``replay`` (none given: its
    reproducer names no file and the payload is in the finding). ``atscale_version``
    (``"I2022.4.1"``) sends only the events of that version's catalogue. ``delivery`` is
    the :class:`Delivery` record (``sign``, ``headers``, ``timeout``, ``verify`` are
    shortcuts for its fields); a check sends each probe once, as it is, so a record with
    ``retry``, ``faults`` or ``max_in_flight`` is refused naming the field."""
    from ..events.versions import LATEST, catalogue

    judged_by = catalogue(atscale_version)
    run_seed = resolve_seed(seed)
    how = delivery_of(delivery, sign=sign, headers=headers, timeout=timeout, verify=verify)
    refuse_unused(how, "check", ("retry", "faults", "max_in_flight"))
    sign = how.sign  # one Signing record: what the prober signs with
    expects = parse_expect(dict(expect) if isinstance(expect, Mapping) else expect)
    chosen = select(only, skip)
    if not chosen and not (fuzz or fuzz_time):
        raise UsageError(
            "only and skip leave no check to run (and no fuzzing was asked for)",
            "checks: " + ", ".join(NAMES),
        )
    if fuzz is not None and fuzz < 1:
        raise UsageError(f"fuzz must be at least 1 payload, got {fuzz}")
    if fuzz_time is not None and not 0 < fuzz_time < 1e6:
        raise UsageError(f"fuzz_time must be a positive number of seconds, got {fuzz_time}")
    if not 0 < max_latency < 1e6:
        raise UsageError(
            f"max_latency must be more than 0 seconds, got {max_latency}", field="max_latency"
        )
    if not 1 <= burst <= MAX_BURST:
        raise UsageError(
            f"burst must be from 1 to {MAX_BURST} concurrent deliveries, got {burst}",
            "for more concurrency, run a load test: atscale-mock load",
            field="burst",
        )
    app_target = not isinstance(to, str)
    url, how = in_process(to, path, how)
    results: list[CheckResult] = []
    figures: FuzzFigures | None = None
    findings: tuple[Finding, ...] = ()
    interrupted = False
    start = time.monotonic()
    # from here on Ctrl-C is a flag (a KeyboardInterrupt can be swallowed by hypothesis's
    # gc callback, which its import installs)
    local = _verifying(sign)
    with (
        sigint_sets(stop or threading.Event()) as flag,
        resolve_target(url, behaviour=local) as target_url,
    ):
        if fuzz or fuzz_time:
            from ..check.fuzz import require

            require()
        from ..check.prober import Prober

        ctx = Context(
            target_url,
            run_seed,
            sign,
            burst,
            max_latency,
            resolve_clock(clock, True) or datetime.now(UTC),
            headers=how.headers,
            events=judged_by.events,
        )
        flags = _header_flags(ctx.headers) + _sign_flags(sign)
        if judged_by.version != LATEST:
            flags += f" --atscale-version {judged_by.version}"
        reproduce_to = (
            "URL" if app_target else ("local" if is_local(url) else _reproduce_to(target_url))
        )
        again = _Reproducer(
            app_target,
            path,
            reproduce_to,
            run_seed,
            flags,
            expects,
            max_latency,
            burst,
        )
        with Prober(
            target_url,
            signer=sign,
            timeout=how.timeout,
            verify=how.verify,
            transport=how.transport,
            on_attempt=on_attempt,
            stop=flag,
            max_connections=max(burst, 64),
        ) as prober:
            try:
                for c in chosen:
                    wanted = expects.get(c.name, c.expects)
                    reason = skip_reason(c, sign)
                    if reason:
                        result = CheckResult(c, "skip", describe(wanted), (), reason)
                    else:
                        probes = c.build(ctx)
                        attempts = prober.send(probes, concurrent=c.concurrent)
                        result = again.of(judge(c, ctx, probes, attempts, wanted))
                    results.append(result)
                    if on_check:
                        on_check(result)
                if fuzz or fuzz_time:
                    from ..check.fuzz import Finder

                    finder = Finder(
                        prober,
                        ctx,
                        reproduce_to=reproduce_to,
                        sign_flags=flags,
                        findings_dir=Path(findings_dir) if findings_dir else None,
                    )
                    if fuzz_time is not None:
                        prober.deadline = time.monotonic() + fuzz_time
                    try:
                        figures = finder.run(fuzz, fuzz_time)
                    finally:
                        findings = tuple(finder.findings)
                        if figures is None:
                            figures = finder.figures(time.monotonic() - start)
            except KeyboardInterrupt:
                interrupted = True
    return Scorecard(
        "in-process app" + (f" {path}" if path != "/" else "") if app_target else shown(url),
        tuple(results),
        findings,
        figures,
        time.monotonic() - start,
        run_seed,
        interrupted,
    )


def _verifying(signer: Signing | None) -> Behaviour | None:
    """How ``"local"`` answers a check: verifying signatures with the check's secret,
    as the receiver under test would, so the built-in receiver passes its own check."""
    if signer is None:
        return None
    from ..receiver.local import Behaviour

    return Behaviour(secret=signer.secret, signature_header=signer.header)


@dataclass(frozen=True, slots=True)
class _Reproducer:
    """The command that runs one check again, exactly (the seed fixes every body)."""

    in_process: bool
    path: str
    to: str
    seed: int
    flags: str  # -H and --sign, secrets as shell variables
    expects: Mapping[str, tuple[str, ...]]
    max_latency: float
    burst: int

    def of(self, result: CheckResult) -> CheckResult:
        if result.verdict not in ("fail", "warn"):
            return result
        return replace(result, reproduce=self.command(result.name))

    def command(self, name: str) -> str:
        extra = ""
        if name in self.expects:
            extra += f" --expect {name}={','.join(self.expects[name])}"
        if name == "latency":
            extra += f" --max-latency {self.max_latency:g}s --burst {self.burst}"
        if self.in_process:
            return (
                f"am.check(app, path={self.path!r}, only=[{name!r}], seed={self.seed})"
                "  # the app object you passed, with the same sign= and headers="
            )
        return (
            f"atscale-mock check --to {self.to} --only {name} --seed {self.seed}{extra}{self.flags}"
        )


def _sign_flags(sign: Signing | None) -> str:
    """What a reproducer needs to sign as the check did (the secret from the environment:
    it is never printed)."""
    if sign is None:
        return ""
    header = (
        f" --signature-header {sign.header}"
        if sign.scheme == "hmac-sha256" and sign.header != DEFAULT_HMAC_HEADER
        else ""
    )
    return f" --sign {sign.scheme}{header}  # with $ATSCALE_MOCK_SECRET set"


def _reproduce_to(url: str) -> str:
    """The URL a reproducer sends to, shell-quoted: a password in it becomes
    ``$ATSCALE_MOCK_URL_PASSWORD`` (expanded by the shell, never printed), so the
    reproducer reaches the receiver the check reached."""
    import shlex
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password is None:
        return shlex.quote(url)
    head, _, rest = url.partition("://")
    userinfo, _, after = rest.partition("@")
    user = userinfo.partition(":")[0]
    return f'"{head}://{user}:${{{URL_PASSWORD_ENV}}}@"' + shlex.quote(after)


URL_PASSWORD_ENV = "ATSCALE_MOCK_URL_PASSWORD"


def _header_flags(headers: Sequence[tuple[str, str]]) -> str:
    """The check's ``-H`` headers for a reproducer: a plain one as it was, a sensitive
    one (Authorization, a token, a key) as a shell variable named after it, so the
    reproducer sends what the check sent without printing the secret."""
    import re
    import shlex

    from ..redact import is_sensitive_header

    flags = []
    for name, value in headers:
        if is_sensitive_header(name):
            var = "ATSCALE_MOCK_H_" + re.sub(r"[^A-Z0-9]", "_", name.upper())
            flags.append(f' -H "{name}: ${{{var}}}"')
        else:
            flags.append(" -H " + shlex.quote(f"{name}: {value}"))
    return "".join(flags)
