"""``atscale_mock.drift``: where recorded payloads differ from the documented catalogue."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from ..aliases import JSON
from ..events.drift import Drift


def drift(
    source: str | os.PathLike[str] | Iterable[JSON],
    *,
    atscale_version: str | None = None,
) -> Drift:
    """The spec drift of a recording (a ``receive --record`` or ``--log`` file, by path)
    or of payloads (dicts), judged by AtScale ``atscale_version``'s catalogue (the
    latest by default). ``.drifted``, ``.to_json()`` and ``.lines()`` report it."""
    report = Drift(atscale_version)
    if isinstance(source, str | os.PathLike):
        from ..recording import stream_recording

        for recorded in stream_recording(Path(source)):
            try:
                report.observe(json.loads(recorded.body))
            except ValueError:
                report.observe(None)  # a body that is not JSON: not an object
    else:
        for payload in source:
            report.observe(payload)
    return report
