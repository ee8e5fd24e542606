"""The system chromium for the browser tests: Debian's package, installed by the project's own setup when
missing (as root on Debian), never a browser download. One chromium serves every browser test of a test process
(the ``browser`` fixture, ``tests/api/conftest.py``); each page a test opens has a context of its own, so cookies,
storage and language never pass from one page or test to another, as with a browser started for each (ten starts
of chromium and Playwright's driver: the five browser test files in one process spent 52 s of CPU, 41.5 s now)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def ensure_chromium() -> str | None:
    """Path of the system chromium, installing Debian's package first when we may; None with the reason logged."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if os.geteuid() != 0 or not Path("/etc/debian_version").exists() or shutil.which("apt-get") is None:
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.call(["apt-get", "install", "-y", "-q", "chromium"], env=env) != 0:
        subprocess.call(["apt-get", "update", "-q"], env=env)
        subprocess.call(["apt-get", "install", "-y", "-q", "chromium"], env=env)
    return CHROMIUM if Path(CHROMIUM).exists() else None


class FreshBrowser:
    """What a test sees of its process's chromium: each ``new_page`` in a context of its own (cookies, storage,
    locale), as ``Browser.new_page`` gives; ``close`` closes them and leaves the browser to the next test."""

    def __init__(self, browser: Browser) -> None:
        self._browser = browser
        self._contexts: list[BrowserContext] = []

    async def new_page(self, **options: Any) -> Page:
        """A page in a new context (``options``: ``Browser.new_context``'s, e.g. ``locale``)."""
        context = await self._browser.new_context(**options)
        self._contexts.append(context)
        return await context.new_page()

    async def close(self) -> None:
        """Close every context this test opened."""
        contexts, self._contexts = self._contexts, []
        for context in contexts:
            await context.close()
