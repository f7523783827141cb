"""Headless Chromium for the tests: Debian's ``chromium`` package driven by Playwright
(no browser download). ``.ci/run`` installs the package; where it is missing (a
developer's machine without it), the browser tests skip and say how to get it."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

#: Where screenshots of failed browser tests go (CI keeps them as artifacts).
ARTIFACTS = Path(os.environ.get("ATSCALE_MOCK_ARTIFACTS", "test-artifacts"))
#: Where a passing browser test leaves a screenshot of what it checked, when set:
#: `make screenshots` points it at docs/img, for the documentation.
SCREENSHOTS = os.environ.get("ATSCALE_MOCK_SCREENSHOTS")

FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@contextmanager
def page(name: str) -> Iterator[Any]:
    """A fresh page in a fresh headless Chromium; a screenshot in ARTIFACTS when the
    block fails."""
    executable = chromium_path()
    if executable is None:
        message = "needs Debian's chromium: apt-get install chromium (.ci/run does)"
        if os.environ.get("ATSCALE_MOCK_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="atscale-mock-chromium-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile,
                executable_path=executable,
                headless=True,
                args=FLAGS,
                ignore_default_args=["--headless"],
            )
            try:
                tab = context.new_page()
                tab.set_viewport_size({"width": 1200, "height": 800})
                try:
                    yield tab
                except BaseException:
                    ARTIFACTS.mkdir(parents=True, exist_ok=True)
                    tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
                    raise
                if SCREENSHOTS:  # what the test saw once it passed, for the docs
                    Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
                    tab.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
