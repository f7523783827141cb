"""Where ``serve`` may deliver: the one place that decides, used when a subscription is
made (``POST /_mock/webhooks``), with the loop guard in :mod:`.guard` behind it.

* **Never itself.** A subscription whose URL names serve's own port on a loopback
  address, ``localhost``, the address it listens on or (listening on every address) any
  address of this machine is refused: each delivery to its own control API
  (``POST /_mock/scenarios``, an event trigger) would start more deliveries, a loop one
  call starts and only killing the process stops. A name that resolves to serve later
  (DNS), or a second serve subscribed back to the first, is stopped at the other end:
  the control API answers a request made by atscale-mock's own sender with 508.
* **Only where allowed, when asked.** ``--deliver-to HOST`` (repeatable; a host name,
  an IP address or a CIDR range such as ``10.0.0.0/8``) limits deliveries to those hosts;
  without it any other host may be a receiver (a mock engine's receivers live anywhere).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from .model import FieldError

_Net = ipaddress.IPv4Network | ipaddress.IPv6Network


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _local_addresses() -> set[str]:
    """This machine's own addresses, as far as its host name tells (best effort)."""
    found = {"0.0.0.0", "::"}
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            found.add(str(info[4][0]))
    except OSError:
        pass
    return found


class Destinations:
    """The policy above for one serve listening on ``host``:``port``."""

    def __init__(self, host: str, port: int, allow: Iterable[str] = ()) -> None:
        self.host = host.strip("[]").lower()
        self.port = port
        self.allow_names: set[str] = set()
        self.allow_nets: list[_Net] = []
        for item in allow:
            text = item.strip().lower()
            try:
                self.allow_nets.append(ipaddress.ip_network(text.strip("[]"), strict=False))
            except ValueError:
                if not text:
                    raise FieldError("deliver_to", "an empty host") from None
                self.allow_names.add(text.rstrip("."))

    def check(self, url: str, field: str = "url") -> None:
        """A FieldError saying why serve will not deliver to ``url``, or nothing."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise FieldError(field, "the port is not a number from 0 to 65535") from None
        if port == self.port and self._is_self(host):
            raise FieldError(
                field,
                f"{url!r} is this serve itself: a delivery to its own control API would "
                "start more deliveries (a loop); subscribe a receiver on another port",
            )
        if (self.allow_names or self.allow_nets) and not self._allowed(host):
            raise FieldError(
                field,
                f"host {host!r} is not one serve may deliver to (--deliver-to allows "
                + ", ".join(sorted(self.allow_names) + [str(n) for n in self.allow_nets])
                + ")",
            )

    def _is_self(self, host: str) -> bool:
        if host == "localhost" or host.endswith(".localhost") or host == self.host:
            return True
        address = _ip(host)
        if address is None:
            return False
        if address.is_loopback or address.is_unspecified:
            return True
        if self.host in ("0.0.0.0", "::", ""):
            return str(address) in _local_addresses()
        return str(address) == str(_ip(self.host))

    def _allowed(self, host: str) -> bool:
        if host in self.allow_names:
            return True
        address = _ip(host)
        return address is not None and any(address in net for net in self.allow_nets)
