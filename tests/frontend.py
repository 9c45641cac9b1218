"""The front end for the tests: npm in js/, and the bundle built once per test session."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path

JS = Path(__file__).resolve().parents[1] / "js"
BUNDLE = JS.parent / "ftle_widget" / "static" / "widget.js"
NO_NPM = (
    "npm is not installed: the front end cannot be built or tested; install Node.js (>= 18) "
    "and npm (https://nodejs.org, `apt-get install nodejs npm`, `brew install node`)"
)


def npm(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """``npm args`` in js/, its output captured."""
    return subprocess.run(["npm", *args], cwd=JS, capture_output=True, text=True, timeout=timeout)


def ensure_packages() -> str | None:
    """Install js/'s packages where missing or older than the lock file; an error or None."""
    if shutil.which("npm") is None:
        return NO_NPM
    lock = JS / "package-lock.json"
    marker = JS / "node_modules" / ".package-lock.json"
    if not marker.exists() or marker.stat().st_mtime < lock.stat().st_mtime:
        done = npm("ci", "--no-audit", "--no-fund")
        if done.returncode != 0:
            return "npm ci failed:\n" + done.stdout + done.stderr
    return None


@cache
def build_bundle() -> str | None:
    """Bundle js/src into the package, once per session, so that every test (browser tests
    included, whatever their order) runs today's front end; an error or None."""
    error = ensure_packages()
    if error is not None:
        return error
    done = npm("run", "build")
    return None if done.returncode == 0 else "npm run build failed:\n" + done.stdout + done.stderr


def serve_widget_page(page, html: str, origin: str = "http://widget.test") -> None:
    """Open ``html`` in Playwright's ``page`` as ``origin``/index.html, with the built bundle at
    /widget.js, and wait for the page to set ``window.ready``."""
    bundle = BUNDLE.read_text()

    def handler(route) -> None:
        if route.request.url.endswith("/widget.js"):
            route.fulfill(body=bundle, content_type="text/javascript")
        else:
            route.fulfill(body=html, content_type="text/html")

    page.route(f"{origin}/**", handler)
    page.goto(f"{origin}/index.html")
    page.wait_for_function("window.ready === true")
