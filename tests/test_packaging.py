"""The wheel and the sdist: built, installed into fresh virtual environments (the sdist with no
Node.js on PATH) and imported; the package finds its front end bundle and its notebooks. A source
checkout without Node.js fails with one line saying what to install."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p.name for p in (ROOT / "demo_notebooks").glob("*.ipynb"))

# run in the fresh environment: where the package came from, its bundle and its notebooks
CHECK = """
import json, ftle_widget
from ftle_widget.cli import notebooks_folder
from ftle_widget.widget.bundle import STATIC
print(json.dumps({
    "package": ftle_widget.__file__,
    "bundle": (STATIC / "widget.js").stat().st_size,
    "notebooks": sorted(p.name for p in notebooks_folder().glob("*.ipynb")),
    "folder": str(notebooks_folder()),
}))
"""


def run(cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)


def without_node(venv: Path) -> dict[str, str]:
    """The environment with PATH reduced to the venv's scripts: no node, no npm."""
    env = dict(os.environ, PATH=str(venv / "bin"))
    env.pop("PYTHONPATH", None)
    return env


def fresh_venv(path: Path) -> Path:
    """A virtual environment that sees this one's packages (torch, numpy...) but installs its own
    ftle_widget ahead of them."""
    done = run([sys.executable, "-m", "venv", "--system-site-packages", str(path)])
    assert done.returncode == 0, done.stderr
    return path / "bin" / "python"


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    if shutil.which("npm") is None:
        pytest.fail("building the sdist bundles the front end: install Node.js and npm")
    out = tmp_path_factory.mktemp("dist")
    done = run([sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(out), ROOT])
    assert done.returncode == 0, done.stdout + done.stderr
    (sdist,) = out.glob("ftle_widget-*.tar.gz")
    (wheel,) = out.glob("ftle_widget-*.whl")
    return sdist, wheel


def installed_check(python: Path, env: dict[str, str], cwd: Path) -> dict:
    done = run([str(python), "-c", CHECK], env=env, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_archives_carry_the_bundle_and_the_notebooks(dist):
    sdist, wheel = dist
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert {"ftle_widget/static/widget.js", "ftle_widget/static/offline.js", "PKG-INFO"} <= names
    assert {f"demo_notebooks/{n}" for n in NOTEBOOKS} <= names
    assert not any(n.startswith("js/node_modules") for n in names)
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
        assert whl.getinfo("ftle_widget/static/widget.js").file_size > 10_000
        assert whl.getinfo("ftle_widget/static/offline.js").file_size > 1_000  # to_html's
    assert {f"ftle_widget/demo_notebooks/{n}" for n in NOTEBOOKS} <= names


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_installed_into_a_fresh_venv_it_finds_its_bundle_and_notebooks(dist, tmp_path, kind):
    archive = dist[0] if kind == "sdist" else dist[1]
    venv = tmp_path / "venv"
    python = fresh_venv(venv)
    env = without_node(venv)  # the sdist builds its wheel here: it must not need Node.js
    assert shutil.which("npm", path=env["PATH"]) is None
    done = run([str(python), "-m", "pip", "install", "--no-deps", str(archive)], env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    found = installed_check(python, env, tmp_path)
    assert Path(found["package"]).is_relative_to(venv), found
    assert found["bundle"] > 10_000
    assert found["notebooks"] == NOTEBOOKS
    assert Path(found["folder"]).is_relative_to(venv)


def test_a_source_checkout_without_node_fails_with_one_line_saying_what_to_install(tmp_path):
    listed = run(["git", "ls-files", "-z"], cwd=ROOT)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    source = tmp_path / "source"
    for name in listed.stdout.split("\0"):
        if name and (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    assert not (source / "ftle_widget" / "static" / "widget.js").exists()
    venv = tmp_path / "venv"
    python = fresh_venv(venv)
    env = without_node(venv)
    done = run([str(python), "-m", "pip", "install", "--no-deps", str(source)], env=env)
    out = done.stdout + done.stderr
    assert done.returncode != 0
    lines = [line for line in out.splitlines() if "needs Node.js" in line]
    assert len(lines) == 1, out
    assert "install them" in lines[0] and "nodejs.org" in lines[0]
