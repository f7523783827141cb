"""The one header validator: every header atscale-mock puts on the wire from outside
input (``-H``, ``--signature-header``, a replayed log's ``request_headers``, a ``serve``
subscription's ``headers`` and ``signing.header``) passes here first.

A name is an RFC 9110 token (no spaces, tabs, colons or control characters: ``"Content-
Length "`` and ``"Transfer-Encoding\\t"`` are refused, not normalised); a value is
printable ASCII and horizontal tabs (no CR, LF, NUL: no injected header, no smuggled
request). Names that frame the message (``Content-Length``, ``Transfer-Encoding``,
``Host``, ``Connection``...) are set by the transport from the body and the URL, never
taken from outside.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import UsageError

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VALUE = re.compile(r"[\t\x20-\x7e]*")
#: names the transport owns: they say where the message ends or how the connection lives
FRAMING = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
    }
)
MAX_HEADER_VALUE = 8192  # characters; receivers commonly refuse a whole head over 8-16 KiB


def check_name(name: Any, what: str = "header") -> str:
    """``name`` if it is a header name atscale-mock may send, else a UsageError."""
    if not isinstance(name, str) or not name:
        raise UsageError(f"{what}: a header name must be a non-empty string, got {name!r}")
    if not _TOKEN.fullmatch(name):
        raise UsageError(
            f"{what}: {name!r} is not a valid header name",
            "letters, digits and !#$%&'*+-.^_`|~ only: no spaces, tabs, colons or CR/LF",
        )
    if name.lower() in FRAMING:
        raise UsageError(
            f"{what}: {name} cannot be set",
            "atscale-mock sets the headers that frame a request (Host, Content-Length, "
            "Transfer-Encoding, Connection) from the URL and the body",
        )
    return name


def check_value(value: Any, what: str = "header") -> str:
    """``value`` stripped, if it can go in a header, else a UsageError."""
    if not isinstance(value, str):
        raise UsageError(f"{what}: a header value must be a string, got {type(value).__name__}")
    if not _VALUE.fullmatch(value):
        raise UsageError(
            f"{what}: control characters (CR, LF, NUL, ...) and non-ASCII cannot be in a "
            f"header value: {value!r}",
            "a header is one line of printable ASCII; percent-encode anything else",
        )
    if len(value) > MAX_HEADER_VALUE:
        raise UsageError(f"{what}: a header value over {MAX_HEADER_VALUE} characters")
    return value.strip(" \t")


def check_header(name: Any, value: Any, what: str = "header") -> tuple[str, str]:
    """One header as a ``(name, value)`` pair fit for the wire, or a UsageError."""
    return check_name(name, what), check_value(value, what)


def parse_header(text: str, what: str = "header") -> tuple[str, str]:
    """``'Name: value'`` as a pair, or a UsageError naming ``what``."""
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise UsageError(
            f"{what} expects 'Name: value', got {text!r}",
            "for example 'Authorization: Bearer TOKEN'",
        )
    return check_header(name.strip(), value, what)
