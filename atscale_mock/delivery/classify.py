"""One classification of transport failures, for every client atscale-mock has (the
pooled transport, httpx and the load client): the error classes that logs, summaries
and reports count by.

    dns       the receiver's host name could not be resolved
    refused   the connection could not be made
    timeout   no whole answer within the attempt's deadline
    reset     the receiver closed or reset the connection before answering
    protocol  the answer was not valid HTTP
    tls       the TLS handshake or certificate check failed
    transport anything else below HTTP
"""

from __future__ import annotations

import socket
import ssl

ERROR_CLASSES = ("dns", "refused", "timeout", "reset", "protocol", "tls", "transport")


def classify_os_error(exc: BaseException) -> tuple[str, str]:
    """A failure to connect or to talk as (class, one-line message)."""
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return "tls", f"TLS failed: {exc}"
    if isinstance(exc, TimeoutError):
        return "timeout", "timed out"
    if isinstance(exc, ConnectionResetError | BrokenPipeError):
        return "reset", f"connection reset: {exc}"
    text = str(exc) or exc.__class__.__name__
    if isinstance(exc, socket.gaierror):
        return "dns", f"cannot resolve the host name: {exc.strerror or text}"
    if isinstance(exc, OSError):
        return "refused", f"connection failed: {text}"
    return "transport", text
