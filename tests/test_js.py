"""The TypeScript front end: type check, lint, unit tests (node's runner) and the bundle size."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parents[1] / "js"
BUNDLE = JS.parent / "ftle_widget" / "static" / "widget.js"


def npm(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(["npm", *args], cwd=JS, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed():
    if shutil.which("npm") is None:
        pytest.fail(
            "npm is not installed: the front end cannot be built or tested "
            "(.ci/run installs Debian's nodejs and npm where they are missing)"
        )
    lock = JS / "package-lock.json"
    marker = JS / "node_modules" / ".package-lock.json"
    if not marker.exists() or marker.stat().st_mtime < lock.stat().st_mtime:
        done = npm("ci", "--no-audit", "--no-fund")
        assert done.returncode == 0, done.stdout + done.stderr


def test_typescript_type_checks(installed):
    done = npm("run", "typecheck")
    assert done.returncode == 0, done.stdout + done.stderr


def test_typescript_lints_clean(installed):
    done = npm("run", "lint")
    assert done.returncode == 0, done.stdout + done.stderr


def test_js_unit_tests_pass(installed):
    done = npm("test")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "# fail 0" in out and "# pass" in out


def test_bundle_builds_small_and_without_cdn_imports(installed):
    done = npm("run", "build")
    assert done.returncode == 0, done.stdout + done.stderr
    text = BUNDLE.read_text()
    assert len(text.encode()) <= 150_000
    # nothing is fetched at run time: no import of a URL (static or dynamic)
    assert not re.search(r"""(from|import)\s*\(?\s*["']https?://""", text)
