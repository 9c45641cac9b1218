"""Headless Chromium for the end-to-end tests, one Playwright per session, found by
`browsers.find_chromium` (FTLE_WIDGET_CHROMIUM, Playwright's own, or PATH), launched with
`browsers.ARGS`; the front end bundled once before any of them runs."""

from __future__ import annotations

import pytest
from browsers import ARGS, NoBrowser, find_chromium
from frontend import build_bundle


@pytest.fixture(scope="session", autouse=True)
def bundle():
    error = build_bundle()
    if error is not None:
        pytest.fail(error)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        try:
            path, source = find_chromium(p.chromium.executable_path)
        except NoBrowser as e:
            problem = str(e)
        else:
            try:
                b = p.chromium.launch(executable_path=str(path), args=ARGS)
                problem = ""
            except Exception as e:  # the launch error says why (libraries, sandbox...)
                problem = f"Chromium at {path} (from {source}) did not start: {e}"
        if problem:
            pytest.fail(problem, pytrace=False)
        yield b
        b.close()
