"""``atscale-mock serve``: a long-lived mock engine with a control API (``/_mock``), a
SQLite delivery journal and a live web console. Needs the ``serve`` extra
(Starlette and uvicorn)."""

from .server import DEFAULT_HOST, DEFAULT_PORT, EngineServer, serve

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "EngineServer", "serve"]
