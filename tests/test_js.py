"""The TypeScript front end: type check, lint, unit tests (node's runner) and the bundle size."""

from __future__ import annotations

import re

import pytest
from frontend import BUNDLE, JS, ensure_packages, npm


@pytest.fixture(scope="module")
def installed():
    error = ensure_packages()
    if error is not None:
        pytest.fail(error)


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


def test_the_front_end_needs_no_jupyterlab_theme():
    """Outside JupyterLab (Notebook 7, Voilà, VS Code) its CSS variables are unset: every
    ``var(--…)`` in the front end carries a fallback, and every variable read in script has one
    (``|| …``)."""
    sources = {p: p.read_text() for p in sorted((JS / "src").rglob("*.ts"))}
    for path, text in sources.items():
        for use in re.finditer(r"var\((--[\w-]+)([^)]*)\)", text):
            assert use.group(2).lstrip().startswith(","), (path.name, use.group(0))
        for read in re.finditer(r"getPropertyValue\([\"'](--[\w-]+)[\"']\)[^;]*", text):
            assert "||" in read.group(0), (path.name, read.group(0))
    assert any("var(--jp-" in text for text in sources.values())  # the check has something to do


# globals only some front ends have: JupyterLab's app and theme attribute, classic Notebook's,
# require.js's (nbconvert's page, classic Notebook), VS Code's webview API
FRONT_END_GLOBALS = re.compile(
    r"jupyterapp|jupyterlab|jpTheme|data-jp-theme|\bJupyter\.|\bIPython\b|requirejs|define\.amd"
    r"|acquireVsCodeApi"
)


def test_the_front_end_reads_no_front_end_global(installed):
    """The same bundle runs in JupyterLab, Notebook 7, Voilà, nbconvert's page and VS Code: it
    reads nothing one of them alone defines, in its sources or its bundles."""
    done = npm("run", "build")
    assert done.returncode == 0, done.stdout + done.stderr
    texts = {p.name: p.read_text() for p in sorted((JS / "src").rglob("*.ts"))}
    texts |= {p.name: p.read_text() for p in (BUNDLE, BUNDLE.with_name("offline.js"))}
    for name, text in texts.items():
        assert not FRONT_END_GLOBALS.search(text), (name, FRONT_END_GLOBALS.search(text)[0])
