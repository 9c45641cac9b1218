"""The browser tests' Chromium search (tests/browsers.py), each branch with fake executables."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from browsers import ENV, MISSING, ON_PATH, NoBrowser, find_chromium


def fake(path: Path, executable: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755 if executable else 0o644)
    return path


def installer(creates: Path | None, code: int = 0, sleep: float = 0.0) -> list[str]:
    """A command standing in for `playwright install chromium`: it sleeps, maybe creates the
    browser, exits with ``code``."""
    script = f"import pathlib, sys, time; time.sleep({sleep}); "
    if creates is not None:
        script += f"p = pathlib.Path({str(creates)!r}); p.parent.mkdir(parents=True); "
        script += "p.write_text('#!/bin/sh\\n'); p.chmod(0o755); "
    return [sys.executable, "-c", script + f"sys.exit({code})"]


def test_the_explicit_path_wins_over_everything(tmp_path):
    chosen = fake(tmp_path / "mine" / "chrome")
    own = fake(tmp_path / "pw" / "chrome")
    fake(tmp_path / "bin" / "chromium")
    env = {ENV: str(chosen), "PATH": str(tmp_path / "bin")}
    assert find_chromium(str(own), env) == (chosen, ENV)


def test_an_explicit_path_that_is_not_there_is_an_error_naming_it(tmp_path):
    fake(tmp_path / "bin" / "chromium")
    env = {ENV: str(tmp_path / "nope"), "PATH": str(tmp_path / "bin")}
    with pytest.raises(NoBrowser, match=f"{ENV}=.*nope is not an executable file"):
        find_chromium(None, env)


def test_playwrights_own_chromium_is_used_without_installing(tmp_path):
    own = fake(tmp_path / "pw" / "chrome")
    fake(tmp_path / "bin" / "chromium")
    marker = tmp_path / "installed"
    env = {"PATH": str(tmp_path / "bin")}
    assert find_chromium(str(own), env, install=installer(marker)) == (own, "playwright")
    assert not marker.exists()


def test_playwrights_chromium_is_installed_where_missing(tmp_path):
    own = tmp_path / "pw" / "chrome"
    fake(tmp_path / "bin" / "chromium")
    env = {"PATH": str(tmp_path / "bin")}
    found = find_chromium(str(own), env, install=installer(own))
    assert found == (own, "installed by playwright")


@pytest.mark.parametrize("name", ON_PATH)
def test_a_failed_install_goes_on_to_path(tmp_path, name):
    own = tmp_path / "pw" / "chrome"
    on_path = fake(tmp_path / "bin" / name)
    fake(tmp_path / "other" / "chromium", executable=False)  # not runnable: skipped
    env = {"PATH": f"{tmp_path / 'other'}:{tmp_path / 'bin'}"}
    found = find_chromium(str(own), env, install=installer(None, code=1))
    assert found == (on_path, "PATH")


def test_an_install_that_hangs_is_given_up(tmp_path):
    on_path = fake(tmp_path / "bin" / "google-chrome")
    env = {"PATH": str(tmp_path / "bin")}
    hang = installer(None, sleep=30)
    found = find_chromium(str(tmp_path / "pw" / "chrome"), env, install=hang, install_timeout=1)
    assert found == (on_path, "PATH")


def test_nothing_found_is_one_line_naming_the_three_ways(tmp_path):
    env = {"PATH": str(tmp_path / "empty")}
    with pytest.raises(NoBrowser) as caught:
        find_chromium(str(tmp_path / "pw" / "chrome"), env, install=installer(None, code=1))
    message = str(caught.value)
    assert message == MISSING and "\n" not in message
    for way in (ENV, "playwright install chromium", "on PATH"):
        assert way in message
