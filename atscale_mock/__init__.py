"""atscale-mock: a mock AtScale engine that emits the engine's webhooks.

The library is the product; the ``atscale-mock`` command is a thin layer over it::

    import atscale_mock as am

    am.payload("slow-query", seed=1)                  # one payload, as a dict
    am.send("slow-query", to="local").ok              # deliver it (built-in receiver)
    am.send("batch-start", to=url, count=100, rate=50,
            sign=am.Signing("standard-webhooks", "whsec_..."),
            faults=am.Faults(duplicates=0.1), retries=am.Retry(3))
    am.run("scenarios/batch-lifecycle.yaml", to=url)  # a scenario file
    am.plan("scenarios/batch-lifecycle.yaml", seed=1) # what it would send
    am.replay("sent.jsonl", to=url)                   # re-send a log
    am.load(to=url, rate=500, duration=10)            # sustained load
    with am.Receiver() as r: ...                      # the built-in receiver
    am.Receiver(behaviour=am.Behaviour(forward=am.Forward(url)))  # ... as a checking proxy
    am.sign_headers(payload, "whsec_...")             # sign a request of your own
    am.check(url, sign=am.Signing(...), fuzz=500)     # conformance battery + fuzzing
    am.drift("got.jsonl").drifted                     # a recording vs the documented catalogue
    with am.EngineServer() as engine: ...             # the mock engine (serve), on a thread

Async twins: ``asend``, ``arun`` (the same keywords as ``send``, ``run``). Options are
frozen records (``Signing``, ``Retry``, ``Faults``, and ``Delivery``, which holds them
with the headers, timeout, TLS verification, deliveries in flight and transport: every
delivering function takes ``delivery=``, its keywords of the same names are
shortcuts; ``PayloadOptions`` says how payloads are made, taken as ``payload_options=``
by ``payload`` and ``send``, whose ``set``, ``full``, ``failed``, ... are its shortcuts);
results are records with ``ok``,
``failed``, ``interrupted`` and ``to_json()`` (frozen but ``RunResult``, which a run
fills in as its deliveries settle), and their ``summary`` is a typed
record (``DeliverySummary``; a load's ``LoadSummary``). Errors derive from
``AtscaleMockError``. Nothing here prints or exits. A long call (``check``, ``load``)
turns Ctrl-C into its own stop flag while it runs (the scorecard or summary so far comes
back, marked interrupted) and puts Python's default handler back after.

The open-ended values are named: ``Target`` (a URL, ``"local"`` or an ASGI/WSGI
``App``), ``Transport`` (an httpx transport or a Sender), ``JSON`` (a JSON value).
What callbacks receive is exported to annotate them: ``Attempt`` (``on_attempt``, with
its ``Request`` and ``Outcome``), ``DeliveryResult`` (``run``'s ``on_result``),
``Received`` (the built-in receiver's ``on_received``), ``CheckResult`` (``check``'s
``on_check``) and ``Finding``.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING

__version__ = "0.1.0"

__all__ = [
    "AtscaleMockError",
    "App",
    "Attempt",
    "Behaviour",
    "JSON",
    "Target",
    "Transport",
    "Forward",
    "CheckResult",
    "DeliveryResult",
    "Finding",
    "Outcome",
    "Received",
    "Request",
    "Delivery",
    "DeliveryRecord",
    "DeliverySummary",
    "EngineServer",
    "Faults",
    "PayloadOptions",
    "LoadResult",
    "LoadSummary",
    "Receiver",
    "Retry",
    "RunResult",
    "Scorecard",
    "ScenarioError",
    "SendResult",
    "Signing",
    "UnknownEventError",
    "UnknownFieldError",
    "UsageError",
    "adeliver",
    "arun",
    "asend",
    "check",
    "demo",
    "drift",
    "Drift",
    "load",
    "payload",
    "plan",
    "replay",
    "run",
    "send",
    "sign_headers",
]

if TYPE_CHECKING:
    from .aliases import JSON, App, Target, Transport
    from .api.check import Scorecard, check
    from .api.deliver import adeliver
    from .api.drift import drift
    from .api.load import LoadResult, load
    from .api.options import Delivery, Retry, Signing
    from .api.replay import replay
    from .api.results import DeliveryRecord, SendResult
    from .api.scenario import arun, plan, run
    from .api.send import asend, demo, send
    from .api.signing import sign_headers
    from .check.scorecard import CheckResult, Finding
    from .delivery.faults import Faults
    from .delivery.retry import Attempt
    from .delivery.summary import DeliverySummary
    from .delivery.transport import Outcome, Request
    from .errors import (
        AtscaleMockError,
        ScenarioError,
        UnknownEventError,
        UnknownFieldError,
        UsageError,
    )
    from .events.drift import Drift
    from .events.make import payload
    from .events.payload import PayloadOptions
    from .load.summary import LoadSummary
    from .receiver.forward import Forward
    from .receiver.local import Behaviour, Received, Receiver
    from .scenario.result import DeliveryResult, RunResult
    from .serve.server import EngineServer

#: where each public name lives; imported on first use, so `atscale-mock --help` and
#: `import atscale_mock` stay fast
_LAZY = {
    "App": "aliases",
    "JSON": "aliases",
    "Target": "aliases",
    "Transport": "aliases",
    "Attempt": "delivery.retry",
    "Behaviour": "receiver.local",
    "Forward": "receiver.forward",
    "CheckResult": "check.scorecard",
    "DeliveryResult": "scenario.result",
    "Finding": "check.scorecard",
    "Outcome": "delivery.transport",
    "Received": "receiver.local",
    "Request": "delivery.transport",
    "adeliver": "api.deliver",
    "drift": "api.drift",
    "Drift": "events.drift",
    "check": "api.check",
    "Scorecard": "api.check",
    "load": "api.load",
    "LoadResult": "api.load",
    "Delivery": "api.options",
    "Retry": "api.options",
    "Signing": "api.options",
    "replay": "api.replay",
    "DeliveryRecord": "api.results",
    "SendResult": "api.results",
    "arun": "api.scenario",
    "plan": "api.scenario",
    "run": "api.scenario",
    "asend": "api.send",
    "demo": "api.send",
    "payload": "events.make",
    "PayloadOptions": "events.payload",
    "send": "api.send",
    "sign_headers": "api.signing",
    "Faults": "delivery.faults",
    "DeliverySummary": "delivery.summary",
    "LoadSummary": "load.summary",
    "AtscaleMockError": "errors",
    "ScenarioError": "errors",
    "UnknownEventError": "errors",
    "UnknownFieldError": "errors",
    "UsageError": "errors",
    "Receiver": "receiver.local",
    "RunResult": "scenario.result",
    "EngineServer": "serve.server",
}


def __getattr__(name: str) -> object:
    """Import a public name on first use and keep it, so that a submodule of the same
    name (``payload``, ``load``) never shadows it."""
    if name not in _LAZY:
        raise AttributeError(f"module 'atscale_mock' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """Two public functions share their names with a subpackage (``load/``, ``check/``).
    Importing a subpackage binds it on its package; this package declines that binding
    for those two names, so they stay the functions (through ``__getattr__``) without
    importing either subpackage up front."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in ("check", "load") and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
