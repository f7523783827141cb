"""Option groups declared once and stacked on every command that takes them, as
sqlite-utils stacks its option groups: a command declares one parameter for the record
(``faults: Faults``, ``signing: Signing | None``); the group adds its options to the
command line (after the command's own, in ``--help`` too) and hands the command the
record they make, so an option is spelled, documented and checked in one place.

    @fault_options      --duplicates --reorder --drop --delay --jitter --malformed
                        --malformed-rate                            -> faults: Faults
    @signing_options    --sign --secret --signature-header          -> signing
    @negative_signing   the same, and --bad-signature --stale-timestamp
    @payload_options    --set --full --failed --error --org --project --cube
                        --slow-threshold --clock     -> payload_options: PayloadOptions
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ..delivery.faults import Faults
from ..events.catalogue import SLOW_QUERY_THRESHOLD_S
from ..events.payload import PayloadOptions, parse_assignment
from .delivery_opts import (
    DEFAULT_HMAC_HEADER,
    BadSignature,
    Delay,
    Drop,
    Duplicates,
    Jitter,
    Malformed,
    MalformedRate,
    Reorder,
    Secret,
    Sign,
    SignatureHeader,
    Stale,
    make_faults,
    make_signing,
)
from .options import Clock, Cube, ErrorText, Failed, Full, Org, Project, Sets, SlowThreshold

F = TypeVar("F", bound=Callable[..., Any])

#: a command's ``faults`` default: what it gets called without the group (never from
#: the command line, where the group always hands one in)
NO_FAULTS = Faults()
NO_PAYLOAD_OPTIONS = PayloadOptions()


def _option(name: str, annotation: object, default: object) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=annotation
    )


def stacked(
    into: str, params: Sequence[inspect.Parameter], build: Callable[..., object]
) -> Callable[[F], F]:
    """A decorator adding ``params`` to a command and passing it ``into=build(**them)``."""

    def decorate(command: F) -> F:
        signature = inspect.signature(command, eval_str=True)
        own = [p for p in signature.parameters.values() if p.name != into]
        if len(own) == len(signature.parameters):
            raise TypeError(f"{command.__name__} must take {into!r} to stack its options")

        @functools.wraps(command)
        def wrapper(*args: object, **kwargs: object) -> object:
            values = {p.name: kwargs.pop(p.name, p.default) for p in params}
            return command(*args, **kwargs, **{into: build(**values)})

        wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[*own, *params]
        )
        wrapper.__annotations__ = {p.name: p.annotation for p in (*own, *params)}
        return wrapper  # type: ignore[return-value]

    return decorate


FAULTS = (
    _option("duplicates", Duplicates, 0.0),
    _option("reorder", Reorder, 0),
    _option("drop", Drop, 0.0),
    _option("delay", Delay, 0.0),
    _option("jitter", Jitter, 0.0),
    _option("malformed", Malformed, None),
    _option("malformed_rate", MalformedRate, 1.0),
)
SIGNING = (
    _option("sign", Sign, None),
    _option("secret", Secret, None),
    _option("signature_header", SignatureHeader, DEFAULT_HMAC_HEADER),
)
NEGATIVE = (
    _option("bad_signature", BadSignature, False),
    _option("stale_timestamp", Stale, 0.0),
)

fault_options = stacked("faults", FAULTS, make_faults)
signing_options = stacked(
    "signing",
    SIGNING,
    lambda sign, secret, signature_header: make_signing(sign, secret, signature_header, False, 0.0),
)
negative_signing = stacked(
    "signing",
    (*SIGNING, *NEGATIVE),
    lambda sign, secret, signature_header, bad_signature, stale_timestamp: make_signing(
        sign, secret, signature_header, bad_signature, stale_timestamp
    ),
)

PAYLOAD = (
    _option("sets", Sets, None),
    _option("full", Full, False),
    _option("failed", Failed, False),
    _option("error", ErrorText, None),
    _option("org", Org, None),
    _option("project", Project, None),
    _option("cube", Cube, None),
    _option("slow_threshold", SlowThreshold, SLOW_QUERY_THRESHOLD_S),
    _option("clock", Clock, None),
)


def make_payload_options(sets: list[str] | None, **fields: Any) -> PayloadOptions:
    """The record the payload options make (``--set PATH=VALUE``, repeatable, read here)."""
    return PayloadOptions(set=dict(parse_assignment(s) for s in sets or []), **fields)


payload_options = stacked("payload_options", PAYLOAD, make_payload_options)
