"""Which Chromium the browser tests drive, found the same way on every machine.

In this order: the path in ``FTLE_WIDGET_CHROMIUM``; Playwright's own Chromium, installed first
with ``playwright install chromium`` where it is missing (going on if that cannot download);
``chromium``, ``chromium-browser``, ``google-chrome`` or ``google-chrome-stable`` on PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ENV = "FTLE_WIDGET_CHROMIUM"
ON_PATH = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL = (sys.executable, "-m", "playwright", "install", "chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MISSING = (
    "no Chromium for the browser tests: set FTLE_WIDGET_CHROMIUM=/path/to/chromium, or run "
    "`python -m playwright install chromium`, or install Chromium or Chrome on PATH "
    "(`apt-get install chromium`, `brew install --cask chromium`)"
)


class NoBrowser(RuntimeError):
    """No Chromium was found; the message names the three ways to provide one."""


def _runnable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_chromium(
    playwright_path: str | None,
    env: Mapping[str, str] | None = None,
    install: Sequence[str] | None = INSTALL,
    install_timeout: float = 900,
) -> tuple[Path, str]:
    """The Chromium to launch and where it was found (``"FTLE_WIDGET_CHROMIUM"``,
    ``"playwright"``, ``"installed by playwright"`` or ``"PATH"``).

    ``playwright_path`` is Playwright's own Chromium (``p.chromium.executable_path``), ``env``
    the environment (``os.environ``; its ``PATH`` is searched), ``install`` the command that
    installs Playwright's Chromium (None: do not try). Raises `NoBrowser`.
    """
    env = os.environ if env is None else env
    explicit = env.get(ENV)
    if explicit:
        path = Path(explicit).expanduser()
        if not _runnable(path):
            raise NoBrowser(f"{ENV}={explicit} is not an executable file: fix the path or unset it")
        return path, ENV
    own = Path(playwright_path) if playwright_path else None
    if own is not None and _runnable(own):
        return own, "playwright"
    if own is not None and install:
        try:
            subprocess.run(
                list(install),
                env=dict(env),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=install_timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            pass  # no network, no playwright driver: go on to PATH
        if _runnable(own):
            return own, "installed by playwright"
    for name in ON_PATH:
        found = shutil.which(name, path=env.get("PATH", ""))
        if found:
            return Path(found), "PATH"
    raise NoBrowser(MISSING)
