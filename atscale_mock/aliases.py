"""The types of the public API's open-ended values, named once and exported, so a
caller's annotations say what they mean:

    JSON       a JSON value, as ``json.loads`` gives it (recursive)
    App        an ASGI or WSGI application object, delivered to in process
    Target     where deliveries go: a URL, ``"local"`` (the built-in receiver) or an App
    Transport  how requests are made: an httpx async transport, or a ``Sender`` of the
               caller's (``send``/``aclose``; ``atscale_mock.testing.FakeSender`` is one)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    import httpx

    from .delivery.transport import Sender

JSON: TypeAlias = "dict[str, JSON] | list[JSON] | str | int | float | bool | None"
App: TypeAlias = Callable[..., object]
Target: TypeAlias = "str | App"
Transport: TypeAlias = "httpx.AsyncBaseTransport | Sender"
